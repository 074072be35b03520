"""The real word-level tasks: `p2g` (CMUdict reversed), `past_tense` and `de_lemma` (shipped)."""

import pytest

from keras_s2s.data import list_tasks, load_task
from keras_s2s.data.tokenizers import UNK_ID

SPLITS = ("train", "validation", "test")


@pytest.fixture(scope="module")
def tasks():
    return {name: load_task(name) for name in ("p2g", "past_tense", "de_lemma")}


def _examples(task):
    return {e.source: e.targets for s in SPLITS for e in task.splits[s]}


def _keys(task, key):
    return {s: {key(e) for e in task.splits[s]} for s in SPLITS}


def _assert_disjoint_90_5_5(groups, total_min, total_max):
    train, val, test = (groups[s] for s in SPLITS)
    assert not (train & val) and not (train & test) and not (val & test)
    total = len(train) + len(val) + len(test)
    assert total_min <= total <= total_max, total
    assert abs(len(train) / total - 0.9) < 0.01 and abs(len(test) / total - 0.05) < 0.01


def test_registered():
    assert {"p2g", "past_tense", "de_lemma"} <= set(list_tasks())


def test_p2g_groups_homophones_by_pronunciation(tasks):
    task = tasks["p2g"]
    _assert_disjoint_90_5_5(_keys(task, lambda e: e.source), 100_000, 120_000)
    examples = _examples(task)
    assert set(examples["N AY T"]) >= {"knight", "night"}
    assert set(examples["T UW"]) >= {"to", "too", "two"}
    assert examples["W AO K T"] == ("walked",)
    assert set(examples["K AE T"]) >= {"cat", "kat"}
    assert sum(len(t) > 1 for t in examples.values()) > 5_000
    assert task.metrics == ("sequence_accuracy", "cer")
    assert task.source_tokenizer.encode("N AY T") == [
        task.source_tokenizer.vocabulary.index(p) for p in ("N", "AY", "T")]
    assert len(task.source_tokenizer.vocabulary) == 4 + 39


def test_past_tense_has_real_regular_and_irregular_verbs(tasks):
    task = tasks["past_tense"]
    _assert_disjoint_90_5_5(_keys(task, lambda e: e.source), 6_000, 7_000)
    examples = _examples(task)
    assert examples["go"] == ("went",)
    assert examples["walk"] == ("walked",)
    assert set(examples["be"]) == {"was", "were"}
    assert set(examples["dream"]) == {"dreamed", "dreamt"}
    assert examples["torpedo"] == ("torpedoed",)  # lemminflect's own correction of its table
    assert all(s.isalpha() and s.islower() and s.isascii() for s in examples)
    assert all(t.isalpha() and t.islower() and t.isascii() for ts in examples.values()
               for t in ts)
    assert task.metrics == ("sequence_accuracy", "cer")


def test_de_lemma_maps_forms_to_lemmas_split_by_lemma(tasks):
    task = tasks["de_lemma"]
    lemmas = _keys(task, lambda e: e.targets[0])
    _assert_disjoint_90_5_5(lemmas, 19_000, 22_000)
    sources = _keys(task, lambda e: e.source)
    assert not (sources["train"] & sources["test"])
    examples = _examples(task)
    assert 70_000 <= len(examples) <= 85_000
    assert examples["Kinder"] == ("Kind",)
    assert examples["Bin"] == ("sein",)
    assert all(len(t) == 1 for t in examples.values())
    assert any("ä" in s or "ß" in s for s in examples)
    for split in SPLITS:
        ids = task.encode_source([e.source for e in task.splits[split][:500]])
        assert not (ids == UNK_ID).any()
    assert task.metrics == ("sequence_accuracy", "cer")


@pytest.mark.parametrize("name", ["p2g", "past_tense", "de_lemma"])
def test_same_seed_same_split_other_seed_other_split(tasks, name):
    task = tasks[name]
    again = load_task(name, seed=0, max_train_examples=50)
    assert again.splits["train"] == task.splits["train"][:50]
    assert all(again.splits[s] == task.splits[s] for s in ("validation", "test"))
    other = load_task(name, seed=1)
    assert [e.source for e in other.splits["test"]] != [e.source for e in task.splits["test"]]
