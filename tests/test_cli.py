"""The `keras-s2s` command line with tiny sizes, in process and (for errors) as a subprocess."""

import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import types
import urllib.request

import pytest

from keras_s2s import cli

TINY = ["--units", "16", "--embedding-dim", "16", "--batch-size", "16",
        "--max-eval-examples", "16"]
# enough to learn something in 2 short epochs (32 steps): no warm-up, a high constant rate
FAST = ["--learning-rate", "0.03", "--schedule", "constant"]
REVERSE = ["--task", "reverse", "--task-option", "num_train=256", "--task-option",
           "num_validation=32", "--task-option", "num_test=32", "--task-option", "max_length=6"]


def run_cli(*args, stdin=None, check=True, process=False):
    """Run `keras-s2s ARGS`: in this process (`cli.main`, with stdin/stdout/stderr swapped
    for strings), or as a real subprocess with `process=True`, for what only a fresh process
    shows (the exit status of argparse errors, TensorFlow's start-up lines). A subprocess
    spends about 7 s importing TensorFlow; most tests don't need one."""
    if process:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
        proc = subprocess.run([sys.executable, "-m", "keras_s2s.cli", *args], input=stdin,
                              capture_output=True, text=True, env=env, timeout=600)
    else:
        out, err, old_stdin = io.StringIO(), io.StringIO(), sys.stdin
        sys.stdin = io.StringIO(stdin or "")
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = cli.main(list(args))
        finally:
            sys.stdin = old_stdin
        proc = types.SimpleNamespace(returncode=code, stdout=out.getvalue(),
                                     stderr=err.getvalue())
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    out, logs = str(root / "run"), str(root / "logs")
    proc = run_cli("train", "luong_lstm", *REVERSE, *TINY, *FAST, "--epochs", "2", "--out", out,
                   "--logdir", logs)
    return out, logs, proc


def test_list_and_info():
    proc = run_cli("list", "luong_*")
    assert "luong_bilstm" in proc.stdout and "attention_seq2seq" in proc.stdout
    assert "vanilla_lstm" not in proc.stdout
    assert proc.stdout.splitlines()[0].split()[:4] == ["name", "kind", "family", "parameters"]
    info = run_cli("info", "sutskever").stdout
    assert "reverse_source = True" in info and "Sutskever" in info
    assert "kind:     seq2seq (inputs: encoder_token_ids, decoder_token_ids)" in info


def test_list_and_info_show_language_model_kinds(capsys):
    assert cli.main(["list", "*lm"]) == 0
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert rows == {"bert_mlm": "mlm", "gpt2_lm": "lm", "roberta_mlm": "mlm", "gru_lm": "lm",
                    "lstm_lm": "lm", "rnn_lm": "lm",
                    "transformer_lm": "lm"}
    assert cli.main(["info", "bert_mlm"]) == 0
    assert "kind:     mlm (inputs: token_ids, mask_positions)" in capsys.readouterr().out


def test_train_writes_a_complete_run(trained):
    out, _, proc = trained
    assert {"model.keras", "source_tokenizer.json", "target_tokenizer.json",
            "config.json"} <= set(os.listdir(out))
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["model"] == "luong_lstm" and config["model_kwargs"]["units"] == 16
    assert config["task"] == {"name": "reverse", "options": {
        "num_train": 256, "num_validation": 32, "num_test": 32, "max_length": 6}}
    assert config["results"]["epochs_run"] == 2
    assert "Epoch 2/2" in proc.stdout + proc.stderr  # Keras progress output
    assert "best validation sequence_accuracy" in proc.stdout


