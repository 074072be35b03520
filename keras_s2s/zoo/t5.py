"""T5 (Raffel et al., 2020) as a zoo entry, on keras-hub's T5 blocks, and from keras-hub presets.

`t5_small` has the zoo's seq2seq contract and layer names (`encoder_embedding`,
`decoder_embedding`, `encoder`, `decoder`, `logits`, see `keras_s2s.zoo._components`), with a
`T5EncoderStack` and a `T5DecoderStack` (`keras_s2s.layers.t5`) around keras-hub's own
`T5TransformerLayer` blocks: relative-position bias, RMS norms, no biases, pre-norm,
optionally gated feed-forward. The decoder steps with keras-hub's key/value caches, so
`decode` (greedy, beam with GNMT penalties, n-best, sampling) works as for every entry.

`zoo.build("t5_small", preset=path)` loads a local `T5Backbone` preset (sizes, vocabulary,
feed-forward type, weights); the logits then equal keras-hub's `T5Seq2SeqLM` (tested).
"""

import keras

from keras_s2s.layers import PaddingMask
from keras_s2s.layers._checks import check_positive_int
from keras_s2s.layers.t5 import T5DecoderStack, T5EncoderStack
from keras_s2s.zoo import _components as C
from keras_s2s.zoo.presets import (copy_blocks, copy_weights, load_backbone,
                                   refuse_architecture_arguments)
from keras_s2s.zoo.registry import register_model

_RAFFEL = ("Raffel et al., 2020. Exploring the Limits of Transfer Learning with a Unified "
           "Text-to-Text Transformer. JMLR 21(140)")
_TINY = {"hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16, "num_layers": 2,
         "max_length": 16}
_TRAINING = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64, "clipnorm": 1.0,
             "label_smoothing": 0.1, "epochs": 30}
_WITH_PRESET = ("dropout", "alignment_layer", "alignment_head", "max_length", "name")


def _embedding(vocab_size, hidden_dim, tie, name):
    """T5's token embedding: keras-hub's `ReversibleEmbedding`, N(0, 1) as keras-hub's T5."""
    import keras_hub

    return keras_hub.layers.ReversibleEmbedding(
        vocab_size, hidden_dim, tie_weights=tie,
        embeddings_initializer=keras.initializers.TruncatedNormal(stddev=1.0), name=name)


@register_model(paper=_RAFFEL, tiny=_TINY, training=_TRAINING,
                preset=lambda path, **kwargs: _from_preset(path, **kwargs))
