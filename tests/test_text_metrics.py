"""Corpus text metrics: sacrebleu parity for BLEU/chrF, independent Levenshtein
references for WER/PER/CER, sequence accuracy, and input validation."""

import ast
import doctest
import functools
import inspect
import math
import random

import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from keras_s2s import text_metrics
from keras_s2s.text_metrics import (
    cer,
    chrf,
    corpus_bleu,
    edit_distance,
    per,
    sequence_accuracy,
    sequence_error_rate,
    wer,
)

TOL = 0.01  # agreement with sacrebleu, in BLEU/chrF points
SEEDS = [0, 1, 2, 3, 4]

# ---------------------------------------------------------------------------
# Random corpora
# ---------------------------------------------------------------------------

# Words, numbers and punctuation chosen so that the 13a rules matter: digits
# around '.', ',' and '-', HTML entities, '<skipped>', brackets, symbols.
WORDS = (
    "the The cat dog sat on mat a A is it's don't x-ray well-known house "
    "runs ran quickly Über naïve café".split()
)
PUNCT_WORDS = [
    "3.5", "1,000", "2-3", "10-", "e.g.", "U.S.", "(hello)", '"quoted"',
    "&amp;", "&quot;hi&quot;", "&lt;b&gt;", "<skipped>", "a/b", "50%", "$5",
    "#1", "end.", "so,", "what?", "yes!", "[x]", "{y}", "~z", "^_^", "`t`",
    "me@x.org", "C++", "x=y", "a;b", "a:b", "..", ",", ".", "-", "--", "'",
    "mid-\nline", "|", "\\",
]
ATTACH = [".", ",", "!", "?", ";", ":", ")", "'s", "-", ".."]


def _random_word(rng):
    word = rng.choice(WORDS) if rng.random() < 0.7 else rng.choice(PUNCT_WORDS)
    if rng.random() < 0.15:
        word += rng.choice(ATTACH)  # punctuation glued to the word
    return word


def _join(rng, tokens):
    text = ""
    for i, token in enumerate(tokens):
        if i:
            text += rng.choice([" "] * 12 + ["  ", "\t"])
        text += token
    if rng.random() < 0.05:
        text += rng.choice([" ", "\n", "  \n", "-\n"])  # exercises rstrip()
    return text


def _edit(rng, tokens, n_edits):
    tokens = list(tokens)
    for _ in range(n_edits):
        op = rng.choice(["sub", "del", "ins", "swap", "case"])
        if op == "ins" or not tokens:
            tokens.insert(rng.randint(0, len(tokens)), _random_word(rng))
        elif op == "sub":
            tokens[rng.randrange(len(tokens))] = _random_word(rng)
        elif op == "del":
            del tokens[rng.randrange(len(tokens))]
        elif op == "swap" and len(tokens) > 1:
            i = rng.randrange(len(tokens) - 1)
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        elif op == "case":
            i = rng.randrange(len(tokens))
            tokens[i] = tokens[i].swapcase()
    return tokens


def make_corpus(seed, n=300, min_refs=1, max_refs=3, max_edits=5):
    """Returns (hypotheses, references) with `references[i]` a list of strings."""
    rng = random.Random(seed)
    hyps, refs = [], []
    for _ in range(n):
        base = [_random_word(rng) for _ in range(rng.randint(1, 18))]
        k = rng.randint(min_refs, max_refs)
        ref_list = [_join(rng, _edit(rng, base, rng.randint(0, 3))) for _ in range(k)]
        if rng.random() < 0.02:
            ref_list[-1] = ""  # an empty reference is a real reference
        roll = rng.random()
        if roll < 0.06:
            hyp = ""
        elif roll < 0.10:
            hyp = ref_list[0]
        else:
            hyp = _join(rng, _edit(rng, base, rng.randint(0, max_edits)))
        hyps.append(hyp)
        refs.append(ref_list)
    return hyps, refs


def to_streams(refs):
    """Per-example reference lists -> sacrebleu reference streams.

    sacrebleu drops `None` entries per segment (an empty string would count
    as a real, empty reference), so missing references are padded with None.
    Every example has at least one reference, so stream 0 has no None.
    """
    width = max(len(r) for r in refs)
    return [[r[j] if j < len(r) else None for r in refs] for j in range(width)]


# ---------------------------------------------------------------------------
# BLEU and chrF against sacrebleu
# ---------------------------------------------------------------------------


