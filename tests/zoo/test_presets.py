"""The modern families from keras-hub presets: keras-hub's own models are the reference.

Each test saves a small random keras-hub backbone as a preset (`save_to_preset`, nothing is
downloaded), builds the zoo entry from it (`zoo.build(name, preset=path)`), and compares with
keras-hub's own task model on the same weights: the logits (teacher forcing) to 1e-5, and
greedy decoding through our inference graphs and key/value caches against a greedy loop that
re-runs keras-hub's full forward pass on the growing prefix. A keras-hub release that renames
or reshapes a layer that the mappings (`keras_s2s/zoo/{bart,t5,gpt2,roberta}.py`) or the T5
stacks (`keras_s2s/layers/t5.py`, which import keras-hub's unexported T5 blocks) rely on
fails here.
"""

import keras
import keras_hub
import numpy as np
import pytest

from keras_s2s import zoo
from keras_s2s.decoding import decode
from keras_s2s.inference import build_embedding_model

VOCAB, MAX_LENGTH = 23, 12
SIZES = dict(num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0)


def _preset(tmp_path, backbone):
    """Save `backbone` as a preset, after drawing every weight at random: a fresh backbone's
    norms are ones and zeros, which a mapping that skipped them would also get right."""
    rng = np.random.default_rng(7)
    for weight in backbone.weights:
        weight.assign(rng.normal(0.0, 0.4, weight.shape).astype("float32"))
    path = str(tmp_path / "preset")
    backbone.save_to_preset(path)
    return path


def _ids(seed, batch=3, length=7, pad_from=5):
    rng = np.random.default_rng(seed)
    ids = rng.integers(4, VOCAB, (batch, length)).astype("int32")
    ids[0, pad_from:] = 0
    return ids


def _next(logits):
    """The greedy choice from keras-hub's last-position logits, never <pad> or <s> (ids 0
    and 2), which `decode` does not emit."""
    last = np.array(logits[:, -1])
    last[:, [0, 2]] = -np.inf
    return last.argmax(-1)[:, None]


def _greedy_step(prefix, scores, logits):
    """One step of the reference greedy loop: the next tokens, and the scores (the sum of the
    chosen tokens' log-probabilities until each row's first </s>)."""
    chosen = _next(logits)
    last = logits[:, -1].astype("float64")
    log_probs = last - np.log(np.exp(last - last.max(-1, keepdims=True)).sum(-1,
                                                                             keepdims=True))
    log_probs -= last.max(-1, keepdims=True)
    ended = (prefix[:, 1:] == 3).any(axis=1)  # a row that has ended scores no more
    scores = scores + np.where(ended, 0.0, np.take_along_axis(log_probs, chosen, 1)[:, 0])
    return np.concatenate([prefix, chosen], axis=1), scores


def _until_end(rows):
    """Each row up to and including its first </s> (id 3)."""
    out = []
    for row in np.asarray(rows).tolist():
        out.append(row[:row.index(3) + 1] if 3 in row else row)
    return out


def _seq2seq_inputs(source, decoder):
    return {"encoder_token_ids": source, "encoder_padding_mask": (source != 0).astype("int32"),
            "decoder_token_ids": decoder, "decoder_padding_mask": np.ones_like(decoder)}


SEQ2SEQ = {
    "bart_small": (lambda **k: keras_hub.models.BartBackbone(
        vocabulary_size=VOCAB, max_sequence_length=MAX_LENGTH, **SIZES, **k),
        keras_hub.models.BartSeq2SeqLM),
    "t5_small": (lambda **k: keras_hub.models.T5Backbone(vocabulary_size=VOCAB, **SIZES, **k),
                 keras_hub.models.T5Seq2SeqLM),
}


@pytest.mark.parametrize("name, options", [
    ("bart_small", {}),
    ("t5_small", {}),  # T5: relu, tied output scaled by width^-0.5
    pytest.param("t5_small", {"use_gated_activation": True, "activation": "gelu",
                              "tie_embedding_weights": False},  # T5 v1.1
                 marks=pytest.mark.extended),
])
def test_seq2seq_preset_equals_keras_hub(name, options, tmp_path):
    make_backbone, task_class = SEQ2SEQ[name]
    backbone = make_backbone(**options)
    model = zoo.build(name, preset=_preset(tmp_path, backbone))
    reference = task_class(backbone=backbone, preprocessor=None)
    source, target = _ids(0), _ids(1, length=6, pad_from=6)
    target[:, 0] = 2
    ours = keras.ops.convert_to_numpy(model({"encoder_token_ids": source,
                                             "decoder_token_ids": target}))
    theirs = keras.ops.convert_to_numpy(reference(_seq2seq_inputs(source, target)))
    np.testing.assert_allclose(ours, theirs, atol=1e-5)

    # greedy decoding with our graphs and caches = greedy on keras-hub's full forward pass
    steps = 6
    prefix = np.full((len(source), 1), 2, "int32")
    scores = np.zeros(len(source))
    for _ in range(steps):
        logits = keras.ops.convert_to_numpy(reference(_seq2seq_inputs(source, prefix)))
        prefix, scores = _greedy_step(prefix, scores, logits)
    result = decode(model, source, max_length=steps, jit=False)
    assert _until_end(result.token_ids[:, 0, :steps]) == [
        r + [0] * (steps - len(r)) if 3 in r else r for r in _until_end(prefix[:, 1:])]
    np.testing.assert_allclose(result.log_probs[:, 0], scores, atol=1e-4)
    # beam search with the GNMT penalties and n-best runs on the same graphs
    beams = decode(model, source, method="beam", beam_width=3, num_return_sequences=2,
                   length_penalty=0.6, max_length=steps, jit=False)
    assert beams.token_ids.shape[:2] == (len(source), 2)


