"""The `keras-s2s` command line: list, info, train, average, evaluate, baseline, decode, export,
demo, bench.

One module per command (or pair of commands): each has `add_parser(subparsers)`, which adds
its subcommand and sets `func` (and optionally `check`, its cheap checks), and the function
that runs it; `_common` holds what they share. Errors print one line (`keras-s2s: error:
...`) and exit with status 2, without a traceback.

The arguments are parsed and checked (argparse's types, the command's `check`, the data
files' types) before TensorFlow is imported, so a mistake costs well under a second.
"""

import logging
import os
import sys

from keras_s2s.cli import (_xla, average, baseline, bench, decode, demo, evaluate, export,
                           list_info, train)
from keras_s2s.cli._common import CliError, Parser, check_task_args, quiet_import_tensorflow

__all__ = ["CliError", "build_parser", "main"]

# the subcommands, in the order `keras-s2s --help` lists them
COMMANDS = (list_info, train, average, evaluate, baseline, decode, export, demo, bench)


def build_parser():
    from keras_s2s import __version__

    parser = Parser(prog="keras-s2s",
                    description="keras_s2s: sequence-to-sequence models for Keras 3.")
    parser.add_argument("--version", action="version", version=f"keras-s2s {__version__}")
    parser.add_argument("--backend", choices=sorted(_BACKEND_PACKAGES),
                        help="the Keras backend (default: KERAS_BACKEND, else tensorflow)")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of a failure (also KERAS_S2S_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


_USER_ERRORS = (CliError, ValueError, TypeError, FileNotFoundError)


# the readers' hints name Python arguments; on the command line they are flags
_FLAG_HINTS = (("pass on_error='skip'", "pass --on-error skip"),
               ("pass multiple_references=True", "pass --multiple-references"))


def _storage_error(error):
    """Whether an `OSError` is the machine's refusal to store (`rundir.STORAGE_ERRNOS`). The
    import waits for a failure: the run directory module loads Keras, which the CLI's cheap
    checks must not."""
    from keras_s2s.training.rundir import STORAGE_ERRNOS

    return error.errno in STORAGE_ERRNOS


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _user_message(error):
    text = _first_line(error)
    for python, flag in _FLAG_HINTS:
        text = text.replace(python, flag)
    return text


def _check(args):
    """The command's cheap checks (no TensorFlow): its own `check`, else the data flags."""
    check = getattr(args, "check", None)
    if check is not None:
        check(args)
    elif hasattr(args, "train") and hasattr(args, "task"):  # `add_task_args`'s flags
        check_task_args(args)


# the Keras backends and the package each one needs
_BACKEND_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch",
                     "numpy": "numpy", "openvino": "openvino"}


def choose_backend(name):
    """`--backend NAME`: set `KERAS_BACKEND` before Keras is imported (refused after).

    Example:

    >>> choose_backend("jax")   # in a process that has not imported Keras yet
    """
    loaded = sys.modules.get("keras")
    if loaded is not None and getattr(loaded, "backend", None) is not None:
        current = loaded.backend.backend()
        if current != name:
            raise CliError(f"--backend {name}: this process already runs Keras on {current}; "
                           f"set KERAS_BACKEND={name} before Python starts instead")
    os.environ["KERAS_BACKEND"] = name


def check_backend(environ=None):
    """Refuse, in one line, a `KERAS_BACKEND` that Keras does not know or can't import.

    Example:

    >>> check_backend({"KERAS_BACKEND": "torch"})   # CliError when PyTorch is not installed
    """
    import importlib.util

    name = (os.environ if environ is None else environ).get("KERAS_BACKEND", "").strip()
    if not name:
        return
    if name not in _BACKEND_PACKAGES:
        raise CliError(f"KERAS_BACKEND={name} is not a Keras backend; use one of "
                       f"{', '.join(sorted(_BACKEND_PACKAGES))} (keras_s2s is tested on "
                       "tensorflow and jax)")
    if importlib.util.find_spec(_BACKEND_PACKAGES[name]) is None:
        raise CliError(f"KERAS_BACKEND={name}, but the {_BACKEND_PACKAGES[name]} package is "
                       f"not installed: install it (pip install {_BACKEND_PACKAGES[name]}) or "
                       "unset KERAS_BACKEND (TensorFlow is the default)")


def main(argv=None):
    """Run the CLI; returns the exit status.

    Every failure prints one line (`keras-s2s COMMAND: error: ...`). `--traceback` anywhere on
    the command line, or `KERAS_S2S_DEBUG=1` in the environment, shows the full traceback
    instead.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--traceback" in argv or os.environ.get("KERAS_S2S_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--traceback"]
    own_process = "tensorflow" not in sys.modules  # see _xla: nobody else's XLA settings
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        _check(args)  # before TensorFlow: a mistake in the arguments costs no import
        if args.backend:
            choose_backend(args.backend)
        check_backend()
        if args.command == "train":  # TF_CONFIG's cluster must start before any other op
            from keras_s2s import workers

            workers.multi_worker_strategy()
        quiet_import_tensorflow()
        if own_process:
            _xla.cpu_compile_flags()
        return args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write("keras-s2s: interrupted\n")
        return 130
    except Exception as error:  # one line, unless the user asks for the traceback
        if debug:
            raise
        if isinstance(error, _USER_ERRORS):
            sys.stderr.write(f"keras-s2s {args.command}: error: {_user_message(error)}\n")
        elif isinstance(error, OSError) and _storage_error(error):
            where = f" {error.filename}" if error.filename else ""
            sys.stderr.write(f"keras-s2s {args.command}: error: could not access{where}: "
                             f"{error.strerror}; free some space, or choose a location you "
                             "can write\n")
        else:
            sys.stderr.write(f"keras-s2s {args.command}: internal error: "
                             f"{type(error).__name__}: {_first_line(error)} (rerun with "
                             "--traceback for the full trace, and please report it)\n")
        return 2
