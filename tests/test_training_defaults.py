"""What `train` chooses when the user gives nothing: metric, size, schedule, early stopping."""

import json

import keras
import numpy as np
import pytest

from keras_s2s.data import Example, Task, from_tsv, load_task
from keras_s2s.data.tokenizers import CharTokenizer, SubwordTokenizer, WordTokenizer
from keras_s2s.layers import (BahdanauAttention, BahdanauMonotonicAttention, LuongAttention,
                              LuongLocalAttention, LuongMonotonicAttention)
from keras_s2s.training import defaults, recipe
from keras_s2s.training.plateau import PatienceStop, WarmupPlateau


def _tsv(tmp_path, rows, name="train.tsv"):
    path = tmp_path / name
    path.write_text("".join(f"{s}\t{t}\n" for s, t in rows), encoding="utf-8")
    return str(path)


def test_metric_follows_the_tokenizers_and_targets(tmp_path):
    words = [("Katze", "Katzen"), ("Hund", "Hunde"), ("Lampe", "Lampen")] * 10
    rng = np.random.default_rng(0)
    vocabulary = [f"w{i}" for i in range(300)]
    sentences = [(" ".join(rng.choice(vocabulary, 8)), " ".join(rng.choice(vocabulary, 9)))
                 for _ in range(60)]
    word_task = from_tsv(_tsv(tmp_path, words, "w.tsv"))
    assert recipe.choose_settings("luong_bilstm", word_task)[0] == "sequence_accuracy"
    for tokenizer in ("char", "word", "subword"):
        task = from_tsv(_tsv(tmp_path, sentences, "s.tsv"), source_tokenizer=tokenizer,
                        target_tokenizer=tokenizer)
        assert recipe.choose_settings("luong_bilstm", task)[0] == "chrf", tokenizer
    # a built-in task keeps its own metric (G2P: word error rate); LMs use perplexity
    g2p = load_task("g2p", max_train_words=200)
    assert recipe.choose_settings("luong_bilstm", g2p)[0] == "wer"
    assert recipe.choose_settings("lstm_lm", g2p)[0] == "perplexity"
    # phoneme strings are word-tokenized but are not sentences
    assert defaults.target_shape(g2p) == "words"
    # the user's choice wins
    assert recipe.choose_settings("luong_bilstm", word_task, metric="cer")[0] == "cer"


def test_size_follows_the_data_and_never_overrides_the_user():
    def task(n, alphabet):
        examples = [Example(f"w{i}", f"v{i}") for i in range(n)]
        tok = CharTokenizer(sorted(alphabet))
        return Task("t", {"train": examples}, tok, tok)

    small, large = task(500, "wv0123456789"), task(30000, "wv0123456789")
    _, kwargs, _, chosen = recipe.choose_settings("luong_bilstm", small)
    assert kwargs == {"units": 64, "embedding_dim": 64}
    assert "500 training pairs" in chosen["model_kwargs"]["why"]
    _, kwargs, _, _ = recipe.choose_settings("luong_bilstm", large, model_kwargs={"units": 32})
    assert kwargs == {"units": 32, "embedding_dim": 64}
    # a Transformer has no `units`: its defaults stay
    _, kwargs, lr, chosen = recipe.choose_settings("transformer_small", small)
    assert kwargs == {} and "model_kwargs" not in chosen
    assert lr == 1e-3 and chosen["learning_rate"]["value"] == 1e-3
    _, kwargs, _, _ = recipe.choose_settings("luong_bilstm", small, auto_size=False)
    assert kwargs == {}


class _Scripted(keras.callbacks.Callback):
    """Stands in for DecodeEvaluation: a scripted validation value per epoch."""

    def __init__(self, values, higher_is_better=True):
        super().__init__()
        self.values, self.metric = values, "sequence_accuracy"
        self.best = self.best_epoch = None
        self.higher = higher_is_better

    def on_epoch_end(self, epoch, logs=None):
        value = self.values[epoch]
        if self.best is None or (value > self.best if self.higher else value < self.best):
            self.best, self.best_epoch = value, epoch + 1


