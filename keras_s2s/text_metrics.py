"""Corpus-level text metrics on decoded strings: BLEU, chrF, WER, PER, CER.

These metrics compare decoded hypothesis strings with one or more reference
strings per example, after decoding, outside the compiled graph. They are
written in pure Python and NumPy (no TensorFlow, no Keras and no sacrebleu
dependency) and work with every Keras backend.

`corpus_bleu` and `chrf` reproduce sacrebleu 2.x's default corpus scores
(`sacrebleu.corpus_bleu` with the `13a` tokenizer and `exp` smoothing, and
`sacrebleu.corpus_chrf`), including multiple references per example.
`wer`, `per` and `cer` are corpus error rates built on `edit_distance`:
the summed edit distance to the closest reference of each example divided by
the summed length of those references. `sequence_accuracy` and
`sequence_error_rate` count whole-sequence matches, which is what the
grapheme-to-phoneme literature reports as word accuracy and "WER".

Every corpus function takes `hypotheses`, a sequence of strings, and
`references`, a sequence with one entry per hypothesis, where each entry is
either a single reference string or a non-empty list of reference strings
(the number of references may differ between examples).
"""

import math
import re
from collections import Counter

import numpy as np

__all__ = [
    "edit_distance",
    "corpus_bleu",
    "exact_matches",
    "bleu_statistics",
    "bleu_from_statistics",
    "chrf",
    "chrf_statistics",
    "chrf_from_statistics",
    "error_statistics",
    "error_rate_from_statistics",
    "wer",
    "per",
    "cer",
    "sequence_accuracy",
    "sequence_error_rate",
]


# ---------------------------------------------------------------------------
# Input checking
# ---------------------------------------------------------------------------


def _check_corpus(hypotheses, references, fn_name):
    """Validates a corpus and returns `(hypotheses, references)` as lists.

    The returned references are a list of non-empty lists of strings.
    """
    if isinstance(hypotheses, (str, bytes)):
        raise TypeError(
            f"{fn_name}: `hypotheses` must be a sequence of strings, "
            "not a single string. Wrap it in a list: [hypothesis]."
        )
    if isinstance(references, (str, bytes)):
        raise TypeError(
            f"{fn_name}: `references` must be a sequence with one entry per "
            "hypothesis (a string or a list of strings), not a single string."
        )
    hypotheses = list(hypotheses)
    references = list(references)
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{fn_name}: `hypotheses` and `references` must have the same "
            f"length, got {len(hypotheses)} hypotheses and "
            f"{len(references)} references."
        )
    normalised = []
    for i, (hyp, refs) in enumerate(zip(hypotheses, references)):
        if not isinstance(hyp, str):
            raise TypeError(
                f"{fn_name}: every hypothesis must be a string, got "
                f"{type(hyp).__name__} at index {i}."
            )
        if isinstance(refs, str):
            refs = [refs]
        elif isinstance(refs, bytes):
            raise TypeError(
                f"{fn_name}: references must be strings or lists of strings, "
                f"got bytes at index {i}; decode them first."
            )
        else:
            try:
                refs = list(refs)
            except TypeError:
                raise TypeError(
                    f"{fn_name}: references must be strings or lists of "
                    f"strings, got {type(refs).__name__} at index {i}."
                ) from None
        if not refs:
            raise ValueError(
                f"{fn_name}: the reference list at index {i} is empty; "
                "every hypothesis needs at least one reference."
            )
        for ref in refs:
            if not isinstance(ref, str):
                raise TypeError(
                    f"{fn_name}: every reference must be a string, got "
                    f"{type(ref).__name__} among the references at index {i}."
                )
        normalised.append(refs)
    return hypotheses, normalised


# ---------------------------------------------------------------------------
# Edit distance
# ---------------------------------------------------------------------------

# Below this many cells, the plain Python recurrence beats NumPy's overhead.
_NUMPY_MIN_CELLS = 1024


