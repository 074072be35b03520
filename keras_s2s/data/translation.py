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


def bible_splits(direction="en-es", seed=0, max_words=None):
    """Seeded 90/5/5 split of the verse pairs by chapter.

    Whole chapters go to one split, so neighbouring verses (which repeat names and phrases)
    never straddle training and test. Verses whose source has more than `max_words`
    whitespace-separated words are left out of every split (an explicit option; the count is
    returned).

    Returns:
        `(splits, left_out)`: `{"train", "validation", "test"}` lists of `Example`, and how
        many verses `max_words` left out.
    """
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
    splits = {"train": [], "validation": [], "test": []}
    left_out = 0
    for row in rows:
        texts = {"en": row[3], "es": row[4]}
        if max_words is not None and len(texts[source].split()) > max_words:
            left_out += 1
            continue
        splits[split_of[(row[0], row[1])]].append(Example(texts[source], (texts[target],)))
    return splits, left_out


def _direction(direction):
    parts = str(direction).split("-")
    if len(parts) != 2 or parts[0] == parts[1] or not set(parts) <= set(LANGUAGES):
        raise ValueError(f"Argument `direction` must be 'en-es' or 'es-en'. "
                         f"Received: direction={direction!r}")
    return parts
