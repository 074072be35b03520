"""Naive baselines for any task: did the model learn anything beyond a simple rule?

Each baseline is a small class with `fit(pairs)` (a list of `(source, target)` strings) and
`predict(sources)` (a list of strings), written in pure Python and NumPy (no TensorFlow):

- `copy` (any task): the source itself.
- `suffix_rule` (words, characters to characters): the most frequent "strip k characters,
  append a string" rewrite of the longest source ending seen in training.
- `char_ngram` (words: characters or tokens): each source unit's most frequent output chunk
  in its context window, learned from monotone alignments.
- `word_lexicon` (sentences): every known source word replaced by its most associated target
  word (Dice coefficient).

`run_baselines(task, split)` fits the task's default baselines (`default_baselines`) on its
training pairs and scores them on a split with the task's metrics against all references, as
`keras_s2s.evaluation.evaluate` scores a model, so the numbers sit beside a model's.
`keras-s2s baseline` prints them, and with `--run` the model's own greedy decode as a last row.

The suffix rule is the "most frequent suffix" rule of inflection (German noun plurals), a
baseline neural models do not always beat on small data; the character n-gram transducer is the
classic context-window classifier of letter-to-sound rules.
"""

import collections
import re
import time

import numpy as np

from keras_s2s import text_metrics

__all__ = [
    "BASELINES",
    "CharNGram",
    "Copy",
    "SuffixRule",
    "WordLexicon",
    "default_baselines",
    "make_baseline",
    "run_baselines",
]

# The pieces of `keras_s2s.data.WordTokenizer`: words and single punctuation marks.
_WORD = re.compile(r"\w+|[^\w\s]")
_UNITS = ("char", "word")


def _check_units(units, name):
    if units not in _UNITS:
        raise ValueError(f"Argument `{name}` must be one of {_UNITS}. Received: {units!r}")
    return units


def _split(text, units):
    return list(text) if units == "char" else _WORD.findall(text)


def _join(pieces, units):
    return "".join(pieces) if units == "char" else " ".join(pieces)


def _check_pairs(pairs):
    pairs = [tuple(p) for p in pairs]
    for i, pair in enumerate(pairs):
        if len(pair) != 2 or not all(isinstance(x, str) for x in pair):
            raise TypeError(f"`fit` takes (source, target) pairs of strings; item {i} is "
                            f"{pair!r}.")
    if not pairs:
        raise ValueError("`fit` needs at least one (source, target) pair.")
    return pairs


def _check_sources(sources):
    if isinstance(sources, str):
        raise TypeError("`predict` takes a list of source strings, not a single string. "
                        "Wrap it in a list: [source].")
    sources = list(sources)
    for i, source in enumerate(sources):
        if not isinstance(source, str):
            raise TypeError(f"`predict` takes strings; item {i} is {type(source).__name__}.")
    return sources


class _Baseline:
    name = None

    def __init__(self):
        self.fitted = False

    def _require_fit(self):
        if not self.fitted:
            raise ValueError(f"Call `fit(pairs)` before `predict` on the {self.name} baseline.")

    def __repr__(self):
        return f"{type(self).__name__}()"


# ------------------------------------------------------------------------------------- copy
class Copy(_Baseline):
    """The copy baseline: every prediction is its source.

    It scores what a model gets for free when targets resemble sources (spelling
    normalisation, inflection, transliteration of shared letters). `fit` only checks its input.

    Example:

    >>> baseline = Copy().fit([("Hund", "Hunde")])
    >>> baseline.predict(["Katze"])
    ['Katze']
    """

    name = "copy"

    def fit(self, pairs):
        """Learn nothing; returns `self`."""
        _check_pairs(pairs)
        self.fitted = True
        return self

    def predict(self, sources):
        """The sources, unchanged."""
        return _check_sources(sources)


