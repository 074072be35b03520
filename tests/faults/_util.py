"""Helpers the fault-injection tests share: run the CLI, check a one-line error."""

import contextlib
import io
import os
import subprocess
import sys
import types

from keras_s2s import cli


def run_cli(*args, stdin=None, process=False, timeout=600, preexec_fn=None):
    """Run `keras-s2s ARGS` and return `(returncode, stdout, stderr)` as a namespace.

    In this process by default (`cli.main` with stdin, stdout and stderr swapped; an argparse
    `SystemExit` becomes the return code). `process=True` runs `python -m keras_s2s.cli` as a
    real subprocess under `timeout` seconds (a timeout gives returncode None and
    `timed_out=True`), for what only a fresh process shows: start-up time, reads that could
    hang or grow memory (run with `preexec_fn`, e.g. to set a resource limit).

    `stdin` is a str or bytes (in process readable as text and as `sys.stdin.buffer`), or,
    with `process=True`, an open file to connect (e.g. `open("/dev/zero", "rb")`).
    """
    args = [str(a) for a in args]
    if process:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
               "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow")}
        data = stdin.encode() if isinstance(stdin, str) else stdin
        connect = hasattr(data, "fileno")
        try:
            proc = subprocess.run([sys.executable, "-m", "keras_s2s.cli", *args],
                                  input=None if connect else data, capture_output=True,
                                  env=env, timeout=timeout, preexec_fn=preexec_fn,
                                  stdin=data if connect else
                                  (subprocess.DEVNULL if data is None else None))
        except subprocess.TimeoutExpired as error:
            return types.SimpleNamespace(returncode=None, timed_out=True,
                                         stdout=(error.stdout or b"").decode(errors="replace"),
                                         stderr=(error.stderr or b"").decode(errors="replace"))
        return types.SimpleNamespace(returncode=proc.returncode, timed_out=False,
                                     stdout=proc.stdout.decode(errors="replace"),
                                     stderr=proc.stderr.decode(errors="replace"))
    data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
    out, err, old_stdin = io.StringIO(), io.StringIO(), sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(args)
            except SystemExit as exit_:  # argparse errors and --help
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None
                                                                       else 1)
    finally:
        sys.stdin = old_stdin
    return types.SimpleNamespace(returncode=code, timed_out=False, stdout=out.getvalue(),
                                 stderr=err.getvalue())


def error_lines(proc):
    """stderr's non-empty lines, without log lines (warnings go to the `keras_s2s` logger)."""
    return [line for line in proc.stderr.splitlines() if line.strip()]


def assert_one_line_error(proc, *fragments, code=2):
    """Assert that `proc` exited with `code` and wrote exactly one non-empty line to stderr,
    without a traceback, containing every fragment (case-sensitive)."""
    lines = error_lines(proc)
    assert proc.returncode == code, (
        f"exit {proc.returncode}, expected {code}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]
