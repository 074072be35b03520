"""A model with `sampled_softmax` through the command line: train (the sampled loss, the
validation decode with the full softmax), then evaluate and decode the run."""

import json
import os

from tests.test_cli import FAST, REVERSE, TINY, run_cli


def test_train_evaluate_decode_with_sampled_softmax(tmp_path, caplog):
    out = str(tmp_path / "run")
    run_cli("train", "vanilla_lstm", *REVERSE, *TINY, *FAST, "--epochs", "2",
                   "--model-option", "sampled_softmax=8", "--out", out)
    # said, not silently dropped (the CLI's log lines go to stderr; pytest captures them here)
    assert "label_smoothing=0.1 is not applied" in caplog.text
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["model_kwargs"]["sampled_softmax"] == 8
    assert config["results"]["epochs_run"] == 2
    scores_path = str(tmp_path / "scores.json")
    run_cli("evaluate", out, "--json", scores_path)
    scores = json.load(open(scores_path))
    assert scores["examples"] == 32 and 0.0 <= scores["cer"]
    lines = run_cli("decode", out, "--beam", "3", stdin="abc\nhgfe\n").stdout.splitlines()
    assert len(lines) == 2