def _edit_distance_python(a, b):
    """Two-row Levenshtein recurrence in plain Python."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(
                min(
                    previous[j] + 1,  # delete x
                    current[j - 1] + 1,  # insert y
                    previous[j - 1] + (x != y),  # substitute (or match)
                )
            )
        previous = current
    return previous[-1]


def _edit_distance_numpy(a, b):
    """Levenshtein distance with one vectorised NumPy step per row.

    Substitutions and deletions of a row only depend on the previous row;
    the insertions along the row are a running minimum:
    `row[j] = min_k(tmp[k] + j - k) = cummin(tmp - arange) + arange`.
    """
    if len(a) < len(b):
        a, b = b, a
    ids = {}
    a_ids = [ids.setdefault(x, len(ids)) for x in a]
    b_ids = np.array([ids.setdefault(y, len(ids)) for y in b], dtype=np.int64)
    steps = np.arange(len(b) + 1, dtype=np.int64)
    previous = steps.copy()
    current = np.empty_like(previous)
    for i, x in enumerate(a_ids, start=1):
        current[0] = i
        np.minimum(previous[:-1] + (b_ids != x), previous[1:] + 1, out=current[1:])
        current -= steps
        np.minimum.accumulate(current, out=current)
        current += steps
        previous, current = current, previous
    return int(previous[-1])


def edit_distance(a, b):
    """Levenshtein distance between two sequences.

    The smallest number of single-element insertions, deletions and
    substitutions (each of cost 1) that turns `a` into `b`. Elements are
    compared with `==`: pass strings to compare characters, or lists of
    tokens (words, phonemes, ids) to compare tokens. The distance is
    symmetric, zero exactly when the sequences are equal, and at most
    `max(len(a), len(b))`.

    Args:
        a: A sequence: a string, or a list/tuple of tokens.
        b: A sequence: a string, or a list/tuple of tokens.

    Returns:
        The edit distance, a Python `int`.

    Example:

    >>> edit_distance("kitten", "sitting")
    3
    >>> edit_distance("the cat sat".split(), "the cat sat down".split())
    1
    """
    a = a if isinstance(a, (str, list, tuple)) else list(a)
    b = b if isinstance(b, (str, list, tuple)) else list(b)
    # A common prefix and suffix never change the distance.
    start = 0
    limit = min(len(a), len(b))
    while start < limit and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if not a or not b:
        return max(len(a), len(b))
    if len(a) * len(b) >= _NUMPY_MIN_CELLS:
        try:
            return _edit_distance_numpy(a, b)
        except TypeError:  # unhashable tokens: fall back to plain Python
            pass
    return _edit_distance_python(a, b)


# ---------------------------------------------------------------------------
# Error rates
# ---------------------------------------------------------------------------


def _closest_errors(hyp_units, refs_units):
    """(errors, reference length) of the closest reference; ties: shorter."""
    best = None
    for ref_units in refs_units:
        candidate = (edit_distance(hyp_units, ref_units), len(ref_units))
        if best is None or candidate < best:
            best = candidate
    return best


def _error_rate(hypotheses, references, split, fn_name):
    hypotheses, references = _check_corpus(hypotheses, references, fn_name)
    rows = _error_rows(hypotheses, references, split)
    return error_rate_from_statistics([sum(column) for column in zip(*rows)] or [0, 0])


def _error_rows(hypotheses, references, split):
    """Per example: `[edits to the closest reference, its length]`, in units of `split`."""
    return [list(_closest_errors(split(hyp), [split(ref) for ref in refs]))
            for hyp, refs in zip(hypotheses, references)]


def error_statistics(hypotheses, references, unit="characters"):
    """Per example: `[edits to the closest reference, that reference's length]`, the rows
    that `cer` (unit `"characters"`) and `per` (unit `"words"`: whitespace-separated tokens)
    sum, to be summed over any set of examples (a paired bootstrap of an error rate).

    Args:
        hypotheses, references: As for `cer`.
        unit: `"characters"` or `"words"`.

    Returns:
        One `[errors, reference_length]` list per example.

    Example:

    >>> rows = error_statistics(["abd", "xy"], [["abc"], ["xyz", "x"]])
    >>> rows, error_rate_from_statistics([sum(c) for c in zip(*rows)])
    ([[1, 3], [1, 1]], 0.5)
    """
    if unit not in _ERROR_UNITS:
        raise ValueError(f"error_statistics: `unit` must be one of {sorted(_ERROR_UNITS)}, "
                         f"got {unit!r}.")
    hypotheses, references = _check_corpus(hypotheses, references, "error_statistics")
    return _error_rows(hypotheses, references, _ERROR_UNITS[unit])


def error_rate_from_statistics(statistics):
    """An error rate from summed `error_statistics` rows: errors / reference length (0.0
    without errors, infinity for errors against empty references).

    Args:
        statistics: `[errors, reference_length]`, summed over the examples.

    Returns:
        The rate, as `cer` or `per` gives it for those examples.

    Example:

    >>> error_rate_from_statistics([3, 12])
    0.25
    """
    errors, length = statistics
    if errors == 0:
        return 0.0
    if length == 0:
        return math.inf
    return float(errors / length)


def _words(text):
    return text.split()


def _chars(text):
    return " ".join(text.split())


# `error_statistics`' units: how a text splits into what is counted
_ERROR_UNITS = {"words": _words, "characters": _chars}


def wer(hypotheses, references):
    """Corpus word error rate.

    Words are the whitespace-separated tokens of each string. For each
    example, the word-level `edit_distance` to the closest reference is
    taken (the reference with the fewest errors; ties go to the shorter
    reference). The rate is the sum of those distances divided by the sum of
    the lengths of the chosen references, so it lies in `[0, inf)` and can
    exceed 1 when the hypotheses insert many words. If the chosen references
    are all empty, the rate is `0.0` when there are no errors and `inf`
    otherwise.

    Args:
        hypotheses: A sequence of hypothesis strings.
        references: A sequence with one entry per hypothesis: a reference
            string or a non-empty list of reference strings.

    Returns:
        The corpus word error rate as a Python float (`0.0` for an empty
        corpus).

    Example:

    >>> wer(["the cat sat", "a dog"], [["the cat sat down"], "the dog"])
    0.3333333333333333
    """
    return _error_rate(hypotheses, references, _words, "wer")


def per(hypotheses, references):
    """Corpus phoneme error rate (for grapheme-to-phoneme conversion).

    Each string is a pronunciation written as whitespace-separated tokens;
    for G2P the tokens are phonemes (for example `"K AE1 T"`). For each
    example, the token-level `edit_distance` to the closest reference (the
    reference pronunciation with the fewest errors; ties go to the shorter
    one) is taken. The rate is the sum of those distances divided by the sum
    of the lengths of the chosen references, in `[0, inf)`. This is the same
    computation as `wer`, kept as its own function so that G2P results are
    reported under their usual name. If the chosen references are all empty,
    the rate is `0.0` when there are no errors and `inf` otherwise.

    Args:
        hypotheses: A sequence of predicted pronunciations, each a string of
            whitespace-separated phonemes.
        references: A sequence with one entry per hypothesis: a reference
            pronunciation or a non-empty list of alternative pronunciations.

    Returns:
        The corpus phoneme error rate as a Python float (`0.0` for an empty
        corpus).

    Example:

    >>> per(["K AE1 T", "R IY1 D"], ["K AE1 T", ["R EH1 D", "R IY1 D"]])
    0.0
    >>> per(["T AH0 M EY1 T OW2"], [["T AH0 M AA1 T OW2", "T AH0 M EY1 T OW0"]])
    0.16666666666666666
    """
    return _error_rate(hypotheses, references, _words, "per")


def cer(hypotheses, references):
    """Corpus character error rate.

    Whitespace is normalised first (leading and trailing whitespace removed,
    inner runs collapsed to one space); the remaining characters, spaces
    included, are the units. For each example, the character-level
    `edit_distance` to the closest reference (fewest errors; ties go to the
    shorter reference) is taken, and the rate is the sum of those distances
    divided by the sum of the lengths of the chosen references, in
    `[0, inf)`. If the chosen references are all empty, the rate is `0.0`
    when there are no errors and `inf` otherwise.

    Args:
        hypotheses: A sequence of hypothesis strings.
        references: A sequence with one entry per hypothesis: a reference
            string or a non-empty list of reference strings.

    Returns:
        The corpus character error rate as a Python float (`0.0` for an
        empty corpus).

    Example:

    >>> cer(["kitten"], ["sitting"])
    0.42857142857142855
    """
    return _error_rate(hypotheses, references, _chars, "cer")


def sequence_accuracy(hypotheses, references):
    """Share of hypotheses that exactly match one of their references.

    Strings are compared after whitespace normalisation (`" ".join(s.split())`),
    so spacing differences do not count. In grapheme-to-phoneme conversion
    this is word accuracy: the share of words whose predicted pronunciation
    equals one of the reference pronunciations.

    Args:
        hypotheses: A sequence of hypothesis strings.
        references: A sequence with one entry per hypothesis: a reference
            string or a non-empty list of reference strings.

    Returns:
        The accuracy in `[0, 1]` as a Python float (`0.0` for an empty
        corpus).

    Example:

    >>> sequence_accuracy(["R IY1 D", "K AE1 T"], [["R EH1 D", "R IY1 D"], "K AA1 T"])
    0.5
    """
    matches = exact_matches(hypotheses, references, "sequence_accuracy")
    if not matches:
        return 0.0
    return float(sum(matches) / len(matches))


def exact_matches(hypotheses, references, fn_name="exact_matches"):
    """Per example: does the hypothesis match one of its references? The verdicts that
    `sequence_accuracy` averages (whitespace-normalised), e.g. for a paired test of two
    systems (`keras_s2s.significance`).

    Args:
        hypotheses, references: As for `sequence_accuracy`.
        fn_name: The function named in errors about the corpus.

    Returns:
        One bool per example.

    Example:

    >>> exact_matches(["walked", "goed"], [["walked"], ["went"]])
    [True, False]
    """
    hypotheses, references = _check_corpus(hypotheses, references, fn_name)
    return [any(_chars(h) == _chars(r) for r in refs) for h, refs in zip(hypotheses, references)]


def sequence_error_rate(hypotheses, references):
    """Share of hypotheses that match none of their references.

    `1 - sequence_accuracy(hypotheses, references)`, with the same
    whitespace normalisation. The grapheme-to-phoneme literature calls this
    the word error rate (WER): the share of words whose predicted
    pronunciation matches none of the reference pronunciations. It is not
    the edit-distance based `wer` of speech recognition and translation.

    Args:
        hypotheses: A sequence of hypothesis strings.
        references: A sequence with one entry per hypothesis: a reference
            string or a non-empty list of reference strings.

    Returns:
        The error rate in `[0, 1]` as a Python float (`0.0` for an empty
        corpus).

    Example:

    >>> sequence_error_rate(["R IY1 D", "K AE1 T"], [["R EH1 D", "R IY1 D"], "K AA1 T"])
    0.5
    """
    hypotheses, references = _check_corpus(
        hypotheses, references, "sequence_error_rate"
    )
    if not hypotheses:
        return 0.0
    return float(1.0 - sequence_accuracy(hypotheses, references))


# ---------------------------------------------------------------------------
# BLEU
# ---------------------------------------------------------------------------

# mteval-v13a: these characters become separate tokens wherever they occur:
# space to '&', '(' to '+', ':' to '@', '[' to '`', '{' to '~', and '/'.
# Not included: apostrophe, comma, hyphen, period and alphanumerics.
_13A_ALWAYS_SPLIT = (
    [chr(c) for c in range(ord(" "), ord("&") + 1)]
    + [chr(c) for c in range(ord("("), ord("+") + 1)]
    + [chr(c) for c in range(ord(":"), ord("@") + 1)]
    + [chr(c) for c in range(ord("["), ord("`") + 1)]
    + [chr(c) for c in range(ord("{"), ord("~") + 1)]
    + ["/"]
)
_13A_TABLE = str.maketrans({c: f" {c} " for c in _13A_ALWAYS_SPLIT})
# Period and comma split off unless between digits ("3.14", "1,000"); a
# hyphen splits off after a digit. The three substitutions run one after the
# other, each scanning left to right without overlapping matches, exactly
# like mteval-v13a's sequence of Perl substitutions.
_13A_PUNCT_AFTER_NON_DIGIT = re.compile(r"([^0-9])([.,])")
_13A_PUNCT_BEFORE_NON_DIGIT = re.compile(r"([.,])([^0-9])")
_13A_DASH_AFTER_DIGIT = re.compile(r"([0-9])(-)")


def _tokenize_13a(line):
    """The mteval-v13a tokenizer as used by sacrebleu's default `13a`."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (
            line.replace("&quot;", '"')
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
        )
    line = f" {line} ".translate(_13A_TABLE)
    line = _13A_PUNCT_AFTER_NON_DIGIT.sub(r"\1 \2 ", line)
    line = _13A_PUNCT_BEFORE_NON_DIGIT.sub(r" \1 \2", line)
    line = _13A_DASH_AFTER_DIGIT.sub(r"\1 \2 ", line)
    return line.split()


