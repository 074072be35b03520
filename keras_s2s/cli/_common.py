"""What the commands share: the error type, the parser class, argument types, the data
arguments, loading a run directory, and importing TensorFlow quietly."""

import argparse
import ast
import logging
import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_s2s.constants import UNK_ID  # noqa: E402
from keras_s2s.data.files import MAX_LINE_LENGTH  # noqa: E402 (after the TF log level)

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


def add_min_length_flag(parser):
    """`--min-length N` (the search's `min_length`, default 0): evaluate and decode share it."""
    parser.add_argument("--min-length", type=non_negative_int, default=0, metavar="N",
                        help="forbid </s> before N output tokens (default 0; 1 rules out "
                             "empty outputs, as JoeyNMT's and fairseq's searches do by default)")


def check_min_length(args):
    """`--min-length` must leave room for `</s>` within `--max-length` (when that is given)."""
    if args.max_length is not None and args.min_length >= args.max_length:
        raise CliError(f"--min-length {args.min_length} leaves no room for </s> within "
                       f"--max-length {args.max_length}; give a smaller --min-length")


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


def non_negative_int(text):
    """An argparse type: an integer >= 0 (e.g. `--warmup-steps 0` for none).

    Example:

    >>> parser.add_argument("--warmup-steps", type=non_negative_int)
    """
    value = _number(int, text, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def check_run_dir(path):
    """Refuse a run directory that isn't there, in one line, before TensorFlow is imported.

    A missing directory whose replacement `.NAME.next` exists beside it was caught between
    the two renames of a publish (`keras_s2s.training.rundir`).

    Example:

    >>> check_run_dir("runs/g2p")
    """
    if os.path.isdir(path):
        return
    if os.path.exists(path):
        raise CliError(f"{path} is a file, not a run directory")
    parent, name = os.path.split(os.path.abspath(path))
    if os.path.isdir(os.path.join(parent, f".{name}.next")):
        raise CliError(f"{path} is being replaced by a training, or its replacement was "
                       "interrupted; rerun that training with --resume")
    raise CliError(f"no such run directory: {path}")


def check_output_file(path, flag):
    """Refuse an output path that can't become a file: a directory, or a missing directory.

    Example:

    >>> check_output_file(args.json, "--json")
    """
    if os.path.isdir(path):
        raise CliError(f"{flag} {path} is a directory; give a file name")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CliError(f"{flag} {path}: no such directory {parent}")
    if os.path.exists(path) and not os.path.isfile(path):
        raise CliError(f"{flag} {path} exists and is not a regular file")
    check_writable_dir(parent, flag)


def check_writable_dir(directory, flag):
    """Refuse, in one line, a directory where no file can be created (read-only, permission,
    a pseudo file system such as /proc, a full disk): a small file is created and removed.

    Example:

    >>> check_writable_dir("runs", "--out")
    """
    import tempfile

    try:
        fd, probe = tempfile.mkstemp(prefix=".keras-s2s-probe-", dir=directory)
        os.close(fd)
        os.remove(probe)
    except OSError as error:
        raise CliError(f"{flag}: cannot write in {directory} ({error.strerror or error}); "
                       "choose a writable directory with free space") from error


def write_json(path, data):
    """Write `data` as JSON atomically: a temporary file in the same directory, flushed and
    synced, then `os.replace`d over `path` (a reader never sees half a file).

    Example:

    >>> write_json("scores.json", {"bleu": 31.2})
    """
    import json
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                     dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


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
        group.add_argument("--multiple-references", action="store_true",
                           help="read TSV columns after the second as more references of the "
                                "source (default: a third column is an error)")
        group.add_argument("--max-line-length", type=positive(int), default=MAX_LINE_LENGTH,
                           help="the longest TSV line, in characters (default "
                                f"{MAX_LINE_LENGTH:,}); a longer line is an error or skipped")
    group.add_argument("--on-error", choices=["raise", "skip"], default="raise",
                       help="malformed TSV lines: stop with an error (default) or skip and count")


def read_test_file(args, report=None):
    """`--test FILE.tsv` as `evaluate` and `baseline --run` read it (`--on-error`,
    `--multiple-references`, `--max-line-length`): `(examples, skipped)`; a file without a
    usable line is a one-line error.

    Example:

    >>> examples, skipped = read_test_file(parser.parse_args(["run", "--test", "t.tsv"]))
    """
    from keras_s2s import data

    examples, skipped = data.read_tsv(
        args.test, on_error=args.on_error, multiple_references=args.multiple_references,
        max_line_length=args.max_line_length, report=report)
    if not examples:
        raise CliError(f"{args.test} holds no usable example")
    return examples, skipped


def check_task_args(args):
    """Check the data arguments of `add_task_args` without reading anything: `--task` and
    `--train` exclude each other, `--validation`/`--test` need `--train`, and every file is a
    regular file (`keras_s2s.data.files.check_input_file`). Cheap: runs before TensorFlow is
    imported, and again in `task_from_args`.

    Example:

    >>> check_task_args(parser.parse_args(["--train", "my.tsv"]))
    """
    from keras_s2s.data.files import check_input_file

    train = getattr(args, "train", None)
    if train and getattr(args, "task", None):
        raise CliError("--task and --train both name the data; give one")
    if train and getattr(args, "task_option", None):
        raise CliError("--task-option applies to a built-in --task; drop it with --train")
    if not train:
        given = [flag for flag, value in (("--validation", getattr(args, "validation", None)),
                                          ("--test", getattr(args, "test", None))) if value]
        if given:
            raise CliError(f"{' and '.join(given)} need{'s' if len(given) == 1 else ''} "
                           "--train FILE.tsv")
        if getattr(args, "multiple_references", False):
            raise CliError("--multiple-references reads TSV files; give --train FILE.tsv")
        return
    for path in (args.train, args.validation, args.test):
        if path:
            check_input_file(path)


def task_from_args(args, source_tokenizer=None, target_tokenizer=None):
    """Build the task a command names; returns `(task, spec)` where spec rebuilds it."""
    from keras_s2s import data

    check_task_args(args)
    if getattr(args, "train", None):
        multiple = bool(getattr(args, "multiple_references", False))
        task = data.from_tsv(args.train, args.validation, args.test,
                             source_tokenizer=source_tokenizer or args.source_tokenizer,
                             target_tokenizer=target_tokenizer or args.target_tokenizer,
                             on_error=args.on_error, multiple_references=multiple,
                             max_line_length=getattr(args, "max_line_length", MAX_LINE_LENGTH))
        spec = {"name": "tsv", "train": args.train, "validation": args.validation,
                "test": args.test}
        if multiple:
            spec["multiple_references"] = True
        return task, spec
    options = parse_options(args.task_option, "--task-option")
    task = data.load_task(args.task, **options)
    return task, {"name": args.task, "options": options}


def load_run_dir(run_dir):
    from keras_s2s.data import Task
    from keras_s2s.training.recipe import load_run

    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise CliError(f"{run_dir} is a file, not a run directory")
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


class UnknownPieces:
    """Counts the sources that hold pieces the reading tokenizer lacks (the model reads each
    as `<unk>`), so `decode` and `evaluate` say so instead of altering inputs silently.

    Args:
        tokenizer: The tokenizer that reads the sources, or None to check nothing.
        what: What a source is called in the message.
        unit: What a source's number is called in the message.

    Example:

    >>> unknown = UnknownPieces(task.source_tokenizer)
    >>> unknown.add(1, "xyz"); unknown.message()
    """

    SHOWN = 5

    def __init__(self, tokenizer, what="input line(s)", unit="line"):
        self.tokenizer, self.what, self.unit = tokenizer, what, unit
        self.shown = []  # (number, [missing pieces]) of the first SHOWN sources with some
        self.count = 0  # sources with a missing piece
        self.total = 0  # sources read

    def add(self, number, text):
        if self.tokenizer is None:
            return
        self.total += 1
        missing = [piece for piece in self.tokenizer.tokenize(text)
                   if self.tokenizer.token_to_id(piece) == UNK_ID]
        if missing:
            self.count += 1
            if len(self.shown) < self.SHOWN:
                self.shown.append((number, list(dict.fromkeys(missing))))

    def message(self):
        """The warning line, or None when every piece was known."""
        if not self.count:
            return None
        shown = "; ".join(f"{self.unit} {number}: " + ", ".join(repr(p) for p in pieces[:8])
                          + (", ..." if len(pieces) > 8 else "")
                          for number, pieces in self.shown)
        more = ", ..." if self.count > len(self.shown) else ""
        return (f"{self.count} of {self.total} {self.what} hold pieces the source "
                f"vocabulary lacks, which the model reads as <unk> ({shown}{more})")
