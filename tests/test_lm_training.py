"""Language models in the training recipe and in `evaluate`: kinds, perplexity, run directories."""

import json
import logging
import math
import os

import keras
import numpy as np
import pytest

from keras_s2s import kinds, zoo
from keras_s2s.data import load_task
from keras_s2s.data.tokenizers import BOS_ID, EOS_ID
from keras_s2s.evaluation import evaluate
from keras_s2s.kinds import model_kind
from keras_s2s.metrics import MaskedPerplexity
from keras_s2s.training import SampleDecodes, recipe

TINY_LM = {"embedding_dim": 8, "units": 8}


@pytest.fixture(scope="module")
def task():
    # g2p-like: several references per example, so the two sides hold different text counts
    task = load_task("reverse", num_train=192, num_validation=40, num_test=40, max_length=9)
    for split in ("validation", "test"):
        task.splits[split] = [type(e)(e.source, [e.targets[0], e.targets[0][1:] or "a"])
                              for e in task.splits[split]]
    return task


def _log_softmax(logits):
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _numpy_scores(logits, labels):
    """(perplexity, token accuracy, tokens) over the positions where labels != 0."""
    real = labels != 0
    log_probs = np.take_along_axis(_log_softmax(logits), labels[..., None], -1)[..., 0]
    correct = logits.argmax(-1) == labels
    return math.exp(-log_probs[real].sum() / real.sum()), correct[real].mean(), int(real.sum())


def _assert_accuracy_close(actual, expected, logits, labels):
    """Equal but for near-ties of the argmax, which batch shapes may break either way."""
    top = np.sort(logits, -1)
    near_ties = int(((top[..., -1] - top[..., -2] < 1e-4) & (labels != 0)).sum())
    tokens = int((labels != 0).sum())
    assert abs(actual - expected) * tokens <= near_ties + 1e-6, (actual, expected, near_ties)


def test_model_kind_follows_the_input_names():
    assert model_kind(zoo.build("lstm_lm", vocab_size=9, **TINY_LM)) == "lm"
    assert model_kind(zoo.build("vanilla_rnn", source_vocab_size=9, target_vocab_size=9,
                                units=4, embedding_dim=4)) == "seq2seq"
    ids = keras.Input((None,), dtype="int32", name="token_ids")
    positions = keras.Input((None,), dtype="int32", name="mask_positions")
    stand_in = keras.Model({"token_ids": ids, "mask_positions": positions},
                           keras.layers.Embedding(9, 9)(positions))
    assert model_kind(stand_in) == "mlm"
    features = keras.Input((3,), name="features")
    with pytest.raises(ValueError, match=r"inputs \['features'\], which match no keras_s2s"):
        model_kind(keras.Model(features, keras.layers.Dense(2)(features)))
    with pytest.raises(ValueError, match="no symbolic inputs"):
        model_kind(keras.Sequential([keras.layers.Dense(2)]))


def test_masked_perplexity_metric_is_the_corpus_perplexity_over_batches():
    rng = np.random.default_rng(0)
    labels = rng.integers(1, 7, (2, 5, 6))
    labels[:, :, 4:] = 0
    labels[1, 3] = 0  # an empty row
    logits = rng.normal(size=(2, 5, 6, 7)).astype("float32")
    metric = MaskedPerplexity()
    for batch in range(2):
        metric.update_state(labels[batch], logits[batch])
    expected, _, _ = _numpy_scores(logits.reshape(10, 6, 7), labels.reshape(10, 6))
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)
    metric.reset_state()
    metric.update_state(np.array([[4, 5, 0]]), np.zeros((1, 3, 8), "float32"))
    np.testing.assert_allclose(float(metric.result()), 8.0, rtol=1e-6)


