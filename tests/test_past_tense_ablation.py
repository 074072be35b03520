"""scripts/past_tense_ablation.py: validation-only settings study of the `past_tense` task."""

import json
import os
import subprocess

from tests.helpers import load_script


def test_is_regular_matches_hand_labels():
    ablation = load_script("past_tense_ablation")
    # labelled by hand from English spelling rules, not from the function
    regular = [("walk", "walked"), ("bake", "baked"), ("try", "tried"), ("stop", "stopped"),
               ("char", "charred"), ("profit", "profited"), ("play", "played")]
    irregular = [("give", "gave"), ("tell", "told"), ("find", "found"), ("sit", "sat"),
                 ("misread", "misread"), ("lay", "laid"), ("teach", "taught")]
    assert all(ablation.is_regular(s, t) for s, t in regular)
    assert not any(ablation.is_regular(s, t) for s, t in irregular)


def _write(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join("\t".join(r) + "\n" for r in rows))


def _study(tmp_path, monkeypatch):
    """The script, with its runs under `tmp_path`, and three tiny TSVs: `(module, paths)`."""
    ablation = load_script("past_tense_ablation")
    paths = {s: str(tmp_path / f"{s}.tsv") for s in ("train", "validation", "test")}
    _write(paths["train"], [("walk", "walked"), ("give", "gave")])
    _write(paths["validation"], [("talk", "talked"), ("sing", "sang", "sung")])
    _write(paths["test"], [("secret", "secreted")])
    monkeypatch.setattr(ablation, "FOLDER", str(tmp_path / "runs"))
    return ablation, paths


def _trained(command, best_epoch, epochs_run):
    """What a faked `keras-s2s train` leaves in its `--out`: best.json and config.json."""
    out = command[command.index("--out") + 1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "best.json"), "w") as f:
        json.dump({"epoch": best_epoch, "best": 0.5}, f)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"results": {"epochs_run": epochs_run}}, f)
    return subprocess.CompletedProcess(command, 0)


def test_run_setting_never_reads_the_test_split(tmp_path, monkeypatch):
    ablation, paths = _study(tmp_path, monkeypatch)
    commands = []

    def fake_run(command, **kwargs):
        commands.append(command)
        if command[1] == "train":
            return _trained(command, best_epoch=2, epochs_run=4)
        with open(command[command.index("--input") + 1]) as f:  # decode: "regularise"
            sources = f.read().split()
        return subprocess.CompletedProcess(command, 0, stdout="\n".join(s + "ed" for s in
                                                                         sources) + "\n")

    monkeypatch.setattr(ablation.subprocess, "run", fake_run)
    record = ablation.run_setting("dropout 0.3", ["--dropout", "0.3"], paths,
                                  ablation._pairs(paths))
    assert not any(paths["test"] in part for c in commands for part in c)
    assert record["validation_accuracy"] == 0.5          # talked right, singed wrong
    assert record["train_errors"] == 1 and record["train_irregular_errors"] == 1  # gived
    assert record["epochs_run"] == 4 and record["best_epoch"] == 2


def test_section_says_whether_a_setting_beats_the_rule(tmp_path, monkeypatch):
    ablation = load_script("past_tense_ablation")
    path = tmp_path / "ablation.json"
    monkeypatch.setattr(ablation, "RESULTS_JSON", str(path))
    rule = {"validation_accuracy": 0.9, "validation_errors": [["a", ["b"], "c"]] * 2,
            "train_errors": 1, "train_irregular_errors": 1, "train_verbs": 20,
            "train_irregular_verbs": 3, "validation_verbs": 20}

    def setting(errors):
        return {"validation_accuracy": 1 - errors / 20, "train_errors": 2,
                "validation_errors": [["a", ["b"], "c"]] * errors, "epochs_run": 5,
                "train_irregular_errors": 2, "best_epoch": 3, "train_seconds": 60,
                "train_irregular_examples": [["give", ["gave"], "gived"]]}

    for errors, says in [(3, "1.0 verb(s) more than the rule's 2"), (2, "as many as the rule"),
                         (1, "1.0 verb(s) fewer than the rule's 2")]:
        with open(path, "w") as f:
            json.dump({"rule": rule, "machine": {"cpus": 2, "jobs": 2, "date": "d"},
                       "settings": {"plateau defaults": setting(errors)}}, f)
        text = "\n".join(ablation.section())
        assert says in text and "One seed:" in text
        assert "| plateau defaults | " in text and "give -> gived" in text
    # seeds: one row each, and the best setting judged by its mean over them
    with open(path, "w") as f:
        json.dump({"rule": rule, "machine": {"cpus": 2, "jobs": 2, "date": "d"},
                   "settings": {"plateau defaults": setting(1),
                                "plateau defaults, seed 1": setting(4),
                                "dropout 0.3": setting(2)}}, f)
    text = "\n".join(ablation.section())
    assert "| plateau defaults, seed 1 | 80.0 | 4 |" in text
    assert '"dropout 0.3", gets 2.0' in text and "as many as the rule" in text


