"""The user's own data: tab-separated files and line-aligned parallel text files.

Encoding is UTF-8. Empty or malformed lines are reported with their file and line number:
by default they raise `ValueError`; with `on_error="skip"` they are skipped and counted in
`task.skipped`. Nothing is dropped silently.
"""

import logging

import numpy as np

from keras_s2s.data.task import Example, Task
from keras_s2s.data.tokenizers import CharTokenizer, SubwordTokenizer, Tokenizer, WordTokenizer

log = logging.getLogger("keras_s2s")
_TOKENIZERS = {"char": CharTokenizer, "word": WordTokenizer, "subword": SubwordTokenizer}


#: what `keras_s2s.evaluation.evaluate` reports for user data; the validation metric that
#: picks the best epoch is chosen from the targets (`keras_s2s.training.defaults`)
USER_METRICS = ("bleu", "chrf", "sequence_accuracy", "cer")


def _lines(path):
    """Yield `(line_number, text)`; bad UTF-8 raises a ValueError naming file and line."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                yield number, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                yield number, error


class _Reader:
    def __init__(self, on_error):
        if on_error not in ("raise", "skip"):
            raise ValueError(f"Argument `on_error` must be 'raise' or 'skip'. Received: {on_error!r}")
        self.on_error = on_error
        self.skipped = 0

    def problem(self, path, number, message):
        text = f"{path}:{number}: {message}"
        if self.on_error == "raise":
            raise ValueError(text + " (pass on_error='skip' to skip and count such lines)")
        self.skipped += 1
        log.warning("skipped %s", text)


def read_tsv(path, on_error="raise"):
    """Read `source<TAB>target[<TAB>more references...]` lines into `Example`s.

    Returns:
        `(examples, skipped)`.
    """
    reader = _Reader(on_error)
    examples = []
    for number, line in _lines(path):
        if isinstance(line, UnicodeDecodeError):
            reader.problem(path, number, f"not valid UTF-8 ({line.reason} at byte {line.start})")
            continue
        if not line.strip():
            reader.problem(path, number, "empty line")
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            reader.problem(path, number, "no tab: expected 'source<TAB>target'")
            continue
        source, targets = fields[0].strip(), [t.strip() for t in fields[1:]]
        if not source or not all(targets):
            side = "source" if not source else "target"
            reader.problem(path, number, f"empty {side}")
            continue
        examples.append(Example(source, tuple(targets)))
    return examples, reader.skipped


def read_parallel(source_path, target_path, on_error="raise"):
    """Read two line-aligned files into `Example`s. Returns `(examples, skipped)`."""
    reader = _Reader(on_error)
    sources, targets = list(_lines(source_path)), list(_lines(target_path))
    if len(sources) != len(targets):
        raise ValueError(f"{source_path} has {len(sources)} lines but {target_path} has "
                         f"{len(targets)}; parallel files must be line-aligned.")
    examples = []
    for (number, source), (_, target) in zip(sources, targets):
        bad = [(p, t) for p, t in ((source_path, source), (target_path, target))
               if isinstance(t, UnicodeDecodeError)]
        if bad:
            reader.problem(bad[0][0], number, f"not valid UTF-8 ({bad[0][1].reason})")
            continue
        for path, text, side in ((source_path, source, "source"), (target_path, target, "target")):
            if not text.strip():
                reader.problem(path, number, f"empty {side} line")
                break
        else:
            examples.append(Example(source.strip(), (target.strip(),)))
    return examples, reader.skipped


def _tokenizer(spec, texts, name, **build):
    if isinstance(spec, Tokenizer):
        return spec
    if spec not in _TOKENIZERS:
        raise ValueError(f"Argument `{name}` must be a Tokenizer or one of {sorted(_TOKENIZERS)}. "
                         f"Received: {spec!r}")
    return _TOKENIZERS[spec].build(texts, **build)


def _task(name, splits, skipped, source_tokenizer, target_tokenizer, seed, min_frequency,
          max_vocabulary_size, max_source_length, max_target_length):
    if not splits.get("train"):
        raise ValueError("The training data holds no usable example.")
    if "validation" not in splits:
        # hold out 5% of the training examples, deterministically under `seed`
        train = splits["train"]
        order = np.random.default_rng(seed).permutation(len(train))
        n_val = max(1, len(train) // 20) if len(train) > 1 else 0
        splits["validation"] = [train[i] for i in order[:n_val]]
        splits["train"] = [train[i] for i in order[n_val:]]
    build = {"min_frequency": min_frequency, "max_vocabulary_size": max_vocabulary_size}
    train = splits["train"]
    source = _tokenizer(source_tokenizer, [e.source for e in train], "source_tokenizer", **build)
    target = _tokenizer(target_tokenizer, [t for e in train for t in e.targets],
                        "target_tokenizer", **build)
    return Task(name, splits, source, target, max_source_length=max_source_length,
                max_target_length=max_target_length,
                metrics=USER_METRICS,
                description="user data", skipped=skipped)


def from_tsv(train_path, validation_path=None, test_path=None, *, source_tokenizer="char",
             target_tokenizer="char", on_error="raise", min_frequency=1,
             max_vocabulary_size=None, max_source_length=None, max_target_length=None, seed=0,
             name="tsv"):
    """A `Task` from tab-separated files: `source<TAB>target[<TAB>more references]` per line.

    Without `validation_path`, 5% of the training examples are held out for validation,
    deterministically under `seed`.

    Args:
        train_path, validation_path, test_path: UTF-8 TSV files.
        source_tokenizer, target_tokenizer: `"char"`, `"word"`, `"subword"` (built from the
            training data) or a `Tokenizer`.
        on_error: `"raise"` (default) or `"skip"` for empty or malformed lines.
        min_frequency, max_vocabulary_size: Passed to the tokenizers' `build`.
        max_source_length, max_target_length: Pipeline length limits.
        seed: Seed of the validation hold-out.
        name: Task name.

    Returns:
        A `Task`.

    Example:

    >>> task = from_tsv("train.tsv", source_tokenizer="word", target_tokenizer="word")
    """
    splits, skipped = {}, {}
    for split, path in (("train", train_path), ("validation", validation_path),
                        ("test", test_path)):
        if path is not None:
            splits[split], skipped[split] = read_tsv(path, on_error)
    return _task(name, splits, skipped, source_tokenizer, target_tokenizer, seed, min_frequency,
                 max_vocabulary_size, max_source_length, max_target_length)


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
    splits, skipped = {}, {}
    for split, paths in (("train", (source_path, target_path)), ("validation", validation),
                         ("test", test)):
        if paths is not None:
            splits[split], skipped[split] = read_parallel(*paths, on_error=on_error)
    return _task(name, splits, skipped, source_tokenizer, target_tokenizer, seed, min_frequency,
                 max_vocabulary_size, max_source_length, max_target_length)
