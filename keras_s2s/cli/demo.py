"""`keras-s2s demo`: train location_bilstm on g2p for a few minutes and show the results."""

from keras_s2s.cli._common import positive


def add_parser(subparsers):
    p = subparsers.add_parser(
        "demo", help="the main job: train location_bilstm on g2p, show results",
        description="Train location_bilstm on the default g2p task for a few minutes, print "
                    "PER/WER and sample words, write TensorBoard logs and an attention PNG.")
    p.add_argument("--logdir", default="logs/demo")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--epochs", type=positive(int), default=5)
    p.add_argument("--max-train-words", type=positive(int), default=40000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args):
    from keras_s2s import demo

    demo.run(logdir=args.logdir, out=args.out, epochs=args.epochs, seed=args.seed,
             max_train_words=args.max_train_words)
    return 0