def _fit(callbacks, epochs, steps=4, learning_rate=1.0):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate), "mse")
    x = np.zeros((steps * 2, 2), "float32")
    return model, model.fit(x, x[:, :1], batch_size=2, epochs=epochs, verbose=0,
                            callbacks=callbacks)


def test_patience_stops_three_epochs_after_the_best():
    scripted = _Scripted([0.2, 0.6, 0.5, 0.55, 0.4, 0.9, 0.9])
    stop = PatienceStop(scripted, patience=3)
    _, history = _fit([scripted, stop], epochs=7)
    # best at epoch 2; epochs 3, 4, 5 bring nothing better: stop after epoch 5
    assert len(history.epoch) == 5 and stop.stopped_epoch == 5 and scripted.best_epoch == 2


def test_patiences_count_steps_on_small_tasks():
    # a 6k-pair task at batch 64 (94 steps per epoch) waits 1500 steps before stopping and
    # 500 before halving the rate; a 113k-pair task (1768 steps) keeps 3 epochs and 1 epoch
    assert defaults.patience_for(94, 3, defaults.STOP_STEPS) == 16  # ceil(1500 / 94)
    assert defaults.patience_for(94, 1, defaults.PLATEAU_STEPS) == 6  # ceil(500 / 94)
    assert defaults.patience_for(1768, 3, defaults.STOP_STEPS) == 3
    assert defaults.patience_for(500, 3, 1500) == 3 and defaults.patience_for(499, 3, 1500) == 4
    assert defaults.patience_for(0, 3, 1500) == 1500  # an empty epoch counts as one step


def test_warmup_is_linear_and_plateaus_halve_the_rate():
    scripted = _Scripted([0.1, 0.2, 0.2, 0.2, 0.3, 0.3])
    rates = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            rates.append(float(self.model.optimizer.learning_rate.numpy()))

    plateau = WarmupPlateau(scripted, 0.8, warmup_steps=6, patience=1)
    _fit([scripted, plateau, Record()], epochs=6, steps=4)
    # steps 1..6 ramp linearly to 0.8, then the peak
    np.testing.assert_allclose(rates[:8], [0.8 * k / 6 for k in range(1, 7)] + [0.8, 0.8],
                               rtol=1e-6)
    # epoch 3 (no gain over epoch 2) halves the rate; epoch 4 too (one epoch since the cut)
    assert [e for e, _ in plateau.reductions] == [3, 4, 6]
    np.testing.assert_allclose([r for _, r in plateau.reductions], [0.4, 0.2, 0.1], rtol=1e-6)
    np.testing.assert_allclose(rates[12:16], [0.4] * 4, rtol=1e-6)
    np.testing.assert_allclose(rates[16:24], [0.2] * 8, rtol=1e-6)


def _scripted(monkeypatch, values):
    """Validation scores `values` in turn (so the best epoch is known in advance), and a
    callback that keeps each epoch's weights: `(task, weights by epoch, callback)`."""
    from keras_s2s.training import callbacks as callbacks_lib

    values = iter(values)
    monkeypatch.setattr(callbacks_lib, "evaluate",
                        lambda *a, **k: ({"sequence_accuracy": next(values)}, None))
    weights = {}

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            weights[epoch + 1] = [w.copy() for w in self.model.get_weights()]

    task = load_task("reverse", num_train=64, num_validation=8, num_test=8, max_length=6)
    return task, weights, Snapshot()


@pytest.mark.slow
def test_train_stops_early_and_keeps_the_best_epoch(tmp_path, monkeypatch):
    task, weights, snapshot = _scripted(monkeypatch, [0.1, 0.5, 0.3, 0.2, 0.4, 0.9])
    config = recipe.train("vanilla_gru", task, str(tmp_path / "run"), epochs=6, patience=2,
                          model_kwargs={"units": 8, "embedding_dim": 8}, jit=False,
                          metric="sequence_accuracy", batch_size=32, verbose=0,
                          extra_callbacks=[snapshot])
    results = config["results"]
    assert results["epochs_run"] == 4 and results["stopped_early"]
    assert results["best_epoch"] == 2 and results["best_val_sequence_accuracy"] == 0.5
    saved = keras.saving.load_model(str(tmp_path / "run" / "model.keras"), safe_mode=True)
    for got, want in zip(saved.get_weights(), weights[2]):
        np.testing.assert_array_equal(got, want)
    assert not np.allclose(weights[2][-1], weights[4][-1])  # later epochs did change it
    stored = json.loads((tmp_path / "run" / "config.json").read_text())
    assert stored["chosen"]["learning_rate"]["value"] == 1e-3
    assert stored["training"]["schedule"] == "plateau" and stored["training"]["patience"] == 2
    # 2 steps per epoch: the plateau waits 500 steps, not 1 epoch, before halving the rate
    assert stored["chosen"]["plateau_patience"]["value"] == 250
    assert "patience" not in stored["chosen"]  # given, not chosen