# ------------------------------------------------------------------------------ suffix rule
def _common_prefix_length(a, b):
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class SuffixRule(_Baseline):
    """The most-frequent-suffix rule for word-level tasks (inflection, normalisation).

    From each training pair, the rewrite that turns the source into the target is read off
    their longest common prefix: strip the last `k` characters of the source and append a
    string (`Katze -> Katzen` is `(0, "n")`, `Mutter -> Mütter` is `(5, "ütter")`). Every
    rewrite is counted under each ending of its source of length 0 to `max_suffix_length`
    (the empty ending counts every pair). A new word takes its longest ending seen in training
    (at least `min_count` times) and the most frequent rewrite of that ending which it can
    apply (it strips no more characters than the word has), first seen on ties; a word
    with no applicable rewrite is copied.

    Args:
        max_suffix_length: The longest ending that indexes rewrites (5 by default).
        min_count: An ending must have been seen this many times to be used.

    Example:

    >>> pairs = [("Katze", "Katzen"), ("Tasche", "Taschen"), ("Hund", "Hunde")]
    >>> SuffixRule().fit(pairs).predict(["Lampe", "Mund"])
    ['Lampen', 'Munde']
    """

    name = "suffix_rule"

    def __init__(self, max_suffix_length=5, min_count=1):
        super().__init__()
        if not isinstance(max_suffix_length, int) or max_suffix_length < 0:
            raise ValueError("Argument `max_suffix_length` must be an int >= 0. "
                             f"Received: {max_suffix_length!r}")
        if not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"Argument `min_count` must be an int >= 1. Received: {min_count!r}")
        self.max_suffix_length = max_suffix_length
        self.min_count = min_count
        self.rules = {}

    def __repr__(self):
        return (f"SuffixRule(max_suffix_length={self.max_suffix_length}, "
                f"min_count={self.min_count})")

    @staticmethod
    def rewrite(source, target):
        """The rewrite `(k, append)` with `source[:len(source) - k] + append == target`.

        `k` is as small as possible: everything after the longest common prefix.

        Example:

        >>> SuffixRule.rewrite("Mutter", "Mütter")
        (5, 'ütter')
        """
        prefix = _common_prefix_length(source, target)
        return len(source) - prefix, target[prefix:]

    def fit(self, pairs):
        """Count the rewrites of the training pairs under their source endings; returns `self`."""
        counts = collections.defaultdict(collections.Counter)
        n_max = self.max_suffix_length
        for source, target in _check_pairs(pairs):
            rule = self.rewrite(source, target)
            counts[""][rule] += 1
            for n in range(1, min(n_max, len(source)) + 1):
                counts[source[-n:]][rule] += 1
        # ending -> (times seen, rewrites by decreasing count, first seen first on ties)
        self.rules = {ending: (sum(c.values()), [r for r, _ in c.most_common()])
                      for ending, c in counts.items()}
        self.fitted = True
        return self

    def predict_one(self, source):
        """The prediction for one source string."""
        for n in range(min(self.max_suffix_length, len(source)), -1, -1):
            entry = self.rules.get(source[-n:] if n else "")
            if entry is None or entry[0] < self.min_count:
                continue
            for k, append in entry[1]:
                if k <= len(source):
                    return source[:len(source) - k] + append
        return source

    def predict(self, sources):
        """Apply the learned rewrites to a list of source strings."""
        self._require_fit()
        return [self.predict_one(s) for s in _check_sources(sources)]


# ------------------------------------------------------------------------- char n-gram
class _Vocabulary:
    """Units to ids from `first` on, in order of first appearance."""

    def __init__(self, first=1):
        self.ids = {}
        self.first = first

    def add(self, pieces):
        ids, first = self.ids, self.first
        setdefault = ids.setdefault
        return [setdefault(p, len(ids) + first) for p in pieces]

    def units(self):
        """`units[id]` is the unit of an id (None below `first`)."""
        return [None] * self.first + list(self.ids)

    def __len__(self):
        return len(self.ids) + self.first


