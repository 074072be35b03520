"""Count-based n-gram language model: hand-computed add-k and Kneser-Ney
probabilities, normalisation for every context, log-prob/perplexity identities,
sampling, save/load and input validation."""

import ast
import doctest
import importlib.util
import inspect
import json
import math
import pathlib
import subprocess
import sys
from fractions import Fraction as F

import numpy as np
import pytest

from keras_s2s import ngram
from keras_s2s.ngram import NGramLanguageModel, perplexity

PAD, UNK, BOS, EOS = 0, 1, 2, 3
A, B, C = 4, 5, 6  # three word ids of the toy corpus

# Toy corpus over a vocabulary of 8 ids (0..7). The predictable ids are
# everything but <pad> and <s>: {1, 3, 4, 5, 6, 7}, so V' = 6.
TOY = [[A, B], [A, C], [B]]
TOY_V = 8
V_PRIME = 6


def close(x, expected):
    return math.isclose(x, float(expected), rel_tol=1e-12, abs_tol=1e-15)


# ---------------------------------------------------------------------------
# Hand-computed bigram probabilities
# ---------------------------------------------------------------------------
#
# Padded with one <s> and one </s>:
#   <s> a b </s>   <s> a c </s>   <s> b </s>
# Bigram counts: (<s>,a)=2 (<s>,b)=1 (a,b)=1 (a,c)=1 (b,</s>)=2 (c,</s>)=1
# Context counts: c(<s>)=3 c(a)=2 c(b)=2 c(c)=1; 8 predicted tokens.


def test_bigram_add_k_by_hand():
    k = F(1, 2)
    lm = NGramLanguageModel(n=2, smoothing="add_k", k=0.5).fit(TOY, TOY_V)
    # (c(h w) + k) / (c(h) + k V')
    assert close(lm.prob(A), (2 + k) / (3 + k * 6))  # 2.5 / 6
    assert close(lm.prob(B, [A]), (1 + k) / (2 + k * 6))  # 1.5 / 5
    assert close(lm.prob(C, [A]), (1 + k) / (2 + k * 6))
    assert close(lm.prob(EOS, [B]), (2 + k) / (2 + k * 6))  # 2.5 / 5
    assert close(lm.prob(A, [B]), (0 + k) / (2 + k * 6))  # 0.5 / 5
    assert close(lm.prob(UNK, [C]), (0 + k) / (1 + k * 6))  # 0.5 / 4
    # Only the last id matters for a bigram.
    assert lm.prob(B, [C, B, A]) == lm.prob(B, [A])
    # Unseen context (7): uniform over V'.
    assert close(lm.prob(A, [7]), F(1, 6))
    assert close(lm.prob(7, [7]), F(1, 6))
    # Never predicted.
    assert lm.prob(PAD, [A]) == 0.0 and lm.prob(BOS, [A]) == 0.0
    expected = math.log(F(5, 12)) + math.log(F(3, 10)) + math.log(F(1, 2))
    assert math.isclose(lm.log_prob([A, B]), expected, rel_tol=1e-12)


# Kneser-Ney, D = 3/4. Unigram continuation counts N1+(. w) from the bigram
# types: a <- {<s>} = 1, b <- {<s>, a} = 2, c <- {a} = 1, </s> <- {b, c} = 2;
# total 6, 4 types, so lambda() = D * 4 / 6 = 1/2 and the uniform share of
# each id is 1/2 * 1/6 = 1/12:
#   P1(a) = (1 - D)/6 + 1/12 = 1/8        P1(b) = (2 - D)/6 + 1/12 = 7/24
#   P1(c) = 1/8       P1(</s>) = 7/24     P1(<unk>) = P1(7) = 1/12
# (3 + 7 + 3 + 7 + 2 + 2) / 24 = 1.
D = F(3, 4)
P1 = {A: F(1, 8), B: F(7, 24), C: F(1, 8), EOS: F(7, 24), UNK: F(1, 12), 7: F(1, 12)}


