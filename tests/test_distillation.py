"""Token-level distillation: the loss against NumPy, the teachers' targets against their own
forward passes one pair at a time, the pipeline against `Task.dataset`, and a student that
learns what its teacher says."""

import json
import logging
import os

import keras
import numpy as np
import pytest

from keras_s2s import zoo
from keras_s2s.constants import DECODER_TOKEN_IDS, ENCODER_TOKEN_IDS
from keras_s2s.data import load_task
from keras_s2s.losses import DistillationLoss, MaskedSparseCategoricalCrossentropy
from keras_s2s.training import distillation, recipe
from tests.test_cli import run_cli


def _copy_task(alphabet="abcdefgh", num_train=96):
    return load_task("copy", alphabet=alphabet, num_train=num_train, num_validation=16,
                     num_test=16, max_length=6)


def _reference_loss(labels, logits, weight, smoothing):
    """The loss from its definition, position by position."""
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    k = (labels.shape[-1] - 1) // 2
    total, count = 0.0, 0
    for b in range(labels.shape[0]):
        for t in range(labels.shape[1]):
            gold = int(labels[b, t, 0])
            if gold == 0:
                continue
            true = (1 - smoothing) * -log_p[b, t, gold] + smoothing * -log_p[b, t].mean()
            ids, probs = labels[b, t, 1:1 + k].astype(int), labels[b, t, 1 + k:]
            teacher = -sum(q * log_p[b, t, i] for i, q in zip(ids, probs))
            total += (1 - weight) * true + weight * teacher
            count += 1
    return total / count


@pytest.mark.parametrize("weight,smoothing", [(0.5, 0.0), (0.3, 0.1), (1.0, 0.0)])
def test_distillation_loss_matches_its_definition(weight, smoothing):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 4, 7)).astype("float32")
    gold = np.array([[4, 5, 3, 0], [6, 3, 0, 0]])  # 0: padding
    ids = rng.integers(1, 7, size=(2, 4, 3))
    probs = rng.random((2, 4, 3))
    probs /= probs.sum(-1, keepdims=True)
    labels = np.concatenate([gold[..., None], ids, probs], -1).astype("float32")
    loss = DistillationLoss(teacher_weight=weight, label_smoothing=smoothing)
    np.testing.assert_allclose(float(loss(labels, logits)),
                               _reference_loss(labels, logits, weight, smoothing), rtol=1e-5)


def test_plain_labels_and_no_teacher_weight_give_the_plain_loss():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 3, 6)).astype("float32")
    gold = np.array([[4, 5, 0], [2, 3, 1]])
    plain = float(MaskedSparseCategoricalCrossentropy(label_smoothing=0.1)(gold, logits))
    distil = DistillationLoss(teacher_weight=0.5, label_smoothing=0.1)
    np.testing.assert_allclose(float(distil(gold, logits)), plain, rtol=1e-6)  # validation
    labels = np.concatenate([gold[..., None], np.ones((2, 3, 2)), np.full((2, 3, 2), .5)], -1)
    np.testing.assert_allclose(
        float(DistillationLoss(0.0, 0.1)(labels.astype("float32"), logits)), plain, rtol=1e-6)
    reloaded = DistillationLoss.from_config(distil.get_config())
    assert (reloaded.teacher_weight, reloaded.label_smoothing) == (0.5, 0.1)
    with pytest.raises(ValueError, match="teacher_weight"):
        DistillationLoss(teacher_weight=1.5)


def _model(task, seed):
    keras.utils.set_random_seed(seed)
    return recipe.build_for_task("luong_lstm", task, units=8, embedding_dim=8)


def test_teacher_targets_are_the_teachers_averaged_top_k_one_pair_at_a_time():
    task = _copy_task(num_train=20)
    teachers = [_model(task, 0), _model(task, 1)]
    targets = distillation.teacher_targets(teachers, task, top_k=4, batch_size=8)
    sources, pairs, _ = task.encode_pairs("train")
    assert len(targets.rows) == len(sources) and targets.top_k == 4
    assert targets.probs[0].sum() == 0 and not targets.ids[0].any()  # the padding row
    for i in (0, 7, 19):  # each pair alone, unpadded, in its own batch
        inputs = {ENCODER_TOKEN_IDS: np.array([sources[i]]),
                  DECODER_TOKEN_IDS: np.array([[2] + pairs[i]])}
        mean = np.mean([keras.ops.convert_to_numpy(keras.ops.softmax(m(inputs), axis=-1))[0]
                        for m in teachers], axis=0)  # (T, V)
        rows = targets.rows[i]
        assert len(rows) == len(pairs[i]) + 1  # y1 ... yn </s>
        for t, row in enumerate(rows):
            top = np.argsort(-mean[t])[:4]
            np.testing.assert_array_equal(np.sort(targets.ids[row]), np.sort(top))
            expected = mean[t][targets.ids[row]] / mean[t][top].sum()
            np.testing.assert_allclose(targets.probs[row], expected, atol=1e-5)


