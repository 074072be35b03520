"""Tests for `keras_s2s.data.tokenizers`: round trips, unknowns, specials, building, saving."""

import ast
import doctest
import functools
import inspect
import json
import logging
import pickle
import random
import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keras_s2s.data.tokenizers as tk
from keras_s2s.data.detokenize import detokenize
from keras_s2s.data.tokenizers import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SPECIAL_TOKENS,
    UNK_ID,
    CharTokenizer,
    SubwordTokenizer,
    Tokenizer,
    WordTokenizer,
    load_tokenizer,
)

FAST = settings(max_examples=50, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=20, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

CHAR_ALPHABET = "abcxyzABÉé .,!?\n\t'<>/"
WORDS = ["the", "cat", "Sat", "on", "mat", "café", "Straße", "日本", "x2", "don"]
PUNCT = [".", ",", "!", "?", "'", "«", "»", "—", "<", ">", "/"]
SUBWORD_LETTERS = "abcdé"
SUBWORD_PUNCT = ".,!?"
SEPARATORS = [" ", "  ", "\t", "\n", " \n "]


# --------------------------------------------------------------------------- fixtures


@functools.lru_cache(maxsize=None)
def char_tokenizer(lowercase=False):
    return CharTokenizer.build([CHAR_ALPHABET], lowercase=lowercase)


@functools.lru_cache(maxsize=None)
def word_tokenizer(lowercase=False):
    corpus = [" ".join(WORDS + PUNCT)]
    return WordTokenizer.build(corpus, lowercase=lowercase)


@functools.lru_cache(maxsize=None)
def subword_tokenizer(lowercase=False, strip_accents=False):
    corpus = ["abba cab dada ébé aé bad cade", "a. b, c! d? é", "abc abd abé"] * 5
    return SubwordTokenizer.build(corpus, lowercase=lowercase, strip_accents=strip_accents)


def all_tokenizers():
    return [char_tokenizer(), word_tokenizer(), subword_tokenizer()]


@st.composite
def joined_pieces(draw, words, punct):
    """Text made of pieces, and the pieces: words are never adjacent without whitespace."""
    pieces = draw(st.lists(st.one_of(words, st.sampled_from(punct)), max_size=12))
    text = draw(st.sampled_from(["", " ", "\n"]))
    for i, piece in enumerate(pieces):
        if i:
            both_words = pieces[i - 1] not in punct and piece not in punct
            options = SEPARATORS if both_words else SEPARATORS + [""]
            text += draw(st.sampled_from(options))
        text += piece
    text += draw(st.sampled_from(["", " ", "\t"]))
    return text, pieces


# --------------------------------------------------------------------------- round trips


@FAST
@given(st.text(alphabet=CHAR_ALPHABET, max_size=40))
def test_char_round_trip(text):
    tokenizer = char_tokenizer()
    ids = tokenizer.encode(text)
    assert UNK_ID not in ids and len(ids) == len(text)
    assert tokenizer.decode(ids) == text
    assert tokenizer.decode([BOS_ID] + ids + [EOS_ID, PAD_ID]) == text


@FAST
@given(st.text(alphabet=CHAR_ALPHABET, max_size=40))
def test_char_round_trip_lowercase(text):
    tokenizer = char_tokenizer(lowercase=True)
    assert "A" not in tokenizer.vocabulary and "é" in tokenizer.vocabulary
    ids = tokenizer.encode(text)
    assert UNK_ID not in ids
    assert tokenizer.decode(ids) == text.lower()


@FAST
@given(joined_pieces(st.sampled_from(WORDS), PUNCT))
def test_word_round_trip(case):
    text, pieces = case
    tokenizer = word_tokenizer()
    assert tokenizer.tokenize(text) == pieces
    ids = tokenizer.encode(text)
    assert UNK_ID not in ids and len(ids) == len(pieces)
    # the pieces as a writer spaces them (keras_s2s.data.detokenize, tested on its own)
    assert tokenizer.decode(ids) == detokenize(pieces)


@FAST
@given(joined_pieces(st.sampled_from(WORDS).map(str.title), PUNCT))
def test_word_round_trip_lowercase(case):
    text, pieces = case
    tokenizer = word_tokenizer(lowercase=True)
    ids = tokenizer.encode(text)
    assert UNK_ID not in ids
    assert tokenizer.decode(ids) == detokenize([piece.lower() for piece in pieces])


@SLOW
@given(joined_pieces(st.text(alphabet=SUBWORD_LETTERS, min_size=1, max_size=8),
                     list(SUBWORD_PUNCT)))
def test_subword_round_trip(case):
    text, words = case
    tokenizer = subword_tokenizer()
    ids = tokenizer.encode(text)
    assert UNK_ID not in ids
    assert len(ids) == len(tokenizer.tokenize(text)) >= len(words)
    assert tokenizer.decode(ids) == detokenize(words)


def _strip_and_fold(word):
    word = unicodedata.normalize("NFD", word)
    return "".join(c for c in word if unicodedata.category(c) != "Mn").lower()


@SLOW
@given(joined_pieces(st.text(alphabet=SUBWORD_LETTERS + "ABÉ", min_size=1, max_size=8),
                     list(SUBWORD_PUNCT)))
def test_subword_round_trip_lowercase_strip_accents(case):
    text, words = case
    tokenizer = subword_tokenizer(lowercase=True, strip_accents=True)
    assert "é" not in tokenizer.vocabulary
    ids = tokenizer.encode(text)
    assert UNK_ID not in ids
    assert tokenizer.decode(ids) == detokenize([_strip_and_fold(w) for w in words])


def test_subword_pieces_and_decode_merge():
    tokenizer = SubwordTokenizer(["un", "##happy", "happy", "!", "a", "##b"])
    assert tokenizer.tokenize("unhappy!happy") == ["un", "##happy", "!", "happy"]
    # A suffix piece glues to the piece before it; a leading one stays as it is.
    assert tokenizer.decode([5, 4, 5, 6]) == "##happy unhappy happy"
    assert tokenizer.decode([8, 9, 9]) == "abb"


def test_subword_matches_keras_hub_on_python_and_tensorflow_text_paths():
    import tensorflow as tf

    tokenizer = subword_tokenizer()
    texts = ["abba, cab!", "dada ébé?", "abz bad", "a<s>b </s> <pad> <unk>", ""]
    layer = tokenizer.keras_hub_tokenizer
    expected = [tokenizer.encode(text) for text in texts]
    # Inside tf.data, keras-hub runs tensorflow-text's FastWordpieceTokenizer.
    graph = [row.numpy().tolist() for row in tf.data.Dataset.from_tensor_slices(texts).map(layer)]
    assert graph == expected
    assert expected[3] == [tokenizer.token_to_id("a"), BOS_ID, tokenizer.token_to_id("b"),
                           EOS_ID, PAD_ID, UNK_ID]
    for ids in expected[:3]:
        # keras-hub glues the same suffix pieces and joins words with spaces; ours then
        # spaces the words and punctuation as a writer would
        glued = layer.detokenize(ids)
        glued = glued.numpy().decode() if hasattr(glued, "numpy") else str(glued)
        assert tokenizer.decode(ids) == detokenize(glued.split())


# --------------------------------------------------------------------------- unknowns


@FAST
@given(st.text(max_size=30))
def test_char_unknowns_are_unk_and_never_dropped(text):
    tokenizer = CharTokenizer(list("abc "))
    ids = tokenizer.encode(text)
    assert len(ids) == len(text) == len(tokenizer.tokenize(text))
    assert ids == [tokenizer.vocabulary.index(c) if c in "abc " else UNK_ID for c in text]


@FAST
@given(st.text(max_size=30))
def test_word_unknowns_are_unk_and_never_dropped(text):
    tokenizer = word_tokenizer()
    pieces = tokenizer.tokenize(text)
    ids = tokenizer.encode(text)
    assert len(ids) == len(pieces)
    for piece, id in zip(pieces, ids):
        assert id == (tokenizer.vocabulary.index(piece) if piece in tokenizer.vocabulary
                      else UNK_ID)


def test_unknown_examples():
    assert CharTokenizer(list("ab")).encode("a?b") == [4, 1, 5]
    assert word_tokenizer().tokenize("the dog sat!") == ["the", "dog", "sat", "!"]
    ids = word_tokenizer().encode("the dog sat!")
    assert ids[1] == UNK_ID and ids.count(UNK_ID) == 2 and len(ids) == 4  # "Sat" != "sat"
    assert word_tokenizer().decode(ids) == "the <unk> <unk>!"
    # WordPiece: a word with any unreachable character is one <unk>, never split or dropped.
    tokenizer = subword_tokenizer()
    pieces = tokenizer.tokenize("abz ab, qq abba")
    ids = tokenizer.encode("abz ab, qq abba")
    assert pieces[0] == "<unk>" and pieces.count("<unk>") == 2
    assert len(ids) == len(pieces) and ids.count(UNK_ID) == 2
    assert tokenizer.tokenize("a" * 101) == ["<unk>"]  # keras-hub: > 100 bytes


# --------------------------------------------------------------------------- specials


def test_specials_are_ids_0_to_3_everywhere():
    assert (PAD_ID, UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2, 3)
    assert SPECIAL_TOKENS == ("<pad>", "<unk>", "<s>", "</s>")
    explicit = [CharTokenizer(list(SPECIAL_TOKENS) + ["a"]), WordTokenizer(["a"]),
                SubwordTokenizer(list(SPECIAL_TOKENS) + ["a", "##a"])]
    for tokenizer in all_tokenizers() + explicit:
        assert tokenizer.vocabulary[:4] == list(SPECIAL_TOKENS)
        assert tokenizer.special_tokens == list(SPECIAL_TOKENS)
        assert (tokenizer.pad_id, tokenizer.unk_id, tokenizer.bos_id, tokenizer.eos_id) == (
            0, 1, 2, 3)
        for id, token in enumerate(SPECIAL_TOKENS):
            assert tokenizer.token_to_id(token) == id and tokenizer.id_to_token(id) == token
        assert tokenizer.vocabulary_size == len(tokenizer.vocabulary)
        assert len(set(tokenizer.vocabulary)) == tokenizer.vocabulary_size


def test_specials_in_text():
    # Char and word tokenizers read them as plain characters; WordPiece never splits them.
    assert CharTokenizer([]).tokenize("<s>") == ["<", "s", ">"]
    assert WordTokenizer([]).tokenize("a</s>") == ["a", "<", "/", "s", ">"]
    tokenizer = subword_tokenizer()
    ids = tokenizer.encode("<s>ab</s>")
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID and UNK_ID not in ids
    assert tokenizer.decode(tokenizer.encode("<pad>ab <s> c </s> d")) == "ab c"


def test_encode_add_bos_eos_and_batches():
    tokenizer = CharTokenizer(list("ab"))
    assert tokenizer.encode("ab", add_bos=True, add_eos=True) == [2, 4, 5, 3]
    assert tokenizer.encode_batch(["a", "", "ba"]) == [[4], [], [5, 4]]
    assert tokenizer.encode_batch(("a",), add_eos=True) == [[4, 3]]
    assert tokenizer.decode_batch([[4, 3, 5], [2, 5]]) == ["a", "b"]
    assert tokenizer.decode_batch(np.array([[4, 5, 0], [5, 0, 0]], "int32")) == ["ab", "b"]
    sub = subword_tokenizer()
    assert sub.encode_batch(["abba", "cab!"]) == [sub.encode("abba"), sub.encode("cab!")]


# --------------------------------------------------------------------------- decode


@pytest.mark.parametrize("index", [0, 1, 2])
def test_decode_skips_pad_and_bos_and_stops_at_eos(index):
    tokenizer = all_tokenizers()[index]
    ids = tokenizer.encode("abba")
    joined = tokenizer.decode(ids)
    assert tokenizer.decode([BOS_ID, PAD_ID] + ids + [EOS_ID] + ids) == joined
    assert tokenizer.decode(ids[:1] + [PAD_ID, BOS_ID] + ids[1:]) == joined
    assert tokenizer.decode(np.array([BOS_ID] + ids + [EOS_ID, 0, 0], "int32")) == joined
    assert tokenizer.decode(np.array(ids, "int64")) == joined
    assert tokenizer.decode((EOS_ID, *ids)) == ""
    assert tokenizer.decode([]) == "" and tokenizer.decode(np.zeros((0,), "int32")) == ""
    assert tokenizer.decode([UNK_ID]) == "<unk>"


@pytest.mark.parametrize("index", [0, 1, 2])
def test_decode_out_of_range_raises(index):
    tokenizer = all_tokenizers()[index]
    size = tokenizer.vocabulary_size
    with pytest.raises(ValueError, match=rf"id {size} .*size {size}"):
        tokenizer.decode([4, size])
    with pytest.raises(ValueError, match=rf"id {size + 7} .*size {size}"):
        tokenizer.decode([4, EOS_ID, size + 7])  # Checked even after </s>.
    with pytest.raises(ValueError, match=r"id -1 .*size"):
        tokenizer.decode(np.array([-1]))
    with pytest.raises(ValueError, match=rf"id {size} .*size {size}"):
        tokenizer.id_to_token(size)


def test_decode_bad_inputs():
    tokenizer = CharTokenizer(list("ab"))
    with pytest.raises(ValueError, match="decode_batch"):
        tokenizer.decode(np.array([[4, 5]]))
    with pytest.raises(TypeError, match="integer"):
        tokenizer.decode([4.0, 5.0])
    with pytest.raises(TypeError, match="integer"):
        tokenizer.decode(np.array([True]))
    with pytest.raises(ValueError, match="2-D"):
        tokenizer.decode_batch(np.array([4, 5]))
    with pytest.raises(TypeError, match="`id`"):
        tokenizer.id_to_token("a")


# --------------------------------------------------------------------------- build


@pytest.mark.parametrize("min_frequency, max_vocabulary_size, expected", [
    (1, None, ["a", "b", "c", "d", "e"]),
    (2, None, ["a", "b", "c"]),
    (3, None, ["a"]),
    (4, None, []),
    (1, 6, ["a", "b"]),
    (2, 5, ["a"]),
    (1, 100, ["a", "b", "c", "d", "e"]),
])
def test_word_build_frequency_and_size(min_frequency, max_vocabulary_size, expected):
    corpus = ["c a b a", "e  b d c a"]  # a: 3, b: 2, c: 2, d: 1, e: 1
    tokenizer = WordTokenizer.build(corpus, min_frequency=min_frequency,
                                    max_vocabulary_size=max_vocabulary_size)
    assert tokenizer.vocabulary == list(SPECIAL_TOKENS) + expected
    shuffled = random.Random(0).sample(corpus, len(corpus))
    assert WordTokenizer.build(shuffled, min_frequency=min_frequency,
                               max_vocabulary_size=max_vocabulary_size) == tokenizer


def test_char_build_order_and_options():
    tokenizer = CharTokenizer.build(["abracadabra", "Dr"], min_frequency=2)
    assert tokenizer.vocabulary[4:] == ["a", "r", "b"]  # a: 5, r: 3, b: 2
    tokenizer = CharTokenizer.build(["abracadabra", "Dr"], min_frequency=2, lowercase=True)
    assert tokenizer.vocabulary[4:] == ["a", "r", "b", "d"] and tokenizer.lowercase
    tokenizer = CharTokenizer.build(iter(["ba", "b"]), max_vocabulary_size=5)
    assert tokenizer.vocabulary[4:] == ["b"]
    assert CharTokenizer.build([]).vocabulary == list(SPECIAL_TOKENS)
    assert WordTokenizer.build(["<s> <unk>"]).vocabulary[4:] == ["<", ">", "s", "unk"]


def test_subword_build_frequency_size_and_determinism(caplog):
    corpus = ["abc abd abc", "abd abe"] * 6 + ["xyz"]
    full = SubwordTokenizer.build(corpus)
    assert full.vocabulary[:4] == list(SPECIAL_TOKENS)
    assert "x" in full.vocabulary and "##z" in full.vocabulary
    assert SubwordTokenizer.build(list(reversed(corpus))) == full
    frequent = SubwordTokenizer.build(corpus, min_frequency=2)
    assert not {"x", "##y", "##z"} & set(frequent.vocabulary)
    assert frequent.encode("xyz") == [UNK_ID]
    assert frequent.decode(frequent.encode("abc abd abe")) == "abc abd abe"
    with caplog.at_level(logging.WARNING, logger="keras_s2s"):
        small = SubwordTokenizer.build(corpus, max_vocabulary_size=12)
    assert small.vocabulary_size <= 12 and small.vocabulary[:4] == list(SPECIAL_TOKENS)
    assert "did not fit" in caplog.text
    assert SubwordTokenizer.build(["", " ", "<s>"]).vocabulary == list(SPECIAL_TOKENS)
    assert SubwordTokenizer.build(["a"], suffix_indicator="@@").vocabulary[4:] == ["a", "@@a"]


@pytest.mark.parametrize("cls", [CharTokenizer, WordTokenizer, SubwordTokenizer])
def test_build_bad_arguments(cls):
    with pytest.raises(ValueError, match="min_frequency"):
        cls.build(["a"], min_frequency=0)
    with pytest.raises(TypeError, match="min_frequency"):
        cls.build(["a"], min_frequency=1.5)
    with pytest.raises(ValueError, match="max_vocabulary_size"):
        cls.build(["a"], max_vocabulary_size=4)
    with pytest.raises(TypeError, match="max_vocabulary_size"):
        cls.build(["a"], max_vocabulary_size="10")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        cls.build(["a", 3])
    with pytest.raises(TypeError, match="texts"):
        cls.build("a single string")
    with pytest.raises(TypeError, match="texts"):
        cls.build(None)
    with pytest.raises(TypeError, match="lowercase"):
        cls.build(["a"], lowercase="yes")
    with pytest.raises(TypeError, match="unexpected keyword"):
        cls.build(["a"], bogus=1)


def test_constructor_and_method_bad_arguments():
    with pytest.raises(ValueError, match="special tokens"):
        CharTokenizer(["a", "<s>"])
    with pytest.raises(ValueError, match="special tokens"):
        WordTokenizer(["<s>", "<pad>", "<unk>", "</s>"])
    with pytest.raises(ValueError, match="more than once"):
        WordTokenizer(["a", "a"])
    with pytest.raises(ValueError, match="empty"):
        SubwordTokenizer(["a", ""])
    with pytest.raises(TypeError, match="vocabulary"):
        CharTokenizer("abc")
    with pytest.raises(TypeError, match="vocabulary"):
        CharTokenizer(["a", 1])
    with pytest.raises(ValueError, match="single characters"):
        CharTokenizer(["ab"])
    with pytest.raises(ValueError, match="whitespace"):
        WordTokenizer(["a b"])
    with pytest.raises(ValueError, match="suffix_indicator"):
        SubwordTokenizer(["a"], suffix_indicator="xx")
    with pytest.raises(TypeError, match="suffix_indicator"):
        SubwordTokenizer(["a"], suffix_indicator="")
    with pytest.raises(TypeError, match="strip_accents"):
        SubwordTokenizer(["a"], strip_accents=None)
    for tokenizer in all_tokenizers():
        with pytest.raises(TypeError, match="`text`"):
            tokenizer.encode(b"bytes")
        with pytest.raises(TypeError, match="`text`"):
            tokenizer.tokenize(None)
        with pytest.raises(TypeError, match="texts"):
            tokenizer.encode_batch("abc")
        with pytest.raises(TypeError, match="add_eos"):
            tokenizer.encode("a", add_eos=1)
        with pytest.raises(TypeError, match="`token`"):
            tokenizer.token_to_id(4)
    with pytest.raises(NotImplementedError):
        Tokenizer(["a"]).encode("a")


# --------------------------------------------------------------------------- right to left


@pytest.mark.parametrize("index", [0, 1, 2])
@pytest.mark.parametrize("text", ["abba cab!", "c", "", "é bad, cade?"])
def test_reversed_ids_are_the_reading_order_backwards_and_decode_turns_them_back(index, text):
    tokenizer = all_tokenizers()[index]
    backwards = tokenizer.reversed()
    assert backwards.reverse and not tokenizer.reverse
    ids = tokenizer.encode(text)
    assert backwards.encode(text) == ids[::-1]
    assert backwards.encode(text, add_bos=True, add_eos=True) == [BOS_ID] + ids[::-1] + [EOS_ID]
    assert backwards.pieces(text) == tokenizer.tokenize(text)[::-1]
    # what a decoder writes: <s>, the ids right to left, </s>, padding and anything after
    written = [BOS_ID] + ids[::-1] + [EOS_ID, PAD_ID, 4]
    assert backwards.decode(written) == tokenizer.decode(ids)
    assert backwards.decode_batch([written]) == [tokenizer.decode(ids)]
    assert backwards.normalize(text) == tokenizer.normalize(text)  # references: unchanged
    assert backwards.tokenize(text) == tokenizer.tokenize(text)
    assert backwards.vocabulary == tokenizer.vocabulary
    assert backwards.reversed(False) == tokenizer


def test_reversed_char_ids_by_hand_and_extended_decoding():
    backwards = CharTokenizer(["a", "b", "c"], reverse=True)  # a=4, b=5, c=6
    assert backwards.encode("abc") == [6, 5, 4]
    assert backwards.decode([2, 6, 5, 4, 3]) == "abc"
    assert backwards.decode([6, 1, 4]) == "a<unk>c"
    # copied source pieces, in the order of their ids: "xay" reversed is y, a, x
    source = backwards.pieces("xay")
    assert source == ["y", "a", "x"]
    assert backwards.decode_extended([9, 4, 7, 3], source) == "yax"  # written x, a, y
    assert CharTokenizer.build(["ab"], reverse=True).encode("ab") == [5, 4]


def test_reversed_tokenizer_saves_and_loads(tmp_path):
    path = tmp_path / "tokenizer.json"
    word_tokenizer().reversed().save(path)
    loaded = load_tokenizer(path)
    assert loaded.reverse and loaded == word_tokenizer().reversed()
    assert loaded.encode("the cat") == word_tokenizer().encode("the cat")[::-1]
    old = tmp_path / "old.json"  # written before `reverse` existed: left to right
    old.write_text('{"class": "CharTokenizer", "config": {"lowercase": false}, '
                   '"vocabulary": ["a"]}', encoding="utf-8")
    assert load_tokenizer(old).reverse is False
    with pytest.raises(TypeError, match="reverse"):
        CharTokenizer(["a"], reverse="yes")


# --------------------------------------------------------------------------- saving


@pytest.mark.parametrize("index", [0, 1, 2])
def test_save_load_round_trip(index, tmp_path):
    tokenizer = all_tokenizers()[index]
    path = tmp_path / "tokenizer.json"
    tokenizer.save(path)
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert set(payload) == {"class", "config", "vocabulary"}
    assert payload["class"] == type(tokenizer).__name__
    assert payload["vocabulary"] == tokenizer.vocabulary and "vocabulary" not in payload["config"]
    for loaded in (load_tokenizer(path), load_tokenizer(str(path)), type(tokenizer).load(path),
                   Tokenizer.load(path)):
        assert type(loaded) is type(tokenizer) and loaded == tokenizer
        assert loaded.encode("abba cab!") == tokenizer.encode("abba cab!")
    assert type(tokenizer).from_config(tokenizer.get_config()) == tokenizer
    clone = pickle.loads(pickle.dumps(tokenizer))
    assert clone == tokenizer and clone.encode("abc") == tokenizer.encode("abc")


def test_save_load_options_and_errors(tmp_path):
    options = [CharTokenizer(list("aé"), lowercase=True),
               WordTokenizer(["日本", "Straße"], lowercase=True),
               SubwordTokenizer(["a", "@@b"], lowercase=True, strip_accents=True,
                                suffix_indicator="@@")]
    for i, tokenizer in enumerate(options):
        path = tmp_path / f"{i}.json"
        tokenizer.save(path)
        assert load_tokenizer(path) == tokenizer
    assert options[2].encode("Áb") == [4, 5]
    with pytest.raises(ValueError, match="not a CharTokenizer"):
        CharTokenizer.load(tmp_path / "1.json")
    (tmp_path / "bad.json").write_text('{"class": "Nope", "config": {}, "vocabulary": []}')
    with pytest.raises(ValueError, match="Nope"):
        load_tokenizer(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match="not a tokenizer file"):
        load_tokenizer(tmp_path / "other.json")


def test_equality():
    assert CharTokenizer(["a"]) == CharTokenizer(list(SPECIAL_TOKENS) + ["a"])
    assert CharTokenizer(["a"]) != CharTokenizer(["a"], lowercase=True)
    assert CharTokenizer(["a"]) != CharTokenizer(["b"])
    assert CharTokenizer(["a"]) != WordTokenizer(["a"])
    assert SubwordTokenizer(["a"]) != SubwordTokenizer(["a"], suffix_indicator="@@")
    assert CharTokenizer(["a"]) != CharTokenizer(["a"]).reversed()
    assert CharTokenizer(["a"]).reversed().reversed(False) == CharTokenizer(["a"])
    assert repr(WordTokenizer(["a"])) == ("WordTokenizer(vocabulary_size=5, lowercase=False, "
                                          "reverse=False)")


# --------------------------------------------------------------------------- documentation


def test_docstring_examples_and_sections():
    assert tk.__doc__
    result = doctest.testmod(tk, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 20
    objects = [getattr(tk, name) for name in tk.__all__ if inspect.isclass(getattr(tk, name))
               or inspect.isfunction(getattr(tk, name))]
    for cls in [o for o in objects if inspect.isclass(o)]:
        objects += [m for n, m in vars(cls).items() if not n.startswith("_")
                    and (inspect.isfunction(m) or isinstance(m, classmethod))]
    for obj in objects:
        doc = inspect.getdoc(obj.__func__ if isinstance(obj, classmethod) else obj)
        assert doc, obj
        sections = ["Args:", "Returns:", "Example:", "Reference:"]
        positions = [doc.find(s) for s in sections if doc.find(s) >= 0]
        assert positions == sorted(positions) and "Example:" in doc, obj
        assert doc.find("Args:") != 0 and doc.split("\n")[0].endswith("."), obj


def test_module_imports_keras_hub_lazily():
    tree = ast.parse(inspect.getsource(tk))
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # keras_s2s.constants (the special ids) is allowed: it imports nothing at all
            name = node.module
            top_level.add(name if name.startswith("keras_s2s") else name.split(".")[0])
    assert top_level <= {"collections", "json", "logging", "os", "re", "string",
                         "unicodedata", "numpy", "keras_s2s.constants",
                         "keras_s2s.data.detokenize"}
    from keras_s2s.data import detokenize as detokenize_module

    assert [n.names[0].name for n in ast.parse(inspect.getsource(detokenize_module)).body
            if isinstance(n, (ast.Import, ast.ImportFrom))] == ["re"]
    from keras_s2s import constants

    assert not [n for n in ast.walk(ast.parse(inspect.getsource(constants)))
                if isinstance(n, (ast.Import, ast.ImportFrom))]