def test_kneser_ney_unigram_level_by_hand():
    assert sum(P1.values()) == 1
    assert P1[A] == (1 - D) / 6 + D * 4 / 6 / 6
    assert P1[B] == (2 - D) / 6 + D * 4 / 6 / 6
    lm = NGramLanguageModel(n=2, smoothing="kneser_ney", discount=0.75).fit(TOY, TOY_V)
    # An unseen bigram context backs off fully to the unigram level.
    for token, expected in P1.items():
        assert close(lm.prob(token, [7]), expected), token


def test_bigram_kneser_ney_by_hand():
    lm = NGramLanguageModel(n=2, smoothing="kneser_ney", discount=0.75).fit(TOY, TOY_V)
    # Highest order uses raw counts:
    # P(w|h) = max(c(h w) - D, 0)/c(h) + D N1+(h .)/c(h) P1(w)
    # h = a: c = 2, followers {b, c}: lambda = 3/4 * 2 / 2 = 3/4
    assert close(lm.prob(B, [A]), (1 - D) / 2 + D * 2 / 2 * P1[B])  # 11/32
    assert close(lm.prob(B, [A]), F(11, 32))
    assert close(lm.prob(C, [A]), (1 - D) / 2 + D * P1[C])  # 7/32
    assert close(lm.prob(UNK, [A]), D * P1[UNK])  # 1/16
    # h = b: c = 2, followers {</s>}: lambda = 3/8
    assert close(lm.prob(EOS, [B]), (2 - D) / 2 + D / 2 * P1[EOS])  # 47/64
    assert close(lm.prob(EOS, [B]), F(47, 64))
    assert close(lm.prob(A, [B]), D / 2 * P1[A])  # 3/64
    # h = <s>: c = 3, followers {a: 2, b: 1}: lambda = 3/4 * 2 / 3 = 1/2
    assert close(lm.prob(A), (2 - D) / 3 + D * 2 / 3 * P1[A])  # 23/48
    assert close(lm.prob(A), F(23, 48))
    assert close(lm.prob(B), (1 - D) / 3 + F(1, 2) * P1[B])  # 11/48
    expected = math.log(F(23, 48)) + math.log(F(11, 32)) + math.log(F(47, 64))
    assert math.isclose(lm.log_prob([A, B]), expected, rel_tol=1e-12)


# ---------------------------------------------------------------------------
# Hand-computed trigram probabilities
# ---------------------------------------------------------------------------
#
# Padded with two <s>:
#   <s> <s> a b </s>    <s> <s> a c </s>    <s> <s> b </s>
# Trigram counts: (<s>,<s>,a)=2 (<s>,<s>,b)=1 (<s>,a,b)=1 (<s>,a,c)=1
#                 (a,b,</s>)=1 (a,c,</s>)=1 (<s>,b,</s>)=1
# Context counts: (<s>,<s>)=3 (<s>,a)=2 (a,b)=1 (a,c)=1 (<s>,b)=1


def test_trigram_add_k_by_hand():
    lm = NGramLanguageModel(n=3, smoothing="add_k", k=1.0).fit(TOY, TOY_V)
    assert close(lm.prob(A), F(2 + 1, 3 + 6))  # 1/3
    assert close(lm.prob(B), F(1 + 1, 3 + 6))  # 2/9
    assert close(lm.prob(B, [A]), F(1 + 1, 2 + 6))  # 1/4
    assert close(lm.prob(EOS, [A, B]), F(1 + 1, 1 + 6))  # 2/7
    assert close(lm.prob(C, [A, B]), F(0 + 1, 1 + 6))  # 1/7
    assert close(lm.prob(EOS, [B]), F(1 + 1, 1 + 6))  # context (<s>, b)
    # Context (b, a) never seen: uniform.
    assert close(lm.prob(B, [B, A]), F(1, 6))
    # The explicit <s> padding reads the same as the implicit one.
    assert lm.prob(B, [BOS, A]) == lm.prob(B, [A]) == lm.prob(B, [C, BOS, A])
    expected = math.log(F(1, 3)) + math.log(F(1, 4)) + math.log(F(2, 7))
    assert math.isclose(lm.log_prob([A, B]), expected, rel_tol=1e-12)