class _Lattice:
    """Monotone one-to-{0..max_chunk} alignments of a batch of pairs of equal source length.

    Source position i (0 is the start symbol) emits the target chunk `tgt[j:j + m]`, and a
    path through the lattice is an alignment. Targets are padded with 0 to the longest of the
    batch; `valid[m]` masks the chunks that would run past a target's end. Arrays are
    position-major: an edge array has shape `(S, n, Tmax - m + 1)`, the score of position i
    emitting the chunk that starts at j.
    """

    def __init__(self, src, tgt, tlen, max_chunk):
        self.src, self.tgt, self.tlen = src, tgt, tlen  # (S, n), (n, Tmax), (n,)
        self.S, self.n = src.shape
        self.T = tgt.shape[1]
        self.chunks = [m for m in range(max_chunk + 1) if m <= self.T]
        self.valid = [(np.arange(self.T - m + 1)[None, :] + m <= tlen[:, None])[None]
                      for m in self.chunks]

    def keys(self, base, max_chunk, invalid):
        """An int64 code per (source unit, chunk) edge, `s·B^M + Σ_k t_k·B^(M-1-k)`, and
        `invalid` for chunks past a target's end."""
        out = []
        for m, valid in zip(self.chunks, self.valid):
            width = self.T - m + 1
            key = np.broadcast_to(self.src[:, :, None] * base ** max_chunk,
                                  (self.S, self.n, width)).copy()
            for k in range(m):
                key += self.tgt[None, :, k:k + width] * base ** (max_chunk - 1 - k)
            out.append(np.where(valid, key, invalid))
        return out

    def levenshtein_scores(self):
        """Minus the edit cost of each source unit emitting each chunk, read as "the unit
        becomes the chunk's first unit (free if equal, else a substitution), the rest are
        insertions"; the start symbol inserts its whole chunk; an empty chunk is a deletion.
        Among equally cheap alignments, 2^-10 · (m - 1)² per chunk of m units (m² for the
        start symbol) prefers even chunks (`üß -> uess` is `ü -> ue`, `ß -> ss`), and
        2^-10 per insertion after an equal unit puts insertions after substitutions
        (`öe -> oee` is `ö -> oe`, `e -> e`)."""
        out = []
        for m, valid in zip(self.chunks, self.valid):
            width = self.T - m + 1
            start = self.src[:, :, None] == 0
            if m == 0:
                cost = np.where(start, 0.0, 1.0 + 2.0 ** -10)
            else:
                differs = self.src[:, :, None] != self.tgt[None, :, :width]
                cost = np.where(start, m + m * m * 2.0 ** -10,
                                differs + (m - 1) + ((m - 1) ** 2 + (m - 1) * ~differs)
                                * 2.0 ** -10)
            out.append(np.where(valid, -cost, -np.inf))
        return out

    def viterbi(self, edges):
        """Chunk lengths `(n, S)` of the best path under log-scores, and whether a path
        exists. Exact ties take the largest chunk at the later position (a unit's output
        goes with it rather than with the unit before)."""
        n, S, T = self.n, self.S, self.T
        best = np.full((n, T + 1), -np.inf)
        best[:, 0] = 0.0
        back = np.zeros((S, n, T + 1), np.int8)
        candidates = np.empty((len(self.chunks), n, T + 1))
        for i in range(S):
            candidates.fill(-np.inf)
            for m, edge in zip(self.chunks, edges):
                candidates[m, :, m:] = best[:, :T + 1 - m] + edge[i]
            back[i] = len(self.chunks) - 1 - candidates[::-1].argmax(axis=0)
            best = candidates.max(axis=0)
        rows = np.arange(n)
        feasible = np.isfinite(best[rows, self.tlen])
        lengths = np.zeros((n, S), np.int64)
        j = self.tlen.copy()
        for i in range(S - 1, -1, -1):
            m = back[i, rows, j]
            lengths[:, i] = m
            j = j - m
        return lengths, feasible

    def posteriors(self, edges):
        """Expected edge counts under edge probabilities (forward-backward with per-step
        scaling, so long sequences do not underflow)."""
        n, S, T = self.n, self.S, self.T
        rows = np.arange(n)
        alpha = np.zeros((S + 1, n, T + 1), edges[0].dtype)
        alpha[0, :, 0] = 1.0
        scale = np.ones((S, n), edges[0].dtype)
        for i in range(S):
            step = alpha[i + 1]
            for m, edge in zip(self.chunks, edges):
                step[:, m:] += alpha[i, :, :T + 1 - m] * edge[i]
            total = step.sum(axis=1)
            scale[i] = np.where(total > 0, total, 1.0)
            step /= scale[i][:, None]
        beta = np.zeros((S + 1, n, T + 1), edges[0].dtype)
        beta[S, rows, self.tlen] = 1.0
        for i in range(S - 1, -1, -1):
            step = beta[i]
            for m, edge in zip(self.chunks, edges):
                step[:, :T + 1 - m] += edge[i] * beta[i + 1, :, m:]
            step /= scale[i][:, None]
        end = alpha[S, rows, self.tlen]
        norm = np.where(end > 0, end, np.inf)[None, :, None] * scale[:, :, None]
        return [alpha[:S, :, :T + 1 - m] * edge * beta[1:, :, m:] / norm
                for m, edge in zip(self.chunks, edges)]


def _proportional_lengths(S, T):
    """Chunk lengths that spread T target units evenly over S - 1 source units (none at the
    start symbol): the alignment of a pair no lattice path explains."""
    if S == 1:
        return [T]
    bounds = np.rint(np.arange(S) * T / (S - 1)).astype(np.int64)
    return [0] + np.diff(bounds).tolist()


