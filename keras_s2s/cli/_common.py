"""What the commands share: the error type, the parser class, argument types, the data
arguments, loading a run directory, and importing TensorFlow quietly."""

import argparse
import ast
import logging
import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

log = logging.getLogger("keras_s2s")


class CliError(Exception):
    """A user-facing error: printed as one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def parse_options(pairs, what):
    """Parse `key=value` pairs; values are Python literals when they parse as such."""
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise CliError(f"{what} '{pair}' must look like key=value")
        key, value = pair.split("=", 1)
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def add_jit_flag(parser, help):
    """`--jit/--no-jit`, on by default: train, evaluate and decode share it."""
    parser.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True, help=help)


def _number(kind, text, what="a finite number"):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: '{text}'")
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
    return value


def positive(kind):
    """An argparse type: a positive `int`, or a finite positive `float` (nan and inf are
    refused).

    Example:

    >>> parser.add_argument("--learning-rate", type=positive(float))
    """
    def parse(text):
        value = _number(kind, text, "a finite positive number")
        if value <= 0:
            raise argparse.ArgumentTypeError(
                f"must be a {'finite ' if kind is float else ''}positive number, got {text}")
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def finite_float(text):
    """An argparse type: any finite float (nan and inf are refused).

    Example:

    >>> parser.add_argument("--length-penalty", type=finite_float)
    """
    return _number(float, text)


def in_range(low, high, *, low_open=False, high_open=False):
    """An argparse type: a finite float in `[low, high]` (`(`/`)` with `low_open`/`high_open`).

    Example:

    >>> parser.add_argument("--top-p", type=in_range(0.0, 1.0, low_open=True))
    """
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def parse(text):
        value = _number(float, text, f"a finite number in {interval}")
        if (value < low or value > high or (low_open and value == low)
                or (high_open and value == high)):
            raise argparse.ArgumentTypeError(f"must be a number in {interval}, got {text}")
        return value
    parse.__name__ = f"number in {interval}"
    return parse


#: an argparse type for a share such as dropout or label smoothing: a finite float in [0, 1)
fraction = in_range(0.0, 1.0, high_open=True)


def add_task_args(parser, data_files=True):
    group = parser.add_argument_group("data")
    group.add_argument("--task", help="built-in task: g2p (default task), addition, copy, "
                                      "reverse, sort, dates, numbers")
    group.add_argument("--task-option", action="append", metavar="KEY=VALUE",
                       help="task option, e.g. max_train_words=20000 (repeatable)")
    if data_files:
        group.add_argument("--train", help="training TSV (source<TAB>target per line)")
        group.add_argument("--validation", help="validation TSV (default: 5%% of --train)")
        group.add_argument("--test", help="test TSV")
        group.add_argument("--source-tokenizer", choices=["char", "word", "subword"],
                           default="char")
        group.add_argument("--target-tokenizer", choices=["char", "word", "subword"],
                           default="char")
    group.add_argument("--on-error", choices=["raise", "skip"], default="raise",
                       help="malformed TSV lines: stop with an error (default) or skip and count")


def task_from_args(args, source_tokenizer=None, target_tokenizer=None):
    """Build the task a command names; returns `(task, spec)` where spec rebuilds it."""
    from keras_s2s import data

    if getattr(args, "train", None):
        for path in (args.train, args.validation, args.test):
            if path and not os.path.exists(path):
                raise CliError(f"no such file: {path}")
        task = data.from_tsv(args.train, args.validation, args.test,
                             source_tokenizer=source_tokenizer or args.source_tokenizer,
                             target_tokenizer=target_tokenizer or args.target_tokenizer,
                             on_error=args.on_error)
        spec = {"name": "tsv", "train": args.train, "validation": args.validation,
                "test": args.test}
        return task, spec
    options = parse_options(args.task_option, "--task-option")
    task = data.load_task(args.task, **options)
    return task, {"name": args.task, "options": options}


def load_run_dir(run_dir):
    from keras_s2s.data import Task
    from keras_s2s.training.recipe import load_run

    if not os.path.isdir(run_dir):
        raise CliError(f"no such run directory: {run_dir}")
    model, source_tokenizer, target_tokenizer, config = load_run(run_dir)
    task = Task("run", {}, source_tokenizer, target_tokenizer)
    return model, task, config


def quiet_import_tensorflow():
    """Import TensorFlow with the C++ start-up chatter (oneDNN, CUDA probes) sent to /dev/null.

    Those lines are written by C++ before any Python logging setting applies; silencing the
    file descriptor for the length of the import keeps the command's output readable.
    """
    if "tensorflow" in sys.modules:
        return
    try:
        saved = os.dup(2)
    except OSError:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
        import keras  # noqa: F401

        keras.ops.zeros((1,))  # the first op probes the devices (and logs about CUDA)
    except ImportError:
        pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