def _ngram_counts(tokens, max_order):
    counts = Counter()
    for n in range(1, max_order + 1):
        for i in range(len(tokens) - n + 1):
            counts[tuple(tokens[i : i + n])] += 1
    return counts


_BLEU_SMOOTHING = {"exp": None, "none": None, "floor": 0.1, "add-k": 1}
# sacrebleu's floored log: log(0) counts as this instead of -inf.
_LOG_ZERO = -9999999999


def _bleu_from_stats(correct, total, hyp_len, ref_len, max_order, smooth):
    """BLEU (0-100) from corpus statistics, following sacrebleu's arithmetic."""
    bp = 1.0
    if hyp_len < ref_len:
        bp = math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0
    if not any(correct):
        return 0.0
    smooth_value = _BLEU_SMOOTHING[smooth]
    correct = list(correct)
    total = list(total)
    precisions = [0.0] * max_order
    exp_factor = 1.0
    for n in range(max_order):
        if smooth == "add-k" and n > 0:
            correct[n] += smooth_value
            total[n] += smooth_value
        if total[n] == 0:
            break
        if correct[n] == 0:
            if smooth == "exp":
                exp_factor *= 2
                precisions[n] = 100.0 / (exp_factor * total[n])
            elif smooth == "floor":
                precisions[n] = 100.0 * smooth_value / total[n]
        else:
            precisions[n] = 100.0 * correct[n] / total[n]
    log_sum = sum(math.log(p) if p > 0 else _LOG_ZERO for p in precisions)
    return bp * math.exp(log_sum / max_order)