def test_cli_patience_flags_map_to_train():
    from keras_s2s.cli import build_parser

    parser = build_parser()
    base = ["train", "luong_bilstm", "--task", "g2p", "--out", "x"]
    assert parser.parse_args(base).patience is None  # -> "auto" in train
    # -> "auto" in train: the epochs and schedule follow the task's size (choose_budget)
    assert parser.parse_args(base).epochs is None and parser.parse_args(base).schedule is None
    assert parser.parse_args(base + ["--patience", "5"]).patience == 5
    assert parser.parse_args(base + ["--no-early-stopping"]).patience == 0  # -> None


def test_small_tasks_train_a_fixed_budget_on_a_cosine_decay():
    # hand-computed: 30 epochs of 96 steps are 2,880 < 7,680 steps -> 80 epochs (7,680 steps)
    epochs, schedule, patience, chosen = defaults.choose_budget(96)
    assert (epochs, schedule, patience) == (80, "cosine", None)
    assert chosen["epochs"]["value"] == 80 and chosen["schedule"]["value"] == "cosine"
    assert chosen["patience"]["value"] is None and "7680 steps" in chosen["epochs"]["why"]
    assert defaults.choose_budget(255)[:3] == (31, "cosine", None)  # ceil(7680 / 255)
    assert defaults.choose_budget(1)[:3] == (100, "cosine", None)   # at most 100 epochs
    assert "100 steps (7680 capped at 100 epochs)" in defaults.choose_budget(1)[3]["epochs"]["why"]
    # 30 epochs of 256 steps are 7,680 steps: not small, the plateau policy as before
    assert defaults.choose_budget(256) == (30, "plateau", "auto", {})
    assert defaults.choose_budget(1768) == (30, "plateau", "auto", {})
    # anything the user gave keeps the old policy for the rest
    assert defaults.choose_budget(96, epochs=5) == (5, "plateau", "auto", {})
    assert defaults.choose_budget(96, schedule="constant") == (30, "constant", "auto", {})
    assert defaults.choose_budget(96, patience=None) == (30, "plateau", None, {})
    assert defaults.choose_budget(96, patience=4) == (30, "plateau", 4, {})


def test_train_auto_budget_is_stored_and_used(tmp_path):
    task = load_task("reverse", num_train=64, num_validation=8, num_test=8, max_length=6)
    config = recipe.train("vanilla_gru", task, str(tmp_path / "run"), epochs="auto",
                          schedule="auto", model_kwargs={"units": 8, "embedding_dim": 8},
                          jit=False, batch_size=32, verbose=0, max_minutes=1e-6)
    training, chosen = config["training"], config["chosen"]
    # 2 steps per epoch: ceil(7680 / 2) epochs, capped at 100
    assert training["epochs"] == 100 and training["schedule"] == "cosine"
    assert training["patience"] is None and "warmup_steps" not in chosen
    assert chosen["epochs"]["value"] == 100 and chosen["schedule"]["value"] == "cosine"
    assert config["results"]["epochs_run"] == 1 and config["results"]["stopped_by_time"]
    # the small task's budget averages its last epochs, but this run was cut short by
    # --max-minutes at a high rate: it publishes its best epoch, and says why
    assert training["final"] == "average" and chosen["final"]["value"] == "average"
    assert config["results"]["final"]["weights"] == "best"
    assert "stopped after 1 of 100 epochs" in config["results"]["final"]["why"]
    with pytest.raises(ValueError, match="`epochs` must be a positive integer or \"auto\""):
        recipe.train("vanilla_gru", task, str(tmp_path / "bad"), epochs="many")


