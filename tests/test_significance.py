"""McNemar's exact test (`keras_s2s.significance`) against exhaustive enumeration."""

import doctest
import itertools
import math

import pytest

from keras_s2s import significance
import numpy as np

from keras_s2s.significance import (exact_matches, mcnemar_exact_p, mcnemar_power,
                                    paired_exact_match)


def _enumerated_p(a_only, b_only):
    """The two-sided sign-test p-value by listing every sequence of n fair coins: the share
    of sequences at least as unbalanced as the observed split."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    observed = abs(a_only - b_only)
    extreme = sum(abs(2 * sum(flips) - n) >= observed
                  for flips in itertools.product((0, 1), repeat=n))
    return extreme / 2 ** n


@pytest.mark.parametrize("a_only,b_only", [(0, 0), (0, 1), (3, 3), (0, 5), (2, 9), (7, 4),
                                           (1, 12), (6, 7)])
def test_p_value_equals_enumeration(a_only, b_only):
    assert mcnemar_exact_p(a_only, b_only) == pytest.approx(_enumerated_p(a_only, b_only),
                                                            abs=1e-12)


def test_textbook_values():
    # 0 against 6 discordant pairs: 2 / 64; the smallest n with p < 0.05 needs 0 against 6
    assert mcnemar_exact_p(0, 6) == pytest.approx(0.03125)
    assert mcnemar_exact_p(0, 5) == pytest.approx(0.0625)
    assert mcnemar_exact_p(10, 10) == 1.0
    assert mcnemar_exact_p(5, 0) == mcnemar_exact_p(0, 5)


def test_paired_counts_by_hand():
    references = [["walked"], ["went"], ["sang", "sung"], ["ran"], ["made"]]
    a = ["walked", "went", "sung", "runned", "maked"]
    b = ["walked", "goed", "sang", "ran", "maked"]
    result = paired_exact_match(a, b, references)
    assert (result["both"], result["a_only"], result["b_only"], result["neither"]) == (2, 1, 1,
                                                                                      1)
    assert result["accuracy_a"] == pytest.approx(3 / 5)
    assert result["accuracy_b"] == pytest.approx(3 / 5)
    assert result["p_value"] == 1.0 and not result["significant"]


def test_significant_difference():
    references = [[str(i)] for i in range(20)]
    a = [str(i) for i in range(20)]
    b = [str(i) if i < 12 else "x" for i in range(20)]  # b wrong on 8 that a gets right
    result = paired_exact_match(a, b, references)
    assert result["a_only"] == 8 and result["b_only"] == 0
    assert result["p_value"] == pytest.approx(2 / 2 ** 8) and result["significant"]
    assert "A is better" in significance.describe(result, "A", "B")


def test_whitespace_is_normalised_like_sequence_accuracy():
    assert exact_matches(["R  IY1 D "], [["R IY1 D"]]) == [True]


def test_bad_input_is_one_clear_error():
    with pytest.raises(ValueError, match="one string per example"):
        paired_exact_match(["a"], ["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="a_only"):
        mcnemar_exact_p(-1, 2)


def _enumerated_power(a_rate, b_rate, n, alpha=0.05):
    """The power by listing every (A alone, B alone, other) count of n examples with its
    multinomial probability, and the exact test on each."""
    total = 0.0
    for a in range(n + 1):
        for b in range(n - a + 1):
            if a > b and mcnemar_exact_p(a, b) < alpha:
                ways = math.factorial(n) // (math.factorial(a) * math.factorial(b)
                                             * math.factorial(n - a - b))
                total += ways * a_rate ** a * b_rate ** b * (1 - a_rate - b_rate) ** (n - a - b)
    return total


@pytest.mark.parametrize("a_rate,b_rate,n", [(0.3, 0.1, 12), (0.2, 0.2, 15), (0.5, 0.0, 6),
                                             (0.05, 0.02, 40), (0.6, 0.3, 9)])
def test_power_equals_enumeration(a_rate, b_rate, n):
    assert mcnemar_power(a_rate, b_rate, n) == pytest.approx(
        _enumerated_power(a_rate, b_rate, n), abs=1e-12)


def test_power_matches_simulated_test_sets():
    # large n, where enumeration is slow: draw 4,000 test sets and run the test on each
    rng = np.random.default_rng(0)
    a_rate, b_rate, n = 0.031, 0.021, 324
    draws = rng.multinomial(n, [a_rate, b_rate, 1 - a_rate - b_rate], size=4000)
    share = np.mean([a > b and mcnemar_exact_p(int(a), int(b)) < 0.05 for a, b, _ in draws])
    assert mcnemar_power(a_rate, b_rate, n) == pytest.approx(share, abs=0.015)
    # more examples, more power
    assert mcnemar_power(a_rate, b_rate, 2000) > mcnemar_power(a_rate, b_rate, n)


def test_power_rejects_bad_rates():
    with pytest.raises(ValueError, match="sum to at most 1"):
        mcnemar_power(0.7, 0.4, 10)
    with pytest.raises(ValueError, match="examples"):
        mcnemar_power(0.1, 0.1, 0)


def test_docstring_examples():
    result = doctest.testmod(significance, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_bootstrap_samples_equal_rescoring_the_resampled_text():
    """Each resampled difference from summed statistics equals corpus_bleu and chrf run on
    the resampled sentences themselves (the same draws, rebuilt here)."""
    import numpy as np

    from keras_s2s.significance import _bootstrap_differences
    from keras_s2s.text_metrics import (bleu_from_statistics, bleu_statistics, chrf,
                                        chrf_from_statistics, chrf_statistics, corpus_bleu)

    references = [["the cat sat on the mat", "a cat was on the mat"], ["it rains today"],
                  ["we went home early"], ["she reads a long book"], ["dogs bark at night"],
                  ["the train is late again"]]
    a = ["the cat sat on a mat", "it is raining today", "we went home", "she reads a book",
         "dogs bark at night", "the train is late"]
    b = ["a cat on the mat", "it rains today", "we go home early", "he reads books",
         "the dogs bark", "train late again"]
    n, samples, seed = len(a), 7, 3
    for stats, score, metric in ((bleu_statistics, bleu_from_statistics, corpus_bleu),
                                 (chrf_statistics, chrf_from_statistics, chrf)):
        got = _bootstrap_differences(stats(a, references), stats(b, references), score,
                                     samples, seed)
        drawn = np.random.default_rng(seed).integers(0, n, size=(samples, n))
        expected = [metric([a[i] for i in row], [references[i] for i in row])
                    - metric([b[i] for i in row], [references[i] for i in row])
                    for row in drawn]
        assert np.allclose(got, expected, atol=1e-9), metric.__name__
        # the whole-set scores are the corpus functions'
        result = significance.paired_bootstrap(stats(a, references), stats(b, references),
                                               score, samples=50)
        assert result["score_a"] == pytest.approx(metric(a, references))
        assert result["score_b"] == pytest.approx(metric(b, references))


def test_bootstrap_of_identical_systems_is_not_significant():
    from keras_s2s.text_metrics import chrf_from_statistics, chrf_statistics

    stats = chrf_statistics(["a b c", "d e"], [["a b d"], ["d e f"]])
    result = significance.paired_bootstrap(stats, stats, chrf_from_statistics, samples=30)
    assert result["difference"] == 0 and result["low"] == result["high"] == 0
    assert not result["significant"] and result["a_wins"] == 0
    with pytest.raises(ValueError, match="same, non-empty set"):
        significance.paired_bootstrap(stats, stats[:1], chrf_from_statistics)


def test_error_rates_are_lower_is_better_in_the_sentence():
    from keras_s2s.text_metrics import (cer, error_rate_from_statistics, error_statistics,
                                        per)

    hyps, refs = ["abd", "xy", "walked"], [["abc"], ["xyz", "x"], ["walked"]]
    rows = error_statistics(hyps, refs)
    assert error_rate_from_statistics([sum(c) for c in zip(*rows)]) == pytest.approx(
        cer(hyps, refs))
    words = error_statistics(["a b c", "d"], [["a b d"], ["d e"]], unit="words")
    assert error_rate_from_statistics([sum(c) for c in zip(*words)]) == pytest.approx(
        per(["a b c", "d"], [["a b d"], ["d e"]]))
    result = {"score_a": 0.05, "score_b": 0.10, "difference": -0.05, "low": -0.08,
              "high": -0.02, "samples": 1000, "significant": True}
    sentence = significance.describe_bootstrap(result, "cer", "the model", "copy")
    assert sentence.startswith("CER 5.0 against 10.0, difference -5.0")
    assert sentence.endswith("the model is better")