def corpus_bleu(hypotheses, references, max_order=4, smooth="exp", lowercase=False):
    """Corpus BLEU on a 0-100 scale, compatible with sacrebleu.

    Reproduces `sacrebleu.corpus_bleu` with its defaults: both sides are
    tokenized with the mteval-v13a tokenizer (sacrebleu's `13a`); n-gram
    counts of each hypothesis are clipped by the largest count of that
    n-gram in any of its references; the brevity penalty uses, per example,
    the reference length closest to the hypothesis length (ties go to the
    shorter reference); and zero n-gram precisions are smoothed with
    sacrebleu's `exp` method (the NIST/mteval smoothing). Statistics are
    summed over the corpus before the geometric mean is taken, so this is
    not an average of sentence scores. Pass detokenized text, as with
    sacrebleu.

    Args:
        hypotheses: A sequence of hypothesis strings (empty strings allowed).
        references: A sequence with one entry per hypothesis: a reference
            string or a non-empty list of reference strings. The number of
            references may differ between examples.
        max_order: The largest n-gram order.
        smooth: The smoothing method, as in sacrebleu: `"exp"` (default),
            `"none"`, `"floor"` (0.1) or `"add-k"` (k = 1).
        lowercase: If `True`, lowercase both sides before tokenizing.

    Returns:
        The BLEU score in `[0, 100]` as a Python float (`0.0` for an empty
        corpus).

    Example:

    >>> hyps = ["The cat sat on the mat.", "It is raining today!"]
    >>> refs = [["The cat sat on the mat.", "A cat was on the mat."],
    ...         "It rains today!"]
    >>> round(corpus_bleu(hyps, refs), 2)
    70.21

    Reference:

    - [Papineni et al., 2002](https://aclanthology.org/P02-1040/)
    - [Post, 2018](https://aclanthology.org/W18-6319/) (sacrebleu)
    """
    hypotheses, references = _check_corpus(hypotheses, references, "corpus_bleu")
    if smooth not in _BLEU_SMOOTHING:
        raise ValueError(
            f"corpus_bleu: unknown `smooth` {smooth!r}; expected one of "
            f"{sorted(_BLEU_SMOOTHING)}."
        )
    max_order = int(max_order)
    if max_order < 1:
        raise ValueError(f"corpus_bleu: `max_order` must be >= 1, got {max_order}.")
    if not hypotheses:
        return 0.0

    stats = _bleu_statistics(hypotheses, references, max_order, lowercase)
    return bleu_from_statistics([sum(column) for column in zip(*stats)], max_order, smooth)


