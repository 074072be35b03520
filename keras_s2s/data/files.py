"""The user's own data: tab-separated files and line-aligned parallel text files.

Encoding is UTF-8. Empty or malformed lines are reported with their file and line number:
by default they raise `ValueError`; with `on_error="skip"` they are skipped and counted in
`task.skipped`. Nothing is dropped silently.

The input rules (`docs/ARCHITECTURE.md`, "Inputs"):

- only regular files are read (`check_input_file`): a directory, a FIFO, a device or a
  socket is refused with a `ValueError` before anything is opened, so nothing can hang or
  read without end;
- lines are read with a bounded `readline`: a line over `MAX_LINE_LENGTH` characters is a
  problem on that line (memory stays bounded whatever the file holds);
- a UTF-8 byte-order mark at the start of a file is dropped;
- control characters (NUL, escape, ...; everything in Unicode category Cc but the tab) are a
  problem on their line;
- a TSV line has two columns, `source<TAB>target`; more columns are more references only
  with `multiple_references=True`;
- a first line that looks like a header (`source<TAB>target`, `src<TAB>tgt`,
  `input<TAB>output`, any case) is skipped with a warning, whatever `on_error` says;
- exact duplicate examples within a file, and validation or test examples that are also in
  the training split, are kept but reported as warnings with counts, in `task.data_report`.
"""

import collections
import logging
import os
import re
import stat

import numpy as np

from keras_s2s.data.task import Example, Task
from keras_s2s.data.tokenizers import CharTokenizer, SubwordTokenizer, Tokenizer, WordTokenizer

log = logging.getLogger("keras_s2s")
_TOKENIZERS = {"char": CharTokenizer, "word": WordTokenizer, "subword": SubwordTokenizer}


#: what `keras_s2s.evaluation.evaluate` reports for user data; the validation metric that
#: picks the best epoch is chosen from the targets (`keras_s2s.training.defaults`)
USER_METRICS = ("bleu", "chrf", "sequence_accuracy", "cer")

#: the longest line read, in characters (the reader never holds more than four bytes per
#: character of it, plus the line end)
MAX_LINE_LENGTH = 10_000

#: first lines read as a header (compared case-insensitively, first two fields)
HEADERS = frozenset({("source", "target"), ("src", "tgt"), ("input", "output"),
                     ("source", "targets"), ("sources", "targets")})

_BOM = "\ufeff"
# Unicode category Cc (C0, DEL, C1) but the tab; line ends are stripped before the check
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def check_input_file(path):
    """Raise unless `path` names a regular file (or a link to one) that can be read.

    Directories, FIFOs, devices and sockets are refused before anything opens them: a FIFO
    would block until a writer comes, and a device such as `/dev/zero` reads without end.

    Args:
        path: The file name.

    Returns:
        `path`.

    Raises:
        FileNotFoundError: No such file.
        ValueError: It is not a regular file, or it can't be read; the message names the path
            and what it is.

    Example:

    >>> check_input_file("/dev/zero")
    Traceback (most recent call last):
    ValueError: /dev/zero is a device; give a regular file
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    except OSError as error:
        raise ValueError(f"{path}: {error.strerror or error}") from None
    what = _file_kind(mode)
    if what:
        raise ValueError(f"{path} is {what}; give a regular file")
    if not os.access(path, os.R_OK):
        raise ValueError(f"{path}: permission denied")
    return path


def _file_kind(mode):
    """What a non-regular file is ("a directory", ...), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_lines(stream, name, max_line_length=MAX_LINE_LENGTH):
    """Yield `(line_number, text)` from a binary stream, with bounded memory.

    Each line is read with `readline(limit)`; a line over `max_line_length` characters, bad
    UTF-8, or a control character yields a `ValueError` (naming `name:line`) in place of the
    text, for the caller to raise or skip. A UTF-8 byte-order mark before the first line is
    dropped, and so are line ends (`\\n`, `\\r\\n`).

    Args:
        stream: A binary file object (`open(path, "rb")`, `sys.stdin.buffer`).
        name: The name in messages (the path, or `<stdin>`).
        max_line_length: The longest line, in characters.

    Yields:
        `(number, str or ValueError)`.

    Example:

    >>> with open("sources.txt", "rb") as f:
    ...     lines = [text for _, text in read_lines(f, "sources.txt")]
    """
    limit = 4 * max_line_length + 2  # UTF-8 holds at most 4 bytes a character, then \r\n
    number = 0
    while True:
        raw = stream.readline(limit)
        if not raw:
            return
        number += 1
        if len(raw) == limit and not raw.endswith(b"\n"):
            while True:  # drop the rest of the line a chunk at a time: memory stays bounded
                rest = stream.readline(limit)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, ValueError(f"{name}:{number}: line longer than {max_line_length:,} "
                                     "characters (the limit of a line)")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield number, ValueError(f"{name}:{number}: not valid UTF-8 ({error.reason} at "
                                     f"byte {error.start})")
            continue
        if number == 1 and text.startswith(_BOM):
            text = text[1:]
        text = text[:-1] if text.endswith("\n") else text
        text = text[:-1] if text.endswith("\r") else text
        if len(text) > max_line_length:
            yield number, ValueError(f"{name}:{number}: line longer than {max_line_length:,} "
                                     "characters (the limit of a line)")
            continue
        control = _CONTROL.search(text)
        if control:
            yield number, ValueError(f"{name}:{number}: control character "
                                     f"U+{ord(control.group()):04X} at column {control.start() + 1}")
            continue
        yield number, text