def test_tokenizer_matches_sacrebleu_on_corpus_strings():
    tok = Tokenizer13a()
    for seed in SEEDS:
        hyps, refs = make_corpus(seed, n=100)
        for text in hyps + [r for rs in refs for r in rs]:
            assert text_metrics._tokenize_13a(text) == tok(text).split(), repr(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1 2.,-\n\t&;quotamplgsk<>/()'\"$%é", max_size=40))
def test_tokenizer_matches_sacrebleu_property(text):
    assert text_metrics._tokenize_13a(text) == Tokenizer13a()(text).split()


@pytest.mark.parametrize("seed", SEEDS)
def test_bleu_variable_refs_matches_sacrebleu(seed):
    hyps, refs = make_corpus(seed)
    assert any(h == "" for h in hyps)
    assert {len(r) for r in refs} == {1, 2, 3}
    expected = sacrebleu.corpus_bleu(hyps, to_streams(refs)).score
    assert corpus_bleu(hyps, refs) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_chrf_variable_refs_matches_sacrebleu(seed):
    hyps, refs = make_corpus(seed)
    expected = sacrebleu.corpus_chrf(hyps, to_streams(refs)).score
    assert chrf(hyps, refs) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("num_refs", [1, 2, 3])
def test_fixed_ref_counts_match_sacrebleu(seed, num_refs):
    hyps, refs = make_corpus(100 + seed, n=200, min_refs=num_refs, max_refs=num_refs)
    streams = [[r[j] for r in refs] for j in range(num_refs)]
    assert None not in streams[-1]
    bleu_ref = BLEU().corpus_score(hyps, streams).score
    chrf_ref = CHRF().corpus_score(hyps, streams).score
    # Single references may also be given as plain strings.
    ours = refs if num_refs > 1 else [r[0] for r in refs]
    assert corpus_bleu(hyps, ours) == pytest.approx(bleu_ref, abs=TOL)
    assert chrf(hyps, ours) == pytest.approx(chrf_ref, abs=TOL)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_bleu_options_match_sacrebleu(seed):
    hyps, refs = make_corpus(200 + seed, n=150)
    streams = to_streams(refs)
    for smooth in ["exp", "none", "floor", "add-k"]:
        for lowercase in [False, True]:
            expected = BLEU(smooth_method=smooth, lowercase=lowercase).corpus_score(
                hyps, streams
            ).score
            got = corpus_bleu(hyps, refs, smooth=smooth, lowercase=lowercase)
            assert got == pytest.approx(expected, abs=TOL), (smooth, lowercase)
    for order in [1, 2, 3, 5]:
        expected = BLEU(max_ngram_order=order).corpus_score(hyps, streams).score
        assert corpus_bleu(hyps, refs, max_order=order) == pytest.approx(
            expected, abs=TOL
        )


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_chrf_options_match_sacrebleu(seed):
    hyps, refs = make_corpus(300 + seed, n=150)
    streams = to_streams(refs)
    for char_order, word_order, beta in [(6, 2, 2), (4, 0, 1), (6, 1, 3), (0, 2, 2)]:
        expected = CHRF(
            char_order=char_order, word_order=word_order, beta=beta
        ).corpus_score(hyps, streams).score
        got = chrf(hyps, refs, char_order=char_order, word_order=word_order, beta=beta)
        assert got == pytest.approx(expected, abs=TOL), (char_order, word_order, beta)


def test_small_corpora_match_sacrebleu():
    # Few, short sentences: zero higher-order matches (smoothing), brevity
    # penalty, closest-length ties and all-empty hypotheses all show up here.
    rng = random.Random(7)
    for trial in range(150):
        n = rng.randint(1, 4)
        hyps, refs = make_corpus(1000 + trial, n=n, max_edits=8)
        if trial % 10 == 0:
            hyps = [""] * n
        streams = to_streams(refs)
        assert corpus_bleu(hyps, refs) == pytest.approx(
            sacrebleu.corpus_bleu(hyps, streams).score, abs=TOL
        ), (hyps, refs)
        assert chrf(hyps, refs) == pytest.approx(
            sacrebleu.corpus_chrf(hyps, streams).score, abs=TOL
        ), (hyps, refs)


def test_bleu_closest_ref_length_ties_to_shorter():
    # Hypothesis length 4; references of length 3 and 5 are equally close.
    # sacrebleu takes 3 (no brevity penalty); taking 5 would give BP < 1.
    hyp = ["a b c d"]
    refs = [["a b c d e", "a b c"]]
    expected = sacrebleu.corpus_bleu(hyp, [[refs[0][0]], [refs[0][1]]]).score
    assert corpus_bleu(hyp, refs) == pytest.approx(expected, abs=1e-9)
    assert corpus_bleu(hyp, refs) == pytest.approx(
        corpus_bleu(hyp, [["a b c", "a b c d e"]]), abs=1e-12
    )


def test_bleu_and_chrf_edge_values():
    # Exact sacrebleu arithmetic: exp(mean(log(100))) is 100 up to rounding.
    assert corpus_bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100.0)
    assert chrf(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100.0)
    assert corpus_bleu(["", ""], ["a b", ["c", "d e"]]) == 0.0
    assert chrf(["", ""], ["a b", ["c", "d e"]]) == 0.0
    assert corpus_bleu(["x y z"], ["a b c"]) == 0.0
    assert corpus_bleu([], []) == 0.0
    assert chrf([], []) == 0.0
    for value in [corpus_bleu(["a b"], ["a b c"]), chrf(["a b"], ["a b c"])]:
        assert type(value) is float