def _bleu_statistics(hypotheses, references, max_order, lowercase):
    """Per example: `[correct_1..correct_N, total_1..total_N, hyp_len, ref_len]` (ints)."""

    def preprocess(text):
        if lowercase:
            text = text.lower()
        return _tokenize_13a(text.rstrip())

    rows = []
    for hyp, refs in zip(hypotheses, references):
        correct = [0] * max_order
        total = [0] * max_order
        hyp_tokens = preprocess(hyp)
        hyp_len = len(hyp_tokens)
        max_ref_counts = Counter()
        closest = None  # (|hyp_len - ref_len|, ref_len)
        for ref in refs:
            ref_tokens = preprocess(ref)
            candidate = (abs(hyp_len - len(ref_tokens)), len(ref_tokens))
            if closest is None or candidate < closest:
                closest = candidate
            for ngram, count in _ngram_counts(ref_tokens, max_order).items():
                if count > max_ref_counts[ngram]:
                    max_ref_counts[ngram] = count
        for ngram, count in _ngram_counts(hyp_tokens, max_order).items():
            n = len(ngram) - 1
            total[n] += count
            correct[n] += min(count, max_ref_counts.get(ngram, 0))
        rows.append(correct + total + [hyp_len, closest[1]])
    return rows


def bleu_statistics(hypotheses, references, max_order=4, lowercase=False):
    """`corpus_bleu`'s statistics of each example, to be summed over any set of examples.

    Corpus BLEU is a function of the summed statistics (`bleu_from_statistics`), so the BLEU
    of a resampled corpus (a paired bootstrap, `keras_s2s.significance.paired_bootstrap`)
    is the sum of its examples' rows, without tokenizing again.

    Args:
        hypotheses, references: As for `corpus_bleu`.
        max_order: The largest n-gram order.
        lowercase: If `True`, lowercase both sides before tokenizing.

    Returns:
        One list per example: `[correct_1, ..., correct_N, total_1, ..., total_N,
        hypothesis_length, closest_reference_length]` for `N = max_order`.

    Example:

    >>> hyps = ["The cat sat on the mat.", "It is raining today!"]
    >>> refs = [["The cat sat on the mat.", "A cat was on the mat."], "It rains today!"]
    >>> rows = bleu_statistics(hyps, refs)
    >>> round(bleu_from_statistics([sum(c) for c in zip(*rows)]), 2)  # corpus_bleu's
    70.21
    """
    hypotheses, references = _check_corpus(hypotheses, references, "bleu_statistics")
    return _bleu_statistics(hypotheses, references, int(max_order), lowercase)


