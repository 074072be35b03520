"""Is one system really better than another on the same examples? McNemar's exact test for
exact matches, a paired bootstrap for corpus scores (BLEU, chrF, CER, PER).

Two systems decode the same examples; each output either matches one of its references or
not (the `sequence_accuracy` comparison of `keras_s2s.text_metrics`). Only the examples
where exactly one of them is right say anything about which is better: `a_only` of them
favour system A and `b_only` favour B. Under the hypothesis that neither is better, each of
those `n = a_only + b_only` discordant examples is a fair coin, so McNemar's exact test
(an exact binomial sign test) gives the two-sided p-value

    p = min(1, 2 · P[X <= min(a_only, b_only)]),   X ~ Binomial(n, 1/2).

A p-value of 0.05 or more means the test set cannot tell the two apart.

Corpus BLEU, chrF and error rates are not sums of per-example scores, so they get Koehn's
(2004) paired bootstrap instead: the test set is resampled with replacement `samples` times,
both systems are scored on each resampled set (from their per-example statistics,
`text_metrics.bleu_statistics`, `chrf_statistics` and `error_statistics`, so nothing is
tokenized again), and the middle 95% of the score differences is the interval; a difference
is significant when the interval excludes 0.

`keras-s2s baseline --run RUN` reports both beside the scores, `keras-s2s evaluate RUN
--compare RUN2` between two runs, and the "your own data" results table uses the exact test
to say whether a model beat its best baseline or only drew with it.
"""

import math

import numpy as np

# the per-example verdicts of `sequence_accuracy`, which the exact test pairs
from keras_s2s.text_metrics import exact_matches

# the level below which a difference is called significant
ALPHA = 0.05


def mcnemar_exact_p(a_only, b_only):
    """Two-sided p-value of McNemar's exact test from the two discordant counts.

    Args:
        a_only: Examples that only system A gets right.
        b_only: Examples that only system B gets right.

    Returns:
        The p-value in `(0, 1]`; 1.0 when there are no discordant examples.

    Example:

    >>> mcnemar_exact_p(0, 5)  # 2 / 2**5
    0.0625
    """
    for name, value in (("a_only", a_only), ("b_only", b_only)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"Argument `{name}` must be an int >= 0. Received: {value!r}")
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _binomial_pmf(n, k, p):
    """P[X = k] for X ~ Binomial(n, p), in log space (n may be large)."""
    if p in (0.0, 1.0):
        return float(k == (n if p == 1.0 else 0))
    return math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                    + k * math.log(p) + (n - k) * math.log1p(-p))


def mcnemar_power(a_rate, b_rate, examples, alpha=ALPHA):
    """How often a test set of `examples` examples would show that A is better than B, when
    on each example independently A alone is right with probability `a_rate` and B alone
    with `b_rate`: the power of McNemar's exact test, computed exactly.

    The discordant count is `K ~ Binomial(examples, a_rate + b_rate)` and, given `K = k`, A's
    share of it is `Binomial(k, a_rate / (a_rate + b_rate))`; the power is the probability
    that A leads and `mcnemar_exact_p` is below `alpha`.

    Args:
        a_rate: Probability that only A is right on an example, e.g. A's discordant count on a
            larger held-out set divided by that set's size.
        b_rate: The same for B.
        examples: Size of the test set.
        alpha: The significance level.

    Returns:
        The probability, in `[0, 1]`.

    Example:

    >>> round(mcnemar_power(0.5, 0.0, 6), 6)  # p < 0.05 needs A alone right on all 6: 0.5**6
    0.015625
    """
    for name, value in (("a_rate", a_rate), ("b_rate", b_rate)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"Argument `{name}` must be in [0, 1]. Received: {value!r}")
    if a_rate + b_rate > 1.0:
        raise ValueError(f"Arguments `a_rate` and `b_rate` must sum to at most 1. Received: "
                         f"{a_rate!r} + {b_rate!r}")
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"Argument `examples` must be an int >= 1. Received: {examples!r}")
    discordant = a_rate + b_rate
    if discordant == 0.0:
        return 0.0
    share = a_rate / discordant
    power = 0.0
    for k in range(1, examples + 1):
        p_k = _binomial_pmf(examples, k, discordant)
        if p_k < 1e-15:
            continue
        # A leads with a count a > k / 2; the p-value falls as a grows, so the rejected a
        # form one upper run: find its start by bisection
        low, high = k // 2 + 1, k + 1  # the start lies in [low, high]; high: none rejected
        while low < high:
            middle = (low + high) // 2
            if mcnemar_exact_p(middle, k - middle) < alpha:
                high = middle
            else:
                low = middle + 1
        power += p_k * sum(_binomial_pmf(k, j, share) for j in range(low, k + 1))
    return min(1.0, power)