def test_distillation_pipeline_has_the_task_pipelines_batches():
    task = _copy_task()
    targets = distillation.teacher_targets([_model(task, 0)], task, top_k=3, batch_size=32)
    plain = task.dataset("train", batch_size=16, seed=5)
    distil = distillation.distillation_dataset(task, targets, "train", 16, seed=5)
    assert int(plain.cardinality()) == int(distil.cardinality())
    for (x, y), (dx, dy) in zip(plain, distil):  # same order, same inputs, same true ids
        for key in (ENCODER_TOKEN_IDS, DECODER_TOKEN_IDS):
            np.testing.assert_array_equal(x[key], dx[key])
        assert dy.shape == (*y.shape, 7)
        np.testing.assert_array_equal(dy[..., 0], y)
    ordered = distillation.distillation_dataset(task, targets, "train", 16, shuffle=False,
                                                bucket=False)
    first = 0
    for _, labels in ordered:  # each position carries its own row of the table
        labels = labels.numpy()
        for b in range(labels.shape[0]):
            if first + b >= len(targets.rows):
                assert not labels[b].any()  # a filled-up row: padding only
                continue
            rows = targets.rows[first + b]
            np.testing.assert_array_equal(labels[b, :len(rows), 1:4], targets.ids[rows])
            np.testing.assert_array_equal(labels[b, :len(rows), 4:], targets.probs[rows])
            assert not labels[b, len(rows):].any()
        first += labels.shape[0]


def test_a_student_learns_what_its_teacher_says():
    """A teacher that always says one letter (`f`), whatever the pair; with teacher_weight 1 the
    student hears nothing else, and says `f` too (a copy model would not)."""
    task = _copy_task()
    targets = distillation.teacher_targets([_model(task, 0)], task, top_k=2, batch_size=32)
    letter = task.target_tokenizer.encode("f")[0]
    targets.ids[1:] = [letter, 1]
    targets.probs[1:] = [1.0, 0.0]
    student = _model(task, 2)
    recipe.compile_model(student, 0.02, label_smoothing=0.0, jit=False, teacher_weight=1.0)
    student.fit(distillation.distillation_dataset(task, targets, "train", 16, seed=0),
                epochs=8, verbose=0)
    x, y = next(iter(task.dataset("validation", batch_size=16, shuffle=False)))
    said = np.argmax(keras.ops.convert_to_numpy(student(x)), -1)[y.numpy() > 0]
    assert np.mean(said == letter) > 0.95


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt("simulated interruption after epoch 1")


def test_train_with_teachers_records_them_resumes_and_refuses_what_cannot_work(tmp_path):
    task = _copy_task()
    kwargs = dict(batch_size=32, model_kwargs={"units": 8, "embedding_dim": 8},
                  max_eval_examples=8, jit=False, verbose=0)
    teacher = str(tmp_path / "teacher")
    first = recipe.train("luong_lstm", task, teacher, epochs=1, **kwargs)
    # with no weight on the teachers, the student is the teacher's own training again: same
    # initial weights, dropout seeds and batches, so the same weights to the last digit
    zero = str(tmp_path / "zero")
    recipe.train("luong_lstm", task, zero, epochs=1, teachers=[teacher], teacher_weight=0.0,
                 **kwargs)
    for mine, theirs in zip(recipe.load_run(zero)[0].weights,
                            recipe.load_run(teacher)[0].weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(mine),
                                   keras.ops.convert_to_numpy(theirs), atol=1e-6)
    # an interrupted distillation resumes with its own teachers, and refuses others
    out = str(tmp_path / "student")
    with pytest.raises(KeyboardInterrupt):
        recipe.train("luong_lstm", task, out, epochs=2, teachers=[teacher], teacher_weight=0.4,
                     teacher_top_k=3, extra_callbacks=[_Interrupt()], **kwargs)
    with pytest.raises(ValueError, match="teachers="):
        recipe.train("luong_lstm", task, out, epochs=2, resume=True,
                     teachers=[teacher, teacher], teacher_weight=0.4, teacher_top_k=3,
                     **kwargs)
    config = recipe.train("luong_lstm", task, out, epochs=2, resume=True, **kwargs)
    assert config["results"]["epochs_this_session"] == 1
    assert config["training"]["teachers"] == [{"run": teacher, "run_id": first["run_id"]}]
    assert (config["training"]["teacher_weight"], config["training"]["teacher_top_k"]) == (0.4, 3)
    assert np.isfinite(config["results"]["history"]["loss"]).all()
    stored = json.load(open(os.path.join(tmp_path, "student", "config.json")))
    assert stored["training"]["teachers"][0]["run"] == teacher
    other = _copy_task(alphabet="abcdefghij")  # another vocabulary
    with pytest.raises(ValueError, match="another source tokenizer"):
        recipe.train("luong_lstm", other, str(tmp_path / "s2"), teachers=[teacher], **kwargs)
    assert not os.path.exists(tmp_path / "s2")  # refused before anything was written
    with pytest.raises(ValueError, match="is for seq2seq entries"):
        recipe.train("lstm_lm", task, str(tmp_path / "s3"), teachers=[teacher], **kwargs)
    with pytest.raises(ValueError, match="teacher_weight"):
        recipe.train("luong_lstm", task, str(tmp_path / "s4"), teachers=[teacher],
                     teacher_weight=2.0, **kwargs)
    with pytest.raises(ValueError, match="no such run directory"):
        recipe.train("luong_lstm", task, str(tmp_path / "s5"),
                     teachers=[str(tmp_path / "none")], **kwargs)


