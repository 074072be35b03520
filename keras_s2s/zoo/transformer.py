"""Transformer encoder-decoders (Vaswani et al., 2017) on keras-hub's Transformer blocks.

Same contract and layer names as the recurrent families (see `keras_s2s.zoo._components`),
with a `TransformerEncoderStack` as `encoder` and a `TransformerDecoderStack` as `decoder`.
The decoder needs no target padding mask: its causal mask keeps every real position from
seeing the padding that follows it, and a padded position then computes exactly what a
decoding step would. With `share_embeddings=True` one
`decoder_embedding` embeds the source and the target and projects the outputs (the source and
target vocabularies must then be one). The inference graphs decode with keras-hub's
self- and cross-attention caches (see `keras_s2s.inference`).
"""

import keras

from keras_s2s.layers import PaddingMask
from keras_s2s.layers._checks import check_positive_int
from keras_s2s.layers.transformer import TransformerDecoderStack, TransformerEncoderStack
from keras_s2s.zoo import _components as C
from keras_s2s.zoo.registry import register_variant

_VASWANI = ("Vaswani et al., 2017. Attention Is All You Need. arXiv:1706.03762")
_TINY = {"hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16, "num_encoder_layers": 1,
         "num_decoder_layers": 2, "max_length": 16}
_TRAINING = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64, "clipnorm": 1.0,
             "label_smoothing": 0.1, "epochs": 30}


def embedding(vocab_size, hidden_dim, tied, name):
    if tied:
        from keras_hub.layers import ReversibleEmbedding

        return ReversibleEmbedding(vocab_size, hidden_dim, tie_weights=True, name=name)
    return keras.layers.Embedding(vocab_size, hidden_dim, name=name)


def stack_kwargs(num_heads, intermediate_dim, dropout, normalize_first, position, max_length,
                 **options):
    return dict(num_heads=num_heads, intermediate_dim=intermediate_dim, dropout=dropout,
                normalize_first=normalize_first, position=position, max_length=max_length,
                **options)


def transformer_encoder_decoder(source_vocab_size, target_vocab_size, *, hidden_dim=128,
                                num_heads=4, intermediate_dim=256, num_encoder_layers=2,
                                num_decoder_layers=2, dropout=0.1, normalize_first=False,
                                position="sinusoidal", max_length=256, share_embeddings=False,
                                tie_embeddings=True, alignment_layer=-1, alignment_head=None,
                                activation="relu", scale_embeddings=True, embedding_norm=False,
                                layer_norm_epsilon=1e-5, name="transformer_encoder_decoder"):
    """The family builder: a Transformer encoder-decoder on keras-hub blocks.

    Every entry of this file is this builder with other defaults (`register_variant`); the
    entries' docstrings take their `Args` from here.

    Args:
        source_vocab_size: Size of the source vocabulary, special tokens included.
        target_vocab_size: Size of the target vocabulary, special tokens included.
        hidden_dim: Model width (d_model); a multiple of `num_heads`.
        num_heads: Attention heads.
        intermediate_dim: Width of the feed-forward sublayers (d_ff).
        num_encoder_layers: Encoder blocks.
        num_decoder_layers: Decoder blocks.
        dropout: Dropout of embeddings, attention weights and sublayer outputs.
        normalize_first: Pre-LN blocks and a final layer norm (Xiong et al., 2020), which
            train stably without warm-up; False is the paper's post-LN.
        position: `"sinusoidal"` (the paper) or `"learned"` position encodings (keras-hub).
        max_length: The longest source or target; also the size of the decoding cache.
        share_embeddings: One embedding for source, target and output (one vocabulary).
        tie_embeddings: Share the target embedding with the output projection.
        alignment_layer: Which decoder block's cross-attention gives the alignments.
        alignment_head: Which head's weights; None averages the heads.
        activation: Feed-forward activation: a Keras activation's name (`"relu"`, the
            paper; `"gelu"`; `"swish"`), or `"gelu_approximate"`.
        scale_embeddings: Multiply the embeddings by sqrt(hidden_dim) before adding the
            positions (the paper; BART does not).
        embedding_norm: Layer-normalize the embeddings after adding the positions (BART).
        layer_norm_epsilon: Epsilon of every layer norm.
        name: Name of the model.

    Returns:
        A functional `keras.Model`, see the zoo contract.

    Example:

    >>> model = transformer_encoder_decoder(30, 30, hidden_dim=32, num_heads=2,
    ...                                     intermediate_dim=64)
    """
    C.check_vocabularies(source_vocab_size=source_vocab_size, target_vocab_size=target_vocab_size)
    for key, value in [("hidden_dim", hidden_dim), ("intermediate_dim", intermediate_dim),
                       ("num_encoder_layers", num_encoder_layers),
                       ("num_decoder_layers", num_decoder_layers)]:
        check_positive_int(key, value)
    C.check_shared_vocabulary(share_embeddings, source_vocab_size, target_vocab_size)
    stack = stack_kwargs(num_heads, intermediate_dim, dropout, normalize_first, position,
                         max_length, activation=activation, scale_embeddings=scale_embeddings,
                         embedding_norm=embedding_norm, layer_norm_epsilon=layer_norm_epsilon)
    encoder_ids, decoder_ids = C.seq2seq_inputs()
    target = embedding(target_vocab_size, hidden_dim, tie_embeddings or share_embeddings,
                        "decoder_embedding")
    source = target if share_embeddings else embedding(source_vocab_size, hidden_dim, False,
                                                        "encoder_embedding")
    source_mask = PaddingMask(name="source_mask")(encoder_ids)
    memory = TransformerEncoderStack(num_encoder_layers, **stack, name="encoder")(
        source(encoder_ids), padding_mask=source_mask)
    outputs = TransformerDecoderStack(
        num_decoder_layers, alignment_layer=alignment_layer, alignment_head=alignment_head,
        **stack, name="decoder")(target(decoder_ids), memory, memory_mask=source_mask)
    tied = target if (tie_embeddings or share_embeddings) else None
    logits = C.output_logits(outputs, target_vocab_size, 0.0, tied, hidden_dim)
    return C.seq2seq_model(encoder_ids, decoder_ids, logits, name)