def test_the_cli_averages_the_last_epochs_into_a_new_run(trained, tmp_path):
    import keras
    import numpy as np

    out, _, _ = trained  # 2 epochs, the default --keep-epochs 5
    kept = sorted(os.listdir(os.path.join(out, "epochs")))
    assert kept == ["epoch-0001.weights.npz", "epoch-0002.weights.npz"]
    averaged = str(tmp_path / "avg")
    proc = run_cli("average", out, "--last", "2", "--out", averaged)
    assert "epochs 1, 2" in proc.stdout
    config = json.load(open(os.path.join(averaged, "config.json")))
    assert config["averaged"]["epochs"] == [1, 2] and config["model"] == "luong_lstm"

    # the new run's weights are the mean of the two epochs' weights, read with NumPy
    model = keras.saving.load_model(os.path.join(averaged, "model.keras"), safe_mode=True)
    first, second = (np.load(os.path.join(out, "epochs", name)) for name in kept)
    assert len(model.weights) == len(first.files) - 1 > 10
    moved = 0
    for k, variable in enumerate(model.weights):
        a, b = first[f"w{k:04d}"], second[f"w{k:04d}"]
        np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), (a + b) / 2,
                                   rtol=1e-5, atol=1e-7, err_msg=variable.path)
        moved += not np.array_equal(a, b)
    assert moved > 5  # the epochs differ, so the mean is not either of them
    # and the published model.keras is the best epoch's, as kept in that epoch's file
    best = keras.saving.load_model(os.path.join(out, "model.keras"), safe_mode=True)
    best_epoch = json.load(open(os.path.join(out, "config.json")))["results"]["best_epoch"]
    kept_best = np.load(os.path.join(out, "epochs", kept[best_epoch - 1]))
    for k, variable in enumerate(best.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable),
                                      kept_best[f"w{k:04d}"])

    scores = run_cli("evaluate", averaged).stdout
    assert "sequence_accuracy" in scores

    # one line each: too few epochs kept, an existing --out, a run that kept none
    for args, message in ((["--last", "3"], "kept 2 epoch(s) (1, 2), fewer than --last 3"),
                          (["--last", "2", "--out", averaged], "already exists")):
        proc = run_cli("average", out, *args, check=False)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("average", averaged, "--last", "1", check=False)
    assert proc.returncode == 2 and "kept no epoch weights" in proc.stderr, proc.stderr
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_text("x")
    proc = run_cli("average", out, "--last", "1", "--out", str(photos), "--overwrite",
                   check=False)
    assert proc.returncode == 2 and "holds no keras-s2s run" in proc.stderr, proc.stderr
    assert os.listdir(photos) == ["a.jpg"]


def test_evaluate_prints_metrics_and_writes_json(trained, tmp_path):
    out, _, _ = trained
    path = str(tmp_path / "scores.json")
    proc = run_cli("evaluate", out, "--beam", "3", "--json", path)
    assert "sequence_accuracy" in proc.stdout and "cer" in proc.stdout
    scores = json.load(open(path))
    assert scores["method"] == "beam" and scores["examples"] == 32
    # measured with these settings (32 test pairs, beam 3): trained 6/32 = 0.19 exact and CER
    # 0.33; an untrained model 0 exact and CER 2.1 (seed 0) or 3.5 (seed 1), and a model that
    # outputs nothing has CER 1.0. The floors sit between, with margin both ways.
    assert scores["sequence_accuracy"] >= 2 / 32, scores
    assert scores["cer"] <= 0.8, scores


def test_evaluate_min_length(trained, trained_lm, tmp_path):
    out, _, _ = trained
    test = tmp_path / "short.tsv"
    test.write_text("ab\tba\nba\tab\ncb\tbc\nca\tac\n")
    free, forced = str(tmp_path / "free.json"), str(tmp_path / "forced.json")
    run_cli("evaluate", out, "--test", str(test), "--json", free)
    run_cli("evaluate", out, "--test", str(test), "--min-length", "5", "--json", forced)
    free, forced = json.load(open(free)), json.load(open(forced))
    assert "min_length" not in free and forced["min_length"] == 5
    # outputs of 5 or more letters against references of 2: at least 3 edits per 2 letters
    assert free["cer"] < 1.5
    assert forced["cer"] >= 1.5 and forced["sequence_accuracy"] == 0.0
    lm_out = trained_lm[0]
    proc = run_cli("evaluate", lm_out, "--min-length", "1", check=False)
    assert proc.returncode != 0
    assert "--min-length decodes seq2seq runs" in proc.stderr


