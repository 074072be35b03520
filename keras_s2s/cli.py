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


def build_parser():
    from keras_s2s import __version__

    parser = argparse.ArgumentParser(
        prog="keras-s2s",
        description="keras_s2s: sequence-to-sequence models for Keras 3.")
    parser.add_argument("--version", action="version", version=f"keras-s2s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo(subparsers)
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