class CharNGram(_Baseline):
    """A character (or token) n-gram transducer: each source unit's output chunk from context.

    Training aligns every pair monotonically: each source unit, and a start symbol before the
    first one, emits a chunk of 0 to `max_chunk` target units, in order. Two alignments:

    - `"levenshtein"`: the path of least edit cost, where a unit becomes the first unit of
      its chunk (free when equal, else a substitution) and the rest of the chunk are
      insertions; an empty chunk is a deletion, and the start symbol's chunk is inserted
      before the first unit. Among equally cheap paths, even chunks win (a tiny cost
      `2^-10 · (m - 1)²` per chunk of m units), insertions go after a substitution rather
      than after an equal unit (`2^-10` each), then the larger chunk at the later unit
      wins: `Katze -> Katzen` gives `e -> en`, `Bär -> Baer` and `Bäe -> Baee` give
      `ä -> ae`.
    - `"em"`: for sources and targets in different alphabets (letters to phonemes), the
      Viterbi path under chunk probabilities `p(chunk | unit)` estimated by EM
      (forward-backward over all alignments, `em_iterations` rounds from uniform), the
      many-to-many aligner of Jiampojamarn et al. (2007) restricted to one source unit.
    - `"auto"` (default) picks Levenshtein when, on up to 1,000 training pairs spread over the
      data, at least half of the units survive the edit distance
      (`1 - Σ distance / Σ max(length) >= 0.5`), and EM otherwise.

    A pair no path explains (a target longer than `max_chunk` units per source unit) is
    aligned proportionally. Each position is then counted with its chunk under windows of
    `l` units to its left and `r` to its right (padded past the word's ends), from
    `(context, context)` down to `(0, 0)`, dropping a left unit first, then a right one:
    `(3, 3), (2, 3), (2, 2), (1, 2), (1, 1), (0, 1), (0, 0)`. A new source unit takes the
    most frequent chunk of the first of its windows seen in training (the chunk seen first
    on ties); a unit never seen in training is copied under Levenshtein alignment and
    dropped under EM.

    Units are characters (`"char"`) or the pieces of `keras_s2s.data.WordTokenizer`
    (`"word"`: words and punctuation marks, e.g. phonemes), on each side; outputs join
    characters with `""` and words with spaces.

    Args:
        context: Units of context on each side (3 by default).
        alignment: `"auto"`, `"levenshtein"` or `"em"`.
        max_chunk: The longest chunk one source unit emits (default: 3 for Levenshtein,
            2 for EM).
        source_units, target_units: `"char"` or `"word"`.
        em_iterations: EM rounds (alignment `"em"` only).

    Example:

    >>> pairs = [("abc", "bcd"), ("cab", "dbc"), ("bca", "cdb")]  # a shift cipher
    >>> CharNGram(context=0).fit(pairs).predict(["cba"])
    ['dcb']

    Reference:
        - Sejnowski and Rosenberg, 1987, "Parallel networks that learn to pronounce English
          text" (NETtalk: a letter's phoneme from a window of 7 letters)
        - [Jiampojamarn et al., 2007](https://aclanthology.org/N07-1047/) (EM many-to-many
          alignment)
    """

    name = "char_ngram"

    def __init__(self, context=3, alignment="auto", max_chunk=None, source_units="char",
                 target_units="char", em_iterations=5):
        super().__init__()
        if not isinstance(context, int) or context < 0:
            raise ValueError(f"Argument `context` must be an int >= 0. Received: {context!r}")
        if alignment not in ("auto", "levenshtein", "em"):
            raise ValueError("Argument `alignment` must be 'auto', 'levenshtein' or 'em'. "
                             f"Received: {alignment!r}")
        if max_chunk is not None and (not isinstance(max_chunk, int) or max_chunk < 1):
            raise ValueError(f"Argument `max_chunk` must be an int >= 1. Received: {max_chunk!r}")
        if not isinstance(em_iterations, int) or em_iterations < 1:
            raise ValueError("Argument `em_iterations` must be an int >= 1. "
                             f"Received: {em_iterations!r}")
        self.context = context
        self.alignment = alignment
        self.max_chunk = max_chunk
        self.source_units = _check_units(source_units, "source_units")
        self.target_units = _check_units(target_units, "target_units")
        self.em_iterations = em_iterations
        self.alignment_used = None

    def __repr__(self):
        return (f"CharNGram(context={self.context}, alignment={self.alignment!r}, "
                f"max_chunk={self.max_chunk}, source_units={self.source_units!r}, "
                f"target_units={self.target_units!r})")

    # ------------------------------------------------------------------ alignment
    @staticmethod
    def similarity(pairs, source_units="char", target_units="char", max_pairs=1000):
        """`1 - Σ edit distance / Σ max(length)` over up to `max_pairs` pairs spread over the
        data: the share of units an edit alignment keeps (1 for a copy task, ~0 for letters
        to phonemes).

        Example:

        >>> CharNGram.similarity([("Hund", "Hunde"), ("Katze", "Katzen")])
        0.8181818181818181
        """
        pairs = list(pairs)
        step = max(1, len(pairs) // max_pairs)
        distance = length = 0
        for source, target in pairs[::step][:max_pairs]:
            s, t = _split(source, source_units), _split(target, target_units)
            distance += text_metrics.edit_distance(s, t)
            length += max(len(s), len(t))
        return 1.0 - distance / length if length else 1.0

    def _lattices(self, sources, targets):
        """Pairs grouped by source length and target length bucket (padded to the bucket)."""
        groups = collections.defaultdict(list)
        for index, (s, t) in enumerate(zip(sources, targets)):
            groups[(len(s), len(t) // 4)].append(index)
        for (S, _), indices in sorted(groups.items()):
            tlen = np.array([len(targets[i]) for i in indices], np.int64)
            tgt = np.zeros((len(indices), int(tlen.max())), np.int64)
            for row, i in enumerate(indices):
                tgt[row, :tlen[row]] = targets[i]
            src = np.array([[0] + sources[i] for i in indices], np.int64).reshape(-1, S + 1).T
            yield indices, _Lattice(src, tgt, tlen, self._max_chunk)

    def _align(self, sources, targets):
        """Chunk lengths per source position (start symbol first) for every pair."""
        lattices = list(self._lattices(sources, targets))
        if self.alignment_used == "levenshtein":
            scores = [lattice.levenshtein_scores() for _, lattice in lattices]
        else:
            scores = self._em(lattices)
        lengths = [None] * len(sources)
        for (indices, lattice), edges in zip(lattices, scores):
            best, feasible = lattice.viterbi(edges)
            best, feasible = best.tolist(), feasible.tolist()
            for row, index in enumerate(indices):
                lengths[index] = (best[row] if feasible[row] else
                                  _proportional_lengths(lattice.S, int(lattice.tlen[row])))
        return lengths

    def _em(self, lattices):
        """EM estimates of `p(chunk | unit)`; returns each lattice's Viterbi log-scores."""
        base, power = len(self.target_vocabulary), self._max_chunk
        size = len(self.source_vocabulary) * base ** power
        if size >= 2 ** 62:
            raise ValueError(f"The vocabularies ({len(self.source_vocabulary)} source and "
                             f"{base} target units) are too large for EM alignment with "
                             f"max_chunk={power}; use alignment='levenshtein' or a smaller "
                             "max_chunk.")
        if size <= 2 ** 22:  # small alphabets: the key is the parameter's index
            index = [lattice.keys(base, power, size) for _, lattice in lattices]
            unit_of_key = np.arange(size + 1) // base ** power
            zero = size  # the slot of chunks past a target's end, probability 0
        else:  # large vocabularies: index the keys that occur
            index = [lattice.keys(base, power, -1) for _, lattice in lattices]
            flat = np.concatenate([k.ravel() for ks in index for k in ks])
            universe, inverse = np.unique(flat, return_inverse=True)
            offset = 0
            for ks in index:
                for n, k in enumerate(ks):
                    ks[n] = inverse.reshape(-1)[offset:offset + k.size].reshape(k.shape)
                    offset += k.size
            del flat, inverse
            zero = 0 if universe[0] == -1 else None
            unit_of_key = np.maximum(universe, 0) // base ** power
        if len(unit_of_key) < 2 ** 31:  # parameter indices: half the memory of int64
            for ks in index:
                ks[:] = [k.astype(np.int32) for k in ks]
        p = np.ones(len(unit_of_key))
        for _ in range(self.em_iterations):
            if zero is not None:
                p[zero] = 0.0
            counts = np.zeros(len(p))
            p32 = p.astype(np.float32)  # scaled float32 sums: half the memory traffic
            for (_, lattice), keys in zip(lattices, index):
                posteriors = lattice.posteriors([p32[k] for k in keys])
                for k, post in zip(keys, posteriors):
                    counts += np.bincount(k.ravel(), weights=post.ravel(), minlength=len(p))
            totals = np.bincount(unit_of_key, weights=counts)[unit_of_key]
            p = np.divide(counts, totals, out=np.zeros(len(p)), where=totals > 0)
        with np.errstate(divide="ignore"):
            # on a grid of 2^-20, sums of scores are exact, so that equally likely paths
            # (such as which of two l's is silent) tie exactly and break as documented
            log_p = np.round(np.log(p) * 2 ** 20) / 2 ** 20
        return [[log_p[k] for k in keys] for keys in index]

    # ------------------------------------------------------------------ fit / predict
    def _windows(self):
        """`(left, right)` context sizes, widest first: `(k, k), (k-1, k), (k-1, k-1), ...`."""
        k = self.context
        out = [(k, k)]
        while out[-1] != (0, 0):
            left, right = out[-1]
            out.append((left - 1, right) if left == right else (left, right - 1))
        return out

    def fit(self, pairs):
        """Align the training pairs and count each context window's chunks; returns `self`."""
        pairs = _check_pairs(pairs)
        if self.alignment == "auto":
            same = self.similarity(pairs, self.source_units, self.target_units) >= 0.5
            self.alignment_used = "levenshtein" if same else "em"
        else:
            self.alignment_used = self.alignment
        self._max_chunk = self.max_chunk or (3 if self.alignment_used == "levenshtein" else 2)
        # ids from 1: 0 is the start symbol on the source side and "no unit" in EM keys.
        # Levenshtein compares units, so both sides share one vocabulary.
        self.source_vocabulary = _Vocabulary(first=1)
        self.target_vocabulary = (self.source_vocabulary if self.alignment_used == "levenshtein"
                                  else _Vocabulary(first=1))
        sources = [self.source_vocabulary.add(_split(s, self.source_units)) for s, _ in pairs]
        targets = [self.target_vocabulary.add(_split(t, self.target_units)) for _, t in pairs]
        lengths = self._align(sources, targets)

        chunk_ids, codes = {}, []
        setdefault = chunk_ids.setdefault
        for target, sizes in zip(targets, lengths):
            offset = 0
            for size in sizes:
                codes.append(setdefault(tuple(target[offset:offset + size]), len(chunk_ids)))
                offset += size
        codes = np.array(codes, np.int64)
        # every source, start symbol first, between `context` paddings (-1)
        k = self.context
        flat, positions = [-1] * k, []
        for seq in sources:
            positions.append(len(flat))
            flat.append(0)
            flat.extend(seq)
            flat.extend([-1] * k)
        flat = np.array(flat, np.int64)
        lengths = np.array([len(s) + 1 for s in sources])
        positions = (np.repeat(np.array(positions) - np.cumsum(lengths) + lengths, lengths)
                     + np.arange(lengths.sum()))
        units = self.target_vocabulary.units()
        self.chunks = [tuple(units[u] for u in chunk) for chunk in chunk_ids]
        self._base = len(self.source_vocabulary) + 2  # window ids + 2 are digits in this base
        self.tables = []
        for left, right in self._windows():
            windows = np.stack([flat[positions + d] for d in range(-left, right + 1)], axis=1)
            self.tables.append(_most_frequent(windows, codes, self._base))
        self.fitted = True
        return self

    def predict_one(self, source):
        """The prediction for one source string."""
        units = _split(source, self.source_units)
        ids = self.source_vocabulary.ids
        k, base = self.context, self._base
        # ids + 2: 1 pads past the ends, 0 is a unit never seen in training
        digits = [1] * k + [2] + [ids.get(u, -2) + 2 for u in units] + [1] * k
        windows = self._windows()
        out = []
        for p in range(len(units) + 1):
            centre = p + k
            for (left, right), (encoded, table) in zip(windows, self.tables):
                window = digits[centre - left:centre + right + 1]
                if encoded:
                    key = 0
                    for digit in window:
                        key = key * base + digit
                else:
                    key = tuple(d - 2 for d in window)
                code = table.get(key)
                if code is not None:
                    out.extend(self.chunks[code])
                    break
            else:  # a unit never seen in training
                if p > 0 and self.alignment_used == "levenshtein":
                    out.append(units[p - 1])
        return _join(out, self.target_units)

    def predict(self, sources):
        """Transduce a list of source strings."""
        self._require_fit()
        return [self.predict_one(s) for s in _check_sources(sources)]


def _most_frequent(windows, codes, base):
    """`(encoded, {window: chunk code})`: each window's most frequent code (the smallest on
    ties). Windows hold ids >= -2; a window is the int with digits `id + 2` in `base` when
    that fits in an int64 (`encoded`), else the tuple of its ids."""
    n_codes = int(codes.max()) + 1
    encoded = base ** windows.shape[1] * n_codes < 2 ** 62
    if encoded:  # one int64 per (window, code)
        keys = np.zeros(len(windows), np.int64)
        for column in windows.T:
            keys = keys * base + (column + 2)
        order = np.argsort(keys * n_codes + codes, kind="stable")
        window_change = keys[order][1:] != keys[order][:-1]
    else:
        order = np.lexsort((codes, *windows.T[::-1]))
        window_change = np.any(windows[order][1:] != windows[order][:-1], axis=1)
    sorted_codes = codes[order]
    new_window = np.r_[True, window_change]
    new_run = new_window | np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    starts = np.flatnonzero(new_run)  # runs of one (window, code), by window then code
    counts = np.diff(np.r_[starts, len(order)])
    run_window = np.cumsum(new_window)[starts]
    best = np.lexsort((-counts, run_window))  # stable: the smallest code among equal counts
    best = best[np.r_[True, run_window[best][1:] != run_window[best][:-1]]]
    rows = order[starts[best]]
    values = sorted_codes[starts[best]].tolist()
    if encoded:
        return True, dict(zip(keys[rows].tolist(), values))
    return False, dict(zip(map(tuple, windows[rows].tolist()), values))


# ---------------------------------------------------------------------------- word lexicon
class WordLexicon(_Baseline):
    """Word-by-word translation with each source word's most associated target word.

    Sentences are split into words and punctuation marks (the pieces of
    `keras_s2s.data.WordTokenizer`). For every source word `s` and target word `t`, the Dice
    coefficient `2·c(s, t) / (c(s) + c(t))` counts the training pairs that contain them
    (each word once per pair): `c(s, t)` pairs hold both. Each source word seen in training
    is replaced by the target word of highest Dice (then the most co-occurrences, then the
    first in sorted order); an unknown word is kept as it is (names and numbers often
    survive translation). The output has one word per source word, in source order, joined
    by spaces.

    Example:

    >>> pairs = [("the cat", "le chat"), ("the dog", "le chien"), ("a dog", "un chien")]
    >>> WordLexicon().fit(pairs).predict(["a cat", "the Rex"])
    ['un chat', 'le Rex']

    Reference:
        - [Dice, 1945](https://doi.org/10.2307/1932409); as a word-alignment score,
          [Och and Ney, 2003](https://aclanthology.org/J03-1002/).
    """

    name = "word_lexicon"

    def __init__(self):
        super().__init__()
        self.lexicon = {}

    def fit(self, pairs):
        """Count sentence-level co-occurrences and keep each source word's best target word."""
        pairs = _check_pairs(pairs)
        source_vocabulary, target_vocabulary = _Vocabulary(first=0), _Vocabulary(first=0)
        source_sets = [np.unique(source_vocabulary.add(_split(s, "word"))) for s, _ in pairs]
        target_sets = [np.unique(target_vocabulary.add(_split(t, "word"))) for _, t in pairs]
        n_source, n_target = len(source_vocabulary), len(target_vocabulary)
        if not n_source or not n_target:
            self.lexicon, self.fitted = {}, True
            return self
        source_lengths = np.array([len(s) for s in source_sets])
        target_lengths = np.array([len(t) for t in target_sets])
        source_flat = np.concatenate(source_sets).astype(np.int64)
        target_flat = np.concatenate(target_sets).astype(np.int64)
        source_count = np.bincount(source_flat, minlength=n_source)
        target_count = np.bincount(target_flat, minlength=n_target)
        # every (source word, target word) of each pair, without a Python loop over products
        repeats = np.repeat(target_lengths, source_lengths)  # per source word occurrence
        left = np.repeat(source_flat, repeats)
        target_start = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
        first = np.repeat(np.repeat(target_start, source_lengths), repeats)
        within = np.arange(len(left)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
        right = target_flat[first + within]
        keys, together = np.unique(left * n_target + right, return_counts=True)
        if not len(keys):  # no pair has words on both sides
            self.lexicon, self.fitted = {}, True
            return self
        s, t = keys // n_target, keys % n_target
        dice = 2.0 * together / (source_count[s] + target_count[t])
        source_units, target_units = source_vocabulary.units(), target_vocabulary.units()
        names = np.array(target_units, dtype=object)
        rank = np.argsort(np.argsort(names, kind="stable"), kind="stable")  # sorted order
        order = np.lexsort((rank[t], -together, -dice, s))
        best = order[np.r_[True, s[order][1:] != s[order][:-1]]]
        self.lexicon = {source_units[i]: target_units[j]
                        for i, j in zip(s[best].tolist(), t[best].tolist())}
        self.fitted = True
        return self

    def predict(self, sources):
        """Translate each source word through the lexicon; unknown words stay."""
        self._require_fit()
        lexicon = self.lexicon
        return [" ".join(lexicon.get(w, w) for w in _split(s, "word"))
                for s in _check_sources(sources)]


# ------------------------------------------------------------------------------ entry point
BASELINES = {cls.name: cls for cls in (Copy, SuffixRule, CharNGram, WordLexicon)}

def _units_of(tokenizer):
    from keras_s2s.data.tokenizers import CharTokenizer

    return "char" if isinstance(tokenizer, CharTokenizer) else "word"


def default_baselines(task):
    """The baselines that suit a task, from its tokenizers.

    A task with a character source tokenizer (words: inflection, transliteration, G2P) gets
    `copy` and `char_ngram`, and `suffix_rule` too when the targets are characters as well;
    symbol strings read as words into characters (P2G: phonemes to letters) get `copy` and
    `char_ngram` over the tokens; word or subword sources into words (sentences) get `copy`
    and `word_lexicon`.

    Args:
        task: A `keras_s2s.data.Task`.

    Returns:
        A list of names of `BASELINES`.

    Example:

    >>> default_baselines(keras_s2s.data.load_task("reverse", num_train=100))
    ['copy', 'suffix_rule', 'char_ngram']
    """
    if _units_of(task.source_tokenizer) == "char":
        if _units_of(task.target_tokenizer) == "char":
            return ["copy", "suffix_rule", "char_ngram"]
        return ["copy", "char_ngram"]
    if _units_of(task.target_tokenizer) == "char":  # symbol strings to words (P2G)
        return ["copy", "char_ngram"]
    return ["copy", "word_lexicon"]


def make_baseline(name, task=None):
    """A baseline by name, set up for a task's units (characters or words on each side).

    Args:
        name: One of `BASELINES`: `"copy"`, `"suffix_rule"`, `"char_ngram"`, `"word_lexicon"`.
        task: Optional `keras_s2s.data.Task`; `char_ngram` works on its tokenizers' units
            (characters for a `CharTokenizer`, words and punctuation marks otherwise).

    Returns:
        An unfitted baseline.

    Example:

    >>> make_baseline("char_ngram", keras_s2s.data.load_task("g2p"))
    CharNGram(context=3, alignment='auto', max_chunk=None, source_units='char', target_units='word')
    """
    if name not in BASELINES:
        raise ValueError(f"Unknown baseline '{name}'. Baselines: {', '.join(BASELINES)}.")
    if name == "char_ngram" and task is not None:
        return CharNGram(source_units=_units_of(task.source_tokenizer),
                         target_units=_units_of(task.target_tokenizer))
    return BASELINES[name]()


def _normalize(tokenizer, text):
    """A text as the target tokenizer prints it, as `evaluation.normalize_reference` does."""
    return tokenizer.decode(tokenizer.encode(text))


def run_baselines(task, split="test", names=None, metrics=None, max_examples=None,
                  return_hypotheses=False):
    """Fit baselines on a task's training pairs and score them on a split.

    Every baseline is fitted on all `(source, reference)` pairs of the `train` split and
    predicts the sources of `split`. Hypotheses and references then go through the target
    tokenizer (`decode(encode(text))`), which is what `keras_s2s.evaluation.evaluate` does to
    the references and what decoding does to a model's output, and are scored with the
    same metric functions against all references of each example. The numbers are therefore
    comparable with a model's `evaluate` scores on the same task and tokenizers.

    Args:
        task: A `keras_s2s.data.Task`.
        split: The split to score.
        names: Baseline names (default: `default_baselines(task)`).
        metrics: Metric names (default: `task.metrics`).
        max_examples: Score only the first n examples of the split, as `evaluate` does.
        return_hypotheses: Also return each baseline's outputs (normalised as they were
            scored), e.g. for `keras_s2s.significance.paired_exact_match`.

    Returns:
        `{name: {metric: value, ..., "examples": n, "seconds": fit and predict time}}`, in
        the order of `names`; rates are fractions, BLEU and chrF are on 0-100. With
        `return_hypotheses`, `(scores, {name: [output, ...]})`.

    Example:

    >>> task = keras_s2s.data.load_task("reverse", num_train=500)
    >>> scores = run_baselines(task, "test")
    >>> sorted(scores)
    ['char_ngram', 'copy', 'suffix_rule']
    >>> sorted(scores["copy"])
    ['cer', 'examples', 'seconds', 'sequence_accuracy']
    """
    names = list(names) if names is not None else default_baselines(task)
    for name in names:
        if name not in BASELINES:
            raise ValueError(f"Unknown baseline '{name}'. Baselines: {', '.join(BASELINES)}.")
    functions = {m: text_metrics.metric_function(m, task) for m in (metrics or task.metrics)}
    train = task.pairs("train")
    if not train:
        raise ValueError(f"The train split of task '{task.name}' is empty; baselines learn "
                         "from it.")
    sources, references = task.references(split)
    if max_examples is not None:
        sources, references = sources[:max_examples], references[:max_examples]
    if not sources:
        raise ValueError(f"Split '{split}' of task '{task.name}' is empty.")
    tokenizer = task.target_tokenizer
    references = [[_normalize(tokenizer, r) for r in refs] for refs in references]
    results, outputs = {}, {}
    for name in names:
        baseline = make_baseline(name, task)
        start = time.perf_counter()
        hypotheses = baseline.fit(train).predict(sources)
        seconds = time.perf_counter() - start
        hypotheses = [_normalize(tokenizer, h) for h in hypotheses]
        scores = {m: float(f(hypotheses, references)) for m, f in functions.items()}
        scores.update({"examples": len(sources), "seconds": seconds})
        results[name] = scores
        outputs[name] = hypotheses
    return (results, outputs) if return_hypotheses else results