# Kneser-Ney trigram. Bigram raw counts (suffixes of the trigrams):
#   (<s>,a)=2 (<s>,b)=1 (a,b)=1 (a,c)=1 (b,</s>)=2 (c,</s>)=1
# Bigram adjusted counts: n-grams starting with <s> keep their raw counts
# (their only left context is padding); the others use N1+(. h w):
#   (<s>,a)=2 (<s>,b)=1 | (a,b): {<s>}=1 (a,c): {<s>}=1 (b,</s>): {a,<s>}=2
#   (c,</s>): {a}=1
# Unigram continuation counts are the same as in the bigram model (P1 above).
# Bigram level P2(w|h) = max(a(h w)-D,0)/a(h) + D N1+(h .)/a(h) P1(w):
#   h=<s>: a=3, 2 types, lambda 1/2: P2(a|<s>) = 5/12 + 1/16 = 23/48,
#          P2(b|<s>) = 1/12 + 7/48 = 11/48
#   h=a:   a=2, 2 types, lambda 3/4: P2(b|a) = 1/8 + 7/32 = 11/32,
#          P2(c|a) = 1/8 + 3/32 = 7/32
#   h=b:   a=2, 1 type,  lambda 3/8: P2(</s>|b) = 5/8 + 7/64 = 47/64
#   h=c:   a=1, 1 type,  lambda 3/4: P2(</s>|c) = 1/4 + 7/32 = 15/32
P2 = {
    (BOS, A): (2 - D) / 3 + D * 2 / 3 * P1[A],
    (BOS, B): (1 - D) / 3 + D * 2 / 3 * P1[B],
    (A, B): (1 - D) / 2 + D * 2 / 2 * P1[B],
    (A, C): (1 - D) / 2 + D * 2 / 2 * P1[C],
    (B, EOS): (2 - D) / 2 + D * 1 / 2 * P1[EOS],
    (C, EOS): (1 - D) / 1 + D * 1 / 1 * P1[EOS],
}


def test_trigram_kneser_ney_by_hand():
    assert P2[(BOS, A)] == F(23, 48) and P2[(BOS, B)] == F(11, 48)
    assert P2[(A, B)] == F(11, 32) and P2[(A, C)] == F(7, 32)
    assert P2[(B, EOS)] == F(47, 64) and P2[(C, EOS)] == F(15, 32)
    lm = NGramLanguageModel(n=3, smoothing="kneser_ney", discount=0.75).fit(TOY, TOY_V)
    # Highest order, raw counts.
    # h=(<s>,<s>): c=3, {a: 2, b: 1}, lambda 1/2
    assert close(lm.prob(A), (2 - D) / 3 + F(1, 2) * P2[(BOS, A)])  # 21/32
    assert close(lm.prob(A), F(21, 32))
    assert close(lm.prob(B), (1 - D) / 3 + F(1, 2) * P2[(BOS, B)])  # 19/96
    assert close(lm.prob(B), F(19, 96))
    # h=(<s>,a): c=2, {b: 1, c: 1}, lambda 3/4
    assert close(lm.prob(B, [A]), (1 - D) / 2 + D * P2[(A, B)])  # 49/128
    assert close(lm.prob(B, [A]), F(49, 128))
    # h=(a,b): c=1, {</s>: 1}, lambda 3/4
    assert close(lm.prob(EOS, [A, B]), (1 - D) + D * P2[(B, EOS)])  # 205/256
    assert close(lm.prob(EOS, [A, B]), F(205, 256))
    # h=(<s>,b): c=1, {</s>: 1}: an id unseen there gets only backed-off mass.
    assert close(lm.prob(A, [B]), D * (D / 2 * P1[A]))  # 3/4 * 3/64
    # Unseen trigram context (b, a): full back-off to P2(. | a).
    assert close(lm.prob(B, [B, A]), F(11, 32))
    # Unseen (<s>, c) but seen (c): P2(</s> | c).
    assert close(lm.prob(EOS, [C]), F(15, 32))
    # Unseen at every order: P1.
    assert close(lm.prob(B, [7, 7]), F(7, 24))
    assert close(lm.prob(7, [7, 7]), F(1, 12))
    expected = math.log(F(21, 32)) + math.log(F(49, 128)) + math.log(F(205, 256))
    assert math.isclose(lm.log_prob([A, B]), expected, rel_tol=1e-12)