# ---------------------------------------------------------------------------
# Edit distance, WER / PER / CER against an independent reference
# ---------------------------------------------------------------------------


def ref_levenshtein(a, b):
    """Textbook recursive definition, memoised; a different algorithm shape
    (top-down, full-length recursion) from the module's row recurrences."""
    a, b = tuple(a), tuple(b)

    @functools.lru_cache(maxsize=None)
    def d(i, j):
        if i == 0:
            return j
        if j == 0:
            return i
        return min(
            d(i - 1, j) + 1,
            d(i, j - 1) + 1,
            d(i - 1, j - 1) + (0 if a[i - 1] == b[j - 1] else 1),
        )

    return d(len(a), len(b))


def ref_rate(hyps, refs, units):
    errors = length = 0
    for hyp, ref_list in zip(hyps, refs):
        ref_list = [ref_list] if isinstance(ref_list, str) else ref_list
        scored = [(ref_levenshtein(units(hyp), units(r)), len(units(r))) for r in ref_list]
        best = min(d for d, _ in scored)
        errors += best
        length += min(n for d, n in scored if d == best)
    if errors == 0:
        return 0.0
    return errors / length if length else math.inf


def word_units(text):
    return text.split()


def char_units(text):
    return list(" ".join(text.split()))


@pytest.mark.parametrize("seed", SEEDS)
def test_error_rates_match_reference(seed):
    hyps, refs = make_corpus(500 + seed, n=80)
    assert wer(hyps, refs) == pytest.approx(ref_rate(hyps, refs, word_units), rel=1e-12)
    assert per(hyps, refs) == pytest.approx(ref_rate(hyps, refs, word_units), rel=1e-12)
    assert cer(hyps, refs) == pytest.approx(ref_rate(hyps, refs, char_units), rel=1e-12)


def test_error_rates_phoneme_corpus_with_alternatives():
    rng = random.Random(11)
    phonemes = "AA1 AE1 AH0 B D EH1 IY1 K L M N OW2 R S T".split()
    hyps, refs = [], []
    for _ in range(200):
        base = [rng.choice(phonemes) for _ in range(rng.randint(1, 9))]
        alts = [" ".join(_edit(rng, base, rng.randint(0, 2))) for _ in range(rng.randint(1, 3))]
        hyps.append(" ".join(_edit(rng, base, rng.randint(0, 3))))
        refs.append(alts if len(alts) > 1 else alts[0])
    assert per(hyps, refs) == pytest.approx(ref_rate(hyps, refs, word_units), rel=1e-12)
    assert cer(hyps, refs) == pytest.approx(ref_rate(hyps, refs, char_units), rel=1e-12)


def test_error_rate_tie_breaks_to_shorter_reference():
    # Distance 1 to both references; the shorter one (2 words) is the denominator.
    assert wer(["a b c"], [["a b c d", "a b"]]) == 0.5
    assert wer(["a b c"], [["a b", "a b c d"]]) == 0.5
    # The closest reference wins even if it is longer.
    assert wer(["a b c d"], [["a b c d e", "x"]]) == pytest.approx(1 / 5)


def test_error_rate_edge_values():
    assert wer([], []) == 0.0 and per([], []) == 0.0 and cer([], []) == 0.0
    assert wer([""], [""]) == 0.0
    assert wer(["a"], [""]) == math.inf
    assert wer(["a b c"], ["x"]) == 3.0  # insertions can push the rate above 1
    assert cer(["  a  b "], ["a b"]) == 0.0  # whitespace normalised
    assert cer(["ab"], ["a b"]) == pytest.approx(1 / 3)
    for value in [wer(["a"], ["b"]), per(["a"], ["b"]), cer(["a"], ["b"])]:
        assert type(value) is float