def test_baseline_beside_a_run_compares_example_by_example(trained, tmp_path):
    """`baseline --run` pairs the model with each baseline on the same examples; the counts
    must agree with each side's own sequence accuracy, and the p-value with McNemar's exact
    test computed here from the binomial coefficients."""
    import math

    out, _, _ = trained
    path = str(tmp_path / "baseline.json")
    proc = run_cli("baseline", "--run", out, "--json", path)
    assert "exact matches, example by example:" in proc.stdout
    assert "model vs suffix_rule: the model alone is right on" in proc.stdout
    scores = json.load(open(path))
    n = scores["examples"]
    assert set(scores["paired"]) == set(scores["baselines"])
    for name, paired in scores["paired"].items():
        assert paired["examples"] == n
        assert sum(paired[k] for k in ("both", "a_only", "b_only", "neither")) == n
        model_right = paired["both"] + paired["a_only"]
        baseline_right = paired["both"] + paired["b_only"]
        assert model_right == round(scores["model"]["sequence_accuracy"] * n), name
        assert baseline_right == round(scores["baselines"][name]["sequence_accuracy"] * n), name
        discordant = paired["a_only"] + paired["b_only"]
        low = min(paired["a_only"], paired["b_only"])
        expected = min(1.0, 2 * sum(math.comb(discordant, i) for i in range(low + 1))
                       / 2 ** discordant) if discordant else 1.0
        assert paired["p_value"] == pytest.approx(expected), name
    # --test alone replaces the run's test split: the reverse task's rule, 3 pairs
    test = tmp_path / "test.tsv"
    test.write_text("abc\tcba\nbca\tacb\ncab\tbac\n")
    path = str(tmp_path / "file.json")
    run_cli("baseline", "--run", out, "--test", str(test), "--json", path)
    scores = json.load(open(path))
    assert scores["examples"] == 3 and scores["paired"]["copy"]["examples"] == 3
    assert scores["train_pairs"] == 256  # the run's own training data
    proc = run_cli("baseline", "--run", out, "--test", str(test), "--validation", str(test),
                   check=False)
    assert proc.returncode == 2 and "--validation needs --train" in proc.stderr


def test_evaluate_compare_tests_two_runs_on_the_same_examples(trained, trained_lm, tmp_path):
    """`evaluate RUN --compare RUN2`: the counts agree with each run's own accuracy and the
    p-value with McNemar's exact test computed here; a language model is refused."""
    import math

    out, _, _ = trained
    averaged = str(tmp_path / "avg")  # another model on the same tokenizers
    run_cli("average", out, "--last", "2", "--out", averaged)
    path = str(tmp_path / "compare.json")
    proc = run_cli("evaluate", out, "--compare", averaged, "--json", path)
    assert f"compared with {averaged}, on the same 32 examples:" in proc.stdout
    assert "exact matches: this run alone is right on" in proc.stdout
    scores = json.load(open(path))
    run_cli("evaluate", averaged, "--json", str(tmp_path / "second.json"))
    second = json.load(open(tmp_path / "second.json"))
    compare, n = scores["compare"], scores["examples"]
    paired = compare["paired"]
    assert compare["run"] == averaged
    assert set(compare["bootstrap"]) == {"cer"} & set(scores)  # characters: no BLEU or chrF
    if "cer" in compare["bootstrap"]:  # the bootstrap's whole-set CERs are evaluate's
        assert compare["bootstrap"]["cer"]["score_a"] == pytest.approx(scores["cer"])
        assert compare["bootstrap"]["cer"]["score_b"] == pytest.approx(second["cer"])
    assert paired["both"] + paired["a_only"] == round(scores["sequence_accuracy"] * n)
    assert paired["both"] + paired["b_only"] == round(second["sequence_accuracy"] * n)
    assert compare["scores"]["sequence_accuracy"] == pytest.approx(second["sequence_accuracy"])
    k, low = paired["a_only"] + paired["b_only"], min(paired["a_only"], paired["b_only"])
    expected = min(1.0, 2 * sum(math.comb(k, i) for i in range(low + 1)) / 2 ** k) if k else 1.0
    assert paired["p_value"] == pytest.approx(expected)
    lm_out, _ = trained_lm
    proc = run_cli("evaluate", out, "--compare", lm_out, check=False)
    assert proc.returncode == 2 and "--compare tests decoded outputs" in proc.stderr


