"""RoBERTa (Liu et al., 2019) as a zoo masked LM, on keras-hub's blocks and presets.

`roberta_mlm` is the zoo's masked LM (`keras_s2s.zoo.language_models.bert_mlm`) arranged as
keras-hub's `RobertaBackbone`: token and learned position embeddings, a layer norm on the
embeddings, post-LN GELU `TransformerEncoder` blocks with epsilon 1e-5, and keras-hub's
`MaskedLMHead`. RoBERTa's recipe (dynamic masking, no next-sentence objective) is what the
zoo's `mlm` kind already trains: `Task.mlm_dataset` draws new masks every epoch.

`zoo.build("roberta_mlm", preset=path)` loads a local `RobertaBackbone` preset (sizes,
vocabulary, weights): the encoder's outputs then equal keras-hub's backbone (tested). A
backbone preset holds no MLM head: the head's output matrix starts as the token embedding
(RoBERTa ties them), its dense layer and norm start fresh.
"""

import numpy as np

from keras_s2s.zoo.language_models import _TRANSFORMER_TRAINING, bert_mlm
from keras_s2s.zoo.presets import (copy_blocks, copy_weights, load_backbone,
                                   refuse_architecture_arguments)
from keras_s2s.zoo.registry import register_variant

_LIU = ("Liu et al., 2019. RoBERTa: A Robustly Optimized BERT Pretraining Approach. "
        "arXiv:1907.11692")
_TINY = {"hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16, "num_layers": 2,
         "max_length": 16}
_WITH_PRESET = ("dropout", "name")


def _from_preset(path, **kwargs):
    """`roberta_mlm` with the architecture, vocabulary and weights of a `RobertaBackbone`
    preset."""
    refuse_architecture_arguments("roberta_mlm", kwargs, _WITH_PRESET)
    backbone = load_backbone(path, "RobertaBackbone", "roberta_mlm")
    kwargs.setdefault("dropout", backbone.dropout)
    model = roberta_mlm(backbone.vocabulary_size, hidden_dim=backbone.hidden_dim,
                        num_heads=backbone.num_heads,
                        intermediate_dim=backbone.intermediate_dim,
                        num_layers=backbone.num_layers,
                        max_length=backbone.max_sequence_length, **kwargs)
    weights_from(backbone, model)
    return model


def weights_from(backbone, model):
    """Copy a keras-hub `RobertaBackbone`'s weights into a `roberta_mlm` model of its sizes;
    the MLM head's output matrix starts as the token embedding, transposed.

    Example:

    >>> weights_from(keras_hub.models.RobertaBackbone.from_preset(path), model)
    """
    encoder = model.get_layer("encoder")
    copy_weights(backbone.embeddings.token_embedding, model.get_layer("encoder_embedding"),
                 "the token embedding")
    copy_weights(backbone.embeddings.position_embedding, encoder.position_encoding,
                 "the positions")
    copy_weights(backbone.embeddings_layer_norm, encoder.embedding_norm,
                 "the embedding norm")
    copy_blocks(backbone.transformer_layers, encoder.blocks, "encoder block")
    head = model.get_layer("mlm_head")
    embedding = backbone.embeddings.token_embedding.get_weights()[0]  # (vocab, width)
    kernel = [w for w in head.weights if w.path.endswith("output_kernel")]
    if len(kernel) != 1 or tuple(kernel[0].shape) != embedding.shape[::-1]:
        raise ValueError("Cannot start the MLM head from the token embedding: keras-hub's "
                         "MaskedLMHead no longer holds one `output_kernel` of shape "
                         f"{embedding.shape[::-1]}; the mapping lives in keras_s2s/zoo/roberta.py.")
    kernel[0].assign(np.transpose(embedding))


roberta_mlm = register_variant(
    bert_mlm, "roberta_mlm", file="roberta", paper=_LIU, preset=_from_preset, kind="mlm",
    fixed={"embedding_norm": True, "position": "learned", "normalize_first": False},
    defaults={"activation": "gelu"}, tiny=_TINY, training=_TRANSFORMER_TRAINING, doc="""
    RoBERTa: keras-hub's `RobertaBackbone` layout with a masked-LM head, or a keras-hub preset.

    Token and learned position embeddings with a layer norm, post-LN GELU encoder blocks,
    keras-hub's `MaskedLMHead`; the `mlm` kind masks anew every epoch (RoBERTa's dynamic
    masking). With `preset=path` (`keras_s2s.zoo.build("roberta_mlm", preset=path)`) the
    sizes, the vocabulary and the encoder's weights come from a local keras-hub
    `RobertaBackbone` preset.

    Example:

    >>> model = roberta_mlm(31, hidden_dim=32, num_heads=2, intermediate_dim=64)

    Reference:
        - Liu et al., 2019. arXiv:1907.11692.
    """)