def test_gpt2_preset_equals_keras_hub(tmp_path):
    backbone = keras_hub.models.GPT2Backbone(vocabulary_size=VOCAB,
                                             max_sequence_length=MAX_LENGTH, **SIZES)
    model = zoo.build("gpt2_lm", preset=_preset(tmp_path, backbone))
    reference = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    ids = _ids(2, pad_from=7)
    ids[:, 0] = 2
    ours = keras.ops.convert_to_numpy(model({"token_ids": ids}))
    theirs = keras.ops.convert_to_numpy(reference({"token_ids": ids,
                                                   "padding_mask": np.ones_like(ids)}))
    np.testing.assert_allclose(ours, theirs, atol=1e-5)

    prompt, steps = ids[:, 1:3], 5
    prefix, scores = ids[:, :3], np.zeros(len(ids))
    for _ in range(steps):
        logits = keras.ops.convert_to_numpy(
            reference({"token_ids": prefix, "padding_mask": np.ones_like(prefix)}))
        prefix, scores = _greedy_step(prefix, scores, logits)
    result = decode(model, prompt, max_length=steps + 2, jit=False)
    # the LM's token_ids hold the prompt and its continuation
    assert _until_end(result.token_ids[:, 0, 2:steps + 2]) == _until_end(prefix[:, 3:])
    np.testing.assert_allclose(result.log_probs[:, 0], scores, atol=1e-4)


def test_roberta_preset_equals_keras_hub(tmp_path):
    backbone = keras_hub.models.RobertaBackbone(vocabulary_size=VOCAB,
                                                max_sequence_length=MAX_LENGTH, **SIZES)
    model = zoo.build("roberta_mlm", preset=_preset(tmp_path, backbone))
    ids = _ids(3)
    ours = keras.ops.convert_to_numpy(
        build_embedding_model(model)({"token_ids": ids})["sequence_output"])
    theirs = keras.ops.convert_to_numpy(
        backbone({"token_ids": ids, "padding_mask": (ids != 0).astype("int32")}))
    np.testing.assert_allclose(ours[ids != 0], theirs[ids != 0], atol=1e-5)
    # the head's output matrix starts as the token embedding (RoBERTa ties them)
    head = model.get_layer("mlm_head")
    kernel = next(w for w in head.weights if w.path.endswith("output_kernel"))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(kernel),
                                  backbone.token_embedding.get_weights()[0].T)


@pytest.mark.extended  # make test-all: the registry's checks fit, save and reload t5_small
def test_a_preset_model_trains_saves_and_reloads(tmp_path):
    backbone = keras_hub.models.T5Backbone(vocabulary_size=VOCAB, **SIZES)
    model = zoo.build("t5_small", preset=_preset(tmp_path, backbone))
    source, target = _ids(4), _ids(5, length=5, pad_from=5)
    x = {"encoder_token_ids": source, "decoder_token_ids": np.concatenate(
        [np.full((3, 1), 2, "int32"), target[:, :-1]], axis=1)}
    from keras_s2s.losses import MaskedSparseCategoricalCrossentropy

    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss=MaskedSparseCategoricalCrossentropy(), jit_compile=False)
    first = model.train_on_batch(x, target, return_dict=True)["loss"]
    for _ in range(60):
        last = model.train_on_batch(x, target, return_dict=True)["loss"]
    assert last < 0.5 * first
    path = str(tmp_path / "fine_tuned.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(x)),
                               keras.ops.convert_to_numpy(model(x)), atol=1e-6)


def test_preset_errors_are_one_line(tmp_path):
    with pytest.raises(ValueError, match="local keras-hub preset directory"):
        zoo.build("bart_small", preset=str(tmp_path / "missing"))
    backbone = keras_hub.models.GPT2Backbone(vocabulary_size=VOCAB,
                                             max_sequence_length=MAX_LENGTH, **SIZES)
    path = _preset(tmp_path, backbone)
    with pytest.raises(ValueError, match="holds a GPT2Backbone; 'bart_small' loads a "
                                         "BartBackbone"):
        zoo.build("bart_small", preset=path)
    with pytest.raises(ValueError, match="drop hidden_dim"):
        zoo.build("gpt2_lm", preset=path, hidden_dim=32)
    with pytest.raises(ValueError, match="takes no `preset`.*bart_small, gpt2_lm, "
                                         "roberta_mlm, t5_small"):
        zoo.build("luong_bilstm", preset=path)