def t5_small(source_vocab_size, target_vocab_size, *, hidden_dim=256, num_heads=4,
             intermediate_dim=1024, num_layers=3, key_value_dim=None, dropout=0.1,
             activation="relu", use_gated_activation=False, layer_norm_epsilon=1e-6,
             max_length=256, share_embeddings=False, tie_embeddings=True, alignment_layer=-1,
             alignment_head=None, name="t5_small"):
    """T5: keras-hub's T5 blocks, 3+3 of width 256, relative positions; or a keras-hub preset.

    The encoder and the decoder have `num_layers` blocks each, as in T5. With
    `share_embeddings=True` one embedding serves the source, the target and (tied) the
    output (unless `tie_embeddings=False`, T5 v1.1's separate output matrix), as T5's
    `token_embedding` does (one vocabulary for both sides). With a tied output T5 scales
    the decoder output by width^-0.5 before the projection, and so does this entry.

    Args:
        source_vocab_size: Size of the source vocabulary, special tokens included.
        target_vocab_size: Size of the target vocabulary, special tokens included.
        hidden_dim: Model width (d_model).
        num_heads: Attention heads.
        intermediate_dim: Width of the feed-forward sublayers (d_ff).
        num_layers: Blocks in the encoder and in the decoder.
        key_value_dim: Width of each head (None: hidden_dim / num_heads).
        dropout: Dropout of embeddings, attention weights, sublayers and stack outputs.
        activation: Feed-forward activation: `"relu"` (T5) or `"gelu"` (T5 v1.1).
        use_gated_activation: A gated feed-forward (T5 v1.1: gated GELU).
        layer_norm_epsilon: Epsilon of the RMS norms.
        max_length: The longest output, the size of the decoding cache (T5's relative
            positions set no limit on the source).
        share_embeddings: One embedding for source, target and output (one vocabulary).
        tie_embeddings: Share the target embedding with the output projection.
        alignment_layer: Which decoder block's cross-attention gives the alignments.
        alignment_head: Which head's weights; None averages the heads.
        name: Name of the model.

    Returns:
        A functional `keras.Model`, see the zoo contract.

    Example:

    >>> model = t5_small(30, 30, hidden_dim=32, num_heads=2, intermediate_dim=64)

    Reference:
        - Raffel et al., 2020. JMLR 21(140). arXiv:1910.10683.
    """
    C.check_vocabularies(source_vocab_size=source_vocab_size,
                         target_vocab_size=target_vocab_size)
    for key, value in [("hidden_dim", hidden_dim), ("num_layers", num_layers)]:
        check_positive_int(key, value)
    C.check_shared_vocabulary(share_embeddings, source_vocab_size, target_vocab_size)
    stack = dict(num_heads=num_heads, intermediate_dim=intermediate_dim,
                 key_value_dim=key_value_dim, dropout=dropout, activation=activation,
                 use_gated_activation=use_gated_activation,
                 layer_norm_epsilon=layer_norm_epsilon)
    encoder_ids, decoder_ids = C.seq2seq_inputs()
    target = _embedding(target_vocab_size, hidden_dim, tie_embeddings, "decoder_embedding")
    source = target if share_embeddings else _embedding(
        source_vocab_size, hidden_dim, True, "encoder_embedding")
    source_mask = PaddingMask(name="source_mask")(encoder_ids)
    memory = T5EncoderStack(num_layers, **stack, name="encoder")(
        source(encoder_ids), padding_mask=source_mask)
    outputs = T5DecoderStack(
        num_layers, max_length=max_length, scale_output=tie_embeddings,
        alignment_layer=alignment_layer, alignment_head=alignment_head, **stack,
        name="decoder")(target(decoder_ids), memory, memory_mask=source_mask)
    logits = C.output_logits(outputs, target_vocab_size, 0.0, target, hidden_dim)
    return C.seq2seq_model(encoder_ids, decoder_ids, logits, name)


def _from_preset(path, **kwargs):
    """`t5_small` with the architecture, vocabulary and weights of a `T5Backbone` preset."""
    refuse_architecture_arguments("t5_small", kwargs, _WITH_PRESET)
    backbone = load_backbone(path, "T5Backbone", "t5_small")
    kwargs.setdefault("dropout", backbone.dropout)
    model = t5_small(
        backbone.vocabulary_size, backbone.vocabulary_size, hidden_dim=backbone.hidden_dim,
        num_heads=backbone.num_heads, intermediate_dim=backbone.intermediate_dim,
        num_layers=backbone.num_layers, key_value_dim=backbone.key_value_dim,
        activation=keras.activations.serialize(backbone.activation),
        use_gated_activation=backbone.use_gated_activation,
        layer_norm_epsilon=backbone.layer_norm_epsilon, share_embeddings=True,
        tie_embeddings=backbone.tie_embedding_weights, **kwargs)
    weights_from(backbone, model)
    return model


def weights_from(backbone, model):
    """Copy a keras-hub `T5Backbone`'s weights into a `t5_small` model of its sizes.

    Example:

    >>> weights_from(keras_hub.models.T5Backbone.from_preset(path), model)
    """
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    copy_weights(backbone.token_embedding, model.get_layer("decoder_embedding"),
                 "the token embedding")
    copy_blocks(backbone.encoder_transformer_layers, encoder.blocks, "encoder block")
    copy_weights(backbone.encoder_layer_norm, encoder.final_norm, "the encoder's final norm")
    copy_blocks(backbone.decoder_transformer_layers, decoder.blocks, "decoder block")
    copy_weights(backbone.decoder_layer_norm, decoder.final_norm, "the decoder's final norm")