def _lines(path, max_line_length=MAX_LINE_LENGTH):
    """`read_lines` of a file that `check_input_file` accepts."""
    check_input_file(path)
    with open(path, "rb") as f:
        yield from read_lines(f, path, max_line_length)


class _Reader:
    def __init__(self, on_error):
        if on_error not in ("raise", "skip"):
            raise ValueError(f"Argument `on_error` must be 'raise' or 'skip'. Received: {on_error!r}")
        self.on_error = on_error
        self.skipped = 0

    def problem(self, path, number, message):
        self.error(ValueError(f"{path}:{number}: {message}"))

    def error(self, error):
        """Raise (with the hint how to skip) or count and log a problem on one line."""
        if self.on_error == "raise":
            raise ValueError(f"{error} (pass on_error='skip' to skip and count such lines)")
        self.skipped += 1
        log.warning("skipped %s", error)


def _is_header(fields):
    return tuple(f.strip().lower() for f in fields[:2]) in HEADERS


def _count_duplicates(examples, path, report):
    duplicates = len(examples) - len(set(examples))
    if report is not None:
        report["duplicates"] = duplicates
    if duplicates:
        log.warning("%s: %d exact duplicate example(s) (kept; each counts again in training "
                    "and scoring)", path, duplicates)


def read_tsv(path, on_error="raise", *, multiple_references=False,
             max_line_length=MAX_LINE_LENGTH, report=None):
    """Read `source<TAB>target` lines into `Example`s.

    Problems on a line (no tab, an empty side, an unexpected column, bad UTF-8, a control
    character, a line over `max_line_length`) raise `ValueError` naming `path:line`, or with
    `on_error="skip"` are skipped, counted and logged. A first line that looks like a header
    is skipped with a warning; a byte-order mark is dropped. Exact duplicates are kept and
    logged as a warning with their count.

    Args:
        path: A UTF-8 TSV file (a regular file: see `check_input_file`).
        on_error: `"raise"` (default) or `"skip"`.
        multiple_references: Read columns after the second as more references of the same
            source (`source<TAB>target<TAB>target2...`); otherwise a third column is a problem
            on that line.
        max_line_length: The longest line, in characters.
        report: Optional dict that receives `lines`, `examples`, `skipped`, `header_line`
            (1 or None) and `duplicates`.

    Returns:
        `(examples, skipped)`.

    Example:

    >>> examples, skipped = read_tsv("train.tsv", on_error="skip")
    """
    reader = _Reader(on_error)
    examples = []
    header = None
    number = 0
    for number, line in _lines(path, max_line_length):
        if isinstance(line, ValueError):
            reader.error(line)
            continue
        if not line.strip():
            reader.problem(path, number, "empty line")
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            reader.problem(path, number, "no tab: expected 'source<TAB>target'")
            continue
        if number == 1 and _is_header(fields):
            header = 1
            log.warning("%s:1: skipped a header line (%r); the data starts on line 2", path,
                        line[:60])
            continue
        if len(fields) > 2 and not multiple_references:
            reader.problem(path, number, f"{len(fields)} columns; expected 'source<TAB>target' "
                           "(pass multiple_references=True to read more columns as more "
                           "references)")
            continue
        source, targets = fields[0].strip(), [t.strip() for t in fields[1:]]
        if not source or not all(targets):
            side = "source" if not source else "target"
            reader.problem(path, number, f"empty {side}")
            continue
        examples.append(Example(source, tuple(targets)))
    _count_duplicates(examples, path, report)
    if report is not None:
        report.update(lines=number, examples=len(examples), skipped=reader.skipped,
                      header_line=header)
    return examples, reader.skipped


