"""GPT-2 (Radford et al., 2019) as a zoo language model, on keras-hub's blocks and presets.

`gpt2_lm` is the zoo's decoder-only Transformer LM (`keras_s2s.zoo.language_models.
transformer_lm`) arranged as keras-hub's `GPT2Backbone`: learned positions, no embedding
scale, pre-LN `TransformerDecoder` blocks with the tanh-approximated GELU and epsilon 1e-5, a
final layer norm, and the output tied to the token embedding. It trains and decodes like every
`lm` entry (a prompt continued with the key/value caches).

`zoo.build("gpt2_lm", preset=path)` loads a local `GPT2Backbone` preset (sizes, vocabulary,
weights); the logits then equal keras-hub's `GPT2CausalLM` on the same ids (tested).
"""

from keras_s2s.zoo.language_models import _TRANSFORMER_TRAINING, transformer_lm
from keras_s2s.zoo.presets import (copy_blocks, copy_weights, load_backbone,
                                   refuse_architecture_arguments)
from keras_s2s.zoo.registry import register_variant

_RADFORD = ("Radford et al., 2019. Language Models are Unsupervised Multitask Learners "
            "(GPT-2). OpenAI")
_TINY = {"hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16, "num_layers": 2,
         "max_length": 16}
_WITH_PRESET = ("dropout", "name")


def _from_preset(path, **kwargs):
    """`gpt2_lm` with the architecture, vocabulary and weights of a `GPT2Backbone` preset."""
    refuse_architecture_arguments("gpt2_lm", kwargs, _WITH_PRESET)
    backbone = load_backbone(path, "GPT2Backbone", "gpt2_lm")
    kwargs.setdefault("dropout", backbone.dropout)
    model = gpt2_lm(backbone.vocabulary_size, hidden_dim=backbone.hidden_dim,
                    num_heads=backbone.num_heads, intermediate_dim=backbone.intermediate_dim,
                    num_layers=backbone.num_layers, max_length=backbone.max_sequence_length,
                    **kwargs)
    weights_from(backbone, model)
    return model


def weights_from(backbone, model):
    """Copy a keras-hub `GPT2Backbone`'s weights into a `gpt2_lm` model of its sizes.

    Example:

    >>> weights_from(keras_hub.models.GPT2Backbone.from_preset(path), model)
    """
    decoder = model.get_layer("decoder")
    copy_weights(backbone.token_embedding, model.get_layer("decoder_embedding"),
                 "the token embedding")
    copy_weights(backbone.position_embedding, decoder.position_encoding, "the positions")
    copy_blocks(backbone.transformer_layers, decoder.blocks, "decoder block")
    copy_weights(backbone.layer_norm, decoder.final_norm, "the final layer norm")


gpt2_lm = register_variant(
    transformer_lm, "gpt2_lm", file="gpt2", paper=_RADFORD, preset=_from_preset, kind="lm",
    fixed={"normalize_first": True, "position": "learned", "scale_embeddings": False,
           "tie_embeddings": True},
    defaults={"activation": "gelu_approximate", "num_layers": 4, "hidden_dim": 256,
              "num_heads": 4, "intermediate_dim": 1024},
    tiny=_TINY, training=_TRANSFORMER_TRAINING, doc="""
    GPT-2: keras-hub's `GPT2Backbone` layout, 4 blocks of width 256, or a keras-hub preset.

    Learned positions without an embedding scale, pre-LN blocks with the tanh GELU, a final
    layer norm and the output tied to the token embedding. With `preset=path`
    (`keras_s2s.zoo.build("gpt2_lm", preset=path)`) the sizes, the vocabulary and the
    weights come from a local keras-hub `GPT2Backbone` preset, and the logits equal
    keras-hub's `GPT2CausalLM`.

    Example:

    >>> model = gpt2_lm(30, hidden_dim=32, num_heads=2, intermediate_dim=64)

    Reference:
        - Radford et al., 2019. GPT-2.
    """)
