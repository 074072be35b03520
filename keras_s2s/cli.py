"""The `keras-s2s` command line. Subcommands are added as the library grows."""

import argparse
import logging
import sys


def _add_demo(subparsers):
    parser = subparsers.add_parser(
        "demo", help="Train luong_bilstm on a generated task and show decodes.",
        description="Train the zoo's luong_bilstm on the built-in reversal task, "
                    "print accuracy and sample decodes, and write TensorBoard logs.")
    parser.add_argument("--logdir", default="logs/demo", help="TensorBoard log directory.")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=_run_demo)


def _run_demo(args):
    from keras_s2s import demo

    demo.run(logdir=args.logdir, epochs=args.epochs, seed=args.seed)
    return 0


def _add_bench(subparsers):
    parser = subparsers.add_parser(
        "bench", help="Measure decoding speed (and, later, training speed).",
        description="Benchmarks, kept out of the tests. `decode` times batched compiled greedy "
                    "and beam search against the keras.io-style loop (one predict per token).")
    parser.add_argument("what", choices=["decode"], nargs="?", default="decode")
    parser.add_argument("--model", default="luong_bilstm", help="zoo entry to build (default size)")
    parser.add_argument("--num-sources", type=int, default=256)
    parser.add_argument("--tutorial-sources", type=int, default=16,
                        help="sources decoded the slow way (tokens/s is what is compared)")
    parser.add_argument("--max-length", type=int, default=30)
    parser.add_argument("--beam-width", type=int, default=5)
    parser.add_argument("--json", help="write the measurements to this JSON file")
    parser.set_defaults(func=_run_bench)


def _run_bench(args):
    import json

    from keras_s2s import bench

    results = bench.bench_decode(args.model, num_sources=args.num_sources,
                                 tutorial_sources=args.tutorial_sources,
                                 max_length=args.max_length, beam_width=args.beam_width)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"decode": results}, f, indent=2)
    return 0


def build_parser():
    from keras_s2s import __version__

    parser = argparse.ArgumentParser(
        prog="keras-s2s",
        description="keras_s2s: sequence-to-sequence models for Keras 3.")
    parser.add_argument("--version", action="version", version=f"keras-s2s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo(subparsers)
    _add_bench(subparsers)
    return parser


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