def bleu_from_statistics(statistics, max_order=4, smooth="exp"):
    """Corpus BLEU (0-100) from summed `bleu_statistics` rows.

    Args:
        statistics: The column sums of `bleu_statistics` rows (2 · max_order + 2 numbers).
        max_order: The largest n-gram order they were counted with.
        smooth: As for `corpus_bleu`.

    Returns:
        The BLEU score, as `corpus_bleu` gives it for those examples.

    Example:

    >>> round(bleu_from_statistics([4, 3, 2, 1, 4, 3, 2, 1, 4, 4]), 2)  # 4 words, all right
    100.0
    """
    statistics = list(statistics)
    correct, total = statistics[:max_order], statistics[max_order:2 * max_order]
    hyp_len, ref_len = statistics[2 * max_order], statistics[2 * max_order + 1]
    return float(_bleu_from_stats(correct, total, hyp_len, ref_len, max_order, smooth))


# ---------------------------------------------------------------------------
# chrF
# ---------------------------------------------------------------------------

_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _split_punctuation(text):
    """chrF++ word tokenization: peel one punctuation mark off each word."""
    words = []
    for word in text.split():
        if len(word) == 1:
            words.append(word)
        elif word[-1] in _PUNCTUATION:
            words.extend([word[:-1], word[-1]])
        elif word[0] in _PUNCTUATION:
            words.extend([word[0], word[1:]])
        else:
            words.append(word)
    return words


