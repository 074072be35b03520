"""scripts/past_tense_folds.py: the default model against the suffix rule on folds of the
training verbs (the folds, the pooled counts and the test of them)."""

import math

import pytest

from tests.helpers import load_script


def test_folds_partition_the_verbs_in_near_equal_seeded_parts():
    folds_script = load_script("past_tense_folds")
    pairs = [(f"verb{i}", (f"verb{i}ed",)) for i in range(23)]
    folds = folds_script.folds_of(pairs, 5, seed=3)
    assert sorted(len(f) for f in folds) == [4, 4, 5, 5, 5]
    held = [p for f in folds for p in f]
    assert sorted(held) == sorted(pairs)  # every verb held out exactly once
    assert folds_script.folds_of(pairs, 5, seed=3) == folds  # the seed fixes them
    assert folds_script.folds_of(pairs, 5, seed=4) != folds
    with pytest.raises(ValueError, match="--folds"):
        folds_script.folds_of(pairs, 1, seed=0)


def test_pooled_counts_the_verbs_only_one_gets_right_over_all_folds():
    folds_script = load_script("past_tense_folds")
    folds = [{"model_right": [True, True, False, True], "rule_right": [True, False, False, False]},
             {"model_right": [True, False, True], "rule_right": [True, True, False]}]
    model, rule, model_only, rule_only, n, p = folds_script.pooled(folds)
    # by hand: model alone right on verbs 2 and 4 of fold 0 and verb 3 of fold 1; the rule
    # alone on verb 2 of fold 1
    assert (model, rule, model_only, rule_only, n) == (5, 3, 3, 1, 7)
    # McNemar's exact test: 2 * P(X <= 1), X ~ Binomial(4, 1/2) = 2 * 5/16
    assert p == pytest.approx(2 * (math.comb(4, 0) + math.comb(4, 1)) / 2 ** 4)


def test_the_results_paragraph_reports_the_pooled_counts(tmp_path, monkeypatch):
    import json

    folds_script = load_script("past_tense_folds")
    monkeypatch.setattr(folds_script, "RESULTS_JSON", str(tmp_path / "folds.json"))
    assert folds_script.paragraph() == []  # before the first run
    record = {"model_right": [True, True, False], "rule_right": [False, True, True],
              "train_seconds": 120.0}
    with open(tmp_path / "folds.json", "w") as f:
        json.dump({"k": 2, "seed": 0, "folds": {"0": record, "1": record},
                   "machine": {"jobs": 2, "cpus": 2, "date": "2026-12-05"}}, f)
    text = " ".join(folds_script.paragraph())
    assert "2 of 2 folds, 6 held-out training verbs" in text
    assert "gets 4 right (66.7%), the suffix rule 4 (66.7%)" in text
    assert "only the model right on 2, only the rule on 2" in text and "p = 1.00" in text


def test_the_paragraph_adds_the_averaged_runs_when_recorded(tmp_path, monkeypatch):
    import json

    folds_script = load_script("past_tense_folds")
    monkeypatch.setattr(folds_script, "RESULTS_JSON", str(tmp_path / "folds.json"))
    record = {"model_right": [False, True, False, True], "rule_right": [True, True, False, False],
              "average_right": [True, True, True, False], "average_last": 5,
              "train_seconds": 60.0}
    with open(tmp_path / "folds.json", "w") as f:
        json.dump({"k": 1, "seed": 0, "folds": {"0": record},
                   "machine": {"jobs": 1, "cpus": 2, "date": "2026-12-05"}}, f)
    text = " ".join(folds_script.paragraph())
    # by hand: the average gets 3 of 4; against the rule it alone is right on verb 3, the rule
    # alone on none; against the chosen epoch it alone on verbs 1 and 3, the epoch on verb 4
    assert "last 5 epochs (`keras-s2s average`; " in text and "get 3 right (75.0%)" in text
    assert "against the rule 1 to 0 (p = 1.00), against the chosen epoch 2 to 1 (p = 1.00)" in text


