"""T5 encoder and decoder stacks on keras-hub's own T5 blocks, with cached decoding.

T5 (Raffel et al., 2020) differs from the Transformer of `keras_s2s.layers.transformer` in
ways that live inside its blocks: no position encoding but a learned relative-position bias
(bucketed, computed by the first block and shared by the others), RMS layer norms without
bias, pre-norm sublayers, no biases anywhere, an optionally gated feed-forward. keras-hub
implements those blocks (`T5TransformerLayer`, `T5LayerNorm`) for its `T5Backbone`, with
key/value caches; they are not exported, so this module is the one place that imports them
from `keras_hub.src.models.t5` (docs/ARCHITECTURE.md lists and defends it, and
tests/zoo/test_presets.py fails if they move or change: `t5_small` must equal keras-hub's
`T5Seq2SeqLM`).

The stacks follow `TransformerEncoderStack`/`TransformerDecoderStack`: the encoder maps
embeddings to the memory; the decoder has the full, prepare and step modes and the state
layout (`[step, *self_caches]`, one cross-attention cache per block) that the inference graphs
and `decode` use for every cached decoder.
"""

import contextlib
import warnings

import keras
from keras import ops

from keras_s2s.layers._checks import check_positive_int, check_rate
from keras_s2s.layers.transformer import check_alignment


def _t5_classes():
    """keras-hub's T5 block and norm (not exported; see the module docstring)."""
    from keras_hub.src.models.t5.t5_layer_norm import T5LayerNorm
    from keras_hub.src.models.t5.t5_transformer_layer import T5TransformerLayer

    return T5TransformerLayer, T5LayerNorm


@contextlib.contextmanager
def _quiet_masks():
    """keras-hub's `T5MultiHeadAttention` takes its attention mask as a `mask=` argument,
    which Keras reads as a Keras mask and warns that the layer drops it, at every trace;
    the warning is about a mask that is not one, so the stacks silence it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*was passed an input with a mask attached")
        yield


class _T5Stack(keras.layers.Layer):
    """What both T5 stacks share: arguments, blocks, final norm and dropouts."""

    is_decoder = False

    def __init__(self, num_layers, num_heads, intermediate_dim, key_value_dim=None,
                 dropout=0.1, activation="relu", use_gated_activation=False,
                 layer_norm_epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.intermediate_dim = check_positive_int("intermediate_dim", intermediate_dim)
        self.key_value_dim = check_positive_int("key_value_dim", key_value_dim,
                                                allow_none=True)
        self.dropout = check_rate("dropout", dropout)
        self.activation = activation
        self.use_gated_activation = bool(use_gated_activation)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        _, norm = _t5_classes()
        self.embedding_dropout = keras.layers.Dropout(self.dropout, name="embedding_dropout")
        self.final_norm = norm(epsilon=self.layer_norm_epsilon, name="final_norm")
        self.output_dropout = keras.layers.Dropout(self.dropout, name="output_dropout")
        self.blocks = None
        self.supports_masking = False

    def _make_blocks(self, hidden_dim):
        block, _ = _t5_classes()
        self.hidden_dim = int(hidden_dim)
        self.head_dim = self.key_value_dim or self.hidden_dim // self.num_heads
        if self.key_value_dim is None and self.hidden_dim % self.num_heads:
            raise ValueError(
                f"The model width ({self.hidden_dim}) must be a multiple of `num_heads` "
                f"({self.num_heads}), or give `key_value_dim`.")
        self.blocks = [
            block(is_decoder=self.is_decoder, hidden_dim=self.hidden_dim,
                  intermediate_dim=self.intermediate_dim, key_value_dim=self.head_dim,
                  dropout=self.dropout, activation=self.activation,
                  layer_norm_epsilon=self.layer_norm_epsilon, num_heads=self.num_heads,
                  use_gated_activation=self.use_gated_activation,
                  use_relative_attention_bias=i == 0, dtype=self.dtype_policy,
                  name=f"block_{i}")
            for i in range(self.num_layers)]

    def _build_blocks(self, input_shape):
        """Create every block's weights. keras-hub's T5 blocks have no `build` (keras-hub
        builds them by calling them), so their sublayers are built here by name; the
        weights are tracked in the blocks' own order, and tests/zoo/test_presets.py checks
        them against keras-hub's `T5Backbone`."""
        width, inner = (None, None, self.hidden_dim), (None, None, self.num_heads * self.head_dim)

        def build_attention(attention):
            for projector in (attention.query_projector, attention.key_projector,
                              attention.value_projector):
                projector.build(width)
            attention.output_projector.build(inner)
            attention.built = True

        for block in self.blocks:
            build_attention(block.self_attention)
            block.self_attention_layer_norm.build(width)
            if self.is_decoder:
                build_attention(block.cross_attention)
                block.cross_attention_layer_norm.build(width)
            block.input_projector.build(width)
            if self.use_gated_activation:
                block.gate_projector.build(width)
            block.output_projector.build((None, None, self.intermediate_dim))
            block.layer_norm.build(width)
            block.built = True
        self.final_norm.build(tuple(input_shape))

    def _finish(self, x, training=None):
        return self.output_dropout(self.final_norm(x), training=training)

    def get_config(self):
        return {**super().get_config(), "num_layers": self.num_layers,
                "num_heads": self.num_heads, "intermediate_dim": self.intermediate_dim,
                "key_value_dim": self.key_value_dim, "dropout": self.dropout,
                "activation": self.activation,
                "use_gated_activation": self.use_gated_activation,
                "layer_norm_epsilon": self.layer_norm_epsilon}


