"""Recipe files (`keras_s2s.training.recipes`), learning-rate schedules, `train --recipe`."""

import glob
import inspect
import json
import math
import os

import keras
import numpy as np
import pytest

from keras_s2s import cli, zoo
from keras_s2s.training.recipe import (InverseSquareRoot, WarmupStableDecay,
                                       learning_rate_schedule)
from keras_s2s.training.recipes import load_recipe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = """
task = "reverse"
out = "{out}"

[task_options]
num_train = 64
num_validation = 16
num_test = 16
max_length = 5

[model]
name = "luong_lstm"
units = 8
embedding_dim = 8

[training]
epochs = 1
batch_size = 32
learning_rate = 1e-3
schedule = "cosine"
warmup_steps = 1
jit = false
metric = "sequence_accuracy"
max_eval_examples = 8
"""


def write(tmp_path, text, name="r.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


ATTENTION = {n for n in zoo.list_models() if zoo.get_spec(n).family == "attention_seq2seq"}


@pytest.mark.parametrize("folder, metric, least, models", [
    ("g2p", "wer", 11, ATTENTION | {"transformer_small", "vanilla_lstm", "bilstm", "sutskever"}),
    # the comparison of scripts/translation_results.py: no attention, reversed source, Luong,
    # RNNsearch and the Transformer
    ("translation", "chrf", 5, {"vanilla_lstm", "sutskever", "luong_bilstm", "bahdanau_bilstm",
                                "transformer_small"}),
])
def test_every_recipe_loads_and_names_real_arguments(folder, metric, least, models):
    paths = sorted(glob.glob(os.path.join(ROOT, "zoo", "recipes", folder, "*.toml")))
    assert len(paths) >= least
    found = set()
    for path in paths:
        recipe = load_recipe(path)
        found.add(recipe["model"])
        params = inspect.signature(zoo.get_spec(recipe["model"]).builder).parameters
        assert set(recipe["model_kwargs"]) <= set(params), path
        assert recipe["task"] == folder and recipe["training"]["metric"] == metric, path
        assert recipe["out"].startswith(f"runs/{folder}/"), path
    assert models <= found


def test_standard_split_recipes_train_on_the_standard_split():
    # scripts/g2p_standard_results.py: the best RNN attention entry and the Transformer;
    # scripts/g2p_gpu.py: the GPU recipes
    paths = sorted(glob.glob(os.path.join(ROOT, "zoo", "recipes", "g2p_standard*", "*.toml")))
    assert any("g2p_standard_gpu" in p for p in paths)
    outs = {load_recipe(p)["out"] for p in paths}
    found = set()
    for path in paths:
        recipe = load_recipe(path)
        found.add(recipe["model"])
        params = inspect.signature(zoo.get_spec(recipe["model"]).builder).parameters
        assert set(recipe["model_kwargs"]) <= set(params), path
        assert recipe["task"] == "g2p" and recipe["task_options"]["split"] == "standard", path
        assert recipe["training"]["metric"] == "wer", path
        assert recipe["out"].startswith("runs/g2p_standard/"), path
        # a distilled recipe's teachers are the runs of recipes beside it
        assert set(recipe["training"].get("teachers", [])) <= outs, path
    assert {"luong_bilstm", "transformer_small"} <= found


@pytest.mark.parametrize("text, message", [
    ('task = "g2p"\n[model]\nname = "luong_bilstn"\n', "luong_bilstm"),
    ('task = "g2p"\n[model]\nunits = 3\n', "name the zoo entry"),
    ('model = "luong_bilstm"\n', "give the built-in task"),
    ('model = "luong_bilstm"\ntask = "g2p"\nepochs = 3\n', "unknown recipe key(s) ['epochs']"),
    ('model = "luong_bilstm"\ntask = "g2p"\n[training]\nepoch = 3\n', "['epoch'] in [training]"),
    ('model = "luong_bilstm"\ntask = "g2p"\n[training]\nschedule = "step"\n', "unknown schedule"),
    ('model = "luong_bilstm"\ntask = \n', "not a valid recipe file"),
])
def test_bad_recipes_name_file_and_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        load_recipe(path)
    assert message in str(info.value)
    assert "luong_bilstn" in text or path in str(info.value)


def test_schedules_follow_their_formulas():
    assert learning_rate_schedule(0.01) == 0.01
    schedule = InverseSquareRoot(1e-3, warmup_steps=100)
    for step in (0, 49, 99, 100, 399, 9999):
        s = step + 1
        expected = 1e-3 * min(s / 100, math.sqrt(100 / s))
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5)
    cosine = learning_rate_schedule(2e-3, "cosine", total_steps=1000, warmup_steps=100)
    assert float(cosine(0)) == pytest.approx(0.0, abs=1e-9)
    assert float(cosine(100)) == pytest.approx(2e-3, rel=1e-5)
    assert float(cosine(550)) == pytest.approx(1e-3, rel=1e-4)  # half way down the cosine
    assert float(cosine(1000)) == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ValueError, match="total_steps"):
        learning_rate_schedule(1e-3, "cosine")
    with pytest.raises(ValueError, match="warmup_steps"):
        learning_rate_schedule(1e-3, "inverse_sqrt")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    np.testing.assert_allclose(float(restored(7)), float(schedule(7)))


