"""Built-in tasks, all offline and deterministic under a seed: `load_task(name, **options)`.

- `g2p`: CMUdict grapheme-to-phoneme (the default task);
- `addition`: "12+345" → "357";
- `copy`, `reverse`, `sort`: synthetic character sequences;
- `dates`: localized human-readable dates (Babel) → ISO dates;
- `numbers`: numbers → words in a chosen language (num2words).
"""

import datetime
import difflib
import inspect
import string

import numpy as np

from keras_s2s.data import g2p as cmudict_g2p
from keras_s2s.data.task import Example, Task
from keras_s2s.data.tokenizers import CharTokenizer, WordTokenizer

_TASKS = {}


def _register(fn):
    _TASKS[fn.__name__.lstrip("_")] = fn
    return fn


def list_tasks():
    """Names of the built-in tasks."""
    return sorted(_TASKS)


def load_task(name="g2p", **options):
    """Build a built-in task.

    Args:
        name: One of `list_tasks()`; `"g2p"` by default.
        **options: The task's options (see each task's docstring), e.g. `seed`.

    Returns:
        A `Task`.

    Example:

    >>> task = load_task("addition", max_digits=2, num_train=200)
    >>> task.splits["train"][0].source.count("+")
    1
    """
    if name not in _TASKS:
        close = difflib.get_close_matches(name, list(_TASKS), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"Unknown task '{name}'.{hint} Built-in tasks: {list_tasks()}.")
    fn = _TASKS[name]
    accepted = list(inspect.signature(fn).parameters)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"Task '{name}' got unknown option(s) {unknown}. It accepts: "
                         f"{', '.join(accepted)}.")
    return fn(**options)


def _make_task(name, splits, description, metrics, source_tokenizer=None,
               target_tokenizer=None, target_words=False, **limits):
    train = splits["train"]
    source_tokenizer = source_tokenizer or CharTokenizer.build([e.source for e in train])
    target_texts = [t for e in train for t in e.targets]
    target_cls = WordTokenizer if target_words else CharTokenizer
    target_tokenizer = target_tokenizer or target_cls.build(target_texts)
    return Task(name, splits, source_tokenizer, target_tokenizer, metrics=tuple(metrics),
                description=description, **limits)


@_register
def _g2p(seed=0, max_train_words=None, max_source_length=None, max_target_length=None):
    """CMUdict G2P: 90/5/5 split by word, no stress marks, all pronunciations as references.

    Args:
        seed: Seed of the split (the split is by word, so no spelling is in two splits).
        max_train_words: Optional cap on training words (for quick runs); the validation
            and test splits are unchanged.
        max_source_length, max_target_length: Optional pipeline length limits.
    """
    entries = cmudict_g2p.read_cmudict()
    words = cmudict_g2p.split_words(list(entries), seed=seed)
    if max_train_words is not None:
        words["train"] = words["train"][:max_train_words]
    splits = {s: [Example(w, entries[w]) for w in ws] for s, ws in words.items()}
    phonemes = sorted({p for prons in entries.values() for pr in prons for p in pr.split()})
    target = WordTokenizer(phonemes)
    source = CharTokenizer(sorted(string.ascii_lowercase))
    return _make_task("g2p", splits, "CMUdict word -> phonemes (39, no stress)",
                      ("wer", "per", "sequence_accuracy"), source, target,
                      max_source_length=max_source_length, max_target_length=max_target_length)


def _sizes(num_train, num_validation, num_test):
    return {"train": num_train, "validation": num_validation, "test": num_test}


def _unique_examples(make, sizes, rng, max_tries=50):
    """Draw examples with distinct sources across all splits (no leakage between splits)."""
    seen, splits = set(), {}
    for split, n in sizes.items():
        out, tries = [], 0
        while len(out) < n:
            source, target = make(rng)
            if source in seen:
                tries += 1
                if tries > max_tries * max(n, 1):
                    raise ValueError(f"Could not draw {n} distinct {split} examples; widen the "
                                     "length range or the alphabet, or ask for fewer.")
                continue
            seen.add(source)
            out.append(Example(source, (target,)))
        splits[split] = out
    return splits


