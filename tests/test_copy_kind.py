"""The copy kind (`pointer_generator`): extended-vocabulary labels, decoding copied words back
to the source's strings, and the unseen-word task that only copying can solve."""

import json

import keras
import numpy as np
import pytest

from keras_s2s import kinds
from keras_s2s.cli import main
from keras_s2s.constants import BOS_ID, EOS_ID, UNK_ID
from keras_s2s.data import load_task
from keras_s2s.data.task import Example, Task
from keras_s2s.data.tokenizers import WordTokenizer
from keras_s2s.decoding import decode
from keras_s2s.evaluation import evaluate, normalize_reference
from keras_s2s.inference import build_inference_models
from keras_s2s.text_metrics import unseen_token_accuracy
from keras_s2s.training.recipe import build_for_task, compile_model


def _toy():
    examples = [Example("call bob on 12", "phone 12 : bob"), Example("call al on 7", "phone 7 : al")]
    return Task("toy", {"train": examples, "validation": examples, "test": examples},
                WordTokenizer(["call", "on"]), WordTokenizer(["phone", ":"]))


def test_labels_point_unknown_target_words_at_their_first_source_position():
    task = _toy()
    size = task.target_tokenizer.vocabulary_size  # 6: the specials, "phone", ":"
    # "12" is source token 3, "bob" source token 1; known words keep their ids
    assert task.extended_labels("call bob on 12", "phone 12 : bob") == [4, size + 3, 5, size + 1]
    assert task.extended_labels("call bob on bob", "bob") == [size + 1]  # the first one
    assert task.extended_labels("call bob", "zed") == [UNK_ID]  # not in the source: <unk>
    x, y = next(iter(task.copy_dataset("train", batch_size=2, shuffle=False)))
    labels = y.numpy().tolist()
    assert [size + 3 in row and size + 1 in row for row in labels] == [True, True]
    # the decoder reads <unk> where the label copies: as the paper's decoder does
    assert x["decoder_token_ids"].numpy()[0].tolist()[:2] == [BOS_ID, 4]
    assert UNK_ID in x["decoder_token_ids"].numpy()[0].tolist()
    assert max(max(r) for r in labels) < size + x["encoder_token_ids"].shape[1]


def test_decoding_maps_copied_ids_back_to_the_source_words():
    task = _toy()
    assert task.target_tokenizer.decode_extended([4, 6 + 3, 5, 6 + 1, EOS_ID, 0],
                                                 ["call", "bob", "on", "12"]) == "phone 12: bob"
    # references keep their unknown words, so that writing <unk> is never credited
    assert normalize_reference(task, "phone 12 : bob") == "phone 12: bob"
    assert unseen_token_accuracy(["phone <unk> : bob"], ["phone 12 : bob"],
                                 task.target_tokenizer.vocabulary) == 0.5


@pytest.mark.parametrize("coverage", [False, True])
def test_the_step_graph_equals_the_full_model_with_copied_words_fed_back(coverage):
    keras.utils.set_random_seed(0)
    task = _toy()
    model = build_for_task("pointer_generator", task, units=8, embedding_dim=8,
                           coverage=coverage)
    assert kinds.of(model).name == "copy_seq2seq"
    ids = task.encode_source(["call bob on 12", "call al on 7"])
    size = task.target_tokenizer.vocabulary_size
    fed = np.array([[BOS_ID, 4, size + 3, 5], [BOS_ID, size + 1, 4, 5]], "int32")
    full = keras.ops.convert_to_numpy(model({"encoder_token_ids": ids,
                                             "decoder_token_ids": np.where(fed >= size, UNK_ID,
                                                                           fed)}))
    assert full.shape == (2, 4, size + ids.shape[1])
    encoder_model, decoder_model = build_inference_models(model)
    out = encoder_model({"encoder_token_ids": ids})
    states = {k: v for k, v in out.items() if k.startswith("state_")}
    constants = {k: v for k, v in out.items() if not k.startswith("state_")}
    for t in range(fed.shape[1]):  # the step reads an extended id as <unk>
        step = decoder_model({"decoder_token_ids": keras.ops.convert_to_tensor(fed[:, t:t + 1]),
                              **states, **constants})
        np.testing.assert_allclose(keras.ops.convert_to_numpy(step["logits"]), full[:, t],
                                   atol=1e-4)
        states = {k: step[k] for k in states}