def test_decode_greedy_beam_nbest_and_attention(trained, tmp_path):
    out, _, _ = trained
    lines = run_cli("decode", out, stdin="abc\nhgfe\n").stdout.splitlines()
    assert len(lines) == 2 and all(set(line) <= set("abcdefghij") for line in lines)
    beam = run_cli("decode", out, "--beam", "3", stdin="abc\nhgfe\n").stdout.splitlines()
    assert len(beam) == 2
    # n-best TSV; --no-jit (what a handful of inputs wants: no XLA compile) decodes the same
    nbest = run_cli("decode", out, "--beam", "3", "--n-best", "2", "--no-jit",
                    stdin="abc\nhgfe\n").stdout
    rows = [line.split("\t") for line in nbest.splitlines()]
    assert [r[:2] for r in rows] == [["0", "1"], ["0", "2"], ["1", "1"], ["1", "2"]]
    assert [r[2] for r in rows if r[1] == "1"] == beam
    assert float(rows[0][3]) >= float(rows[1][3]) and float(rows[2][3]) >= float(rows[3][3])
    png = str(tmp_path / "att.png")
    run_cli("decode", out, "--attention", png, "--no-jit", stdin="abcd\n")
    assert open(png, "rb").read(4) == b"\x89PNG"
    sample = run_cli("decode", out, "--sample", "--seed", "1", "--n-best", "2", "--no-jit",
                     stdin="abc\n")
    assert len(sample.stdout.splitlines()) == 2
    # generation controls: each source's own limit a·|source| + b, no repeated bigram, and a
    # progress line on stderr (not a terminal here) once there is more than one batch
    many = "".join(f"{w}\n" for w in ["abcdefgh", "ab"] * 40)
    limited = run_cli("decode", out, "--max-length-a", "0.5", "--max-length-b", "1",
                      "--no-repeat-ngram-size", "2", "--repetition-penalty", "1.2", "--no-jit",
                      stdin=many)
    outputs = limited.stdout.splitlines()
    assert len(outputs) == 80
    for source, output in zip(["abcdefgh", "ab"] * 40, outputs):
        assert len(output) + 1 <= int(0.5 * len(source) + 1)  # </s> counts in the limit
        bigrams = list(zip(output, output[1:]))
        assert len(bigrams) == len(set(bigrams))
    assert "decode: 80/80 sources (100%)" in limited.stderr


