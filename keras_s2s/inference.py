"""Inference graphs: an encoder model and a one-step decoder model from a trained zoo model.

`build_inference_models(model)` finds the trained layers by their stable names (never by
index), so it works the same on a freshly built model and on one reloaded with
`keras.saving.load_model`. Both graphs are functional models with dict inputs and outputs,
and save to `.keras` on their own.

The decoder state travels as `state_0 ... state_{n-1}`; everything else the encoder graph
returns is a per-source constant that the step reads:

- recurrent decoders: each state is `(batch, size)`; attention models also pass `memory`
  `(batch, source_len, memory_dim)`, `memory_mask` `(batch, source_len)` and
  `attention_keys` `(batch, source_len, key_dim [+ attention_layer_size])`, which the
  encoder computes once per source (the decoder's prepared keys: the attention's keys, then,
  for Luong's attentional layer, the memory folded into its context half);
  a pointer-generator (a `copy` layer, `keras_s2s.zoo.copy_seq2seq`) also passes the
  `source_token_ids` `(batch, source_len)` that its step copies from;
- Transformer decoders (any decoder with key/value caches: `TransformerDecoderStack`,
  `T5DecoderStack`): `state_0` is the int32 position `(batch,)` and `state_1..L` the
  self-attention key/value caches `(batch, 2, cache_len, heads, head_dim)`, one per block;
  the constants are `memory_mask` and the cross-attention caches `cross_cache_i`
  `(batch, 2, source_len, heads, head_dim)`, computed once per source;
- decoder-only language models (input `token_ids`): the "encoder" graph only makes the zero
  initial state for a batch of prompts.
"""

import keras

from keras_s2s import kinds
from keras_s2s.constants import COPY
from keras_s2s.layers import AttentionDecoder, ExtendedIdsToUnk, ZeroState
from keras_s2s.layers.transformer import TransformerDecoderCall

_STEP_LAYERS = ("decoder_embedding", "decoder", "logits")


def find_layer(model, name):
    """The layer of `model` called `name`, or None (zoo models use the stable names of
    `keras_s2s.constants`).

    Example:

    >>> find_layer(model, "posterior") is None   # not a VAE
    True
    """
    try:
        return model.get_layer(name)
    except ValueError:
        return None


_layer = find_layer


def decoder_kind(model):
    """The `keras_s2s.kinds.Kind` of a model with a step decoder (seq2seq or LM).

    A model whose kind has no decoder (a masked LM, `dense_autoencoder`) raises a
    `ValueError` that says what to use instead; a model that matches no kind counts as
    seq2seq, so that `check_seq2seq_model` names its missing layers.
    """
    try:
        kind = kinds.of(model)
    except ValueError:
        return kinds.get("seq2seq")
    if not kind.has_decoder:
        raise ValueError(kind.no_decoder_message(model))
    return kind


def check_seq2seq_model(model):
    """Raise a `ValueError` unless `model` is a keras_s2s model with a decoder: a seq2seq
    model or a decoder-only language model from `keras_s2s.zoo.build`."""
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"Expected a keras_s2s seq2seq model (a keras.Model from keras_s2s.zoo.build), "
            f"got {type(model).__name__}.")
    kind = decoder_kind(model)
    required = [spec.name for spec in kind.inputs] + list(_STEP_LAYERS)
    missing = [n for n in required if _layer(model, n) is None]
    if missing:
        raise ValueError(
            f"Model '{model.name}' is not a keras_s2s seq2seq model: it has no layer(s) "
            f"{missing}. Expected a functional model from keras_s2s.zoo.build with inputs "
            "'encoder_token_ids' and 'decoder_token_ids' (or 'token_ids' for a language "
            "model) and the zoo's layer names ('decoder_embedding', 'decoder', 'logits', ...).")
    return model


def _is_transformer(decoder):
    """Whether the decoder steps with key/value caches (`TransformerDecoderStack`,
    `T5DecoderStack`: the `caches_keys_and_values` protocol)."""
    return bool(getattr(decoder, "caches_keys_and_values", False))


def has_attention(model):
    """Whether the model's decoder attends over the source (and so returns alignments)."""
    decoder = _layer(model, "decoder")
    return isinstance(decoder, AttentionDecoder) or (
        _is_transformer(decoder) and decoder.cross_attention)


def has_kv_cache(model):
    """Whether the decoder steps with key/value caches (a Transformer decoder)."""
    return _is_transformer(_layer(model, "decoder"))


def input_vocabulary_size(model):
    """The vocabulary of what the model reads: the source (seq2seq) or the text (LM)."""
    layer = _layer(model, "encoder_embedding") or model.get_layer("decoder_embedding")
    return layer.input_dim


def max_decode_length(model):
    """The longest output the decoder can produce (its cache size), or None for no limit."""
    decoder = _layer(model, "decoder")
    return decoder.max_length if _is_transformer(decoder) else None


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