def test_another_entry_on_the_same_folds_is_compared_with_the_rule_and_the_default(
        tmp_path, monkeypatch):
    import json

    folds_script = load_script("past_tense_folds")
    monkeypatch.setattr(folds_script, "RESULTS_JSON", str(tmp_path / "folds.json"))
    default = {"sources": ["a", "b", "c", "d"], "model_right": [False, True, False, True],
               "rule_right": [True, True, False, False],
               "average_right": [True, False, False, True], "average_last": 5,
               "train_seconds": 60.0}
    other = {"sources": ["a", "b", "c", "d"], "model_right": [True, True, True, False],
             "rule_right": [True, True, False, False], "train_seconds": 90.0}
    machine = {"jobs": 2, "cpus": 2, "date": "2026-12-05"}
    with open(tmp_path / "folds.json", "w") as f:
        json.dump({"k": 1, "seed": 0, "folds": {"0": default}, "machine": machine,
                   "models": {"location_bilstm": {"k": 1, "seed": 0, "folds": {"0": other},
                                                  "machine": machine}}}, f)
    lines = folds_script.paragraph()
    text = lines[-1]
    # by hand: 3 of 4 right; against the rule it alone is right on c, the rule alone on none;
    # against the default's average it alone on b and c, the average alone on d
    assert text.startswith("`keras-s2s train location_bilstm` with every default")
    assert "gets 3 of 4 held-out verbs right (75.0%)" in text
    assert "against the rule 1 to 0 (McNemar's exact p = 1.00)" in text
    assert "against `luong_bilstm`'s average 2 to 1 (p = 1.00)" in text
    assert lines[-2] == ""  # a paragraph of its own


def test_examples_for_power_is_the_first_size_of_enough_power():
    from keras_s2s.significance import mcnemar_power

    folds_script = load_script("past_tense_folds")
    n = folds_script.examples_for_power(0.3, 0.1, goal=0.8, step=5)
    assert n % 5 == 0
    assert mcnemar_power(0.3, 0.1, n) >= 0.8 > mcnemar_power(0.3, 0.1, n - 5)
    assert folds_script.examples_for_power(0.1, 0.1, limit=400) is None  # no difference


def test_power_records_the_folds_rates_at_the_test_size(tmp_path, monkeypatch):
    import json
    import types

    from keras_s2s.significance import mcnemar_power

    folds_script = load_script("past_tense_folds")
    monkeypatch.setattr(folds_script, "RESULTS_JSON", str(tmp_path / "folds.json"))
    # a stand-in task with 40 test verbs, so that no data is read
    import keras_s2s.data

    monkeypatch.setattr(keras_s2s.data, "load_task",
                        lambda name: types.SimpleNamespace(splits={"test": [None] * 40}))
    record = {"model_right": [True] * 6 + [False] * 2, "rule_right": [False] * 6 + [True] * 2,
              "average_right": [True] * 8, "average_last": 5, "train_seconds": 60.0}
    other = {"model_right": [True] * 5 + [False] * 3, "rule_right": [False] * 8}
    with open(tmp_path / "folds.json", "w") as f:
        json.dump({"k": 1, "seed": 0, "folds": {"0": record},
                   "models": {"other": {"k": 1, "seed": 0, "folds": {"0": other},
                                        "machine": {"jobs": 1}}},
                   "machine": {"jobs": 1, "cpus": 2, "date": "2026-12-05"}}, f)
    folds_script.power()
    stored = json.load(open(tmp_path / "folds.json"))["power"]
    assert stored["test_examples"] == 40
    # by hand: the average alone right on 6 of 8 verbs (where the rule is wrong), the rule
    # alone on none; `other` alone on 5 of 8
    rows = stored["systems"]
    assert rows["luong_bilstm (average)"]["alone_rate"] == 6 / 8
    assert rows["luong_bilstm (average)"]["rule_alone_rate"] == 0
    assert rows["other"]["test_power"] == pytest.approx(mcnemar_power(5 / 8, 0.0, 40))
    text = folds_script.power_sentence(json.load(open(tmp_path / "folds.json")))
    assert text.startswith("What can 40 test verbs show?")
    assert "`luong_bilstm`'s average" in text and "`other`" in text
