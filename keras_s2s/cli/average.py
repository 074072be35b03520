"""`keras-s2s average`: average the last epochs of a run into a new run (checkpoint averaging).

Training keeps the last `--keep-epochs` epochs' weights in `RUN/epochs/`; this command
averages the last `--last N` of them (`keras_s2s.training.averaging.average_run`) and writes
a run directory that `decode` and `evaluate` read like any other.
"""

from keras_s2s.cli._common import check_run_dir, positive


def add_parser(subparsers):
    p = subparsers.add_parser(
        "average", help="average the last N epochs of a run into a new run",
        description="Checkpoint averaging: the element-wise mean of the weights of a run's last "
                    "N kept epochs (see train --keep-epochs), written as a new run directory.")
    p.add_argument("run", help="run directory written by train")
    p.add_argument("--last", type=positive(int), default=5,
                   help="how many of the last kept epochs to average (default 5)")
    p.add_argument("--out", help="the new run directory (default: RUN-avgN)")
    p.add_argument("--overwrite", action="store_true", help="replace --out when it exists")
    p.set_defaults(func=run, check=check)


def check(args):
    """The checks that need no model (run before TensorFlow is imported)."""
    check_run_dir(args.run)


def run(args):
    from keras_s2s.training.averaging import average_run

    out, epochs = average_run(args.run, args.last, out_dir=args.out, overwrite=args.overwrite)
    print(f"wrote {out}: the average of epochs {', '.join(str(e) for e in epochs)} of "
          f"{args.run}")
    print(f"score it with: keras-s2s evaluate {out}")
    return 0