def test_target_order_follows_where_the_pairs_change(tmp_path):
    # counted by hand: leading and trailing characters shared, never the same one twice
    assert defaults._shared_ends("walk", "walked") == (4, 0)
    assert defaults._shared_ends("pack", "unpack") == (0, 4)
    assert defaults._shared_ends("abc", "abc") == (3, 0)
    assert defaults._shared_ends("xab", "yab") == (0, 2)
    assert defaults._shared_ends("", "ab") == (0, 0)
    suffixing = from_tsv(_tsv(tmp_path, [("Katze", "Katzen"), ("Hund", "Hunde"),
                                         ("Haus", "Häuser")], "s.tsv"),
                         _tsv(tmp_path, [("Maus", "Mäuse")], "v.tsv"))
    order, why = defaults.choose_target_order(suffixing)
    assert order == "right-to-left"
    assert "3.3 leading and 0.0 trailing" in why                # (5 + 4 + 1) / 3
    # one leading character in common is chance, not a copied stem (at least 2 needed)
    short = from_tsv(_tsv(tmp_path, [("ab", "ax"), ("cd", "cy"), ("ef", "ez")], "c.tsv"),
                     _tsv(tmp_path, [("gh", "gz")], "v.tsv"))
    assert defaults.choose_target_order(short)[0] == "left-to-right"
    # targets that copy their sources say nothing about where a change happens
    copies = from_tsv(_tsv(tmp_path, [("walk", "walk"), ("talk", "talk")], "i.tsv"))
    assert defaults.choose_target_order(copies)[0] == "left-to-right"
    mixed = from_tsv(_tsv(tmp_path, [("walk", "walk"), ("talk", "talked"), ("x", "x")], "m.tsv"),
                     _tsv(tmp_path, [("gh", "gz")], "v.tsv"))
    assert "4.0 leading and 0.0 trailing" in defaults.choose_target_order(mixed)[1]
    # characters to other characters (transliteration): nothing shared at either end
    other = from_tsv(_tsv(tmp_path, [("abc", "xyz"), ("ab", "yz")], "o.tsv"))
    assert defaults.choose_target_order(other)[0] == "left-to-right"
    prefixing = from_tsv(_tsv(tmp_path, [("pack", "unpack"), ("do", "undo")], "p.tsv"))
    assert defaults.choose_target_order(prefixing)[0] == "left-to-right"
    words = from_tsv(_tsv(tmp_path, [("Katze", "Katzen"), ("Hund", "Hunde")], "w.tsv"),
                     source_tokenizer="word", target_tokenizer="word")
    assert defaults.choose_target_order(words)[0] == "left-to-right"
    # letters to phonemes: no shared alphabet, no word-level targets written backwards
    assert defaults.choose_target_order(load_task("g2p", max_train_words=50))[0] == \
        "left-to-right"
    assert defaults.choose_target_order(load_task("past_tense"))[0] == "right-to-left"


def test_an_attention_that_reads_in_order_keeps_the_targets_in_order(tmp_path):
    # monotonic attention and local-m's window at p_t = t only move forward through the
    # source: written backwards, `walked` would align with `walk` backwards
    task = from_tsv(_tsv(tmp_path, [("walk", "walked"), ("talk", "talked"), ("hop", "hopped")],
                         "s.tsv"))
    for name in ("luong_monotonic_bilstm", "bahdanau_monotonic_gru", "luong_local_m_bilstm"):
        order, why = defaults.choose_target_order(task, model_name=name)
        assert order == "left-to-right", name
        assert f"{name}'s attention reads the source in order" in why
    # a free attention, and local-p (whose window moves where the state predicts), may reverse
    for name in ("luong_bilstm", "luong_local_p_bilstm", "copy_bilstm"):
        assert defaults.choose_target_order(task, model_name=name)[0] == "right-to-left", name
    # the layers say it: local attention by its mode
    assert LuongLocalAttention(mode="monotonic").reads_in_order
    assert not LuongLocalAttention(mode="predictive").reads_in_order
    assert LuongMonotonicAttention().reads_in_order and BahdanauMonotonicAttention(4).reads_in_order
    assert not LuongAttention().reads_in_order and not BahdanauAttention(4).reads_in_order