transformer_tiny = register_variant(
    transformer_encoder_decoder, "transformer_tiny", paper=_VASWANI, tiny=_TINY,
    training=_TRAINING, doc="""
    Transformer, 2+2 blocks of width 128: trains in CPU minutes on the built-in tasks.

    Example:

    >>> model = transformer_tiny(30, 30, hidden_dim=32, num_heads=2, intermediate_dim=64)

    Reference:
        - Vaswani et al., 2017. arXiv:1706.03762.
    """)

transformer_small = register_variant(
    transformer_encoder_decoder, "transformer_small",
    defaults={"hidden_dim": 256, "intermediate_dim": 1024, "num_encoder_layers": 3,
              "num_decoder_layers": 3, "normalize_first": True},
    paper=_VASWANI, training=_TRAINING,
    tiny={**_TINY, "normalize_first": True, "position": "learned"}, doc="""
    Pre-LN Transformer, 3+3 blocks of width 256, for small data such as G2P.

    Example:

    >>> model = transformer_small(30, 30, hidden_dim=32, num_heads=2, intermediate_dim=64)

    Reference:
        - Vaswani et al., 2017. arXiv:1706.03762.
        - Xiong et al., 2020. On Layer Normalization in the Transformer Architecture.
          arXiv:2002.04745.
    """)

transformer_base = register_variant(
    transformer_encoder_decoder, "transformer_base",
    defaults={"hidden_dim": 512, "num_heads": 8, "intermediate_dim": 2048,
              "num_encoder_layers": 6, "num_decoder_layers": 6, "max_length": 512},
    paper=_VASWANI, training={**_TRAINING, "learning_rate": 5e-4},
    tiny={**_TINY, "tie_embeddings": False, "alignment_head": 1}, doc="""
    Transformer base (Vaswani et al., 2017): 6+6 blocks, d_model 512, 8 heads, d_ff 2048.

    Example:

    >>> model = transformer_base(30, 30, hidden_dim=32, num_heads=2, intermediate_dim=64,
    ...                          num_encoder_layers=1, num_decoder_layers=1)

    Reference:
        - Vaswani et al., 2017. arXiv:1706.03762.
    """)