def read_parallel(source_path, target_path, on_error="raise", *,
                  max_line_length=MAX_LINE_LENGTH, report=None):
    """Read two line-aligned files into `Example`s, with the line rules of `read_tsv`.

    Args:
        source_path, target_path: UTF-8 text files, one sentence per line.
        on_error: `"raise"` (default) or `"skip"`.
        max_line_length: The longest line, in characters.
        report: Optional dict that receives `lines`, `examples`, `skipped` and `duplicates`.

    Returns:
        `(examples, skipped)`.

    Example:

    >>> examples, skipped = read_parallel("train.de", "train.en")
    """
    reader = _Reader(on_error)
    sources = list(_lines(source_path, max_line_length))
    targets = list(_lines(target_path, max_line_length))
    if len(sources) != len(targets):
        raise ValueError(f"{source_path} has {len(sources)} lines but {target_path} has "
                         f"{len(targets)}; parallel files must be line-aligned.")
    examples = []
    for (number, source), (_, target) in zip(sources, targets):
        bad = [t for t in (source, target) if isinstance(t, ValueError)]
        if bad:
            reader.error(bad[0])
            continue
        for path, text, side in ((source_path, source, "source"), (target_path, target, "target")):
            if not text.strip():
                reader.problem(path, number, f"empty {side} line")
                break
        else:
            examples.append(Example(source.strip(), (target.strip(),)))
    _count_duplicates(examples, source_path, report)
    if report is not None:
        report.update(lines=len(sources), examples=len(examples), skipped=reader.skipped)
    return examples, reader.skipped


def overlap_report(splits):
    """Count, and log as warnings, validation and test examples that are also in training.

    Args:
        splits: `{"train": [Example, ...], "validation": [...], "test": [...]}`.

    Returns:
        `{split: count}` for the splits other than train.

    Example:

    >>> overlap_report(task.splits)
    {'validation': 0, 'test': 2}
    """
    train = set(splits.get("train", ()))
    out = {}
    for split in ("validation", "test"):
        if split in splits:
            out[split] = sum(example in train for example in splits[split])
            if out[split]:
                log.warning("%d of %d %s example(s) are also in the training data (exact "
                            "pairs); their scores overstate generalisation", out[split],
                            len(splits[split]), split)
    return out


def _tokenizer(spec, texts, name, **build):
    if isinstance(spec, Tokenizer):
        return spec
    if spec not in _TOKENIZERS:
        raise ValueError(f"Argument `{name}` must be a Tokenizer or one of {sorted(_TOKENIZERS)}. "
                         f"Received: {spec!r}")
    return _TOKENIZERS[spec].build(texts, **build)


def _where(report):
    """' (PATH: N lines, M skipped)' from a reader's report, or '' without one."""
    if not report:
        return ""
    path = report.get("path")
    path = " and ".join(path) if isinstance(path, list) else path
    counts = (f": {report['lines']} line(s), {report['skipped']} skipped"
              if "lines" in report and "skipped" in report else "")
    return f" ({path}{counts})"


