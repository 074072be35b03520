"""scripts/g2p_outputs.py: the kept G2P test outputs and the word-by-word comparison with
Phonetisaurus that zoo/RESULTS.md prints from them."""

import gzip
import types

import pytest

from tests.helpers import load_script


def _task(*targets):
    return types.SimpleNamespace(splits={"test": [types.SimpleNamespace(targets=t)
                                                  for t in targets]})


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    module = load_script("g2p_outputs")
    monkeypatch.setattr(module, "FOLDER", str(tmp_path))
    return module


def test_outputs_round_trip_one_line_per_word(outputs, tmp_path):
    rows = ["K AE T", "", "D AO G"]  # an empty output stays a line of its own
    outputs.save("standard", "a + b", rows)
    assert outputs.load("standard", "a + b") == rows
    assert outputs.path("standard", "a + b").endswith("standard/a+b.txt.gz")
    with gzip.open(outputs.path("standard", "a + b"), "rt") as f:
        assert f.read() == "K AE T\n\nD AO G\n"
    first = open(outputs.path("standard", "a + b"), "rb").read()
    outputs.save("standard", "a + b", rows)  # no time stamp: the same bytes again
    assert open(outputs.path("standard", "a + b"), "rb").read() == first
    assert outputs.load("standard", "missing") is None
    with pytest.raises(ValueError, match="line break"):
        outputs.save("standard", "x", ["A\nB"])


def test_paired_counts_the_words_only_one_system_gets_right(outputs):
    task = _task(("K AE T",), ("R EH D", "R IY D"), ("D AO G",), ("B AH T",))
    outputs.save("standard", "ours", ["K AE T", "R IY D", "D AA G", "B AH T"])
    outputs.save("standard", "phonetisaurus", ["K AE T", "R EY D", "D AO G", "B UH T"])
    result = outputs.paired("standard", "ours", "phonetisaurus", task)
    # by hand: word 2 (a second reference) and word 4 only ours; word 3 only theirs
    assert (result["both"], result["a_only"], result["b_only"]) == (1, 2, 1)
    assert result["p_value"] == 1.0
    assert outputs.paired("standard", "ours", "missing", task) is None
    outputs.save("standard", "short", ["K AE T"] * 3)
    with pytest.raises(ValueError, match="3 outputs for 4 test words"):
        outputs.paired("standard", "short", "phonetisaurus", task)


def test_the_results_sentence_names_each_kept_system(outputs, monkeypatch):
    results = load_script("g2p_results")
    monkeypatch.setattr(results, "g2p_outputs", outputs)
    task = _task(*[("A",)] * 10)
    import keras_s2s.data

    monkeypatch.setattr(keras_s2s.data, "load_task", lambda name, split: task)
    assert results.word_by_word("standard", ["ours"]) == ""  # no peer outputs yet
    outputs.save("standard", "phonetisaurus", ["B"] * 10)
    outputs.save("standard", "ours", ["A"] * 9 + ["B"])
    text = results.word_by_word("standard", ["ours", "not kept"])
    # ours alone right on 9 words, Phonetisaurus on none: p = 2 / 2**9
    assert "same 10 test words" in text and "`ours` 9 against 0 (p = 0.004)" in text
    assert "not kept" not in text


def test_split_of_reads_the_recipes_task_option(outputs, tmp_path):
    import tomllib

    with open("zoo/recipes/g2p_standard/location_bilstm_256.toml", "rb") as f:
        standard = tomllib.load(f)
    with open("zoo/recipes/g2p/location_bilstm_wide.toml", "rb") as f:
        default = tomllib.load(f)
    assert outputs.split_of(standard) == "standard"
    assert outputs.split_of(default) == "default"
    assert outputs.split_of({"task": "g2p"}) == "default"  # no task options at all


def test_the_paired_command_prints_and_stores_the_test(outputs, tmp_path, monkeypatch, capsys):
    task = _task(("K AE T",), ("R EH D", "R IY D"), ("D AO G",), ("B AH T",))
    import keras_s2s.data

    monkeypatch.setattr(keras_s2s.data, "load_task", lambda name, **options: task)
    monkeypatch.setattr(outputs, "PAIRED_JSON", str(tmp_path / "paired.json"))
    outputs.save("standard", "ours", ["K AE T", "R IY D", "D AA G", "B AH T"])
    outputs.save("standard", "theirs", ["K AE T", "R EY D", "D AO G", "B UH T"])
    assert outputs.main(["paired", "standard", "ours", "theirs"]) == 0
    assert capsys.readouterr().out.startswith(
        "ours right where theirs is wrong: 2; the other way: 1; p = 1 ")
    import json

    stored = json.load(open(tmp_path / "paired.json"))["standard: ours vs theirs"]
    assert (stored["a_only"], stored["b_only"]) == (2, 1)
    with pytest.raises(SystemExit, match="no kept test outputs for \\['none'\\]"):
        outputs.main(["paired", "standard", "ours", "none"])
