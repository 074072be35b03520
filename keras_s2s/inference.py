"""Inference graphs: an encoder model and a one-step decoder model from a trained zoo model.

`build_inference_models(model)` finds the trained layers by their stable names (never by
index), so it works the same on a freshly built model and on one reloaded with
`keras.saving.load_model`. Both graphs are functional models with dict inputs and outputs,
and save to `.keras` on their own.

The flat decoder state travels as `state_0 ... state_{n-1}`, each `(batch, size)`; attention
models also pass `memory` `(batch, source_len, memory_dim)`, `memory_mask`
`(batch, source_len)` and `attention_keys` `(batch, source_len, key_dim)`, which the encoder
computes once per source.
"""

import keras

from keras_s2s.layers import AttentionDecoder

_REQUIRED = ("encoder_token_ids", "decoder_token_ids", "decoder_embedding", "decoder", "logits")


def _layer(model, name):
    try:
        return model.get_layer(name)
    except ValueError:
        return None


def check_seq2seq_model(model):
    """Raise a `ValueError` unless `model` follows the keras_s2s seq2seq contract."""
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"Expected a keras_s2s seq2seq model (a keras.Model from keras_s2s.zoo.build), "
            f"got {type(model).__name__}.")
    missing = [n for n in _REQUIRED if _layer(model, n) is None]
    if missing:
        raise ValueError(
            f"Model '{model.name}' is not a keras_s2s seq2seq model: it has no layer(s) "
            f"{missing}. Expected a functional model from keras_s2s.zoo.build with inputs "
            "'encoder_token_ids' and 'decoder_token_ids' and the zoo's layer names "
            "('decoder_embedding', 'decoder', 'logits', ...).")
    return model


def has_attention(model):
    """Whether the model's decoder attends over the source (and so returns alignments)."""
    return isinstance(_layer(model, "decoder"), AttentionDecoder)


def state_names(n):
    return [f"state_{i}" for i in range(n)]


def _project(model, outputs):
    """Apply the model's output layers (bottleneck, projection or tied embedding, logits)."""
    bottleneck = _layer(model, "output_bottleneck")
    if bottleneck is not None:
        outputs = bottleneck(outputs)
    projection = _layer(model, "output_projection")
    if projection is not None:
        outputs = projection(outputs)
    else:
        outputs = model.get_layer("decoder_embedding")(outputs, reverse=True)
    return model.get_layer("logits")(outputs)


def _encoder_model(model):
    encoder_ids = model.get_layer("encoder_token_ids").output
    states = model.get_layer("bridge").output
    states = list(states) if isinstance(states, (list, tuple)) else [states]
    outputs = {}
    decoder = model.get_layer("decoder")
    if isinstance(decoder, AttentionDecoder):
        projection = _layer(model, "memory_projection")
        memory = projection.output if projection is not None else model.get_layer("encoder").output[0]
        mask = model.get_layer("source_mask").output
        memory, keys, states = decoder(None, memory, initial_state=states)
        outputs.update({"memory": memory, "memory_mask": mask, "attention_keys": keys})
    outputs.update(dict(zip(state_names(len(states)), states)))
    return keras.Model({"encoder_token_ids": encoder_ids}, outputs, name=f"{model.name}_encoder")


def _decoder_model(model, encoder_model):
    decoder = model.get_layer("decoder")
    specs = encoder_model.output
    token = keras.Input((1,), dtype="int32", name="decoder_token_ids")
    names = [k for k in specs if k.startswith("state_")]
    names.sort(key=lambda k: int(k.split("_")[1]))
    states = [keras.Input((specs[k].shape[-1],), name=k) for k in names]
    inputs = {"decoder_token_ids": token, **dict(zip(names, states))}
    y = model.get_layer("decoder_embedding")(token)  # (batch, 1, embedding_dim)
    outputs = {}
    if isinstance(decoder, AttentionDecoder):
        memory = keras.Input((None, specs["memory"].shape[-1]), name="memory")
        mask = keras.Input((None,), dtype="bool", name="memory_mask")
        keys = keras.Input((None, specs["attention_keys"].shape[-1]), name="attention_keys")
        inputs.update({"memory": memory, "memory_mask": mask, "attention_keys": keys})
        out, alignments, new_states = decoder(y, memory, memory_mask=mask, initial_state=states,
                                              keys=keys)
        outputs["alignments"] = keras.layers.Reshape((-1,), name="step_alignments")(alignments)
    else:
        from keras_s2s.zoo._components import pack_states

        out, *new_states = decoder(y, initial_state=pack_states(decoder.cell, states))
        new_states = list(keras.tree.flatten(new_states))
    logits = _project(model, out)
    vocab = logits.shape[-1]
    outputs["logits"] = keras.layers.Reshape((vocab,), name="step_logits")(logits)
    outputs.update(dict(zip(names, new_states)))
    return keras.Model(inputs, outputs, name=f"{model.name}_decoder_step")


def build_inference_models(model):
    """Derive `(encoder_model, decoder_model)` from a trained keras_s2s seq2seq model.

    Args:
        model: A model from `keras_s2s.zoo.build`, trained or not, fresh or reloaded.

    Returns:
        `(encoder_model, decoder_model)`:

        - `encoder_model({"encoder_token_ids"})` returns a dict with the initial decoder
          states `state_i` and, for attention models, `memory`, `memory_mask` and
          `attention_keys`;
        - `decoder_model({"decoder_token_ids": (batch, 1), "state_i": ..., ...})` does one
          step and returns a dict with `logits` `(batch, vocab)`, the new `state_i` and, for
          attention models, `alignments` `(batch, source_len)`.

        Both share the trained layers (and weights) with `model`.

    Example:

    >>> model = keras_s2s.zoo.build("luong_lstm", source_vocab_size=20, target_vocab_size=20,
    ...                             units=16)
    >>> encoder_model, decoder_model = build_inference_models(model)
    >>> sorted(encoder_model.output)
    ['attention_keys', 'memory', 'memory_mask', 'state_0', 'state_1', 'state_2']
    """
    check_seq2seq_model(model)
    encoder_model = _encoder_model(model)
    return encoder_model, _decoder_model(model, encoder_model)