# ---------------------------------------------------------------------------
# Normalisation for every context
# ---------------------------------------------------------------------------


def _random_corpus(seed, size=40, vocabulary_size=10):
    rng = np.random.default_rng(seed)
    words = [1, 4, 5, 6, 7, 8]  # id 9 never occurs in training
    return [
        [int(w) for w in rng.choice(words, size=rng.integers(0, 7), p=[0.05, .35, .2, .2, .1, .1])]
        for _ in range(size)
    ], vocabulary_size


UNSEEN_CONTEXTS = [[], [9], [9, 9, 9], [3], [3, 4], [1, 1, 1, 1], [4, 4, 4, 4, 4], [8, 9, 4]]


@pytest.mark.parametrize("smoothing", ["kneser_ney", "add_k"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_distribution_sums_to_one_for_every_context(n, smoothing):
    corpus, vocabulary_size = _random_corpus(seed=n)
    lm = NGramLanguageModel(n=n, smoothing=smoothing, k=0.3, discount=0.6).fit(
        corpus, vocabulary_size
    )
    seen = set()
    for sequence in corpus:
        padded = [BOS] * (n - 1) + sequence + [EOS]
        for i in range(n - 1, len(padded)):
            seen.add(tuple(padded[i - n + 1:i]))
    assert seen
    for context in sorted(seen) + [tuple(c) for c in UNSEEN_CONTEXTS]:
        dist = lm.distribution(context)
        assert dist.shape == (vocabulary_size,) and dist.dtype == np.float64
        assert np.isclose(dist.sum(), 1.0, rtol=0, atol=1e-9), (context, dist.sum())
        assert dist[PAD] == 0.0 and dist[BOS] == 0.0
        predictable = np.delete(dist, [PAD, BOS])
        assert (predictable > 0).all(), context  # unseen ids (9) keep some mass
        by_prob = [lm.prob(w, context) for w in range(vocabulary_size)]
        np.testing.assert_allclose(dist, by_prob, rtol=1e-12, atol=0)


# ---------------------------------------------------------------------------
# log_prob and perplexity
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("smoothing", ["kneser_ney", "add_k"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_log_prob_is_sum_over_padded_sequence(n, smoothing):
    corpus, vocabulary_size = _random_corpus(seed=10 + n)
    lm = NGramLanguageModel(n=n, smoothing=smoothing).fit(corpus, vocabulary_size)
    for sequence in corpus[:10] + [[], [9, 9], [4, 9, 1, 5]]:
        padded = [BOS] * (n - 1) + sequence + [EOS]
        explicit = sum(
            math.log(lm.prob(padded[i], padded[i - n + 1:i])) for i in range(n - 1, len(padded))
        )
        implicit = sum(math.log(lm.prob(w, sequence[:i])) for i, w in enumerate(sequence))
        implicit += math.log(lm.prob(EOS, sequence))
        assert math.isclose(lm.log_prob(sequence), explicit, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(explicit, implicit, rel_tol=1e-12, abs_tol=1e-12)
        assert lm.log_prob(np.array(sequence, dtype=np.int32)) == lm.log_prob(sequence)


@pytest.mark.parametrize("smoothing", ["kneser_ney", "add_k"])
def test_perplexity_matches_formula(smoothing):
    corpus, vocabulary_size = _random_corpus(seed=3)
    lm = NGramLanguageModel(n=3, smoothing=smoothing).fit(corpus[:30], vocabulary_size)
    held_out = corpus[30:]
    total = sum(lm.log_prob(s) for s in held_out)
    tokens = sum(len(s) + 1 for s in held_out)
    assert math.isclose(lm.perplexity(held_out), math.exp(-total / tokens), rel_tol=1e-12)
    assert math.isclose(
        lm.perplexity(held_out), perplexity([lm.log_prob(s) for s in held_out], tokens),
        rel_tol=1e-12,
    )
    # Hand value on the toy corpus: (21/32 * 49/128 * 205/256) ** (-1/3).
    toy = NGramLanguageModel(n=3).fit(TOY, TOY_V)
    assert math.isclose(
        toy.perplexity([[A, B]]), float(F(21, 32) * F(49, 128) * F(205, 256)) ** (-1 / 3),
        rel_tol=1e-12,
    )


@pytest.mark.parametrize("k", [0.1, 1.0, 3.0])
def test_unigram_add_k_on_uniform_corpus_has_perplexity_v_prime(k):
    # vocabulary_size 7: predictable ids {1, 3, 4, 5, 6}, V' = 5. Each
    # sequence predicts 1, 4, 5, 6 and </s> once, so every count is equal.
    corpus = [[1, 4, 5, 6], [6, 5, 4, 1], [5, 1, 6, 4]]
    lm = NGramLanguageModel(n=1, smoothing="add_k", k=k).fit(corpus, vocabulary_size=7)
    assert math.isclose(lm.perplexity(corpus), 5.0, rel_tol=1e-12)
    assert math.isclose(lm.perplexity([[4], [1, 1, 5]]), 5.0, rel_tol=1e-12)


def test_perplexity_function():
    assert math.isclose(perplexity([-1.0, -2.0], 3), math.e)
    assert math.isclose(perplexity(-6.0, 2), math.exp(3.0))
    assert math.isclose(perplexity(np.array([math.log(0.25)] * 4), np.int64(4)), 4.0)
    assert perplexity([0.0], 5) == 1.0
    assert perplexity([-math.inf, -1.0], 2) == math.inf
    assert perplexity([-1e6], 1) == math.inf  # overflow -> inf, not an exception
    for bad_tokens in [0, -3, 0.0, math.inf, math.nan, None, "3", True]:
        with pytest.raises(ValueError, match="num_tokens"):
            perplexity([-1.0], bad_tokens)
    with pytest.raises(ValueError, match="empty"):
        perplexity([], 3)
    with pytest.raises(ValueError, match="NaN"):
        perplexity([-1.0, math.nan], 3)
    with pytest.raises(ValueError, match="losses"):
        perplexity([2.3, 1.1], 3)
    with pytest.raises(ValueError, match="sequence of floats"):
        perplexity(["a"], 3)


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("smoothing", ["kneser_ney", "add_k"])
def test_generate_is_reproducible_and_valid(smoothing):
    corpus, vocabulary_size = _random_corpus(seed=5)
    lm = NGramLanguageModel(n=3, smoothing=smoothing).fit(corpus, vocabulary_size)
    outputs = []
    for seed in range(20):
        first = lm.generate(seed=seed, max_length=15)
        assert first == lm.generate(seed=seed, max_length=15)
        assert lm.generate(seed=np.random.default_rng(seed), max_length=15) == first
        assert len(first) <= 15
        assert all(isinstance(t, int) and 1 <= t < vocabulary_size for t in first)
        assert not {PAD, BOS, EOS} & set(first)
        outputs.append(tuple(first))
    assert len(set(outputs)) > 1  # the seed matters
    hot = lm.generate(context=[4, 5], seed=1, temperature=2.0, max_length=30)
    assert all(1 <= t < vocabulary_size and t not in (PAD, BOS, EOS) for t in hot)
    assert lm.generate(max_length=0, seed=0) == []


def test_generate_low_temperature_is_greedy():
    lm = NGramLanguageModel(n=2).fit(TOY * 3 + [[A, B, C]], TOY_V)
    greedy, context = [], []
    while True:
        token = int(np.argmax(lm.distribution(context)))
        if token == EOS or len(greedy) == 10:
            break
        greedy.append(token)
        context.append(token)
    assert greedy == [A, B]
    assert lm.generate(seed=123, temperature=1e-3, max_length=10) == greedy
    # A context is continued, not repeated: after a, b the greedy choice is </s>.
    assert lm.generate(context=[A, B], seed=0, temperature=1e-3) == []


# ---------------------------------------------------------------------------
# Serialization
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("smoothing", ["kneser_ney", "add_k"])
def test_save_load_round_trip(tmp_path, smoothing):
    corpus, vocabulary_size = _random_corpus(seed=7)
    lm = NGramLanguageModel(n=3, smoothing=smoothing, k=0.25, discount=0.8).fit(
        corpus, vocabulary_size
    )
    path = tmp_path / "lm.json"
    lm.save(path)
    payload = json.loads(path.read_text())
    assert payload["config"] == lm.get_config() == {
        "n": 3, "smoothing": smoothing, "k": 0.25, "discount": 0.8,
    }
    assert payload["vocabulary_size"] == vocabulary_size
    assert sum(row[-1] for row in payload["ngram_counts"]) == sum(len(s) + 1 for s in corpus)
    loaded = NGramLanguageModel.load(str(path))
    assert loaded.get_config() == lm.get_config()
    assert loaded.vocabulary_size == vocabulary_size
    for context in [[], [4], [4, 5], [9, 9], [1, 6, 7], [3]]:
        assert np.array_equal(loaded.distribution(context), lm.distribution(context))
    for sequence in corpus[:5]:
        assert loaded.log_prob(sequence) == lm.log_prob(sequence)
    assert loaded.generate(seed=3) == lm.generate(seed=3)
    assert NGramLanguageModel.from_config(lm.get_config()).get_config() == lm.get_config()


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not a saved NGramLanguageModel"):
        NGramLanguageModel.load(path)
    lm = NGramLanguageModel(n=2).fit(TOY, TOY_V)
    lm.save(path)
    payload = json.loads(path.read_text())
    payload["ngram_counts"][0] = [4, 5, 6, 1]  # a trigram in a bigram model
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="malformed"):
        NGramLanguageModel.load(path)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "`n` must be an int >= 1"),
        ({"n": -2}, "`n` must be an int >= 1"),
        ({"n": 2.0}, "`n` must be an int >= 1"),
        ({"smoothing": "witten_bell"}, "unknown `smoothing`"),
        ({"smoothing": "add_k", "k": 0}, "`k` must be"),
        ({"smoothing": "add_k", "k": -1.0}, "`k` must be"),
        ({"k": 0.0}, "`k` must be"),
        ({"discount": 0.0}, r"`discount` must be in the open interval \(0, 1\)"),
        ({"discount": 1.0}, r"`discount` must be in the open interval \(0, 1\)"),
        ({"discount": 1.5}, r"`discount` must be in the open interval \(0, 1\)"),
        ({"discount": -0.1}, r"`discount` must be in the open interval \(0, 1\)"),
    ],
)
def test_constructor_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NGramLanguageModel(**kwargs)


def test_errors_before_fit(tmp_path):
    lm = NGramLanguageModel()
    assert not lm.is_fitted
    calls = {
        "prob": lambda: lm.prob(4, []),
        "distribution": lambda: lm.distribution([]),
        "log_prob": lambda: lm.log_prob([4]),
        "perplexity": lambda: lm.perplexity([[4]]),
        "generate": lambda: lm.generate(seed=0),
        "save": lambda: lm.save(tmp_path / "x.json"),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=rf"{name}: the model is not fitted yet"):
            call()


def test_fit_errors():
    lm = NGramLanguageModel(n=2)
    with pytest.raises(ValueError, match="empty"):
        lm.fit([], 8)
    with pytest.raises(ValueError, match=r"id 0 \(<pad>\) in sequence 1"):
        lm.fit([[4, 5], [4, 0]], 8)
    with pytest.raises(ValueError, match=r"invalid id 8 in sequence 2.*\[1, 8\)"):
        lm.fit([[4], [5], [6, 8]], 8)
    with pytest.raises(ValueError, match=r"invalid id -1 in sequence 0"):
        lm.fit([[-1]], 8)
    with pytest.raises(ValueError, match=r"id 2 \(<s>\) in sequence 0"):
        lm.fit([[2, 4]], 8)
    with pytest.raises(ValueError, match=r"id 3 \(</s>\) in sequence 1"):
        lm.fit([[4], [4, 3]], 8)
    with pytest.raises(ValueError, match="non-integer id"):
        lm.fit([[4.0]], 8)
    with pytest.raises(ValueError, match="is a string"):
        lm.fit(["hello"], 8)
    for bad in [3, 0, 4.0, None]:
        with pytest.raises(ValueError, match="vocabulary_size"):
            lm.fit([[1]], bad)
    assert not lm.is_fitted
    # Empty sequences are fine (they only predict </s>); refitting replaces counts.
    lm.fit([[], [1]], 4)
    assert lm.vocabulary_size == 4 and math.isclose(lm.distribution().sum(), 1.0)
    lm.fit(TOY, TOY_V)
    assert lm.vocabulary_size == TOY_V and close(lm.prob(B, [A]), F(11, 32))
    add_k = NGramLanguageModel(n=2, smoothing="add_k").fit([[4, 4]], 6)
    add_k.fit([[5, 5]], 6)  # no count of the first corpus survives a refit
    assert add_k.distribution([4])[4] == add_k.prob(4, [4]) == 1 / 4
    assert add_k.distribution([5])[5] == add_k.prob(5, [5]) == 2 / 6


def test_scoring_errors():
    lm = NGramLanguageModel(n=2).fit(TOY, TOY_V)
    with pytest.raises(ValueError, match=r"invalid id 8 in the sequence"):
        lm.log_prob([4, 8])
    with pytest.raises(ValueError, match=r"id 0 \(<pad>\)"):
        lm.log_prob([4, 0])
    with pytest.raises(ValueError, match=r"id 0 \(<pad>\) in sequence 1"):
        lm.perplexity([[4], [0]])
    with pytest.raises(ValueError, match="empty"):
        lm.perplexity([])
    with pytest.raises(ValueError, match=r"`token` 8 is outside \[0, 8\)"):
        lm.prob(8, [4])
    with pytest.raises(ValueError, match="invalid id 0 in `context`"):
        lm.prob(4, [0])
    with pytest.raises(ValueError, match="invalid id 12 in `context`"):
        lm.distribution([12])
    with pytest.raises(ValueError, match="temperature"):
        lm.generate(temperature=0.0)
    with pytest.raises(ValueError, match="max_length"):
        lm.generate(max_length=-1)


# ---------------------------------------------------------------------------
# Module hygiene
# ---------------------------------------------------------------------------


def test_special_ids_match_the_tokenizers():
    path = pathlib.Path(ngram.__file__).parent / "data" / "tokenizers.py"
    spec = importlib.util.spec_from_file_location("_tokenizers_for_test", path)
    tokenizers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tokenizers)
    assert (ngram.PAD_ID, ngram.UNK_ID, ngram.BOS_ID, ngram.EOS_ID) == (
        tokenizers.PAD_ID, tokenizers.UNK_ID, tokenizers.BOS_ID, tokenizers.EOS_ID,
    )


