"""Transformer encoder and decoder stacks on keras-hub's `TransformerEncoder`/`TransformerDecoder`.

Each stack owns the position encoding (keras-hub's `SinePositionEncoding` or
`PositionEmbedding`), the embedding scale and dropout, the keras-hub blocks and, for pre-LN
stacks, the final layer norm, so that the zoo can treat a whole Transformer side as one
layer, as it treats a recurrent encoder or an `AttentionDecoder`.

The decoder stack has three call modes, all inside one layer so that the trained weights are
shared by the training model and both inference graphs:

- full (teacher forcing): `decoder(x, memory, memory_mask=, padding_mask=)`;
- prepare: `decoder(None, memory, memory_mask=)` returns the cross-attention key/value cache
  of every block, computed once per source;
- step: `decoder(x_t, memory_mask=, states=[step, *self_caches], cross_caches=)` runs one
  position with keras-hub's key/value caches and returns the updated states (and the
  cross-attention weights). Nothing of the prefix is recomputed.
"""

import math

import keras
from keras import ops

from keras_s2s.layers._checks import check_choice, check_positive_int, check_rate

POSITIONS = ("sinusoidal", "learned")


@keras.saving.register_keras_serializable(package="keras_s2s")
def gelu_approximate(x):
    """GELU with the tanh approximation (GPT-2's `gelu_new`): an activation for the stacks.

    Example:

    >>> float(gelu_approximate(np.float32(1.0)))  # doctest: +ELLIPSIS
    0.841...
    """
    return keras.activations.gelu(x, approximate=True)


def _activation(name):
    """A stack's `activation` by name: Keras' own, or `"gelu_approximate"`."""
    return gelu_approximate if name == "gelu_approximate" else name


def _position_layer(position, max_length, name):
    import keras_hub

    if position == "learned":
        return keras_hub.layers.PositionEmbedding(max_length, name=name)
    return keras_hub.layers.SinePositionEncoding(name=name)


def check_alignment(alignment_layer, alignment_head, num_layers, num_heads):
    """`(alignment_layer, alignment_head)` of a cached decoder stack, checked: which block's
    cross-attention gives the alignments, and which head (None: their mean)."""
    if not -num_layers <= int(alignment_layer) < num_layers:
        raise ValueError(f"`alignment_layer` must index one of the {num_layers} "
                         f"blocks. Received: alignment_layer={alignment_layer}")
    if alignment_head is not None and not 0 <= int(alignment_head) < num_heads:
        raise ValueError(f"`alignment_head` must be None (the mean over heads) or in "
                         f"[0, {num_heads}). Received: alignment_head={alignment_head}")
    return int(alignment_layer), None if alignment_head is None else int(alignment_head)