def test_edit_distance_backends_match_reference():
    rng = random.Random(3)
    for _ in range(60):
        a = [rng.randrange(4) for _ in range(rng.randint(0, 70))]
        b = [rng.randrange(4) for _ in range(rng.randint(0, 70))]
        expected = ref_levenshtein(a, b)
        assert edit_distance(a, b) == expected
        if a and b:
            assert text_metrics._edit_distance_python(a, b) == expected
            assert text_metrics._edit_distance_numpy(a, b) == expected
    # Large enough to use the NumPy path through the public function.
    a = "".join(rng.choice("abc ") for _ in range(120))
    b = "".join(rng.choice("abc ") for _ in range(100))
    assert edit_distance(a, b) == ref_levenshtein(a, b)
    assert edit_distance([[1], [2]], [[1], [3]]) == 1  # unhashable tokens work
    assert type(edit_distance(a, b)) is int


sequences = st.one_of(
    st.text(alphabet="abc", max_size=40),
    st.lists(st.sampled_from(["x", "y", "zz"]), max_size=40),
)


@settings(max_examples=200, deadline=None)
@given(sequences, sequences)
def test_edit_distance_properties(a, b):
    d = edit_distance(a, b)
    assert d == edit_distance(b, a)
    assert (d == 0) == (list(a) == list(b))
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    assert d == ref_levenshtein(a, b)


# ---------------------------------------------------------------------------
# Sequence accuracy
# ---------------------------------------------------------------------------


def test_sequence_accuracy_multiple_references():
    hyps = ["R IY1 D", "K AE1 T", " D AO1  G ", "B AH1 T"]
    refs = [["R EH1 D", "R IY1 D"], "K AA1 T", "D AO1 G", ["B AH1 D", "B AH1"]]
    assert sequence_accuracy(hyps, refs) == 0.5
    assert sequence_error_rate(hyps, refs) == 0.5
    assert sequence_accuracy(hyps[:1], refs[:1]) == 1.0
    assert sequence_error_rate(hyps[1:2], refs[1:2]) == 1.0
    assert sequence_accuracy([], []) == 0.0 and sequence_error_rate([], []) == 0.0


def test_sequence_accuracy_random():
    hyps, refs = make_corpus(42, n=200)
    expected = sum(
        any(h.split() == r.split() for r in rs) for h, rs in zip(hyps, refs)
    ) / len(hyps)
    assert 0 < expected < 1
    assert sequence_accuracy(hyps, refs) == pytest.approx(expected)
    assert sequence_error_rate(hyps, refs) == pytest.approx(1 - expected)
    assert type(sequence_accuracy(hyps, refs)) is float


# ---------------------------------------------------------------------------
# Validation, docs and dependencies
# ---------------------------------------------------------------------------

CORPUS_FUNCTIONS = [corpus_bleu, chrf, wer, per, cer, sequence_accuracy, sequence_error_rate]


@pytest.mark.parametrize("fn", CORPUS_FUNCTIONS, ids=lambda f: f.__name__)
def test_input_errors(fn):
    with pytest.raises(ValueError, match=r"same length, got 2 hypotheses and 1 references"):
        fn(["a", "b"], ["a"])
    with pytest.raises(ValueError, match=r"reference list at index 1 is empty"):
        fn(["a", "b"], ["a", []])
    with pytest.raises(TypeError, match=r"every hypothesis must be a string, got NoneType at index 0"):
        fn([None], ["a"])
    with pytest.raises(TypeError, match=r"every hypothesis must be a string, got list at index 1"):
        fn(["a", ["a", "b"]], ["a", "a b"])
    with pytest.raises(TypeError, match=r"every reference must be a string"):
        fn(["a"], [["a", None]])
    with pytest.raises(TypeError, match=r"not a single string"):
        fn("a b", ["a b"])
    with pytest.raises(TypeError, match=fn.__name__):
        fn(["a"], [3])


def test_option_errors():
    with pytest.raises(ValueError, match="unknown `smooth`"):
        corpus_bleu(["a"], ["a"], smooth="bogus")
    with pytest.raises(ValueError, match="max_order"):
        corpus_bleu(["a"], ["a"], max_order=0)
    with pytest.raises(ValueError, match="char_order"):
        chrf(["a"], ["a"], char_order=0, word_order=0)


def test_docstring_examples_and_sections():
    assert text_metrics.__doc__
    result = doctest.testmod(text_metrics, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
    for name in text_metrics.__all__:
        doc = inspect.getdoc(getattr(text_metrics, name))
        positions = [doc.find(section) for section in ("Args:", "Returns:", "Example:")]
        assert all(p > 0 for p in positions) and positions == sorted(positions), name
        if "Reference:" in doc:
            assert doc.find("Reference:") > positions[-1], name


def test_module_is_framework_free():
    tree = ast.parse(inspect.getsource(text_metrics))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"math", "re", "collections", "numpy"}, imported
