"""scripts/own_data_results.py: the sentence that reports a task's other seeds."""

from tests.helpers import load_script


def _record(accuracy, decoder="greedy"):
    return {"model_metrics": {"sequence_accuracy": accuracy}, "decoder": decoder}


def test_seeds_sentence_reports_each_seed_and_the_mean_margin():
    own = load_script("own_data_results")
    record = {**_record(305 / 324), "test_examples": 324,
              "baselines": {"suffix_rule": {"sequence_accuracy": 304 / 324},
                            "copy": {"sequence_accuracy": 3 / 324}},
              "seeds": {"1": _record(300 / 324, "beam5"), "2": _record(307 / 324)}}
    sentence = own.seeds_sentence("past_tense", record)
    # by hand: seeds 305, 300 and 307 right, mean 304 = the rule's 304: level
    assert "seed 0 94.1% (greedy), seed 1 92.6% (beam5), seed 2 94.8% (greedy)" in sentence
    assert "Mean 93.8% over 3 seeds against `suffix_rule`'s 93.8%" in sentence
    assert "as many of the 324 test words right on average" in sentence
    assert "seeds from 92.6% to 94.8%" in sentence
    record["seeds"]["2"] = _record(310 / 324)  # mean 305: one word ahead
    assert "1.0 of 324 test words ahead" in own.seeds_sentence("past_tense", record)
    record["seeds"]["2"] = _record(298 / 324)  # mean 301: three words behind
    assert "3.0 of 324 test words behind" in own.seeds_sentence("past_tense", record)


def test_a_rerun_keeps_every_earlier_test_result_other_seeds_included():
    own = load_script("own_data_results")
    run = {"command": "c0", "model_metrics": {"sequence_accuracy": 0.9}, "decoder": "greedy",
           "epochs_run": 80, "best_epoch": 60, "max_minutes": 15.0, "train_seconds": 1.0,
           "chosen": {}, "load_average": [1.0]}
    previous = {**run, "earlier_runs": [{**run, "command": "older"}],
                "seeds": {"1": {**run, "command": "c1",
                                "model_metrics": {"sequence_accuracy": 0.8}}}}
    runs = own.earlier_test_runs(previous)
    assert [r["command"] for r in runs] == ["older", "c0", "c1"]
    assert runs[2]["seed"] == 1 and "seed" not in runs[1]
    assert own.earlier_runs({"earlier_runs": runs}) == (
        "90.0 (greedy, 80 ep., cap 15 min); 90.0 (greedy, 80 ep., cap 15 min); "
        "80.0 (greedy, 80 ep., cap 15 min, seed 1)")
    assert own.earlier_test_runs({}) == []


def test_paired_with_baseline_counts_verbs_by_hand(tmp_path, monkeypatch):
    """The stored test outputs of each seed against the refitted best baseline, verb by verb;
    outputs that do not score what the record says are refused."""
    import pytest

    own = load_script("own_data_results")
    monkeypatch.setattr(own, "RUNS", str(tmp_path))
    folder = tmp_path / "past_tense"
    (folder / "seed_1").mkdir(parents=True)
    train = ["walk\twalked", "talk\ttalked", "jump\tjumped", "sing\tsang", "ring\trang",
             "lick\tlicked"]
    # every target character occurs in a training target: nothing is normalised to <unk>
    test = ["stalk\tstalked", "wring\twrung", "slump\tslumped", "ping\tpinged"]
    for split, lines in (("train", train), ("validation", train[:2]), ("test", test)):
        (folder / f"{split}.tsv").write_text("".join(line + "\n" for line in lines))
    # the suffix rule: stalked, wrang, slumped, pang -> right on stalk and slump only
    (folder / "test_outputs.txt").write_text("stalked\nwrung\nslumpt\npinged\n")  # 3 right
    (folder / "seed_1" / "test_outputs.txt").write_text("stalked\nwrang\nslumped\npang\n")
    record = {**_record(3 / 4), "test_examples": 4,
              "baselines": {"suffix_rule": {"sequence_accuracy": 2 / 4},
                            "copy": {"sequence_accuracy": 0.0}},
              "seeds": {"1": _record(2 / 4)}}
    paired = own.paired_with_baseline("past_tense", record)
    assert paired["baseline"] == "suffix_rule"
    seed_0, seed_1 = paired["seeds"]["0"], paired["seeds"]["1"]
    # seed 0 alone right on wring and ping, the rule alone on slump; seed 1 = the rule
    assert (seed_0["a_only"], seed_0["b_only"], seed_0["both"], seed_0["neither"]) == (2, 1, 1, 0)
    assert seed_0["p_value"] == 1.0  # 1 against 2 of 3 discordant: 2 * 4/8, capped at 1
    assert (seed_1["a_only"], seed_1["b_only"], seed_1["both"]) == (0, 0, 2)
    record["paired"] = paired
    sentence = own.paired_sentence("past_tense", record)
    assert "seed 0: the model alone right on 2, `suffix_rule` alone on 1, p = 1.00" in sentence
    assert "cannot be told apart" in sentence
    record["seeds"]["1"] = _record(4 / 4)  # not what seed 1's file scores
    with pytest.raises(ValueError, match="from another run"):
        own.paired_with_baseline("past_tense", record)


def test_beats_baseline_cell_follows_the_paired_test():
    own = load_script("own_data_results")
    level = {"paired": {"seeds": {"0": {"a_only": 10, "b_only": 9, "p_value": 1.0,
                                        "significant": False}}}}
    assert own.beats(level, 0.941, 0.938) == "**level** (p = 1.00)"
    ahead = {"paired": {"seeds": {"0": {"a_only": 810, "b_only": 65, "p_value": 1e-160,
                                        "significant": True}}}}
    assert own.beats(ahead, 0.957, 0.781) == "yes (p < 0.001)"
    behind = {"paired": {"seeds": {"0": {"a_only": 1, "b_only": 9, "p_value": 0.021,
                                         "significant": True}}}}
    assert own.beats(behind, 0.90, 0.92) == "**no** (p = 0.02)"
    assert own.beats({}, 0.58, 0.53) == "yes" and own.beats({}, 0.5, 0.53) == "**no**"


def test_another_entry_is_reported_seed_by_seed_with_its_paired_tests():
    own = load_script("own_data_results")
    record = {**_record(310 / 324, "beam5"), "test_examples": 324,
              "baselines": {"suffix_rule": {"sequence_accuracy": 304 / 324}},
              "seeds": {"1": _record(306 / 324)},
              "paired": {"baseline": "suffix_rule", "seeds": {
                  "0": {"a_only": 12, "b_only": 6, "p_value": 0.238},
                  "1": {"a_only": 9, "b_only": 7, "p_value": 0.804}}}}
    sentence = own.other_model_sentence("past_tense", "location_bilstm", record)
    # by hand: 310 and 306 of 324 right, mean 308 = 95.1%
    assert sentence.startswith("`location_bilstm` on `past_tense` with every default")
    assert "seed 0 95.7% (beam5), seed 1 94.4% (greedy); mean 95.1% over 2 seeds" in sentence
    assert "against `suffix_rule`'s 93.8%" in sentence
    assert "seed 0: 12 against 6 (p = 0.24); seed 1: 9 against 7 (p = 0.80)" in sentence
