"""The shipped parallel corpus: verse-aligned King James Version / Reina-Valera 1909.

`corpora/bible_kjv_rv1909.tsv.gz` holds 31,084 verse pairs (book, chapter, verse, English,
Spanish), both translations in the public domain, made by `scripts/make_bible_corpus.py` from
Debian's `sword-text-kjv` and `sword-text-sparv` packages (see `corpora/README.md`).
`load_task("translation")` (in `builtin.py`) builds the task from it.
"""

import functools
import gzip
import importlib.resources

import numpy as np

from keras_s2s.data.task import Example

BIBLE = "bible_kjv_rv1909"
LANGUAGES = ("en", "es")


@functools.lru_cache(maxsize=1)
def read_bible():
    """`((book, chapter, verse, english, spanish), ...)` in canonical order."""
    resource = importlib.resources.files("keras_s2s.data") / "corpora" / f"{BIBLE}.tsv.gz"
    if not resource.is_file():
        raise ValueError(f"The parallel corpus is missing from the installed package: "
                         f"{resource}. Reinstall keras-s2s.")
    rows = []
    with resource.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 5 or not all(fields):
                raise ValueError(f"{BIBLE}.tsv.gz:{number}: expected 5 tab-separated fields")
            rows.append((fields[0], int(fields[1]), int(fields[2]), fields[3], fields[4]))
    return tuple(rows)


def bible_splits(direction="en-es", seed=0, max_words=None, repeats="train"):
    """Seeded 90/5/5 split of the verse pairs by chapter.

    Whole chapters go to one split, so neighbouring verses (which repeat names and phrases)
    never straddle training and test. Verses whose source has more than `max_words`
    whitespace-separated words are left out of every split (an explicit option; the count is
    returned).

    Some verses repeat word for word in other chapters ("And the LORD spake unto Moses,
    saying,"). With `repeats="train"` (the default) a verse whose English or Spanish text
    also occurs in another split moves to the training split, until no text is in two splits:
    validation and test hold only sentences that training never saw (34 verses move at
    seed 0). `repeats="keep"` is the chapter split alone, on which the translation results of
    December 2026 were measured (11 of its test verses repeat a training source's text: 11 of
    1,184 with `max_words=30`, 11 of 1,737 without).

    Returns:
        `(splits, left_out)`: `{"train", "validation", "test"}` lists of `Example`, and how
        many verses `max_words` left out.

    Example:

    >>> splits, left_out = bible_splits(max_words=30)
    >>> {k: len(v) for k, v in splits.items()}, left_out
    ({'train': 19941, 'validation': 965, 'test': 1168}, 9010)
    """
    if repeats not in ("train", "keep"):
        raise ValueError(f"Argument `repeats` must be 'train' or 'keep'. "
                         f"Received: repeats={repeats!r}")
    source, target = _direction(direction)
    rows = read_bible()
    chapters = sorted({(r[0], r[1]) for r in rows}, key=lambda c: (c[0], c[1]))
    order = np.random.default_rng(seed).permutation(len(chapters))
    n = len(chapters)
    n_test = n_val = max(1, round(0.05 * n))
    split_of = {}
    for rank, index in enumerate(order):
        split_of[chapters[index]] = ("test" if rank < n_test else
                                     "validation" if rank < n_test + n_val else "train")
    kept = [r for r in rows if max_words is None or len(r[3 + LANGUAGES.index(source)].split())
            <= max_words]
    left_out = len(rows) - len(kept)
    where = [split_of[(r[0], r[1])] for r in kept]
    if repeats == "train":
        where = _repeats_to_train(kept, where)
    splits = {"train": [], "validation": [], "test": []}
    for row, split in zip(kept, where):
        texts = {"en": row[3], "es": row[4]}
        splits[split].append(Example(texts[source], (texts[target],)))
    return splits, left_out


def _repeats_to_train(rows, where):
    """Move every verse whose English or Spanish text is also in another split to "train",
    until no text is in two splits (a moved verse can bring its other side along)."""
    where = list(where)
    while True:
        splits_of = {}
        for row, split in zip(rows, where):
            for text in (row[3], row[4]):
                splits_of.setdefault(text, set()).add(split)
        moved = 0
        for i, row in enumerate(rows):
            if where[i] != "train" and (len(splits_of[row[3]]) > 1
                                        or len(splits_of[row[4]]) > 1):
                where[i], moved = "train", moved + 1
        if not moved:
            return where


def _direction(direction):
    parts = str(direction).split("-")
    if len(parts) != 2 or parts[0] == parts[1] or not set(parts) <= set(LANGUAGES):
        raise ValueError(f"Argument `direction` must be 'en-es' or 'es-en'. "
                         f"Received: direction={direction!r}")
    return parts