def test_decode_min_length_and_the_empty_output_warning(trained, caplog):
    out, _, _ = trained
    # the reverse model ends short sources' outputs early; --min-length 5 forbids </s> before
    # 5 tokens (of at most 6)
    short = run_cli("decode", out, "--no-jit", stdin="a\nab\n").stdout.splitlines()
    assert all(len(line) < 5 for line in short)
    longer = run_cli("decode", out, "--min-length", "5", "--max-length", "6", "--no-jit",
                     stdin="a\nab\n").stdout.splitlines()
    assert [len(line) >= 5 for line in longer] == [True, True]
    # a limit of one token leaves room only for </s>: every output is empty, and decode says so
    caplog.clear()
    empty = run_cli("decode", out, "--max-length-a", "0", "--max-length-b", "1", "--no-jit",
                    stdin="abc\nhg\n")
    assert empty.stdout == "\n\n"
    assert ("decode: 2 of 2 outputs are empty (lines 1, 2): the model ended them at once; "
            "--min-length 1 rules that out") in caplog.messages
    caplog.clear()
    run_cli("decode", out, "--no-jit", stdin="abc\n")
    assert not [m for m in caplog.messages if "outputs are empty" in m]
    bad = run_cli("decode", out, "--min-length", "6", "--max-length", "6", stdin="a\n",
                  check=False)
    assert bad.returncode != 0
    assert "--min-length 6 leaves no room for </s> within --max-length 6" in bad.stderr


def test_empty_outputs_message_names_the_first_lines():
    from keras_s2s.cli.decode import EmptyOutputs

    empty = EmptyOutputs(0)
    assert empty.message() is None
    for number in range(1, 9):
        empty.add(number, "" if number != 4 else "x")
    assert empty.message() == ("7 of 8 outputs are empty (lines 1, 2, 3, 5, 6, ...): the "
                               "model ended them at once; --min-length 1 rules that out")
    one = EmptyOutputs(2)  # --min-length given: the tokens read as no text
    one.add(7, "")
    assert one.message() == ("1 of 1 outputs are empty (line 7): the model ended them at "
                             "once (their tokens read as no text)")


def test_decode_several_runs_as_one_ensemble(trained, trained_lm, tmp_path):
    import shutil

    import numpy as np

    from keras_s2s.data import Task
    from keras_s2s.data.tokenizers import CharTokenizer
    from keras_s2s.decoding import decode
    from keras_s2s.training.recipe import load_run

    first, _, _ = trained
    second = str(tmp_path / "second")  # another entry on the same data: the same tokenizers
    run_cli("train", "vanilla_lstm", *REVERSE, *TINY, *FAST, "--epochs", "1", "--no-jit",
            "--out", second)
    sources = ["abc", "hgfe", "jiabd"]
    stdin = "".join(s + "\n" for s in sources)
    models = [load_run(first)[0], load_run(second)[0]]
    _, source_tokenizer, target_tokenizer, _ = load_run(first)
    task = Task("run", {}, source_tokenizer, target_tokenizer)
    printed = run_cli("decode", first, second, "--no-jit", stdin=stdin)
    expected = decode(models, sources, task=task, jit=False)
    assert printed.stdout.splitlines() == [texts[0] for texts in expected.texts]
    # 2-best beam lists with their scores: the scores tell the ensemble from either member
    printed = run_cli("decode", first, second, "--no-jit", "--beam", "3", "--n-best", "2",
                      stdin=stdin)
    expected = decode(models, sources, "beam", task=task, jit=False, beam_width=3,
                      num_return_sequences=2)
    rows = [line.split("\t") for line in printed.stdout.splitlines()]
    assert [(r[2], float(r[3])) for r in rows] == [
        (expected.texts[i][k], pytest.approx(float(expected.scores[i, k]), abs=1e-4))
        for i in range(len(sources)) for k in range(2)]
    # the ensemble is not either member: their greedy log-probabilities differ from its own
    alone = [decode(m, sources, task=task, jit=False).log_probs for m in models]
    together = decode(models, sources, task=task, jit=False).log_probs
    assert not np.allclose(together, alone[0]) and not np.allclose(together, alone[1])
    # refusals, one line each
    other = tmp_path / "other_tokenizer"
    shutil.copytree(second, other)
    CharTokenizer(list("xyz")).save(str(other / "target_tokenizer.json"))
    for args, message in (
            ([first, second, "--attention", str(tmp_path / "a.png")],
             "--attention needs one model's attention; an ensemble of 2 runs has none"),
            ([first, str(other)], "target tokenizer differs from"),
            ([first, trained_lm[0]], "an ensemble's runs are models of one kind"),
            ([trained_lm[0], first], "holds a lm model, which does not decode as an ensemble"),
            ([first, str(tmp_path / "nowhere")], "no such run directory")):
        proc = run_cli("decode", *args, stdin="abc\n", check=False)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""