def paired_exact_match(hypotheses_a, hypotheses_b, references):
    """Compare two systems' outputs on the same examples, example by example.

    Args:
        hypotheses_a: System A's output strings.
        hypotheses_b: System B's output strings, for the same examples in the same order.
        references: One entry per example: a reference string or a list of them.

    Returns:
        A dict: `examples`, `both` (right in both), `a_only`, `b_only`, `neither`,
        `accuracy_a`, `accuracy_b`, `p_value` (McNemar's exact test) and `significant`
        (`p_value < ALPHA`).

    Example:

    >>> result = paired_exact_match(["walked", "went"], ["walked", "goed"],
    ...                             [["walked"], ["went"]])
    >>> result["a_only"], result["b_only"], result["p_value"]
    (1, 0, 1.0)
    """
    if len(hypotheses_a) != len(hypotheses_b):
        raise ValueError(f"The two systems must output one string per example each; received "
                         f"{len(hypotheses_a)} and {len(hypotheses_b)} outputs.")
    return paired_matches(exact_matches(hypotheses_a, references),
                          exact_matches(hypotheses_b, references))


def paired_matches(right_a, right_b):
    """`paired_exact_match` from the two systems' per-example verdicts (booleans), e.g. when
    each system's references were normalised by its own tokenizer.

    Example:

    >>> paired_matches([True, True, False], [True, False, False])["a_only"]
    1
    """
    if len(right_a) != len(right_b):
        raise ValueError(f"The two systems must be judged on the same examples; received "
                         f"{len(right_a)} and {len(right_b)} verdicts.")
    n = len(right_a)
    both = sum(a and b for a, b in zip(right_a, right_b))
    a_only = sum(a and not b for a, b in zip(right_a, right_b))
    b_only = sum(b and not a for a, b in zip(right_a, right_b))
    p = mcnemar_exact_p(a_only, b_only)
    return {"examples": n, "both": both, "a_only": a_only, "b_only": b_only,
            "neither": n - both - a_only - b_only,
            "accuracy_a": (both + a_only) / n if n else 0.0,
            "accuracy_b": (both + b_only) / n if n else 0.0,
            "p_value": p, "significant": p < ALPHA}


def format_p(p):
    """A p-value as the reports print it: two decimals, or "< 0.001".

    Example:

    >>> format_p(0.4049), format_p(1e-9)
    ('0.40', '< 0.001')
    """
    return "< 0.001" if p < 0.001 else f"{p:.2f}" if p >= 0.01 else f"{p:.3f}"


def p_phrase(p):
    """A p-value after "p": `"= 0.40"`, or `"< 0.001"`.

    Example:

    >>> p_phrase(0.4049), p_phrase(1e-9)
    ('= 0.40', '< 0.001')
    """
    text = format_p(p)
    return text if text.startswith("<") else f"= {text}"


