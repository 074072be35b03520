"""Is one system really better than another on the same examples? McNemar's exact test.

Two systems decode the same examples; each output either matches one of its references or
not (the `sequence_accuracy` comparison of `keras_s2s.text_metrics`). Only the examples
where exactly one of them is right say anything about which is better: `a_only` of them
favour system A and `b_only` favour B. Under the hypothesis that neither is better, each of
those `n = a_only + b_only` discordant examples is a fair coin, so McNemar's exact test
(an exact binomial sign test) gives the two-sided p-value

    p = min(1, 2 · P[X <= min(a_only, b_only)]),   X ~ Binomial(n, 1/2).

A p-value of 0.05 or more means the test set cannot tell the two apart. This is what
`keras-s2s baseline --run RUN` reports beside the scores, and what the "your own data"
results table uses to say whether a model beat its best baseline or only drew with it.
"""

import math

from keras_s2s.text_metrics import _check_corpus

# the level below which a difference is called significant
ALPHA = 0.05


def exact_matches(hypotheses, references):
    """Per example: does the hypothesis match one of its references? (whitespace-normalised,
    as `keras_s2s.text_metrics.sequence_accuracy` compares them)

    Example:

    >>> exact_matches(["walked", "goed"], [["walked"], ["went"]])
    [True, False]
    """
    hypotheses, references = _check_corpus(hypotheses, references, "exact_matches")
    return [any(" ".join(h.split()) == " ".join(r.split()) for r in refs)
            for h, refs in zip(hypotheses, references)]


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
    right_a = exact_matches(hypotheses_a, references)
    right_b = exact_matches(hypotheses_b, references)
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
            f"{result['b_only']} (McNemar exact p {_relation(p)}: {verdict} at {ALPHA:g})")


def _relation(p):
    text = format_p(p)
    return text if text.startswith("<") else f"= {text}"