def test_right_to_left_setting_trains_on_reversed_targets_and_scores_turned_back(
        tmp_path, monkeypatch):
    ablation, paths = _study(tmp_path, monkeypatch)
    trained_on = {}

    def fake_run(command, **kwargs):
        if command[1] == "train":
            for split in ("train", "validation"):
                with open(command[command.index(f"--{split}") + 1], encoding="utf-8") as f:
                    trained_on[split] = [line.split("\t") for line in f.read().splitlines()]
            return _trained(command, best_epoch=1, epochs_run=1)
        with open(command[command.index("--input") + 1]) as f:  # a right-to-left "regulariser"
            sources = f.read().split()
        return subprocess.CompletedProcess(command, 0, stdout="\n".join(
            "de" + s[::-1] for s in sources) + "\n")

    monkeypatch.setattr(ablation.subprocess, "run", fake_run)
    name = "targets right to left, cosine over 80 epochs"
    assert name in ablation.REVERSED
    record = ablation.run_setting(name, ablation.SETTINGS[name], paths, ablation._pairs(paths),
                                  reverse=True)
    # written by hand: sources as they are, every reference spelled backwards
    assert trained_on["train"] == [["walk", "deklaw"], ["give", "evag"]]
    assert trained_on["validation"] == [["talk", "deklat"], ["sing", "gnas", "gnus"]]
    assert record["validation_accuracy"] == 0.5          # talked right, singed wrong
    assert record["train_errors"] == 1                   # gived


def test_suffix_hints_are_the_rule_fitted_without_the_word():
    from keras_s2s.baselines import SuffixRule

    ablation = load_script("past_tense_ablation")
    train = [("hold", ["held"]), ("behold", ["beheld"]), ("fold", ["folded"]),
             ("scold", ["scolded"]), ("mold", ["molded"]), ("sit", ["sat"]),
             ("visit", ["visited"]), ("knit", ["knitted", "knit"]), ("stop", ["stopped"]),
             ("withhold", ["withheld"]), ("go", ["went"]), ("dread", ["dreaded"])]
    hints = ablation.SuffixHints(train)

    def rule_without(word):
        pairs = [(s, t) for s, refs in train if s != word for t in refs]
        return SuffixRule().fit(pairs).predict_one(word)

    # a training word: the rule fitted on the other words (leave-one-out)
    for word, _ in train:
        assert hints.hint(word)[0] == rule_without(word), word
    # a new word: the rule fitted on everything
    rule = SuffixRule().fit([(s, t) for s, refs in train for t in refs])
    for word in ["uphold", "unfold", "permit", "read", "x"]:
        assert hints.hint(word)[0] == rule.predict_one(word), word
    # the exemplar is another training pair with the same rewrite, never the word itself
    past, (lemma, lemma_past) = hints.hint("behold")
    assert past == "beheld" and lemma != "behold" and lemma_past == lemma[:-3] + "eld"
    assert hints.source("uphold", "hint") == "uphold|upheld"


def test_edit_scripts_round_trip_and_refuse_what_does_not_fit():
    ablation = load_script("past_tense_ablation")
    for source, target in [("walk", "walked"), ("give", "gave"), ("go", "went"),
                           ("read", "read"), ("try", "tried"), ("a", "")]:
        assert ablation.apply_edit(source, ablation.edit_script(source, target)) == target
    assert ablation.edit_script("uphold", "upheld") == "3|eld"
    assert ablation.apply_edit("go", "5|x") == "5|x"       # strips more than the word has
    assert ablation.apply_edit("go", "went") == "went"     # not an edit script


def test_paired_with_rule_counts_the_verbs_only_one_gets_right():
    ablation = load_script("past_tense_ablation")
    rule = {"validation_errors": [[w, ["x"], "y"] for w in "abcdefg"]}
    model = {"validation_errors": [["g", ["x"], "y"], ["h", ["x"], "z"]]}
    model_only, rule_only, p = ablation.paired_with_rule(model, rule)
    assert (model_only, rule_only) == (6, 1)   # a..f, h
    assert abs(p - 16 / 128) < 1e-12           # two-sided binomial: 2 * (1 + 7) / 2**7