def _symbol_task(name, transform, alphabet, min_length, max_length, num_train, num_validation,
                 num_test, seed):
    if not 1 <= min_length <= max_length:
        raise ValueError(f"Need 1 <= min_length <= max_length, got {min_length}, {max_length}.")
    if len(set(alphabet)) < 2:
        raise ValueError("Argument `alphabet` needs at least 2 distinct characters.")
    symbols = sorted(set(alphabet))

    def make(rng):
        n = int(rng.integers(min_length, max_length + 1))
        chars = [symbols[i] for i in rng.integers(0, len(symbols), n)]
        return "".join(chars), "".join(transform(chars))

    splits = _unique_examples(make, _sizes(num_train, num_validation, num_test),
                              np.random.default_rng(seed))
    tok = CharTokenizer(symbols)
    return _make_task(name, splits, f"{name} of {min_length}-{max_length} symbols",
                      ("sequence_accuracy", "cer"), tok, tok)


@_register
def _copy(alphabet=string.ascii_lowercase[:10], min_length=3, max_length=12, num_train=5000,
          num_validation=500, num_test=500, seed=0):
    """Copy a random string: the sanity task."""
    return _symbol_task("copy", lambda c: c, alphabet, min_length, max_length, num_train,
                        num_validation, num_test, seed)


@_register
def _reverse(alphabet=string.ascii_lowercase[:10], min_length=3, max_length=12, num_train=5000,
             num_validation=500, num_test=500, seed=0):
    """Reverse a random string: needs the whole source before the first output."""
    return _symbol_task("reverse", lambda c: c[::-1], alphabet, min_length, max_length,
                        num_train, num_validation, num_test, seed)


@_register
def _sort(alphabet=string.ascii_lowercase[:10], min_length=3, max_length=12, num_train=5000,
          num_validation=500, num_test=500, seed=0):
    """Sort the characters of a random string."""
    return _symbol_task("sort", sorted, alphabet, min_length, max_length, num_train,
                        num_validation, num_test, seed)


@_register
def _addition(max_digits=3, num_train=5000, num_validation=500, num_test=500, seed=0):
    """Add two non-negative integers of up to `max_digits` digits: "12+345" -> "357"."""
    if max_digits < 1:
        raise ValueError(f"Argument `max_digits` must be >= 1. Received: {max_digits}")
    high = 10 ** max_digits

    def make(rng):
        a, b = (int(v) for v in rng.integers(0, high, 2))
        return f"{a}+{b}", str(a + b)

    splits = _unique_examples(make, _sizes(num_train, num_validation, num_test),
                              np.random.default_rng(seed))
    tok = CharTokenizer(sorted("0123456789+"))
    return _make_task("addition", splits, f"a+b with up to {max_digits} digits",
                      ("sequence_accuracy", "cer"), tok, tok)


@_register
def _dates(locales=("en_US", "fr_FR", "de_DE", "es_ES"), formats=("full", "long", "medium", "short"),
           start_year=1900, end_year=2099, num_train=10000, num_validation=1000, num_test=1000,
           seed=0):
    """Localized human-readable dates (Babel) -> ISO 8601 dates: "3 mars 1999" -> "1999-03-03".

    Dates are drawn uniformly between the years with a seeded NumPy generator; the source is
    the date formatted by Babel (CLDR month and day names) in a random locale and format.
    """
    from babel.dates import format_date

    first = datetime.date(start_year, 1, 1).toordinal()
    last = datetime.date(end_year, 12, 31).toordinal()

    def make(rng):
        date = datetime.date.fromordinal(int(rng.integers(first, last + 1)))
        locale = locales[int(rng.integers(0, len(locales)))]
        fmt = formats[int(rng.integers(0, len(formats)))]
        return format_date(date, format=fmt, locale=locale), date.isoformat()

    splits = _unique_examples(make, _sizes(num_train, num_validation, num_test),
                              np.random.default_rng(seed))
    return _make_task("dates", splits, f"localized dates ({', '.join(locales)}) -> ISO",
                      ("sequence_accuracy", "cer"))


@_register
def _numbers(lang="en", max_value=999_999, num_train=10000, num_validation=1000, num_test=1000,
             seed=0):
    """Numbers -> words with num2words: "1234" -> "one thousand, two hundred and thirty-four"."""
    from num2words import num2words

    def make(rng):
        value = int(rng.integers(0, max_value + 1))
        return str(value), num2words(value, lang=lang)

    splits = _unique_examples(make, _sizes(num_train, num_validation, num_test),
                              np.random.default_rng(seed))
    return _make_task("numbers", splits, f"numbers -> {lang} words",
                      ("sequence_accuracy", "wer", "cer"), target_words=True)