def test_train_recipe_writes_the_run_and_records_the_recipe(tmp_path, capsys):
    out = str(tmp_path / "run")
    path = write(tmp_path, TINY.format(out=out))
    assert cli.main(["train", "--recipe", path]) == 0
    assert "trained luong_lstm for 1 epoch(s)" in capsys.readouterr().out
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    assert config["model"] == "luong_lstm" and config["model_kwargs"]["units"] == 8
    assert config["training"]["schedule"] == "cosine" and config["training"]["jit"] is False
    assert config["recipe"]["file"] == path and config["task"]["options"]["num_train"] == 64
    assert os.path.exists(os.path.join(out, "model.keras"))


def test_a_recipe_sets_the_target_order(tmp_path, capsys):
    out = str(tmp_path / "run")
    text = TINY.format(out=out).replace('metric = "sequence_accuracy"',
                                        'metric = "sequence_accuracy"\ntarget_order = '
                                        '"right-to-left"')
    assert cli.main(["train", "--recipe", write(tmp_path, text)]) == 0
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["training"]["target_order"] == "right-to-left"
    with open(os.path.join(out, "target_tokenizer.json")) as f:
        assert json.load(f)["config"]["reverse"] is True
    bad = TINY.format(out=str(tmp_path / "bad")).replace(
        'metric = "sequence_accuracy"', 'metric = "sequence_accuracy"\ntarget_order = "up"')
    assert cli.main(["train", "--recipe", write(tmp_path, bad)]) == 2
    assert "target_order" in capsys.readouterr().err


def test_recipe_refuses_other_settings(tmp_path, capsys):
    path = write(tmp_path, TINY.format(out=str(tmp_path / "run")))
    assert cli.main(["train", "--recipe", path, "--epochs", "3"]) == 2
    assert "drop --epochs" in capsys.readouterr().err
    assert cli.main(["train", "--recipe", path, "--teacher", str(tmp_path)]) == 2
    assert "drop --teacher or edit" in capsys.readouterr().err  # the recipe's `teachers` key
    assert cli.main(["train", "--recipe", str(tmp_path / "missing.toml")]) == 2
    assert "no such recipe file" in capsys.readouterr().err
    assert cli.main(["train", "--task", "reverse"]) == 2
    assert "name a zoo entry" in capsys.readouterr().err


def test_g2p_gpu_arrays_are_the_pipelines_pairs(tmp_path, monkeypatch):
    # scripts/g2p_gpu.py trains without tf.data: its padded arrays must hold what the task's
    # pipeline feeds (`<s> y` in, `y </s>` out), pair by pair, in order
    from keras_s2s.data import load_task

    from tests.helpers import load_script

    gpu = load_script("g2p_gpu")
    task = load_task("reverse", num_train=40, num_validation=8, num_test=8, max_length=6)
    x, y = gpu._arrays(task, "train")
    (inputs, targets), = task.dataset("train", batch_size=40, bucket=False, shuffle=False).take(1)
    strip = lambda rows: [[t for t in row if t] for row in np.asarray(rows).tolist()]  # noqa: E731
    for key in ("encoder_token_ids", "decoder_token_ids"):
        assert strip(x[key]) == strip(inputs[key])
    assert strip(y) == strip(targets)
    # the weights travel back in parts (the device tool returns files of at most 16 MiB)
    weights = [np.arange(1000, dtype="float32").reshape(10, 100), np.ones(7, "float32")]
    monkeypatch.setattr(gpu, "PART_BYTES", 1500)
    parts = gpu._write_weights(str(tmp_path), weights)
    assert parts == len(list(tmp_path.glob("weights.npz.part*"))) > 1
    for got, want in zip(gpu._read_weights(str(tmp_path)), weights):
        np.testing.assert_array_equal(got, want)


