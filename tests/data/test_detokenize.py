"""Detokenization: text written with ordinary spacing survives tokenize-then-detokenize."""

import doctest

import pytest

from keras_s2s.data import detokenize as module
from keras_s2s.data.detokenize import detokenize
from keras_s2s.data.tokenizers import SubwordTokenizer, WordTokenizer

SENTENCES = [
    "Hello, world!",
    "Don't stop: it's (almost) done.",
    'He said "go home" and left.',
    "She said 'fine' to me.",
    "It costs $3.50, or 10,000 yen at 12:30.",
    "A well-known and/or rare case: 50% off...",
    "¿Qué tal? ¡Muy bien! Cuesta 3,50 €.",
    "L'homme qu'il a vu est là.",
    "Ich weiß es nicht; und du?",
    "Привет, мир! Как дела?",
    "Καλημέρα, κόσμε.",
    "你好，世界。我很好！",
    "東京は「日本」の首都です。",
    "안녕하세요, 세계!",
]


@pytest.mark.parametrize("text", SENTENCES)
def test_ordinary_spacing_survives_the_round_trip(text):
    tokenizer = WordTokenizer([])
    assert detokenize(tokenizer.tokenize(text)) == text
    assert tokenizer.normalize(text) == text  # how references are printed


def test_word_and_subword_decodes_are_detokenized():
    texts = ["Hello, world!", "Don't go."]
    words = WordTokenizer.build(texts)
    assert [words.decode(words.encode(t)) for t in texts] == texts
    subwords = SubwordTokenizer.build(texts * 20, max_vocabulary_size=60)
    assert [subwords.decode(subwords.encode(t)) for t in texts] == texts
    # unknown pieces stay <unk>, spaced as words
    assert words.decode(words.encode("Hello, moon!")) == "Hello, <unk>!"


def test_spaced_text_is_what_the_old_join_gave():
    # the old output, kept for contrast: every token separated by a space
    tokens = WordTokenizer([]).tokenize("Hello, world!")
    assert " ".join(tokens) == "Hello , world !" != detokenize(tokens)


def test_docstring_examples_run():
    assert doctest.testmod(module).failed == 0