def test_train_keeps_an_in_order_attention_left_to_right(tmp_path, caplog):
    task = load_task("past_tense")
    task.splits["train"] = task.splits["train"][:64]
    task.splits["validation"] = task.splits["validation"][:8]
    kwargs = dict(epochs=1, model_kwargs={"units": 8, "embedding_dim": 8}, jit=False,
                  batch_size=32, verbose=0, max_eval_examples=4)
    config = recipe.train("luong_local_m_bilstm", task, str(tmp_path / "auto"), **kwargs,
                          target_order="auto")
    assert config["training"]["target_order"] == "left-to-right"
    assert "reads the source in order" in config["chosen"]["target_order"]["why"]
    # asked for explicitly, right to left is honoured, with a warning that says what it costs
    with caplog.at_level("WARNING", logger="keras_s2s"):
        config = recipe.train("luong_local_m_bilstm", task, str(tmp_path / "rtl"), **kwargs,
                              target_order="right-to-left")
    assert config["training"]["target_order"] == "right-to-left"
    assert "only moves forward through the source" in caplog.text


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt("simulated interruption after epoch 1")


def test_right_to_left_run_trains_on_backward_targets_and_decodes_forward(tmp_path, capsys):
    from keras_s2s import cli
    from keras_s2s.decoding import decode

    task = load_task("past_tense")
    task.splits["train"] = task.splits["train"][:256]
    task.splits["validation"] = task.splits["validation"][:16]
    out = str(tmp_path / "run")
    kwargs = dict(epochs=2, model_kwargs={"units": 16, "embedding_dim": 8}, jit=False,
                  batch_size=64, verbose=0, max_eval_examples=8)
    with pytest.raises(KeyboardInterrupt):
        recipe.train("luong_lstm", task, out, target_order="auto",
                     extra_callbacks=[_Interrupt()], **kwargs)
    # a resumed run keeps its order: another one given is refused, none given keeps it
    with pytest.raises(ValueError, match="target_order='right-to-left' \\(now "
                                         "'left-to-right'\\)"):
        recipe.train("luong_lstm", task, out, resume=True, target_order="left-to-right",
                     **kwargs)
    config = recipe.train("luong_lstm", task, out, resume=True, **kwargs)
    assert config["results"]["epochs_run"] == 2
    assert config["chosen"]["target_order"]["value"] == "right-to-left"
    assert config["training"]["target_order"] == "right-to-left"
    assert not task.target_tokenizer.reverse  # the caller's task is left as it was
    model, source_tokenizer, target_tokenizer, _ = recipe.load_run(out)
    assert target_tokenizer.reverse and not source_tokenizer.reverse
    # the labels it trained on: each target's ids backwards
    forward = task.target_tokenizer.encode("walked")
    backward = recipe.with_target_order(task, "right-to-left").encode_target(["walked"])[0]
    assert list(backward[:len(forward)]) == forward[::-1]
    # `keras-s2s decode` prints the model's ids turned back into the reading order
    sources = [e.source for e in task.splits["validation"][:6]]
    ids = decode(model, task.encode_source(sources), max_length=12).token_ids[:, 0]
    expected = [task.target_tokenizer.decode(list(row[row > 3])[::-1]) for row in
                [np.where(np.cumsum(r == 3) > 0, 0, r) for r in ids]]
    (tmp_path / "in.txt").write_text("\n".join(sources) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["decode", out, "--input", str(tmp_path / "in.txt"), "--max-length", "12",
                     "--no-jit"]) == 0
    assert capsys.readouterr().out.split("\n")[:6] == expected
    with pytest.raises(ValueError, match="is for seq2seq entries"):
        recipe.train("lstm_lm", task, str(tmp_path / "lm"), target_order="right-to-left")