@pytest.mark.parametrize("side", ["source", "target"])
def test_lm_evaluate_equals_numpy_over_every_text(task, side):
    tokenizer = task.tokenizer(side)
    keras.utils.set_random_seed(1)
    model = zoo.build("lstm_lm", vocab_size=tokenizer.vocabulary_size, dropout=0.0, **TINY_LM)
    # the test split by hand: every text of the side, padded once to the longest
    if side == "source":
        texts = [e.source for e in task.splits["test"]]
    else:
        texts = [t for e in task.splits["test"] for t in e.targets]
    ids = [tokenizer.encode(t) for t in texts]
    width = max(len(i) for i in ids) + 1
    inputs, labels = np.zeros((len(ids), width), "int32"), np.zeros((len(ids), width), "int32")
    for row, seq in enumerate(ids):
        inputs[row, :len(seq) + 1] = [BOS_ID] + seq
        labels[row, :len(seq) + 1] = seq + [EOS_ID]
    logits = model.predict({"token_ids": inputs}, verbose=0)
    expected, accuracy, tokens = _numpy_scores(logits, labels)
    # batches of 16 in length buckets, last batches filled with empty rows
    scores, details = evaluate(model, task, "test", side=side, batch_size=16)
    assert scores["examples"] == len(texts) == (40 if side == "source" else 80)
    assert scores["tokens"] == tokens == details["tokens"]
    np.testing.assert_allclose(scores["perplexity"], expected, rtol=1e-5)
    _assert_accuracy_close(scores["token_accuracy"], accuracy, logits, labels)
    assert 1.0 < scores["perplexity"] < 3 * tokenizer.vocabulary_size
    first, _ = evaluate(model, task, "test", side=side, max_examples=5)
    assert first["examples"] == (5 if side == "source" else 10)
    # a run's own bucket cap (train --max-buckets, read by `keras-s2s evaluate`): one batch
    # shape, the same scores
    kind = kinds.of(model)
    method, options, _ = kind.evaluate_options({"side": side, "training": {"max_buckets": 1}})
    assert options == {"side": side, "max_buckets": 1}
    shapes = set()
    predict = model.predict_on_batch
    model.predict_on_batch = lambda x: (shapes.add(x["token_ids"].shape), predict(x))[1]
    one, _ = kind.evaluate(model, task, "test", method=method, batch_size=16, **options)
    del model.predict_on_batch
    assert len(shapes) == 1 and one["tokens"] == tokens
    np.testing.assert_allclose(one["perplexity"], expected, rtol=1e-5)


def test_mlm_evaluate_equals_numpy_on_the_same_masks(task):
    size = task.target_tokenizer.vocabulary_size
    keras.utils.set_random_seed(2)
    model = zoo.build("bert_mlm", vocab_size=size + 1, **zoo.get_spec("bert_mlm").tiny)
    rows = [(x["token_ids"].numpy(), x["mask_positions"].numpy(), y.numpy())
            for x, y in task.mlm_dataset("test", batch_size=16, shuffle=False, seed=3)]
    width = max(r[0].shape[1] for r in rows)
    token_ids = np.concatenate([np.pad(r[0], [(0, 0), (0, width - r[0].shape[1])]) for r in rows])
    positions = np.concatenate([r[1] for r in rows])
    labels = np.concatenate([r[2] for r in rows])
    assert (token_ids == size).any()  # the mask id is the tokenizer's vocabulary size
    logits = model.predict({"token_ids": token_ids, "mask_positions": positions}, verbose=0)
    expected, accuracy, tokens = _numpy_scores(logits, labels)
    scores, _ = evaluate(model, task, "test", batch_size=16, seed=3)
    assert scores["tokens"] == tokens and scores["examples"] == 80
    np.testing.assert_allclose(scores["perplexity"], expected, rtol=1e-4)
    _assert_accuracy_close(scores["token_accuracy"], accuracy, logits, labels)


def test_evaluate_rejects_a_model_for_the_other_vocabulary_or_decoding_options(task):
    model = zoo.build("lstm_lm", vocab_size=task.target_tokenizer.vocabulary_size + 5, **TINY_LM)
    with pytest.raises(ValueError, match="predicts 19 ids.*needs 14.*other side"):
        evaluate(model, task, "test")
    with pytest.raises(ValueError, match="scored by perplexity"):
        evaluate(model, task, "test", method="beam", beam_width=3)
    with pytest.raises(ValueError, match=r"side.*\('source', 'target'\).*'both'"):
        evaluate(model, task, "test", side="both")


