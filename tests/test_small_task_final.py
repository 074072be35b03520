"""scripts/small_task_final.py: the epoch chosen on validation against the average of the last
epochs, on held-out training pairs of small samples (the sample, the counts, the report)."""

import json
import math

import pytest

from tests.helpers import load_script


def test_sample_draws_disjoint_seeded_sets():
    script = load_script("small_task_final")
    pairs = [(f"w{i}", (f"v{i}",)) for i in range(40)]
    train, held = script.sample(pairs, 25, 10, seed=2)
    assert len(train) == 25 and len(held) == 10
    assert not set(train) & set(held) and set(train) | set(held) <= set(pairs)
    assert script.sample(pairs, 25, 10, seed=2) == (train, held)  # the seed fixes them
    assert script.sample(pairs, 25, 10, seed=3) != (train, held)
    with pytest.raises(ValueError, match="more than the 40 training pairs"):
        script.sample(pairs, 35, 10, seed=0)


def _records():
    return {
        "de_lemma_seed0": {"task": "de_lemma", "seed": 0, "train_pairs": 6, "held_out_pairs": 4,
                           "epochs": 81, "best_epoch": 40, "train_seconds": 60.0,
                           "average_right": [True, True, False, True],
                           "best_right": [True, False, False, False]},
        "p2g_seed0": {"task": "p2g", "seed": 0, "train_pairs": 6, "held_out_pairs": 4,
                      "epochs": 81, "best_epoch": 70, "train_seconds": 120.0,
                      "average_right": [False, True, True, False],
                      "best_right": [True, True, False, False]},
    }


def test_summary_counts_the_pairs_only_one_model_gets_right(tmp_path, monkeypatch):
    script = load_script("small_task_final")
    monkeypatch.setattr(script, "RESULTS_JSON", str(tmp_path / "final.json"))
    assert script.section() == []  # nothing run yet
    results = {"runs": _records(), "machine": {"cpus": 2, "jobs": 2, "date": "2026-12-05"}}
    (tmp_path / "final.json").write_text(json.dumps(results))
    lines = script.summary(results)
    # by hand: de_lemma, the average alone right on pairs 2 and 4, the chosen epoch on none:
    # p = 2 * P(X <= 0), X ~ Binomial(2, 1/2) = 0.5; p2g, one each way: p = 1
    assert "the average of the last 5 epochs 75.0%, the chosen epoch 25.0%" in lines[0]
    assert "only the average right on 2, only the chosen epoch on 0 (p = 0.50)" in lines[0]
    assert "chosen epochs 40 of 81" in lines[0]
    assert "only the average right on 1, only the chosen epoch on 1 (p = 1.00)" in lines[1]
    # pooled over both: 3 against 1, p = 2 * 5/16
    pooled = script.compare(list(_records().values()))
    assert (pooled["a_only"], pooled["b_only"]) == (3, 1)
    assert pooled["p_value"] == pytest.approx(2 * (math.comb(4, 0) + math.comb(4, 1)) / 2 ** 4)
    assert lines[2] == "pooled: only the average right on 3, only the chosen epoch on 1 (p = 0.62)"
    section = script.section()
    assert section[0].startswith("## Which weights a small task publishes")
    assert "3 minutes of training in all" in section[2] and section[-2:] == [f"- {lines[2]}", ""]