@pytest.mark.slow
def test_a_small_task_run_publishes_the_average_of_its_last_epochs(tmp_path, monkeypatch):
    # with 2 default epochs and a budget of 10 steps, this 64-pair task (2 steps an epoch) is
    # a small task of 5 epochs
    monkeypatch.setattr(defaults, "DEFAULT_EPOCHS", 2)
    monkeypatch.setattr(defaults, "SMALL_TASK_STEPS", 10)
    task, weights, snapshot = _scripted(monkeypatch, [0.9, 0.1, 0.2, 0.3, 0.4, 0.5])
    config = recipe.train("vanilla_gru", task, str(tmp_path / "run"), epochs="auto",
                          schedule="auto", model_kwargs={"units": 8, "embedding_dim": 8},
                          jit=False, batch_size=32, verbose=0, keep_epochs=2,
                          metric="sequence_accuracy", extra_callbacks=[snapshot])
    assert config["training"]["epochs"] == 5 and config["chosen"]["final"]["value"] == "average"
    assert config["results"]["final"] == {"weights": "average", "epochs": [4, 5],
                                          "best_epoch": 1, "val_sequence_accuracy": 0.5}
    saved = keras.saving.load_model(str(tmp_path / "run" / "model.keras"), safe_mode=True)
    for k, got in enumerate(saved.get_weights()):
        want = (weights[4][k] + weights[5][k]) / 2
        if np.issubdtype(want.dtype, np.floating):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_final_follows_the_budget_and_refuses_what_cannot_be_averaged():
    assert defaults.choose_final("auto", True, 5) == ("average", defaults.choose_final(
        "auto", True, 5)[1]) and "last 5 epochs" in defaults.choose_final("auto", True, 5)[1]["why"]
    assert defaults.choose_final("auto", False, 5) == ("best", None)  # a task of any size
    assert defaults.choose_final("auto", True, 1)[0] == "best"       # one epoch: nothing to mean
    assert "too few" in defaults.choose_final("auto", True, 1)[1]["why"]
    assert defaults.choose_final("best", True, 5) == ("best", None)  # what the user gave
    assert defaults.choose_final("average", False, 2) == ("average", None)
    with pytest.raises(ValueError, match="`keep_epochs` is 0"):
        defaults.choose_final("average", False, 0)
    with pytest.raises(ValueError, match="must be one of"):
        defaults.choose_final("last", True, 5)


@pytest.mark.slow
def test_train_publishes_the_average_of_the_kept_epochs(tmp_path, monkeypatch):
    # epoch 1 is the best single epoch; the last value scores the mean
    task, weights, snapshot = _scripted(monkeypatch, [0.9, 0.1, 0.2, 0.3, 0.7])
    config = recipe.train("vanilla_gru", task, str(tmp_path / "run"), epochs=4, patience=None,
                          model_kwargs={"units": 8, "embedding_dim": 8}, jit=False,
                          metric="sequence_accuracy", batch_size=32, verbose=0, keep_epochs=3,
                          final="average", extra_callbacks=[snapshot],
                          log_dir=str(tmp_path / "logs"), num_sample_examples=0)
    final = config["results"]["final"]
    assert final == {"weights": "average", "epochs": [2, 3, 4], "best_epoch": 1,
                     "val_sequence_accuracy": 0.7}
    assert config["results"]["best_epoch"] == 1 and config["training"]["final"] == "average"
    saved = keras.saving.load_model(str(tmp_path / "run" / "model.keras"), safe_mode=True)
    for k, got in enumerate(saved.get_weights()):
        want = np.mean([weights[e][k] for e in (2, 3, 4)], axis=0)
        if np.issubdtype(want.dtype, np.floating):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    stored = json.loads((tmp_path / "run" / "config.json").read_text())
    assert stored["results"]["final"] == final and "final" not in stored["chosen"]
    # TensorBoard has the published average's value at its last epoch, beside the epochs'
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    events = EventAccumulator(str(tmp_path / "logs" / "validation"), size_guidance={"tensors": 0})
    events.Reload()
    [point] = events.Tensors("decode_sequence_accuracy_published_average")
    assert point.step == 4 and float(make_ndarray(point.tensor_proto)) == pytest.approx(0.7)
    assert len(events.Tensors("decode_sequence_accuracy")) == 4
