"""The literature's CMUdict G2P split (PRONALSYL / g014b2b), shipped with the package."""

import gzip
import importlib.resources

import pytest

from keras_s2s.data import load_task
from keras_s2s.data.builtin import standard_g2p_split

CORPORA = importlib.resources.files("keras_s2s.data") / "corpora"


def _lines(name):
    with (CORPORA / f"g2p_g014b2b_{name}.tsv.gz").open("rb") as raw:
        return gzip.open(raw, "rt", encoding="utf-8").read().splitlines()


def test_shipped_files_have_the_published_sizes_and_share_no_word():
    train, test = _lines("train"), _lines("test")
    assert (len(train), len(test)) == (113438, 12753)
    train_words = {line.split("\t")[0] for line in train}
    test_words = {line.split("\t")[0] for line in test}
    assert (len(train_words), len(test_words)) == (106837, 12000)
    assert not train_words & test_words
    phonemes = {p for line in train + test for p in line.split("\t")[1].split()}
    assert len(phonemes) == 39 and not any(ch.isdigit() for p in phonemes for ch in p)


def test_validation_is_held_out_from_train_and_test_words_are_never_selected_on():
    entries, words = standard_g2p_split(seed=0)
    train_file = {line.split("\t")[0].lower() for line in _lines("train")}
    test_file = {line.split("\t")[0].lower() for line in _lines("test")}
    assert set(words["test"]) == test_file and len(words["test"]) == 12000
    assert set(words["train"]) | set(words["validation"]) == train_file
    assert not set(words["train"]) & set(words["validation"])
    assert not set(words["validation"]) & test_file  # selection never sees a test word
    assert len(words["validation"]) == round(0.05 * 106837)
    # seeded: the same seed gives the same hold-out, another seed another
    assert standard_g2p_split(seed=0)[1]["validation"] == words["validation"]
    assert standard_g2p_split(seed=1)[1]["validation"] != words["validation"]
    # every pronunciation line of a word is a reference, once
    assert sum(len(entries[w]) for w in test_file) == 12753


def test_the_task_option_and_its_tokenizers():
    task = load_task("g2p", split="standard", max_train_words=50)
    test = {e.source: e.targets for e in task.splits["test"]}
    line = _lines("test")[0].split("\t")
    assert line[1] in test[line[0].lower()]
    assert len(task.splits["train"]) == 50 and len(task.splits["validation"]) == 5342
    # apostrophes are part of the standard split's words ("'bout" and friends)
    apostrophes = [w for w in test if "'" in w] or [e.source for e in task.splits["validation"]
                                                     if "'" in e.source]
    assert apostrophes and "'" in task.source_tokenizer.vocabulary
    assert "standard split" in task.description
    with pytest.raises(ValueError, match="Unknown g2p split"):
        load_task("g2p", split="pronalsyl")
    # a validation cap keeps the first words of the same seeded hold-out, and nothing else
    capped = load_task("g2p", split="standard", max_train_words=50, max_validation_words=7)
    assert [e.source for e in capped.splits["validation"]] == [
        e.source for e in task.splits["validation"][:7]]
    assert capped.splits["train"] == task.splits["train"]
    assert capped.splits["test"] == task.splits["test"]
    with pytest.raises(ValueError, match="max_validation_words"):
        load_task("g2p", max_validation_words=0)


def test_provenance_and_licence_travel_with_the_files():
    readme = (CORPORA / "README.md").read_text(encoding="utf-8")
    assert "g2p_g014b2b_train.tsv.gz" in readme and "PRONALSYL" in readme
    assert "Copyright (C) 1993-2015 Carnegie Mellon University" in readme
    from keras_s2s.data.builtin import _g2p

    doc = " ".join(_g2p.__doc__.split())
    assert "g014b2b" in doc and "Carnegie Mellon" in doc