def test_module_is_framework_free():
    tree = ast.parse(inspect.getsource(ngram))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # keras_s2s.constants (the special ids) is allowed: it imports nothing at all
            name = node.module
            imported.add(name if name.startswith("keras_s2s") else name.split(".")[0])
    assert imported <= {"json", "math", "os", "collections", "numpy",
                        "keras_s2s.constants"}, imported
    code = (
        "import sys, keras_s2s.ngram; "
        "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


SECTIONS = ("Args:", "Returns:", "Example:", "Reference:")


def _public_docs():
    yield "perplexity", inspect.getdoc(ngram.perplexity)
    yield "NGramLanguageModel", inspect.getdoc(NGramLanguageModel)
    for name, member in vars(NGramLanguageModel).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (classmethod, staticmethod)):
            member = member.__func__
        yield f"NGramLanguageModel.{name}", inspect.getdoc(member)


def test_docstrings_and_examples():
    assert ngram.__doc__ and set(ngram.__all__) == {"NGramLanguageModel", "perplexity"}
    result = doctest.testmod(ngram, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 20
    for name, doc in _public_docs():
        assert doc, name
        summary = doc.splitlines()[0]
        assert summary.endswith(".") and not any(s in summary for s in SECTIONS), name
        positions = [doc.find(s) for s in SECTIONS if s in doc]
        assert positions == sorted(positions) and positions[0] > len(summary), name
        assert "Example:" in doc, name
        if name != "NGramLanguageModel":
            assert "Returns:" in doc, name