def test_g2p_gpu_ensemble_time_counts_a_first_stage_once():
    from tests.helpers import load_script

    seconds = load_script("g2p_gpu")._ensemble_seconds
    first = {"recipe": "r.toml", "steps": 100, "train_seconds": 300, "process_cpu_seconds": 600}
    second = {"recipe": "r.toml", "steps": 50, "train_seconds": 500, "process_cpu_seconds": 1000,
              "continued_from": {"recipe": "r.toml", "steps": 100}}  # times include the first's
    other = {"recipe": "w.toml", "steps": 100, "train_seconds": 320, "process_cpu_seconds": 700}
    assert seconds([first, second]) == (500, 1000)
    assert seconds([first, other]) == (620, 1300)
    assert seconds([first, other], side_by_side=True) == (320, 1300)


def test_g2p_standard_rows_name_the_device_and_the_second_stage():
    from tests.helpers import load_script

    rows = load_script("g2p_standard_results").rows
    row = {"model": "transformer_small", "recipe": "zoo/recipes/g2p_standard_gpu/t.toml",
           "chosen": "greedy, best epoch", "test": {"wer": 0.22, "per": 0.054},
           "train_seconds": 540, "process_cpu_seconds": 1400, "date": "2026-12-04",
           "epochs_run": 37, "best_epoch": 35, "threads": None, "device": "NVIDIA H200",
           "validation_words": 2000,
           "continued_from": {"epochs_run": 54}}
    cpu = {**row, "recipe": "zoo/recipes/g2p_standard/c.toml", "threads": 2,
           "device": "2-core CPU (no GPU)"}
    del cpu["continued_from"]
    gpu_line, cpu_line = rows({"runs": {"a": row, "b": cpu}})
    assert "(recipes/g2p_standard_gpu/t.toml)" in gpu_line and "NVIDIA H200" in gpu_line
    assert "54 epochs, then 37 with the rate annealed to 0" in gpu_line
    assert "| 22.0 |" in gpu_line and "| 9.0 |" in gpu_line  # WER %, train minutes
    assert "2 threads" in cpu_line and "H200" not in cpu_line
    # two CPU recipes trained side by side (`train --jobs 2`): one thread each, and their
    # ensemble's wall time is the longer run's, not the sum
    a = {**cpu, "threads": 1, "train_seconds": 600, "side_by_side_with": ["b"]}
    b = {**a, "train_seconds": 660, "side_by_side_with": ["a"]}
    ensemble = {"members": {"a": a, "b": b}, "chosen": "greedy", "test": row["test"],
                "date": "2026-12-06", "device": "2-core CPU (no GPU)",
                "validation_words": 2000, "trained_side_by_side": True}
    line_a, _, together = rows({"runs": {"a": a, "b": b}, "ensembles": {"a + b": ensemble}})
    assert "1 thread, trained beside `b`;" in line_a
    assert "| 11.0 |" in together and "trained side by side" in together  # 660 s, not 1,260
    alone = {stem: {**m, "side_by_side_with": []} for stem, m in (("a", a), ("b", b))}
    apart = rows({"runs": {}, "ensembles": {"a + b": {**ensemble, "members": alone,
                                                     "trained_side_by_side": False}}})[0]
    assert "| 21.0 |" in apart
    # two pairs, each trained side by side, one pair after the other: 660 + 420 s
    c = {**a, "train_seconds": 300, "side_by_side_with": ["d"]}
    d = {**a, "train_seconds": 420, "side_by_side_with": ["c"]}
    pairs = rows({"runs": {}, "ensembles": {"a + b + c + d": {
        **ensemble, "members": {"a": a, "b": b, "c": c, "d": d},
        "trained_side_by_side": False}}})[0]
    assert "| 18.0 |" in pairs  # not 33.0, the sum
    # a chain (c beside a and b, a and b one after the other) has no start times: it adds up
    chain = {"a": {**a, "side_by_side_with": ["c"]}, "b": {**b, "side_by_side_with": ["c"]},
             "c": {**c, "side_by_side_with": ["a", "b"]}}
    chained = rows({"runs": {}, "ensembles": {"a + b + c": {
        **ensemble, "members": chain, "trained_side_by_side": False}}})[0]
    assert "| 26.0 |" in chained  # 600 + 660 + 300 s, not the longest, 11.0
    # a distilled model's time includes its teachers' training (a beside b: 660 s) and
    # their pass over the training words (120 s)
    e = {**cpu, "train_seconds": 900, "process_cpu_seconds": 1000, "teachers": ["a", "b"],
         "teacher_seconds": 120}
    distilled = rows({"runs": {"a": a, "b": b, "e": e}})[2]
    assert "| 28.0 | 63.3 |" in distilled  # 900 + 120 + 660 s; 1000 + 1400 + 1400 CPU s
    assert "distilled from the ensemble of `a` + `b`" in distilled
    shared = rows({"runs": {"e": {**cpu, "shared": "sharing the CPU with tests"}}})[0]
    assert "2 threads, sharing the CPU with tests;" in shared