# (arguments, message, run as a subprocess: argparse errors exit the process, and a real
# process also shows that TensorFlow's start-up prints nothing of ours)
@pytest.mark.parametrize("args, message, process", [
    (["train", "luong_bilstmm", "--task", "copy", "--out", "x"], "Did you mean 'luong_bilstm'",
     False),
    (["train", "luong_lstm", "--train", "/no/such.tsv", "--out", "x"], "no such file", True),
    (["train", "luong_lstm", "--task", "copy", "--epochs", "zero", "--out", "x"],
     "invalid int value", True),
    (["train", "luong_lstm", "--task", "copy", "--final", "average", "--keep-epochs", "0",
      "--out", "x"], "`keep_epochs` is 0", False),
    (["decode", "/no/such/run"], "no such run directory", False),
    (["evaluate", "."], "not a keras-s2s run directory", False),
])
def test_errors_are_one_line_without_traceback(args, message, process):
    proc = run_cli(*args, check=False, process=process)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr
    ours = [line for line in proc.stderr.strip().splitlines()
            if not re.match(r"^([IWE]\d{4} |WARNING: All log messages)", line)]  # C++ logs
    assert len(ours) == 1, proc.stderr


@pytest.fixture(scope="module")
def trained_lm(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("cli_lm") / "run")
    proc = run_cli("train", "lstm_lm", *REVERSE, "--side", "source", "--units", "8",
                   "--embedding-dim", "8", "--batch-size", "32", "--epochs", "1", "--out", out)
    return out, proc


def test_language_model_trains_and_evaluates_by_perplexity(trained_lm, tmp_path):
    out, proc = trained_lm
    assert "best validation perplexity" in proc.stdout
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["kind"] == "lm" and config["side"] == "source"
    path = str(tmp_path / "scores.json")
    evaluated = run_cli("evaluate", out, "--json", path)
    assert "perplexity" in evaluated.stdout and "token_accuracy" in evaluated.stdout
    scores = json.load(open(path))
    assert scores["kind"] == "lm" and scores["side"] == "source" and "method" not in scores
    assert scores["examples"] == 32 and 1.0 < scores["perplexity"] < 14  # 14 source ids