class _TransformerStack(keras.layers.Layer):
    """What both stacks share: arguments, position encoding, embedding scale and dropout."""

    def __init__(self, num_layers, num_heads, intermediate_dim, dropout=0.1,
                 normalize_first=False, position="sinusoidal", max_length=256,
                 scale_embeddings=True, activation="relu", layer_norm_epsilon=1e-5,
                 embedding_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.intermediate_dim = check_positive_int("intermediate_dim", intermediate_dim)
        self.dropout = check_rate("dropout", dropout)
        self.normalize_first = bool(normalize_first)
        self.position = check_choice("position", position, POSITIONS)
        self.max_length = check_positive_int("max_length", max_length)
        self.scale_embeddings = bool(scale_embeddings)
        self.activation = activation
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.position_encoding = _position_layer(self.position, self.max_length, "position")
        self.embedding_norm = (keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="embedding_norm") if embedding_norm else None)
        self.embedding_dropout = keras.layers.Dropout(self.dropout, name="embedding_dropout")
        self.final_norm = (keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon,
                                                           name="final_norm")
                           if self.normalize_first else None)
        self.supports_masking = False

    def _check_width(self, hidden_dim):
        if hidden_dim is None or hidden_dim % self.num_heads:
            raise ValueError(
                f"The model width ({hidden_dim}) must be a multiple of `num_heads` "
                f"({self.num_heads}): each head gets hidden_dim / num_heads features.")
        self.hidden_dim = int(hidden_dim)
        self.head_dim = self.hidden_dim // self.num_heads

    def _build_common(self, shape):
        self.position_encoding.build(shape)
        if self.embedding_norm is not None:
            self.embedding_norm.build(shape)
        if self.final_norm is not None:
            self.final_norm.build(shape)

    def _embed(self, x, start_index=0, training=None):
        if self.scale_embeddings:
            x = x * ops.cast(math.sqrt(self.hidden_dim), x.dtype)
        x = x + ops.cast(self.position_encoding(x, start_index=start_index), x.dtype)
        if self.embedding_norm is not None:
            x = self.embedding_norm(x)
        return self.embedding_dropout(x, training=training)

    def _finish(self, x):
        return self.final_norm(x) if self.final_norm is not None else x

    def get_config(self):
        return {**super().get_config(), "num_layers": self.num_layers,
                "num_heads": self.num_heads, "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout, "normalize_first": self.normalize_first,
                "position": self.position, "max_length": self.max_length,
                "scale_embeddings": self.scale_embeddings, "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "embedding_norm": self.embedding_norm is not None}


@keras.saving.register_keras_serializable(package="keras_s2s")
class TransformerEncoderStack(_TransformerStack):
    """A stack of keras-hub `TransformerEncoder` blocks with position encoding.

    `x · sqrt(d) + position → (layer norm) → dropout → blocks → (final layer norm when
    pre-LN)`.

    Args:
        num_layers: Number of encoder blocks.
        num_heads: Attention heads; the width of the inputs must be a multiple of it.
        intermediate_dim: Width of the feed-forward sublayer.
        dropout: Dropout of the embeddings, attention weights and sublayer outputs.
        normalize_first: Pre-LN blocks (Xiong et al., 2020) with a final layer norm; the
            default is the post-LN Transformer of Vaswani et al. (2017).
        position: `"sinusoidal"` (keras-hub `SinePositionEncoding`) or `"learned"`
            (keras-hub `PositionEmbedding`).
        max_length: The longest sequence (the size of a learned position table).
        scale_embeddings: Multiply the inputs by `sqrt(width)` before adding positions.
        activation: Feed-forward activation: a Keras activation's name, or
            `"gelu_approximate"` (GPT-2's tanh approximation).
        layer_norm_epsilon: Epsilon of every layer norm.
        embedding_norm: Layer-normalize the embeddings after adding the positions (BERT,
            RoBERTa, BART).
        **kwargs: Base layer arguments.

    Call arguments:
        inputs: Token embeddings `(batch, length, width)`.
        padding_mask: Boolean `(batch, length)`, True on real tokens.
        training: Python bool.

    Returns:
        `(batch, length, width)`.

    Example:

    >>> encoder = TransformerEncoderStack(2, num_heads=2, intermediate_dim=16)
    >>> tuple(encoder(np.zeros((3, 5, 8)), padding_mask=np.ones((3, 5), bool)).shape)
    (3, 5, 8)
    """

    def __init__(self, num_layers, num_heads, intermediate_dim, **kwargs):
        super().__init__(num_layers, num_heads, intermediate_dim, **kwargs)
        import keras_hub

        self.blocks = [
            keras_hub.layers.TransformerEncoder(
                self.intermediate_dim, self.num_heads, dropout=self.dropout,
                activation=_activation(self.activation), layer_norm_epsilon=self.layer_norm_epsilon,
                normalize_first=self.normalize_first, name=f"block_{i}")
            for i in range(self.num_layers)]

    def build(self, input_shape):
        self._check_width(input_shape[-1])
        self._build_common(input_shape)
        for block in self.blocks:
            block.build(input_shape)

    def call(self, inputs, padding_mask=None, training=None):
        x = self._embed(inputs, training=training)
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask, training=training)
        return self._finish(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class _AlignmentRecorder:
    """Keeps the cross-attention weights of one keras-hub block while it runs a step.

    keras-hub's `TransformerDecoder` does not return its attention weights, so the recorder
    wraps the `_compute_attention` method of that block's cross-attention layer (the method
    Keras documents for overriding) and asks it for the weights only while `active`.
    """

    def __init__(self):
        self.active = False
        self.scores = None

    def install(self, attention_layer):
        original = attention_layer._compute_attention

        def compute_attention(query, key, value, attention_mask=None, training=None,
                              return_attention_scores=False, **kwargs):
            if not self.active:
                return original(query, key, value, attention_mask=attention_mask,
                                training=training,
                                return_attention_scores=return_attention_scores, **kwargs)
            output, scores = original(query, key, value, attention_mask=attention_mask,
                                      training=training, return_attention_scores=True, **kwargs)
            self.scores = scores  # (batch, heads, query_len, source_len)
            return output, scores

        attention_layer._compute_attention = compute_attention


@keras.saving.register_keras_serializable(package="keras_s2s")
class TransformerDecoderStack(_TransformerStack):
    """A stack of keras-hub `TransformerDecoder` blocks with cached incremental decoding.

    Args:
        num_layers: Number of decoder blocks.
        num_heads: Attention heads; the width must be a multiple of it.
        intermediate_dim: Width of the feed-forward sublayer.
        cross_attention: Attend over an encoder memory (seq2seq); False for a decoder-only LM.
        alignment_layer: Which block's cross-attention weights a step returns (default the
            last, -1).
        alignment_head: Which head's weights; None averages the heads.
        **kwargs: As `TransformerEncoderStack` (dropout, normalize_first, position,
            max_length — also the size of the self-attention cache —, ...).

    Call arguments:
        inputs: Target token embeddings `(batch, length, width)`, or `(batch, 1, width)` in
            step mode, or None in prepare mode.
        memory: Encoder outputs `(batch, source_len, width)` (full and prepare modes).
        memory_mask: Boolean `(batch, source_len)`, True on real source tokens.
        padding_mask: Boolean `(batch, length)` of real target tokens (full mode).
        states: Step mode: `[step, *self_caches]`: `step` int32 `(batch,)`, the position
            being decoded (equal across the batch), and one `(batch, 2, cache_len, heads,
            head_dim)` key/value cache per block.
        cross_caches: Step mode: one `(batch, 2, source_len, heads, head_dim)` cache per block,
            from the prepare mode.
        training: Python bool.

    Returns:
        - full mode: `(batch, length, width)`;
        - prepare mode: the list of cross-attention caches;
        - step mode: `(outputs (batch, 1, width), new_states)`, plus the alignments
          `(batch, source_len)` when the stack has cross-attention.

    Example:

    >>> decoder = TransformerDecoderStack(2, num_heads=2, intermediate_dim=16, max_length=8)
    >>> memory = np.zeros((3, 5, 8)); mask = np.ones((3, 5), bool)
    >>> tuple(decoder(np.zeros((3, 4, 8)), memory, memory_mask=mask).shape)
    (3, 4, 8)
    >>> caches = decoder(None, memory, memory_mask=mask)
    >>> states = [np.zeros(3, "int32")] + [np.zeros((3, 2, 8, 2, 4))] * 2
    >>> y, states, alignments = decoder(np.zeros((3, 1, 8)), memory_mask=mask,
    ...                                 states=states, cross_caches=caches)
    """

    # the protocol of a decoder that steps with key/value caches (see `keras_s2s.inference`):
    # the three modes, `num_layers`, `cache_shape`, `max_length`, `cross_attention`
    caches_keys_and_values = True

    def __init__(self, num_layers, num_heads, intermediate_dim, cross_attention=True,
                 alignment_layer=-1, alignment_head=None, **kwargs):
        super().__init__(num_layers, num_heads, intermediate_dim, **kwargs)
        import keras_hub

        self.cross_attention = bool(cross_attention)
        self.alignment_layer, self.alignment_head = check_alignment(
            alignment_layer, alignment_head, self.num_layers, self.num_heads)
        self.blocks = [
            keras_hub.layers.TransformerDecoder(
                self.intermediate_dim, self.num_heads, dropout=self.dropout,
                activation=_activation(self.activation), layer_norm_epsilon=self.layer_norm_epsilon,
                normalize_first=self.normalize_first, name=f"block_{i}")
            for i in range(self.num_layers)]
        self._recorder = _AlignmentRecorder()

    def build(self, input_shape):
        self._check_width(input_shape[-1])
        self._build_common(input_shape)
        for block in self.blocks:
            block.build(input_shape, input_shape if self.cross_attention else None)
        if self.cross_attention:
            self._recorder.install(self.blocks[self.alignment_layer]._cross_attention_layer)

    @property
    def cache_shape(self):
        """Per-example shape of one block's self-attention cache: `(2, max_length, heads, head_dim)`."""
        return (2, self.max_length, self.num_heads, self.head_dim)

    def call(self, inputs, memory=None, memory_mask=None, padding_mask=None, states=None,
             cross_caches=None, training=None):
        if self.cross_attention and memory is None and cross_caches is None:
            raise ValueError("This decoder has cross-attention: pass the encoder `memory` "
                             "(or, in step mode, the `cross_caches`).")
        if not self.cross_attention and (memory is not None or cross_caches is not None):
            raise ValueError("This decoder has no cross-attention (a decoder-only LM); do not "
                             "pass `memory` or `cross_caches`.")
        if inputs is None:
            return self._prepare(memory, memory_mask)
        if states is not None:
            return self._step(inputs, memory_mask, list(states), cross_caches)
        x = self._embed(inputs, training=training)
        for block in self.blocks:
            if self.cross_attention:
                x = block(x, memory, decoder_padding_mask=padding_mask,
                          encoder_padding_mask=memory_mask, training=training)
            else:
                x = block(x, decoder_padding_mask=padding_mask, training=training)
        return self._finish(x)

    def _prepare(self, memory, memory_mask):
        if not self.cross_attention:
            raise ValueError("Prepare mode (inputs=None) needs a decoder with cross-attention.")
        batch, source_len = ops.shape(memory)[0], ops.shape(memory)[1]
        dummy = ops.zeros((batch, 1, self.hidden_dim), memory.dtype)
        empty_self = ops.zeros((batch, 2, 2, self.num_heads, self.head_dim), memory.dtype)
        empty_cross = ops.zeros((batch, 2, source_len, self.num_heads, self.head_dim),
                                memory.dtype)
        caches = []
        for block in self.blocks:
            # keras-hub fills a cross cache when its update index is 0; the query is a dummy.
            _, _, cross = block(dummy, memory, encoder_padding_mask=memory_mask,
                                self_attention_cache=empty_self,
                                self_attention_cache_update_index=0,
                                cross_attention_cache=empty_cross,
                                cross_attention_cache_update_index=0)
            caches.append(cross)
        return caches

    def _step(self, inputs, memory_mask, states, cross_caches):
        if len(states) != self.num_layers + 1:
            raise ValueError(f"Step mode needs states=[step, one cache per block] "
                             f"({self.num_layers + 1} tensors). Received {len(states)}.")
        step, self_caches = states[0], states[1:]
        index = ops.cast(step[0], "int32")
        x = self._embed(inputs, start_index=index, training=False)
        new_caches, alignments = [], None
        for i, block in enumerate(self.blocks):
            if self.cross_attention:
                record = i == self.alignment_layer % self.num_layers
                self._recorder.active = record
                try:
                    x, cache, _ = block(
                        x, cross_caches[i][:, 0], encoder_padding_mask=memory_mask,
                        self_attention_cache=self_caches[i],
                        self_attention_cache_update_index=index,
                        cross_attention_cache=cross_caches[i], training=False)
                finally:
                    self._recorder.active = False
                if record:
                    scores = self._recorder.scores[:, :, 0, :]  # (batch, heads, source_len)
                    alignments = (ops.mean(scores, axis=1) if self.alignment_head is None
                                  else scores[:, self.alignment_head])
            else:
                x, cache = block(x, self_attention_cache=self_caches[i],
                                 self_attention_cache_update_index=index, training=False)
            new_caches.append(cache)
        new_states = [step + 1, *new_caches]
        x = self._finish(x)
        if self.cross_attention:
            return x, new_states, ops.cast(alignments, "float32")
        return x, new_states

    def compute_output_spec(self, inputs, memory=None, memory_mask=None, padding_mask=None,
                            states=None, cross_caches=None, training=None):
        dtype = self.compute_dtype
        if inputs is None:
            shape = (memory.shape[0], 2, memory.shape[1], self.num_heads, self.head_dim)
            return [keras.KerasTensor(shape, dtype) for _ in self.blocks]
        out = keras.KerasTensor(inputs.shape, dtype)
        if states is None:
            return out
        new_states = [keras.KerasTensor(s.shape, s.dtype) for s in states]
        if self.cross_attention:
            source_len = cross_caches[0].shape[2]
            return out, new_states, keras.KerasTensor((inputs.shape[0], source_len), "float32")
        return out, new_states

    def get_config(self):
        return {**super().get_config(), "cross_attention": self.cross_attention,
                "alignment_layer": self.alignment_layer, "alignment_head": self.alignment_head}


@keras.saving.register_keras_serializable(package="keras_s2s")
class TransformerDecoderCall(keras.layers.Layer):
    """One inference mode of a cached decoder stack, as a layer of its own.

    A Keras functional graph expects every call of a layer to return the structure of its
    first call, so the inference graphs call a trained decoder's prepare and step modes
    through this thin wrapper, which shares the decoder (and its weights).

    Args:
        decoder: A decoder that steps with key/value caches: a `TransformerDecoderStack`,
            or a `keras_s2s.layers.t5.T5DecoderStack`.
        mode: `"prepare"` (memory → cross-attention caches) or `"step"` (one position).
        **kwargs: Base layer arguments.

    Call arguments:
        prepare mode: `(memory, memory_mask)`;
        step mode: `(inputs, states, memory_mask=None, cross_caches=None)`.

    Returns:
        What the decoder's mode returns (see `TransformerDecoderStack`).

    Example:

    >>> decoder = TransformerDecoderStack(1, num_heads=2, intermediate_dim=16, max_length=8)
    >>> memory, mask = np.zeros((3, 5, 8)), np.ones((3, 5), bool)
    >>> caches = TransformerDecoderCall(decoder, "prepare")(memory, mask)
    >>> len(caches)
    1
    """

    def __init__(self, decoder, mode, **kwargs):
        super().__init__(**kwargs)
        if isinstance(decoder, dict):
            decoder = keras.saving.deserialize_keras_object(decoder)
        if not getattr(decoder, "caches_keys_and_values", False):
            raise TypeError(f"`decoder` must step with key/value caches (a "
                            f"TransformerDecoderStack or T5DecoderStack). Received: "
                            f"{type(decoder).__name__}")
        self.decoder = decoder
        self.mode = check_choice("mode", mode, ("prepare", "step"))

    def build(self, input_shape):
        if not self.decoder.built:
            self.decoder.build((None, None, input_shape[-1]))

    def call(self, *args, **kwargs):
        if self.mode == "prepare":
            memory, memory_mask = args
            return self.decoder(None, memory, memory_mask=memory_mask)
        inputs, states = args
        return self.decoder(inputs, states=states, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        if self.mode == "prepare":
            memory, memory_mask = args
            return self.decoder.compute_output_spec(None, memory, memory_mask=memory_mask)
        inputs, states = args
        return self.decoder.compute_output_spec(inputs, states=states, **kwargs)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode,
                "decoder": keras.saving.serialize_keras_object(self.decoder)}