@keras.saving.register_keras_serializable(package="keras_s2s")
class T5EncoderStack(_T5Stack):
    """T5's encoder: keras-hub T5 blocks with the shared relative-position bias.

    `dropout → blocks → RMS norm → dropout`, on token embeddings (T5 adds no positions).

    Args:
        num_layers: Number of encoder blocks.
        num_heads: Attention heads.
        intermediate_dim: Width of the feed-forward sublayer.
        key_value_dim: Width of each head (None: the model width / `num_heads`).
        dropout: Dropout of embeddings, attention weights, sublayers and the output.
        activation: Feed-forward activation (T5: `"relu"`; T5 v1.1: `"gelu"`, gated).
        use_gated_activation: A gated feed-forward (T5 v1.1).
        layer_norm_epsilon: Epsilon of the RMS norms.
        **kwargs: Base layer arguments.

    Call arguments:
        inputs: Token embeddings `(batch, length, width)`.
        padding_mask: Boolean `(batch, length)`, True on real tokens.
        training: Python bool.

    Returns:
        `(batch, length, width)`.

    Example:

    >>> encoder = T5EncoderStack(2, num_heads=2, intermediate_dim=16)
    >>> tuple(encoder(np.zeros((3, 5, 8)), padding_mask=np.ones((3, 5), bool)).shape)
    (3, 5, 8)
    """

    def build(self, input_shape):
        self._make_blocks(input_shape[-1])
        self._build_blocks(input_shape)

    def call(self, inputs, padding_mask=None, training=None):
        x = self.embedding_dropout(inputs, training=training)
        mask = None if padding_mask is None else ops.cast(padding_mask, "int32")[:, None, :]
        bias = None
        with _quiet_masks():
            for block in self.blocks:
                x, bias = block(x, attention_mask=mask, position_bias=bias,
                                training=training)
        return self._finish(x, training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class _CrossAttentionRecorder:
    """Keeps the cross-attention weights of one keras-hub T5 block while it runs a step.

    keras-hub's `T5MultiHeadAttention` does not return its weights; it passes them through
    its `dropout_layer` (a `keras.layers.Dropout`) right after the softmax, so the recorder
    wraps that dropout's `call` and keeps its input while `active`.
    """

    def __init__(self):
        self.active = False
        self.weights = None

    def install(self, attention_layer):
        dropout = attention_layer.dropout_layer
        original = dropout.call

        def call(inputs, training=False):
            if self.active:
                self.weights = inputs  # (batch, heads, query_len, source_len)
            return original(inputs, training=training)

        dropout.call = call


@keras.saving.register_keras_serializable(package="keras_s2s")
class T5DecoderStack(_T5Stack):
    """T5's decoder: keras-hub T5 blocks with key/value caches for incremental decoding.

    Same modes, states and returns as `TransformerDecoderStack` (full, prepare, step; the
    states `[step, *self_caches]`, caches `(batch, 2, length, heads, key_value_dim)`).

    Args:
        num_layers: Number of decoder blocks.
        num_heads: Attention heads.
        intermediate_dim: Width of the feed-forward sublayer.
        max_length: The longest output: the size of the self-attention cache.
        scale_output: Multiply the output by width^-0.5, as T5 does before an output
            projection tied to the embedding.
        alignment_layer: Which block's cross-attention weights a step returns (default the
            last, -1).
        alignment_head: Which head's weights; None averages the heads.
        **kwargs: As `T5EncoderStack` (key_value_dim, dropout, activation, ...).

    Call arguments:
        inputs: Target token embeddings `(batch, length, width)`, or `(batch, 1, width)` in
            step mode, or None in prepare mode.
        memory: Encoder outputs `(batch, source_len, width)` (full and prepare modes).
        memory_mask: Boolean `(batch, source_len)`, True on real source tokens.
        padding_mask: Boolean `(batch, length)` of real target tokens (full mode; the causal
            mask already keeps real positions from seeing padding).
        states: Step mode: `[step, *self_caches]` (see `TransformerDecoderStack`).
        cross_caches: Step mode: one cache per block, from the prepare mode.
        training: Python bool.

    Returns:
        As `TransformerDecoderStack`: full mode `(batch, length, width)`; prepare mode the
        list of cross-attention caches; step mode `(outputs (batch, 1, width), new_states,
        alignments (batch, source_len))`.

    Example:

    >>> decoder = T5DecoderStack(2, num_heads=2, intermediate_dim=16, max_length=8)
    >>> memory = np.zeros((3, 5, 8)); mask = np.ones((3, 5), bool)
    >>> tuple(decoder(np.zeros((3, 4, 8)), memory, memory_mask=mask).shape)
    (3, 4, 8)
    """

    is_decoder = True
    cross_attention = True
    caches_keys_and_values = True

    def __init__(self, num_layers, num_heads, intermediate_dim, max_length=256,
                 scale_output=True, alignment_layer=-1, alignment_head=None, **kwargs):
        super().__init__(num_layers, num_heads, intermediate_dim, **kwargs)
        self.max_length = check_positive_int("max_length", max_length)
        self.scale_output = bool(scale_output)
        self.alignment_layer, self.alignment_head = check_alignment(
            alignment_layer, alignment_head, self.num_layers, self.num_heads)
        self._recorder = _CrossAttentionRecorder()

    def build(self, input_shape):
        self._make_blocks(input_shape[-1])
        self._build_blocks(input_shape)
        self._recorder.install(self.blocks[self.alignment_layer].cross_attention)

    @property
    def cache_shape(self):
        """Per-example shape of one block's self-attention cache:
        `(2, max_length, heads, key_value_dim)`."""
        return (2, self.max_length, self.num_heads, self.head_dim)

    def _output(self, x, training=None):
        x = self._finish(x, training)
        if self.scale_output:
            x = x * ops.cast(self.hidden_dim ** -0.5, x.dtype)
        return x

    def call(self, inputs, memory=None, memory_mask=None, padding_mask=None, states=None,
             cross_caches=None, training=None):
        if memory is None and cross_caches is None:
            raise ValueError("Pass the encoder `memory` (or, in step mode, the "
                             "`cross_caches`).")
        if inputs is None:
            return self._prepare(memory, memory_mask)
        mask = None if memory_mask is None else ops.cast(memory_mask, "int32")[:, None, :]
        if states is not None:
            return self._step(inputs, mask, list(states), cross_caches)
        x = self.embedding_dropout(inputs, training=training)
        bias = None
        with _quiet_masks():
            for block in self.blocks:
                x, bias = block(x, position_bias=bias, encoder_hidden_states=memory,
                                encoder_attention_mask=mask, use_causal_mask=True,
                                training=training)
        return self._output(x, training)

    def _prepare(self, memory, memory_mask):
        batch, source_len = ops.shape(memory)[0], ops.shape(memory)[1]
        mask = None if memory_mask is None else ops.cast(memory_mask, "int32")[:, None, :]
        dummy = ops.zeros((batch, 1, self.hidden_dim), memory.dtype)
        empty_self = ops.zeros((batch, 2, 1, self.num_heads, self.head_dim), memory.dtype)
        empty_cross = ops.zeros((batch, 2, source_len, self.num_heads, self.head_dim),
                                memory.dtype)
        caches = []
        for block in self.blocks:
            # keras-hub fills a cross cache when its update index is 0; the query is a dummy
            with _quiet_masks():
                _, _, _, cross = block(dummy, encoder_hidden_states=memory,
                                       encoder_attention_mask=mask, use_causal_mask=True,
                                       self_attention_cache=empty_self,
                                       self_attention_cache_update_index=0,
                                       cross_attention_cache=empty_cross,
                                       cross_attention_cache_update_index=0)
            caches.append(cross)
        return caches

    def _step(self, inputs, mask, states, cross_caches):
        if len(states) != self.num_layers + 1:
            raise ValueError(f"Step mode needs states=[step, one cache per block] "
                             f"({self.num_layers + 1} tensors). Received {len(states)}.")
        step, self_caches = states[0], states[1:]
        index = ops.cast(step[0], "int32")
        x = inputs
        bias, new_caches, alignments = None, [], None
        record_at = self.alignment_layer % self.num_layers
        for i, block in enumerate(self.blocks):
            self._recorder.active = i == record_at
            try:
                with _quiet_masks():
                    x, bias, cache, _ = block(
                        x, position_bias=bias, encoder_hidden_states=cross_caches[i][:, 0],
                        encoder_attention_mask=mask, use_causal_mask=True,
                        self_attention_cache=self_caches[i],
                        self_attention_cache_update_index=index,
                        cross_attention_cache=cross_caches[i],
                        cross_attention_cache_update_index=None, training=False)
            finally:
                self._recorder.active = False
            if i == record_at:
                weights = self._recorder.weights[:, :, 0, :]  # (batch, heads, source_len)
                alignments = (ops.mean(weights, axis=1) if self.alignment_head is None
                              else weights[:, self.alignment_head])
            new_caches.append(cache)
        return (self._output(x, training=False), [step + 1, *new_caches],
                ops.cast(alignments, "float32"))

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
        source_len = cross_caches[0].shape[2]
        return out, new_states, keras.KerasTensor((inputs.shape[0], source_len), "float32")

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length,
                "scale_output": self.scale_output, "alignment_layer": self.alignment_layer,
                "alignment_head": self.alignment_head}