def _chrf_ngrams(text, char_order, word_order):
    """Per-order n-gram Counters: characters (spaces removed), then words."""
    chars = "".join(text.split())
    counters = [
        Counter(chars[i : i + n] for i in range(len(chars) - n + 1))
        for n in range(1, char_order + 1)
    ]
    if word_order > 0:
        words = _split_punctuation(text)
        counters.extend(
            Counter(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
            for n in range(1, word_order + 1)
        )
    return counters


def _chrf_f_score(stats, beta):
    """sacrebleu's chrF: F-beta of precision and recall averaged over the
    orders where both the hypothesis and the reference have n-grams."""
    factor = beta**2
    avg_prec = avg_rec = 0.0
    effective_order = 0
    for i in range(0, len(stats), 3):
        n_hyp, n_ref, n_match = stats[i : i + 3]
        if n_hyp > 0 and n_ref > 0:
            avg_prec += n_match / n_hyp
            avg_rec += n_match / n_ref
            effective_order += 1
    if effective_order == 0:
        return 0.0
    avg_prec /= effective_order
    avg_rec /= effective_order
    if not avg_prec + avg_rec:
        return 0.0
    # Same operation order as sacrebleu, so that ties between references
    # resolve identically.
    score = (1 + factor) * avg_prec * avg_rec
    score /= factor * avg_prec + avg_rec
    return 100 * score


def chrf(hypotheses, references, char_order=6, word_order=0, beta=2):
    """Corpus chrF (character n-gram F-score) on a 0-100 scale, like sacrebleu.

    Reproduces `sacrebleu.corpus_chrf` with its defaults. Character n-grams
    of orders 1 to `char_order` are extracted with whitespace removed, plus,
    when `word_order > 0` (chrF++ for `word_order=2`), word n-grams after
    splitting a leading or trailing punctuation mark off each word. For each
    example, the hypothesis n-gram count, reference n-gram count and clipped
    match count of every order are computed against each reference, and the
    statistics of the reference with the best sentence-level chrF are kept
    (the first one on ties). The kept statistics are summed over the corpus;
    precision and recall are averaged over the orders where both sides have
    n-grams and combined into an F-beta score. An order whose reference has no
    n-grams contributes no hypothesis n-grams either.

    Args:
        hypotheses: A sequence of hypothesis strings (empty strings allowed).
        references: A sequence with one entry per hypothesis: a reference
            string or a non-empty list of reference strings.
        char_order: The largest character n-gram order.
        word_order: The largest word n-gram order (0 for chrF, 2 for chrF++).
        beta: Weight of recall relative to precision.

    Returns:
        The chrF score in `[0, 100]` as a Python float (`0.0` for an empty
        corpus).

    Example:

    >>> round(chrf(["the cat sat on the mat"], [["a cat sat on a mat"]]), 2)
    55.11

    Reference:

    - [Popović, 2015](https://aclanthology.org/W15-3049/)
    - [Popović, 2017](https://aclanthology.org/W17-4770/) (chrF++)
    """
    hypotheses, references = _check_corpus(hypotheses, references, "chrf")
    char_order = int(char_order)
    word_order = int(word_order)
    if char_order < 0 or word_order < 0 or char_order + word_order == 0:
        raise ValueError(
            "chrf: `char_order` and `word_order` must be >= 0 and not both 0, "
            f"got char_order={char_order}, word_order={word_order}."
        )
    if not hypotheses:
        return 0.0
    stats = _chrf_statistics(hypotheses, references, char_order, word_order, beta)
    return chrf_from_statistics([sum(column) for column in zip(*stats)], beta)


def _chrf_statistics(hypotheses, references, char_order, word_order, beta):
    """Per example: the statistics of its best reference (see `chrf`)."""
    rows = []
    for hyp, refs in zip(hypotheses, references):
        hyp_ngrams = _chrf_ngrams(hyp, char_order, word_order)
        best_stats, best_f = None, -1.0
        for ref in refs:
            ref_ngrams = _chrf_ngrams(ref, char_order, word_order)
            stats = []
            for h, r in zip(hyp_ngrams, ref_ngrams):
                n_hyp = sum(h.values())
                n_match = sum(min(c, r[g]) for g, c in h.items() if g in r)
                stats.extend([n_hyp if r else 0, sum(r.values()), n_match])
            f = _chrf_f_score(stats, beta)
            if f > best_f:
                best_stats, best_f = stats, f
        rows.append(best_stats)
    return rows


def chrf_statistics(hypotheses, references, char_order=6, word_order=0, beta=2):
    """`chrf`'s statistics of each example (hypothesis, reference and matched n-grams of
    every order, for the example's best reference), to be summed over any set of examples.

    Args:
        hypotheses, references, char_order, word_order, beta: As for `chrf` (`beta` picks
            each example's best reference).

    Returns:
        One list per example: hypothesis, reference and matched n-gram counts for each
        order (`3 · (char_order + word_order)` numbers).

    Example:

    >>> rows = chrf_statistics(["the cat sat on the mat"], [["a cat sat on a mat"]])
    >>> round(chrf_from_statistics([sum(c) for c in zip(*rows)]), 2)
    55.11
    """
    hypotheses, references = _check_corpus(hypotheses, references, "chrf_statistics")
    return _chrf_statistics(hypotheses, references, int(char_order), int(word_order), beta)


def chrf_from_statistics(statistics, beta=2):
    """Corpus chrF (0-100) from summed `chrf_statistics` rows.

    Args:
        statistics: The column sums of `chrf_statistics` rows.
        beta: Weight of recall relative to precision.

    Returns:
        The chrF score, as `chrf` gives it for those examples.

    Example:

    >>> chrf_from_statistics([0, 0, 0])
    0.0
    """
    return float(_chrf_f_score(list(statistics), beta))


# metric name -> function(hypotheses, references); references are lists per example
def unseen_token_accuracy(hypotheses, references, known, split=str.split):
    """Share of the references' unknown words that the hypotheses get right, in place.

    A reference word is *unknown* when it is not in `known` (the target vocabulary a model
    was trained with: names, numbers, words never seen in training); it counts as right when
    the hypothesis has the same word at the same position (words as `split` gives them:
    whitespace by default, the target tokenizer's pieces through `metric_function`, so that
    punctuation written against a word is not part of it). The first reference of each
    example is used. This is what only copying can score: a model without it writes `<unk>`
    there.

    Args:
        hypotheses: A sequence of hypothesis strings.
        references: One reference string, or a non-empty list of them, per hypothesis.
        known: A collection of the known words.
        split: A function from a string to its words.

    Returns:
        A float in [0, 1]; NaN when no reference has an unknown word.

    Example:

    >>> unseen_token_accuracy(["meet zorro now"], ["meet zorro today"], {"meet", "now"})
    0.5
    """
    known = set(known)
    right = total = 0
    for hypothesis, reference in zip(hypotheses, references):
        reference = reference if isinstance(reference, str) else reference[0]
        words, guess = split(reference), split(hypothesis)
        for i, word in enumerate(words):
            if word not in known:
                total += 1
                right += i < len(guess) and guess[i] == word
    return right / total if total else float("nan")


METRICS = {
    "bleu": corpus_bleu,
    "chrf": chrf,
    "wer": wer,
    "per": per,
    "cer": cer,
    "sequence_accuracy": sequence_accuracy,
}


def metric_function(name, task=None):
    """The scoring function for a metric name.

    For tasks whose targets are pronunciations (`g2p`), `"wer"` is the G2P word error rate:
    the share of words whose hypothesis matches none of the references
    (`sequence_error_rate`); elsewhere it is the usual word-level edit rate. Pure Python, so
    `keras_s2s.baselines` scores without loading Keras; `keras_s2s.evaluation` re-exports it.

    Example:

    >>> metric_function("chrf") is chrf
    True
    """
    if name == "wer" and task is not None and task.name == "g2p":
        return sequence_error_rate
    if name == "unseen_token_accuracy":
        if task is None:
            raise ValueError("unseen_token_accuracy needs the task, whose target vocabulary "
                             "says which words were seen.")
        known = set(task.target_tokenizer.vocabulary)
        # words as the target tokenizer splits them ("(born" is "(" and "born")
        return lambda hypotheses, references: unseen_token_accuracy(
            hypotheses, references, known, task.target_tokenizer.tokenize)
    if name not in METRICS:
        raise ValueError(f"Unknown metric '{name}'. Known metrics: {sorted(METRICS)}.")
    return METRICS[name]