@pytest.mark.slow
def test_only_the_pointer_generator_gets_unseen_words_right():
    task = load_task("copy_templates", num_train=1500, num_validation=100, num_test=100)
    scores = {}
    for name in ("pointer_generator", "luong_bilstm"):
        keras.utils.set_random_seed(0)
        model = compile_model(build_for_task(name, task, units=32, embedding_dim=16),
                              learning_rate=1e-2, jit=False)
        model.fit(kinds.of(model).dataset(task, "train", 64), epochs=4, verbose=0)
        scores[name], details = evaluate(model, task, "test", verbose=False, jit=False)
    # every test filler is a word or number never seen in training
    assert scores["pointer_generator"]["unseen_token_accuracy"] >= 0.95, scores
    assert scores["luong_bilstm"]["unseen_token_accuracy"] == 0.0, scores
    assert scores["luong_bilstm"]["sequence_accuracy"] == 0.0  # <unk> is never credited


@pytest.mark.slow
def test_the_cli_trains_and_decodes_a_pointer_generator(tmp_path, capsys):
    rows = [f"call {w} on {n}\tphone {n} : {w}" for w, n in
            zip(["ann", "bo", "cy", "di", "ed", "flo", "gus", "hal"] * 40, range(320))]
    (tmp_path / "train.tsv").write_text("\n".join(rows[:300]) + "\n")
    (tmp_path / "validation.tsv").write_text("\n".join(rows[300:]) + "\n")
    run = str(tmp_path / "run")
    assert main(["train", "pointer_generator", "--train", str(tmp_path / "train.tsv"),
                 "--validation", str(tmp_path / "validation.tsv"), "--out", run,
                 "--source-tokenizer", "word", "--target-tokenizer", "word", "--epochs", "2",
                 "--units", "16", "--no-jit"]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["kind"] == "copy_seq2seq"
    (tmp_path / "in.txt").write_text("call zelda on 99999\n")
    capsys.readouterr()
    assert main(["decode", run, "--input", str(tmp_path / "in.txt"), "--no-jit"]) == 0
    out = capsys.readouterr().out.strip()
    # both fillers are unknown to the run's vocabularies: only copying can write them
    assert "zelda" in out.split() or "99999" in out.split(), out


def test_coverage_adds_its_loss_and_decodes_with_the_coverage_in_the_beam_state():
    from keras_s2s import losses

    keras.utils.set_random_seed(0)
    task = _toy()
    model = build_for_task("pointer_generator", task, units=8, embedding_dim=8, coverage=True,
                           coverage_loss_weight=2.0, dropout=0.0)
    assert type(model.get_layer("decoder").attention).__name__ == "CoverageAttention"
    x, y = next(iter(task.copy_dataset("train", batch_size=2, shuffle=False)))
    x = {k: v.numpy() for k, v in x.items()}
    y = y.numpy()
    logits = model(x)
    cross_entropy = float(losses.MaskedSparseCategoricalCrossentropy()(y, logits))
    coverage = float(model.losses[0])
    assert coverage > 0  # a fresh attention revisits positions
    model.compile(optimizer="adam", loss=losses.MaskedSparseCategoricalCrossentropy(),
                  jit_compile=False)
    first = model.train_on_batch(x, y, return_dict=True)["loss"]
    np.testing.assert_allclose(first, cross_entropy + coverage, rtol=1e-4)
    result = decode(model, ["call bob on 12"], "beam", beam_width=3, task=task, jit=False,
                    verbose=False)
    assert len(result.texts[0]) == 1
