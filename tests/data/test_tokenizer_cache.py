import os

import pytest

from keras_s2s.data import tokenizer_cache
from keras_s2s.data.tokenizer_cache import build_cached, cache_dir
from keras_s2s.data.tokenizers import SubwordTokenizer, WordTokenizer

TEXTS = ["the cat sat", "the dog sat down", "a cat and a dog"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_S2S_CACHE", str(tmp_path))
    return tmp_path / "tokenizers"


def _counting_build(monkeypatch, cls):
    calls = []
    original = cls.build.__func__

    def build(klass, texts, **kwargs):
        calls.append(kwargs)
        return original(klass, texts, **kwargs)

    monkeypatch.setattr(cls, "build", classmethod(build))
    return calls


def test_a_second_build_reads_the_cache(cache, monkeypatch):
    calls = _counting_build(monkeypatch, SubwordTokenizer)
    first = build_cached(SubwordTokenizer, TEXTS, max_vocabulary_size=40, lowercase=False)
    again = build_cached(SubwordTokenizer, TEXTS, max_vocabulary_size=40, lowercase=False)
    assert len(calls) == 1  # built once, then read back
    assert again == first == SubwordTokenizer.build(TEXTS, max_vocabulary_size=40,
                                                    lowercase=False)
    assert [p.suffix for p in cache.iterdir()] == [".json"]  # no temporary file left


def test_other_texts_or_arguments_build_anew(cache, monkeypatch):
    calls = _counting_build(monkeypatch, WordTokenizer)
    a = build_cached(WordTokenizer, TEXTS)
    b = build_cached(WordTokenizer, TEXTS[:-1] + ["a zebra"])  # as many texts
    c = build_cached(WordTokenizer, TEXTS, max_vocabulary_size=6)
    assert len(calls) == 3 and len(list(cache.iterdir())) == 3
    assert "zebra" in b.vocabulary and "zebra" not in a.vocabulary
    assert c.vocabulary_size == 6


def test_an_unreadable_file_is_rebuilt(cache, monkeypatch, caplog):
    first = build_cached(WordTokenizer, TEXTS)
    (path,) = cache.iterdir()
    path.write_text("{not json")
    calls = _counting_build(monkeypatch, WordTokenizer)
    assert build_cached(WordTokenizer, TEXTS) == first
    assert len(calls) == 1 and "could not be read" in caplog.text
    assert WordTokenizer.load(path) == first  # and written again


def test_an_unwritable_folder_only_warns(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")  # the cache folder would have to be inside a file
    monkeypatch.setenv("KERAS_S2S_CACHE", str(blocker))
    assert build_cached(WordTokenizer, TEXTS) == WordTokenizer.build(TEXTS)
    assert "could not cache the tokenizer" in caplog.text


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_S2S_CACHE", "off")
    assert cache_dir() is None
    calls = _counting_build(monkeypatch, WordTokenizer)
    build_cached(WordTokenizer, TEXTS)
    build_cached(WordTokenizer, TEXTS)
    assert len(calls) == 2
    monkeypatch.delenv("KERAS_S2S_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == os.path.join(str(tmp_path), "keras_s2s")


def test_the_key_changes_with_the_learner_version(monkeypatch):
    key = tokenizer_cache.cache_key(WordTokenizer, TEXTS, {})
    monkeypatch.setattr(tokenizer_cache, "_versions", lambda: {"tensorflow-text": "9.9"})
    assert tokenizer_cache.cache_key(WordTokenizer, TEXTS, {}) != key