def test_train_checks_kind_options_before_training(task, tmp_path):
    with pytest.raises(ValueError, match=r"side.*\('source', 'target'\).*'both'"):
        recipe.train("lstm_lm", task, str(tmp_path / "a"), side="both")
    with pytest.raises(ValueError, match="seq2seq model.*Leave `side` out"):
        recipe.train("luong_lstm", task, str(tmp_path / "b"), side="source")
    with pytest.raises(ValueError, match="validation perplexity, not by metric='wer'"):
        recipe.train("lstm_lm", task, str(tmp_path / "c"), metric="wer")
    assert recipe.build_for_task("bert_mlm", task, **zoo.get_spec("bert_mlm").tiny
                                 ).output.shape[-1] == task.target_tokenizer.vocabulary_size + 1


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt("simulated interruption after epoch 1")


def test_lm_run_keeps_the_best_perplexity_resumes_and_reloads(task, tmp_path):
    out = str(tmp_path / "run")
    kwargs = dict(epochs=2, batch_size=32, model_kwargs=TINY_LM, side="source",
                  learning_rate=1e-2, verbose=0, jit=False)  # XLA compiles cost more here
    with pytest.raises(KeyboardInterrupt):
        recipe.train("lstm_lm", task, out, extra_callbacks=[_Interrupt()], **kwargs)
    first = json.load(open(os.path.join(out, "best.json")))
    assert first["metric"] == "perplexity" and first["epoch"] == 1
    config = recipe.train("lstm_lm", task, out, resume=True, **kwargs)
    assert config["kind"] == "lm" and config["side"] == "source"
    assert config["training"]["label_smoothing"] == 0.0  # the LM entries' recommendation
    results = config["results"]
    assert results["epochs_this_session"] == 1  # only the missing epoch
    assert results["epochs_run"] == 2
    val = results["history"]["val_perplexity"]
    assert results["best_val_perplexity"] == pytest.approx(min([first["best"]] + val))
    # the checkpoint is the best epoch's model: its perplexity on the whole validation split
    # (NumPy-checked evaluate) is what Keras logged for that epoch
    model, source_tokenizer, _, loaded = recipe.load_run(out)
    assert model_kind(model) == "lm" and loaded["side"] == "source"
    assert model.output.shape[-1] == source_tokenizer.vocabulary_size
    scores, _ = evaluate(model, task, "validation", side="source")
    np.testing.assert_allclose(scores["perplexity"], results["best_val_perplexity"], rtol=1e-4)



def test_decode_names_lm_prompts_with_pieces_the_vocabulary_lacks(task, tmp_path, caplog):
    from tests.faults._util import run_cli

    out = str(tmp_path / "run")
    recipe.train("lstm_lm", task, out, epochs=1, batch_size=32, model_kwargs=TINY_LM,
                 side="source", verbose=0, jit=False)
    known = task.splits["train"][0].source
    with caplog.at_level(logging.WARNING, logger="keras_s2s"):
        proc = run_cli("decode", out, "--no-jit", "--max-length", "16",
                       stdin=f"{known}\n{known[:2]}#€\n")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 2  # both prompts continued
    assert "1 of 2 input line(s) hold pieces" in caplog.text and "'#', '€'" in caplog.text


def test_mlm_trains_one_epoch_on_masked_batches(task, tmp_path):
    config = recipe.train("bert_mlm", task, str(tmp_path / "mlm"), epochs=1, batch_size=32,
                          model_kwargs=zoo.get_spec("bert_mlm").tiny, verbose=0, jit=False)
    assert config["kind"] == "mlm" and config["side"] == "target"
    assert config["training"]["mask_rate"] == 0.15
    history = config["results"]["history"]
    assert np.isfinite(history["loss"][0]) and history["val_perplexity"][0] > 1.0


def test_decoding_callbacks_skip_language_models(task, caplog):
    callback = SampleDecodes(task, "unused_logdir", num_examples=2)
    callback.set_model(zoo.build("lstm_lm", vocab_size=14, **TINY_LM))
    with caplog.at_level(logging.WARNING, logger="keras_s2s"):
        callback.on_epoch_end(0)
        callback.on_epoch_end(1)
    assert callback.last_table is None
    assert sum("no source to decode" in r.message for r in caplog.records) == 1