def _zero_states(decoder, reference):
    """The initial states of a decoder that starts from nothing (LMs, Transformer caches)."""
    if _is_transformer(decoder):
        shapes = [()] + [decoder.cache_shape] * decoder.num_layers
        dtypes = ["int32"] + [decoder.compute_dtype] * decoder.num_layers
    else:
        from keras_s2s.zoo._components import flat_state_sizes

        shapes = [(size,) for size in flat_state_sizes(decoder.cell)]
        dtypes = decoder.compute_dtype
    return ZeroState(shapes, dtypes, name="initial_state")(reference)


def _encoder_model(model):
    decoder = model.get_layer("decoder")
    if decoder_kind(model).continues_prompt:  # a decoder-only LM: no encoder
        ids = model.get_layer("token_ids").output
        states = _zero_states(decoder, ids)
        return keras.Model({"token_ids": ids}, dict(zip(state_names(len(states)), states)),
                           name=f"{model.name}_start")
    encoder_ids = model.get_layer("encoder_token_ids").output
    outputs = {}
    if _is_transformer(decoder):
        memory = model.get_layer("encoder").output
        mask = model.get_layer("source_mask").output
        caches = TransformerDecoderCall(decoder, "prepare", name="cross_caches")(memory, mask)
        outputs["memory_mask"] = mask
        outputs.update({f"cross_cache_{i}": c for i, c in enumerate(caches)})
        states = _zero_states(decoder, encoder_ids)
    elif _layer(model, "posterior") is not None:
        # a VAE decodes from its posterior mean, which needs only the encoder's features (the
        # posterior's second input, the target ids, only scales its KL loss)
        posterior = model.get_layer("posterior")
        states = list(model.get_layer("bridge")([posterior.mean(posterior.input[0])]))
    else:
        states = model.get_layer("bridge").output
        states = list(states) if isinstance(states, (list, tuple)) else [states]
    if isinstance(decoder, AttentionDecoder):
        from keras_s2s.zoo._components import attention_memory

        memory = attention_memory(model)
        mask = model.get_layer("source_mask").output
        memory, keys, states = decoder(None, memory, initial_state=states)
        outputs.update({"memory": memory, "memory_mask": mask, "attention_keys": keys})
    if _layer(model, COPY) is not None:
        # a pointer-generator copies source tokens: its step reads the source ids
        outputs["source_token_ids"] = keras.layers.Identity(name="copy_source_ids")(encoder_ids)
    outputs.update(dict(zip(state_names(len(states)), states)))
    return keras.Model({"encoder_token_ids": encoder_ids}, outputs, name=f"{model.name}_encoder")


def _input_like(spec, name, free_axis=None):
    """A `keras.Input` shaped like `spec` without its batch axis (`free_axis` left open)."""
    shape = list(spec.shape[1:])
    if free_axis is not None:
        shape[free_axis] = None
    return keras.Input(tuple(shape), dtype=spec.dtype, name=name)


def _decoder_model(model, encoder_model):
    decoder = model.get_layer("decoder")
    transformer = _is_transformer(decoder)
    specs = encoder_model.output
    token = keras.Input((1,), dtype="int32", name="decoder_token_ids")
    names = [k for k in specs if k.startswith("state_")]
    names.sort(key=lambda k: int(k.split("_")[1]))
    # a cache's length axis stays open, so that `decode` can trim it to `max_length`
    states = [_input_like(specs[k], k, 1 if transformer and k != "state_0" else None)
              for k in names]
    inputs = {"decoder_token_ids": token, **dict(zip(names, states))}
    copy = _layer(model, COPY)
    fed = token
    if copy is not None and copy.extended:  # a copied unknown word is read back as <unk>
        fed = ExtendedIdsToUnk(copy.target_vocab_size, name="extended_ids")(token)
    y = model.get_layer("decoder_embedding")(fed)  # (batch, 1, embedding_dim)
    outputs = {}
    alignments = None
    if transformer:
        constants = {k: _input_like(v, k, 0 if k == "memory_mask" else 1)
                     for k, v in specs.items() if not k.startswith("state_")}
        inputs.update(constants)
        step = TransformerDecoderCall(decoder, "step", name="decoder_step")
        if decoder.cross_attention:
            caches = [constants[f"cross_cache_{i}"] for i in range(decoder.num_layers)]
            out, new_states, alignments = step(y, states, memory_mask=constants["memory_mask"],
                                               cross_caches=caches)
        else:
            out, new_states = step(y, states)
    elif isinstance(decoder, AttentionDecoder):
        memory = keras.Input((None, specs["memory"].shape[-1]), name="memory")
        mask = keras.Input((None,), dtype="bool", name="memory_mask")
        keys = keras.Input((None, specs["attention_keys"].shape[-1]), name="attention_keys")
        inputs.update({"memory": memory, "memory_mask": mask, "attention_keys": keys})
        out, alignments, new_states = decoder(y, memory, memory_mask=mask, initial_state=states,
                                              keys=keys)
    else:
        from keras_s2s.zoo._components import pack_states

        out, *new_states = decoder(y, initial_state=pack_states(decoder.cell, states))
        new_states = list(keras.tree.flatten(new_states))
    if alignments is not None:
        outputs["alignments"] = keras.layers.Reshape((-1,), name="step_alignments")(alignments)
    logits = _project(model, out)
    if copy is not None:  # mix in copying: log P(w) over the vocabulary (see CopyMixture)
        source_ids = keras.Input((None,), dtype="int32", name="source_token_ids")
        inputs["source_token_ids"] = source_ids
        logits = copy(logits, alignments, memory, out, y, source_ids)
    vocab = logits.shape[-1]  # None for an extended vocabulary (it grows with the source)
    outputs["logits"] = keras.layers.Reshape((vocab or -1,), name="step_logits")(logits)
    outputs.update(dict(zip(names, new_states)))
    return keras.Model(inputs, outputs, name=f"{model.name}_decoder_step")