def test_cli_trains_a_student_from_teachers(tmp_path):
    task_args = ["--task", "copy", "--task-option", "num_train=64", "--task-option",
                 "num_validation=8", "--task-option", "num_test=8", "--task-option",
                 "max_length=6", "--units", "8", "--embedding-dim", "8", "--epochs", "1",
                 "--batch-size", "32", "--max-eval-examples", "8", "--no-jit"]
    teacher = str(tmp_path / "teacher")
    run_cli("train", "luong_lstm", *task_args, "--out", teacher)
    proc = run_cli("train", "luong_lstm", *task_args, "--out", str(tmp_path / "student"),
                   "--teacher", teacher, "--teacher", teacher, "--teacher-weight", "0.7",
                   "--teacher-top-k", "4")
    assert "distilled from 2 teacher(s) (weight 0.7, top 4 tokens)" in proc.stdout
    training = json.load(open(tmp_path / "student" / "config.json"))["training"]
    assert [t["run"] for t in training["teachers"]] == [teacher, teacher]
    assert (training["teacher_weight"], training["teacher_top_k"]) == (0.7, 4)


def test_cli_teacher_options_fail_in_one_line(tmp_path):
    args = ["train", "luong_lstm", "--task", "copy", "--out", str(tmp_path / "run")]
    proc = run_cli(*args, "--teacher-weight", "0.3", check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        "keras-s2s train: error: --teacher-weight sets how the model learns from teachers; give "
        "--teacher RUN too, or drop it"]
    proc = run_cli(*args, "--teacher", str(tmp_path / "missing"), check=False)
    assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1
    assert "--teacher" in proc.stderr and "no such run directory" in proc.stderr


def test_the_teachers_pass_does_not_warn_about_retracing():
    """Two teachers, four widths each: eight compiles that TensorFlow counts together and
    would call excessive; they are expected, so the user is not told so."""
    task = load_task("copy", alphabet="abcd", num_train=64, num_validation=8, num_test=8,
                     min_length=1, max_length=30)
    teachers = [_model(task, 0), _model(task, 1), _model(task, 2)]
    seen = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: seen.append(record.getMessage())
    logger = logging.getLogger("tensorflow")  # its records don't reach the root logger
    logger.addHandler(handler)
    try:
        distillation.teacher_targets(teachers, task, top_k=2, batch_size=8)
    finally:
        logger.removeHandler(handler)
    assert not [m for m in seen if "retracing" in m]


def test_a_teacher_of_another_kind_is_refused(monkeypatch):
    task = _copy_task(num_train=8)
    lm = (None, task.source_tokenizer, task.target_tokenizer, {"kind": "lm"})
    monkeypatch.setattr(recipe, "load_run", lambda run_dir: lm)
    with pytest.raises(ValueError, match="teacher runs/lm is a lm run; teachers must be"):
        distillation.load_teachers(["runs/lm"], task)


def test_a_teacher_with_non_finite_outputs_is_refused():
    task = _copy_task(num_train=8)
    broken = _model(task, 0)
    broken.get_layer("output_projection").bias.assign(np.full((broken.get_layer(
        "output_projection").bias.shape[0],), np.nan, "float32"))
    with pytest.raises(ValueError, match="gives non-finite outputs on the train pairs"):
        distillation.teacher_targets([_model(task, 1), broken], task, top_k=2, batch_size=8)


@pytest.mark.parametrize("top_k", [0, -1, 2.0, True, None])
def test_teacher_targets_refuses_a_top_k_that_is_no_positive_integer(top_k):
    task = load_task("copy", alphabet="abcd", num_train=8, num_validation=4, num_test=4,
                     min_length=1, max_length=4)
    with pytest.raises(ValueError, match=r"^Argument `top_k` must be a positive integer\. "
                                         rf"Received: top_k={top_k!r}$"):
        distillation.teacher_targets([_model(task, 0)], task, top_k=top_k)
