"""The tokenizers as TensorFlow string ops (`keras_s2s.export.text_graph`) against the Python
tokenizers and `keras_s2s.data.detokenize`: same ids, same texts."""

import doctest
import random
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.data.detokenize import detokenize
from keras_s2s.data.tokenizers import CharTokenizer, SubwordTokenizer, WordTokenizer
from keras_s2s.export import text_graph
from keras_s2s.export.text_graph import GraphText
from tests.data.test_detokenize import SENTENCES

# text that exercises Unicode word characters, Unicode spaces (no-break, ideographic, line
# separator, U+001F), combining marks, underscores, digits beyond ASCII and emoji
MIXED = SENTENCES + [
    "naïve café\u00a0au lait\u3000ok\u2028next\x1fend",
    "snake_case and __dunder__ x² ٣٤ ①",
    "हिन्दी भाषा, नमस्ते!",
    "e\u0301te\u0301 à l'école",
    "emoji 🙂 ok 👍🏽!",
    "  leading and trailing  ",
    "",
    "ALL CAPS İstanbul ΣΟΦΙΑ Straße",
]


def _graph(method, *args):
    """`method(*args)` traced into a graph, as the SavedModel runs it."""
    return tf.function(method, autograph=False)(*args)


def _strings(values):
    return [v.decode("utf-8") for v in values]


@pytest.mark.parametrize("name", ["word", "space", "digit", "no_space_script"])
def test_character_classes_match_pythons_on_every_code_point(name):
    characters = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    accepts = text_graph._PREDICATES[name]
    expected = np.array([bool(accepts(c)) for c in characters])
    got = tf.strings.regex_full_match(tf.constant(characters),
                                      f"[{text_graph._python_class(name)}]").numpy()
    assert (got == expected).all(), [characters[i] for i in np.flatnonzero(got != expected)][:5]


@pytest.mark.parametrize("lowercase", [False, True])
def test_char_encode_and_decode_equal_the_python_tokenizer(lowercase):
    tokenizer = CharTokenizer.build(MIXED[:8], lowercase=lowercase)
    graph = GraphText(tokenizer)
    ids = _graph(graph.encode, tf.constant(MIXED)).to_list()
    assert ids == [tokenizer.encode(text) for text in MIXED]
    rows = _random_ids(tokenizer.vocabulary_size, 64)
    texts = _graph(graph.decode, tf.constant(rows)[:, None]).numpy()[:, 0]
    assert _strings(texts) == [tokenizer.decode(row) for row in rows]


@pytest.mark.parametrize("lowercase", [False, True])
def test_word_encode_equals_the_python_tokenizer(lowercase):
    tokenizer = WordTokenizer.build(MIXED[:10], lowercase=lowercase)
    graph = GraphText(tokenizer)
    pieces = _graph(graph.pieces, tf.constant(MIXED)).to_list()
    assert [_strings(p) for p in pieces] == [tokenizer.tokenize(text) for text in MIXED]
    assert _graph(graph.encode, tf.constant(MIXED)).to_list() == [tokenizer.encode(t) for t in MIXED]


def test_word_decode_spaces_text_as_the_python_detokenizer():
    tokenizer = WordTokenizer.build(MIXED)
    graph = GraphText(tokenizer)
    rows = [tokenizer.encode(text) + [3] for text in MIXED]
    width = max(len(r) for r in rows)
    padded = np.array([r + [0] * (width - len(r)) for r in rows])
    texts = _strings(_graph(graph.decode, tf.constant(padded)[:, None]).numpy()[:, 0])
    assert texts == [tokenizer.decode(row) for row in rows]
    assert texts[:len(SENTENCES)] == SENTENCES  # written text comes back as written


def test_spacing_rules_equal_the_python_detokenizer_on_random_token_runs():
    # every rule and its neighbours: quotes opening and closing, elisions, clitics, numbers,
    # hyphens, brackets, CJK runs, and the same marks where the rules must not fire
    pool = ["Don", "t", "s", "l", "homme", "qu", "il", "3", "50", "12", "x²", "東京", "日本",
            "は", "Seoul", "<unk>", "_x", "re", "'", '"', ",", ".", ":", ";", "-", "/", "(",
            ")", "¿", "?", "!", "$", "%", "「", "」", "。", "，", "…"]
    rng = random.Random(0)
    rows = [[rng.choice(pool) for _ in range(rng.randint(0, 12))] for _ in range(600)]
    tokenizer = WordTokenizer([t for t in pool if t != "<unk>"])  # <unk> is id 1
    graph = GraphText(tokenizer)
    ids = [[tokenizer.token_to_id(t) for t in row] for row in rows]
    width = max(len(r) for r in ids)
    padded = np.array([r + [0] * (width - len(r)) for r in ids])
    texts = _strings(_graph(graph.decode, tf.constant(padded)[:, None]).numpy()[:, 0])
    assert texts == [detokenize(row) for row in rows]


def test_decode_drops_padding_and_start_and_stops_at_the_end_token():
    tokenizer = WordTokenizer(["a", "b", ","])
    graph = GraphText(tokenizer)
    ids = tf.constant([[[2, 4, 0, 6, 5, 3, 4, 4]], [[3, 4, 4, 4, 4, 4, 4, 4]],
                       [[4, 1, 5, 0, 0, 0, 0, 0]]])
    assert _strings(_graph(graph.decode, ids).numpy()[:, 0]) == ["a, b", "", "a <unk> b"]


def test_subword_encode_and_decode_equal_the_python_tokenizer():
    tokenizer = SubwordTokenizer.build(MIXED * 5, max_vocabulary_size=300, lowercase=True)
    graph = GraphText(tokenizer)
    assert _graph(graph.encode, tf.constant(MIXED)).to_list() == [tokenizer.encode(t) for t in MIXED]
    rows = _random_ids(tokenizer.vocabulary_size, 200)  # suffix pieces first, alone, ...
    texts = _strings(_graph(graph.decode, tf.constant(rows)[:, None]).numpy()[:, 0])
    assert texts == [tokenizer.decode(row) for row in rows]


@pytest.mark.parametrize("cls", [CharTokenizer, WordTokenizer, SubwordTokenizer])
def test_right_to_left_ids_equal_the_python_tokenizer(cls):
    tokenizer = cls.build(MIXED * 5, lowercase=True, reverse=True)
    graph = GraphText(tokenizer)
    ids = _graph(graph.encode, tf.constant(MIXED)).to_list()
    assert ids == [tokenizer.encode(text) for text in MIXED]
    assert ids == [tokenizer.reversed(False).encode(text)[::-1] for text in MIXED]
    rows = _random_ids(tokenizer.vocabulary_size, 64)
    texts = _strings(_graph(graph.decode, tf.constant(rows)[:, None]).numpy()[:, 0])
    assert texts == [tokenizer.decode(row) for row in rows]


def test_a_tokenizer_without_a_graph_version_is_refused():
    with pytest.raises(ValueError, match="has no graph version"):
        GraphText(object())


def _random_ids(vocabulary_size, count):
    """Random rows of ids with `<pad>`, `<s>` and `</s>` sprinkled in (5% each)."""
    rng = np.random.default_rng(1)
    rows = rng.integers(4, vocabulary_size, (count, 12))
    draw = rng.random((count, 12))
    for special, low in ((0, 0.0), (2, 0.05), (3, 0.10)):
        rows[(draw >= low) & (draw < low + 0.05)] = special
    return rows.astype("int32")


def test_docstring_examples_run():
    assert doctest.testmod(text_graph).failed == 0