class InferenceModels(tuple):
    """`(encoder_model, decoder_model)`, and all that `decode` needs to know about them.

    A tuple, so `encoder_model, decoder_model = build_inference_models(model)` still works;
    its attributes answer, once, the questions `decode` used to ask the model one by one.

    Attributes:
        encoder_model: The encoder (or, for an LM, start) graph.
        decoder_model: The one-step decoder graph.
        kind: The model's `keras_s2s.kinds.Kind`.
        input_vocabulary_size: The vocabulary of what the model reads (source or prompt).
        output_vocabulary_size: The size of the step's logits.
        max_length: The longest output the decoder can produce (a Transformer's cache), or
            None for no limit.
        attention: Whether the step returns `alignments` over the source.
        kv_cache: Whether the decoder steps with key/value caches (`state_1..`).
        state_names: The decoder state names, `state_0 ... state_{n-1}`.
        constant_names: The per-source constants the encoder graph returns beside the states.

    Example:

    >>> graphs = build_inference_models(model)
    >>> encoder_model, decoder_model = graphs
    >>> graphs.attention, graphs.max_length
    (True, None)
    """

    def __new__(cls, encoder_model, decoder_model, **attributes):
        self = super().__new__(cls, (encoder_model, decoder_model))
        self.__dict__.update(attributes)
        return self

    @property
    def encoder_model(self):
        return self[0]

    @property
    def decoder_model(self):
        return self[1]


def build_inference_models(model):
    """Derive `(encoder_model, decoder_model)` from a trained keras_s2s seq2seq model.

    Args:
        model: A model from `keras_s2s.zoo.build`, trained or not, fresh or reloaded.

    Returns:
        An `InferenceModels`, the tuple `(encoder_model, decoder_model)` with the facts
        `decode` needs as attributes (kind, vocabulary sizes, length limit, attention, caches,
        state names):

        - `encoder_model({"encoder_token_ids"})` (`{"token_ids"}` for a language model)
          returns a dict with the initial decoder states `state_i` and the per-source
          constants (see the module docstring);
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
    decoder_model = _decoder_model(model, encoder_model)
    states = sorted((k for k in encoder_model.output if k.startswith("state_")),
                    key=lambda k: int(k.split("_")[1]))
    return InferenceModels(
        encoder_model, decoder_model, kind=decoder_kind(model),
        input_vocabulary_size=input_vocabulary_size(model),
        output_vocabulary_size=decoder_model.output["logits"].shape[-1],
        max_length=max_decode_length(model), attention=has_attention(model),
        kv_cache=has_kv_cache(model), state_names=states,
        constant_names=[k for k in encoder_model.output if not k.startswith("state_")])


def build_embedding_model(model):
    """The encoder of a zoo model as a model of its own: contextual embeddings per token.

    For a masked LM (`bert_mlm`) these are the representations to use downstream; for a
    seq2seq model they are the encoder memory the decoder attends to.

    Args:
        model: A seq2seq model or a masked LM from `keras_s2s.zoo.build`.

    Returns:
        A functional `keras.Model` from `{"token_ids"}` (masked LM) or
        `{"encoder_token_ids"}` (seq2seq) to `{"sequence_output": (batch, length, width),
        "padding_mask": (batch, length)}`, sharing the trained weights.

    Example:

    >>> model = keras_s2s.zoo.build("bert_mlm", vocab_size=31, hidden_dim=32, num_heads=2,
    ...                             intermediate_dim=64, num_layers=1)
    >>> embedder = build_embedding_model(model)
    >>> out = embedder({"token_ids": np.array([[2, 5, 6, 3]])})
    >>> tuple(out["sequence_output"].shape)
    (1, 4, 32)
    """
    name = next((n for n in ("encoder_token_ids", "token_ids")
                 if _layer(model, n) is not None), None)
    if name is None or _layer(model, "encoder") is None:
        raise ValueError(f"Model '{model.name}' has no encoder (a decoder-only LM's states "
                         "come from keras_s2s.inference.build_inference_models).")
    ids = model.get_layer(name).output
    encoder = model.get_layer("encoder")
    output = encoder.output
    if isinstance(output, (list, tuple)):  # recurrent encoders also return their states
        output = output[0]
    from keras_s2s.layers import PaddingMask

    mask = _layer(model, "source_mask")
    mask = mask.output if mask is not None else PaddingMask(name="padding_mask")(ids)
    return keras.Model({name: ids}, {"sequence_output": output, "padding_mask": mask},
                       name=f"{model.name}_embeddings")