@pytest.mark.extended  # about a minute: a whole device rehearsal, beyond make test's budget
def test_g2p_gpu_trains_and_scores_without_tensorflow(tmp_path):
    # the GPU machine has JAX and no TensorFlow: the device script's path must never import it
    import subprocess
    import sys

    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nsys.modules['tensorflow'] = None\nsys.modules['tensorflow_text'] = None\n")
    out = tmp_path / "run"
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": f"{blocker}:{ROOT}"}
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "g2p_gpu.py"), "train", "transformer_gpu",
         "--out", str(out), "--limit", "256", "--minutes", "0.01", "--validation-words", "8",
         "--test-limit", "8", "--decode-batch", "8"],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = json.loads((out / "row.json").read_text())
    assert row["epochs_run"] == 1 and row["test"]["examples"] == 8
    assert len(row["validation"]) == 4 and row["chosen"] in row["validation"]
    assert row["weights_parts"] == len(list(out.glob("weights.npz.part*"))) >= 1


def test_warmup_stable_decay_follows_its_formula_and_reloads():
    def expected(step, peak=2e-3, warmup=100, total=1000, fraction=0.2):  # the trapezoid
        rise = min(1.0, (step + 1) / warmup) if warmup else 1.0
        fall = min(1.0, max(0.0, (total - step) / (fraction * total)))
        return peak * min(rise, fall)

    schedule = learning_rate_schedule(2e-3, "wsd", total_steps=1000, warmup_steps=100)
    assert isinstance(schedule, WarmupStableDecay)
    for step in (0, 49, 99, 100, 500, 799, 800, 850, 999, 1000, 1200):
        assert float(schedule(step)) == pytest.approx(expected(step), rel=1e-5, abs=1e-12)
    no_warmup = WarmupStableDecay(1.0, 0, 10, decay_fraction=0.5)
    assert [round(float(no_warmup(s)), 6) for s in (0, 4, 5, 6, 9, 10)] == [
        1.0, 1.0, 1.0, 0.8, 0.2, 0.0]
    clone = WarmupStableDecay.from_config(schedule.get_config())
    assert float(clone(900)) == pytest.approx(expected(900), rel=1e-6)
    optimizer = keras.optimizers.Adam(schedule)
    restored = keras.optimizers.Adam.from_config(
        keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(optimizer))
        .get_config())
    assert float(restored.learning_rate) == pytest.approx(float(optimizer.learning_rate))
    with pytest.raises(ValueError, match="total_steps"):
        learning_rate_schedule(1e-3, "wsd")
    with pytest.raises(ValueError, match="decay_fraction"):
        WarmupStableDecay(1e-3, 10, 100, decay_fraction=0.0)


def test_max_buckets_caps_the_batch_shapes_and_is_recorded(tmp_path):
    """The shape count `train` records (its XLA compiles) against the shapes the pipeline
    really yields, with the default cap and with `max_buckets = 1` in a recipe."""
    from keras_s2s import kinds
    from keras_s2s.data import load_task
    from keras_s2s.training import recipe as recipe_lib

    task = load_task("reverse", num_train=256, num_validation=64, num_test=16, min_length=1,
                     max_length=30)
    kind = kinds.get("seq2seq")

    def shapes(split, **kwargs):
        dataset = kind.dataset(task, split, 32, shuffle=False, **kwargs)
        return {tuple(x["encoder_token_ids"].shape) for x, _ in dataset}

    default = recipe_lib._shape_counts(task, kind, None, 32)
    assert default == {"train": len(shapes("train")), "validation": len(shapes("validation"))}
    assert default["train"] > 1
    assert len(shapes("train", max_buckets=1)) == 1
    # the pipelines `train` fits on
    for dataset in recipe_lib._datasets(task, kind, None, 32, 0, 0.15, max_buckets=1):
        assert len({tuple(x["encoder_token_ids"].shape) for x, _ in dataset}) == 1
    out = str(tmp_path / "run")
    text = TINY.format(out=out).replace("max_length = 5", "max_length = 30\nmin_length = 1")
    text = text.replace("jit = false", "jit = true\nmax_buckets = 1")
    assert cli.main(["train", "--recipe", write(tmp_path, text)]) == 0
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    assert config["training"]["max_buckets"] == 1
    assert config["xla_batch_shapes"] == {"train": 1, "validation": 1}