def test_language_model_options_fail_in_one_line(trained_lm, capsys):
    out, _ = trained_lm
    assert cli.main(["evaluate", out, "--beam", "3"]) == 2
    assert cli.main(["train", "luong_lstm", *REVERSE, "--side", "source", "--out", "x"]) == 2
    assert cli.main(["train", "lstm_lm", *REVERSE, "--metric", "wer", "--out", "x"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3, lines
    assert "--beam decodes seq2seq runs" in lines[0] and "kind lm" in lines[0]
    assert "Leave `side` out" in lines[1] and "validation perplexity" in lines[2]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "lstm_lm", *REVERSE, "--side", "both", "--out", "x"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'both' (choose from 'source', 'target')" in capsys.readouterr().err


def test_language_model_continues_prompts(trained_lm, tmp_path, capsys):
    out, _ = trained_lm
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("abc\n\nd\n")  # the empty line is the empty prompt
    assert cli.main(["decode", out, "--input", str(prompts), "--max-length", "12"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("abc") and lines[2].startswith("d")
    assert cli.main(["decode", out, "--input", str(prompts), "--sample", "--seed", "1",
                     "--n-best", "2", "--max-length", "12"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [r[:2] for r in rows] == [["0", "1"], ["0", "2"], ["1", "1"], ["1", "2"],
                                     ["2", "1"], ["2", "2"]]
    assert all(r[2].startswith("abc") for r in rows[:2])


def test_malformed_tsv_reports_its_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("abc\tcba\nno tab here\n")
    proc = run_cli("train", "luong_lstm", "--train", str(path), "--out", str(tmp_path / "r"),
                   check=False)
    assert proc.returncode == 2 and "bad.tsv:2: no tab" in proc.stderr
    assert "Traceback" not in proc.stderr


def _events(directory):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(directory, size_guidance={"tensors": 0, "images": 0})
    accumulator.Reload()
    plugins = {}
    for tag in accumulator.Tags()["tensors"]:
        plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        plugins.setdefault(plugin, set()).add(tag)
    return plugins


def test_tensorboard_logs_hold_scalars_images_and_text(trained):
    _, logs, _ = trained
    train = _events(os.path.join(logs, "train"))
    validation = _events(os.path.join(logs, "validation"))
    samples = _events(os.path.join(logs, "samples"))
    assert "epoch_loss" in train["scalars"]
    assert "epoch_loss" in validation["scalars"]
    assert "decode_sequence_accuracy" in validation["scalars"]
    assert any(tag.startswith("attention/") for tag in samples["images"])
    assert "sample_decodes" in samples["text"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_tensorboard_server_serves_the_run(trained):
    _, logs, _ = trained
    port = _free_port()
    binary = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    server = subprocess.Popen([binary, "--logdir", logs, "--host", "127.0.0.1", "--port",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        scalars = images = None
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                base = f"http://127.0.0.1:{port}/data/plugin"
                scalars = json.load(urllib.request.urlopen(f"{base}/scalars/tags", timeout=5))
                images = json.load(urllib.request.urlopen(f"{base}/images/tags", timeout=5))
                if scalars.get("validation") and images.get("samples"):
                    break
            except OSError:
                pass
            time.sleep(1)
        assert "decode_sequence_accuracy" in scalars["validation"]
        assert any(tag.startswith("attention/") for tag in images["samples"])
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_parser_help_for_every_subcommand(capsys):
    for command in ("list", "info", "train", "evaluate", "decode", "demo", "bench"):
        with pytest.raises(SystemExit) as exit_info:
            cli.main([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: keras-s2s " + command in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert "keras-s2s" in capsys.readouterr().out


@pytest.mark.parametrize("backend, message", [
    ("pytorch", "KERAS_BACKEND=pytorch is not a Keras backend; use one of"),
    ("torch", "KERAS_BACKEND=torch, but the torch package is not installed"),
])
def test_an_unusable_backend_is_one_line(backend, message, monkeypatch):
    import importlib.util

    if backend == "torch" and importlib.util.find_spec("torch") is not None:
        pytest.skip("PyTorch is installed here")
    monkeypatch.setenv("KERAS_BACKEND", backend)
    proc = run_cli("list", check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"keras-s2s list: error: {message}")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("recipe", [False, True])
def test_a_taken_out_is_refused_before_any_data_is_loaded(recipe, tmp_path, monkeypatch, capsys):
    """Building a task's tokenizers can take minutes (the translation task's WordPiece: ~3.5
    on this CPU); an --out that can't be used is refused before that, not after."""
    out = tmp_path / "run"
    (tmp_path / ".run.training").mkdir()  # an interrupted training in --out

    def no_data(*args, **kwargs):
        raise AssertionError("data loaded before --out was checked")

    monkeypatch.setattr("keras_s2s.cli.train.task_from_args", no_data)
    monkeypatch.setattr("keras_s2s.data.load_task", no_data)
    if recipe:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        argv = ["train", "--recipe", os.path.join(root, "zoo", "recipes", "g2p",
                                                  "luong_bilstm.toml"), "--out", str(out)]
    else:
        argv = ["train", "vanilla_lstm", "--task", "g2p", "--out", str(out)]
    assert cli.main(argv) != 0
    assert "has an interrupted training" in capsys.readouterr().err