def describe(result, name_a, name_b):
    """One sentence for a `paired_exact_match` result.

    Example:

    >>> describe(paired_exact_match(["a"], ["b"], [["a"]]), "the model", "copy")
    'the model alone is right on 1 example(s), copy alone on 0 (McNemar exact p = 1.00: ...'
    """
    p = result["p_value"]
    if not result["significant"]:
        verdict = "the test set cannot tell them apart"
    else:
        better = name_a if result["a_only"] > result["b_only"] else name_b
        verdict = f"{better} is better"
    return (f"{name_a} alone is right on {result['a_only']} example(s), {name_b} alone on "
            f"{result['b_only']} (McNemar exact p {p_phrase(p)}: {verdict} at {ALPHA:g})")


def _bootstrap_differences(statistics_a, statistics_b, score, samples, seed, chunk=100):
    """The score differences (A minus B) of `samples` resampled test sets, as an array.

    Sample j draws `numpy.random.default_rng(seed).integers(0, n, (chunk, n))`'s rows in
    order, `chunk` at a time: each example's statistics count as often as it was drawn."""
    a = np.asarray(statistics_a, dtype=np.float64)
    b = np.asarray(statistics_b, dtype=np.float64)
    n = len(a)
    rng = np.random.default_rng(seed)
    differences = []
    for start in range(0, samples, chunk):
        drawn = rng.integers(0, n, size=(min(chunk, samples - start), n))
        counts = np.stack([np.bincount(row, minlength=n) for row in drawn]).astype(np.float64)
        for sums_a, sums_b in zip(counts @ a, counts @ b):
            differences.append(score(sums_a.tolist()) - score(sums_b.tolist()))
    return np.asarray(differences)


def paired_bootstrap(statistics_a, statistics_b, score, samples=1000, seed=0):
    """Koehn's paired bootstrap of a corpus score that is a function of summed statistics.

    Args:
        statistics_a: System A's per-example statistics (rows of numbers), e.g.
            `keras_s2s.text_metrics.bleu_statistics(hypotheses_a, references)`.
        statistics_b: System B's, for the same examples in the same order.
        score: The corpus score of summed statistics, e.g. `bleu_from_statistics`.
        samples: How many resampled test sets.
        seed: Seed of the resampling.

    Returns:
        A dict: `score_a` and `score_b` on the whole test set, their `difference` (A minus
        B), `low` and `high` (the 2.5th and 97.5th percentiles of the resampled
        differences), `a_wins` (the share of resampled sets where A scores higher),
        `samples` and `significant` (the interval excludes 0).

    Example:

    >>> from keras_s2s.text_metrics import bleu_statistics, bleu_from_statistics
    >>> refs = [["the cat sat on the mat"], ["it is raining today"]] * 10
    >>> a = bleu_statistics(["the cat sat on the mat", "it is raining today"] * 10, refs)
    >>> b = bleu_statistics(["a cat sat on a mat", "it rains today"] * 10, refs)
    >>> result = paired_bootstrap(a, b, bleu_from_statistics, samples=200)
    >>> result["difference"] > 0 and result["significant"]
    True
    """
    if len(statistics_a) != len(statistics_b) or not len(statistics_a):
        raise ValueError(f"The two systems need statistics for the same, non-empty set of "
                         f"examples; received {len(statistics_a)} and {len(statistics_b)} rows.")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"Argument `samples` must be an int >= 1. Received: {samples!r}")
    score_a = score([sum(c) for c in zip(*statistics_a)])
    score_b = score([sum(c) for c in zip(*statistics_b)])
    differences = _bootstrap_differences(statistics_a, statistics_b, score, samples, seed)
    low, high = np.percentile(differences, [2.5, 97.5])
    return {"score_a": float(score_a), "score_b": float(score_b),
            "difference": float(score_a - score_b), "low": float(low), "high": float(high),
            "a_wins": float(np.mean(differences > 0)), "samples": samples,
            "significant": bool(low > 0 or high < 0)}


# the corpus scores with a paired bootstrap: display name, and whether higher is better
BOOTSTRAP_METRICS = {"bleu": ("BLEU", True), "chrf": ("chrF", True), "cer": ("CER", False),
                     "per": ("PER", False)}