def _task(name, splits, skipped, source_tokenizer, target_tokenizer, seed, min_frequency,
          max_vocabulary_size, max_source_length, max_target_length, files=None):
    files = files or {}
    for split in ("train", "validation", "test"):
        if split in splits and not splits[split]:
            raise ValueError(f"The {'training' if split == 'train' else split} data"
                             f"{_where(files.get(split))} holds no usable "
                             "example: give a file of 'source<TAB>target' lines (or aligned "
                             "source and target files) with at least one non-empty pair.")
    if "validation" not in splits and len(splits["train"]) < 2:
        raise ValueError(f"The training data{_where(files.get('train'))} holds one example, "
                         "too few to hold out a validation example: give more examples or a "
                         "validation file (`--validation` in the CLI).")
    if "validation" not in splits:
        # hold out 5% of the training examples, deterministically under `seed`
        train = splits["train"]
        order = np.random.default_rng(seed).permutation(len(train))
        n_val = max(1, len(train) // 20)
        splits["validation"] = [train[i] for i in order[:n_val]]
        splits["train"] = [train[i] for i in order[n_val:]]
    build = {"min_frequency": min_frequency, "max_vocabulary_size": max_vocabulary_size}
    train = splits["train"]
    source = _tokenizer(source_tokenizer, [e.source for e in train], "source_tokenizer", **build)
    target = _tokenizer(target_tokenizer, [t for e in train for t in e.targets],
                        "target_tokenizer", **build)
    report = {"files": files, "in_train": overlap_report(splits)}
    return Task(name, splits, source, target, max_source_length=max_source_length,
                max_target_length=max_target_length,
                metrics=USER_METRICS,
                description="user data", skipped=skipped, data_report=report)


def from_tsv(train_path, validation_path=None, test_path=None, *, source_tokenizer="char",
             target_tokenizer="char", on_error="raise", min_frequency=1,
             max_vocabulary_size=None, max_source_length=None, max_target_length=None, seed=0,
             name="tsv", multiple_references=False, max_line_length=MAX_LINE_LENGTH):
    """A `Task` from tab-separated files: `source<TAB>target` per line (`read_tsv`).

    Without `validation_path`, 5% of the training examples are held out for validation,
    deterministically under `seed`. `task.data_report` holds what the files showed:
    `{"files": {split: read_tsv's report}, "in_train": {split: examples also in train}}`.

    Args:
        train_path, validation_path, test_path: UTF-8 TSV files.
        source_tokenizer, target_tokenizer: `"char"`, `"word"`, `"subword"` (built from the
            training data) or a `Tokenizer`.
        on_error: `"raise"` (default) or `"skip"` for empty or malformed lines.
        min_frequency, max_vocabulary_size: Passed to the tokenizers' `build`.
        max_source_length, max_target_length: Pipeline length limits.
        seed: Seed of the validation hold-out.
        name: Task name.
        multiple_references: Read columns after the second as more references.
        max_line_length: The longest line read, in characters.

    Returns:
        A `Task`.

    Example:

    >>> task = from_tsv("train.tsv", source_tokenizer="word", target_tokenizer="word")
    """
    splits, skipped, files = {}, {}, {}
    for split, path in (("train", train_path), ("validation", validation_path),
                        ("test", test_path)):
        if path is not None:
            files[split] = {"path": str(path)}
            splits[split], skipped[split] = read_tsv(
                path, on_error, multiple_references=multiple_references,
                max_line_length=max_line_length, report=files[split])
    return _task(name, splits, skipped, source_tokenizer, target_tokenizer, seed, min_frequency,
                 max_vocabulary_size, max_source_length, max_target_length, files)


def from_parallel_text(source_path, target_path, *, validation=None, test=None,
                       source_tokenizer="word", target_tokenizer="word", on_error="raise",
                       min_frequency=1, max_vocabulary_size=None, max_source_length=None,
                       max_target_length=None, seed=0, name="parallel"):
    """A `Task` from line-aligned source and target files (one sentence per line).

    Args:
        source_path, target_path: UTF-8 training files.
        validation, test: Optional `(source_path, target_path)` pairs.
        Others: as `from_tsv`.

    Returns:
        A `Task`.

    Example:

    >>> task = from_parallel_text("train.de", "train.en", validation=("dev.de", "dev.en"))
    """
    splits, skipped, files = {}, {}, {}
    for split, paths in (("train", (source_path, target_path)), ("validation", validation),
                         ("test", test)):
        if paths is not None:
            files[split] = {"path": [str(p) for p in paths]}
            splits[split], skipped[split] = read_parallel(*paths, on_error=on_error,
                                                          report=files[split])
    return _task(name, splits, skipped, source_tokenizer, target_tokenizer, seed, min_frequency,
                 max_vocabulary_size, max_source_length, max_target_length, files)
