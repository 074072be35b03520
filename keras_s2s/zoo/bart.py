"""BART (Lewis et al., 2020) as a zoo entry, on keras-hub's blocks, and from keras-hub presets.

`bart_small` is the zoo's Transformer encoder-decoder (`keras_s2s.zoo.transformer`) arranged as
keras-hub's `BartBackbone`: learned positions (`PositionEmbedding`), no embedding scale, a
layer norm on the embeddings, post-LN `TransformerEncoder`/`TransformerDecoder` blocks with GELU
and epsilon 1e-5, and the output projection tied to the target embedding. With one vocabulary
for both sides (`share_embeddings=True`, which a preset always sets) one embedding serves the
encoder, the decoder and the output, as BART's `token_embedding` does.

`zoo.build("bart_small", preset=path)` loads a local `BartBackbone` preset: its sizes, its
vocabulary and every weight; the logits then equal keras-hub's `BartSeq2SeqLM` on the same
ids (tested). What differs from BART's pretraining (the noising objectives) is data, not
architecture: train `bart_small` as a denoising autoencoder with the zoo's noise layers, or
fine-tune it on a task.
"""

from keras_s2s.zoo.presets import (copy_blocks, copy_weights, load_backbone,
                                   refuse_architecture_arguments)
from keras_s2s.zoo.registry import register_variant
from keras_s2s.zoo.transformer import _TRAINING, transformer_encoder_decoder

_LEWIS = ("Lewis et al., 2020. BART: Denoising Sequence-to-Sequence Pre-training for Natural "
          "Language Generation, Translation, and Comprehension. ACL 2020")
_TINY = {"hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16, "num_encoder_layers": 1,
         "num_decoder_layers": 1, "max_length": 16}
# what a caller may still choose when the preset sets the architecture
_WITH_PRESET = ("dropout", "alignment_layer", "alignment_head", "name")


def _from_preset(path, **kwargs):
    """`bart_small` with the architecture, vocabulary and weights of a `BartBackbone` preset."""
    refuse_architecture_arguments("bart_small", kwargs, _WITH_PRESET)
    backbone = load_backbone(path, "BartBackbone", "bart_small")
    kwargs.setdefault("dropout", backbone.dropout)
    model = bart_small(
        backbone.vocabulary_size, backbone.vocabulary_size, hidden_dim=backbone.hidden_dim,
        num_heads=backbone.num_heads, intermediate_dim=backbone.intermediate_dim,
        num_encoder_layers=backbone.num_layers, num_decoder_layers=backbone.num_layers,
        max_length=backbone.max_sequence_length, share_embeddings=True, **kwargs)
    weights_from(backbone, model)
    return model


def weights_from(backbone, model):
    """Copy a keras-hub `BartBackbone`'s weights into a `bart_small` model of its sizes.

    Example:

    >>> weights_from(keras_hub.models.BartBackbone.from_preset(path), model)
    """
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    copy_weights(backbone.token_embedding, model.get_layer("decoder_embedding"),
                 "the token embedding")
    copy_weights(backbone.encoder_position_embedding, encoder.position_encoding,
                 "the encoder positions")
    copy_weights(backbone.encoder_embeddings_layer_norm, encoder.embedding_norm,
                 "the encoder embedding norm")
    copy_blocks(backbone.encoder_transformer_layers, encoder.blocks, "encoder block")
    copy_weights(backbone.decoder_position_embedding, decoder.position_encoding,
                 "the decoder positions")
    copy_weights(backbone.decoder_embeddings_layer_norm, decoder.embedding_norm,
                 "the decoder embedding norm")
    copy_blocks(backbone.decoder_transformer_layers, decoder.blocks, "decoder block")


bart_small = register_variant(
    transformer_encoder_decoder, "bart_small", file="bart", paper=_LEWIS, preset=_from_preset,
    fixed={"position": "learned", "scale_embeddings": False, "embedding_norm": True,
           "normalize_first": False},
    defaults={"hidden_dim": 256, "num_heads": 4, "intermediate_dim": 1024,
              "num_encoder_layers": 3, "num_decoder_layers": 3, "activation": "gelu",
              "max_length": 256},
    tiny=_TINY, training={**_TRAINING, "learning_rate": 5e-4}, doc="""
    BART: keras-hub's `BartBackbone` layout, 3+3 blocks of width 256, or a keras-hub preset.

    Learned positions, a layer norm on the embeddings, post-LN GELU blocks, no embedding
    scale, tied output embedding; `share_embeddings=True` shares one embedding between
    source, target and output as BART does (one vocabulary for both sides). With
    `preset=path` (`keras_s2s.zoo.build("bart_small", preset=path)`) the sizes, the
    vocabulary and the weights come from a local keras-hub `BartBackbone` preset, and the
    logits equal keras-hub's `BartSeq2SeqLM`.

    Example:

    >>> model = bart_small(30, 30, hidden_dim=32, num_heads=2, intermediate_dim=64)

    Reference:
        - Lewis et al., 2020. arXiv:1910.13461.
    """)