def bootstrap_metrics_for(metrics, target_tokenizer):
    """Which of a task's metrics get a paired bootstrap: CER and PER always; BLEU and chrF
    unless the targets are single words of characters (a `CharTokenizer`), where they say
    nothing.

    Example:

    >>> from keras_s2s.data.tokenizers import CharTokenizer
    >>> bootstrap_metrics_for(("bleu", "chrf", "sequence_accuracy", "cer"), CharTokenizer(["a"]))
    ['cer']
    """
    from keras_s2s.data.tokenizers import CharTokenizer

    character_targets = isinstance(target_tokenizer, CharTokenizer)
    return [m for m in metrics if m in BOOTSTRAP_METRICS
            and not (character_targets and m in ("bleu", "chrf"))]


def describe_bootstrap(result, metric, name_a, name_b):
    """One sentence for a `paired_bootstrap` result of `metric`, a key of `BOOTSTRAP_METRICS`
    (error rates are lower-is-better and printed in percent).

    Example:

    >>> describe_bootstrap({"score_a": 20.0, "score_b": 15.0, "difference": 5.0, "low": 2.0,
    ...                     "high": 8.0, "samples": 1000, "significant": True}, "bleu",
    ...                    "the model", "copy")
    'BLEU 20.0 against 15.0, difference +5.0 (95% interval +2.0 to +8.0, ...): the model is better'
    """
    label, higher_is_better = BOOTSTRAP_METRICS[metric]
    if not result["significant"]:
        verdict = "the test set cannot tell them apart"
    else:
        a_better = (result["difference"] > 0) == higher_is_better
        verdict = f"{name_a if a_better else name_b} is better"
    if not higher_is_better:  # rates, in percent
        result = {**result, **{k: 100 * result[k]
                               for k in ("score_a", "score_b", "difference", "low", "high")}}
    return (f"{label} {result['score_a']:.1f} against {result['score_b']:.1f}, difference "
            f"{result['difference']:+.1f} (95% interval {result['low']:+.1f} to "
            f"{result['high']:+.1f}, paired bootstrap of {result['samples']} resampled test "
            f"sets): {verdict}")


def bootstrap_corpus_metrics(hypotheses_a, references_a, hypotheses_b, references_b,
                             metrics=("bleu", "chrf"), samples=1000, seed=0):
    """`paired_bootstrap` of corpus BLEU, chrF, CER and/or PER for two systems' outputs.

    Args:
        hypotheses_a, references_a: System A's outputs and the references it is scored
            against (one entry per example, a string or a list of strings).
        hypotheses_b, references_b: System B's, for the same examples.
        metrics: Any of `"bleu"`, `"chrf"`, `"cer"` and `"per"` (others are skipped).
        samples, seed: As for `paired_bootstrap`.

    Returns:
        `{metric: paired_bootstrap result}`.

    Example:

    >>> results = bootstrap_corpus_metrics(["a b c d"] * 8, [["a b c d"]] * 8,
    ...                                    ["a b"] * 8, [["a b c d"]] * 8, samples=50)
    >>> sorted(results), results["chrf"]["difference"] > 0
    (['bleu', 'chrf'], True)
    """
    from keras_s2s.text_metrics import (bleu_from_statistics, bleu_statistics,
                                        chrf_from_statistics, chrf_statistics,
                                        error_rate_from_statistics, error_statistics)

    kinds = {"bleu": (bleu_statistics, bleu_from_statistics),
             "chrf": (chrf_statistics, chrf_from_statistics),
             "cer": (lambda h, r: error_statistics(h, r, "characters"),
                     error_rate_from_statistics),
             "per": (lambda h, r: error_statistics(h, r, "words"), error_rate_from_statistics)}
    results = {}
    for metric in metrics:
        if metric not in kinds:
            continue
        statistics, score = kinds[metric]
        results[metric] = paired_bootstrap(statistics(hypotheses_a, references_a),
                                           statistics(hypotheses_b, references_b), score,
                                           samples=samples, seed=seed)
    return results
