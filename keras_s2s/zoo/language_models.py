"""Language models: recurrent and Transformer decoder-only LMs, and a BERT-style masked LM.

Decoder-only entries (`kind="lm"`) take `{"token_ids": (batch, T)}` = `[<s>, y1 .. yn]`
(0-padded) and return float32 next-token logits `(batch, T, vocab_size)`; the labels are
`[y1 .. yn, </s>]`. They are the decoder half of a seq2seq model with no source: the same layer
names (`decoder_embedding`, `decoder`, `logits`, ...), the same inference graphs (the
"encoder" graph only makes the zero initial state) and the same `decode` API, which continues
a prompt. See `docs/ARCHITECTURE.md`.
"""

import keras

from keras_s2s.layers._checks import check_positive_int
from keras_s2s.layers.read_once_rnn import ReadOnceRNN
from keras_s2s.zoo import _components as C
from keras_s2s.zoo.registry import register_model, register_variant

_TINY = {"embedding_dim": 8, "units": 8}
_TRAINING = {"optimizer": "adam", "learning_rate": 2e-3, "batch_size": 64, "clipnorm": 1.0,
             "label_smoothing": 0.0, "epochs": 20}
_MIKOLOV = ("Mikolov et al., 2010. Recurrent neural network based language model. "
            "Interspeech 2010")
_SUNDERMEYER = ("Sundermeyer, Schlüter & Ney, 2012. LSTM Neural Networks for Language "
                "Modeling. Interspeech 2012")
_ZAREMBA = "Zaremba, Sutskever & Vinyals, 2014. Recurrent Neural Network Regularization. arXiv:1409.2329"


def lm_input():
    return keras.Input((None,), dtype="int32", name="token_ids")


def recurrent_lm(vocab_size, *, embedding_dim=128, units=256, num_layers=1, dropout=0.1,
                 cell_type="lstm", tie_embeddings=False, name="recurrent_lm"):
    """The family builder: a recurrent decoder-only language model.

    The recurrent LM entries are this builder with the cell fixed and other defaults
    (`register_variant`); their docstrings take their `Args` from here.

    Args:
        vocab_size: Size of the vocabulary, special tokens included.
        embedding_dim: Size of the token embeddings.
        units: Size of the recurrent state.
        num_layers: Number of stacked recurrent layers.
        dropout: Input dropout of every recurrent layer and dropout before the projection.
        cell_type: `"rnn"`, `"gru"`, `"lstm"`, `"peephole"` or `"cifg"`.
        tie_embeddings: Share the embedding with the output projection (Press & Wolf, 2017).
        name: Name of the model.

    Returns:
        A functional `keras.Model` `{"token_ids"} -> logits (batch, T, vocab_size)`.

    Example:

    >>> model = recurrent_lm(30, units=16, cell_type="gru")
    """
    C.check_vocabularies(vocab_size=vocab_size)
    C.check_common(vocab_size, vocab_size, embedding_dim, units, num_layers, dropout)
    token_ids = lm_input()
    embedding, x = C.decoder_embedding(token_ids, vocab_size, embedding_dim, tie_embeddings)
    cell = C.make_cell(cell_type, units, num_layers, dropout, name="decoder")
    outputs, *_ = ReadOnceRNN(cell, return_sequences=True, return_state=True,
                                   name="decoder")(x)
    logits = C.output_logits(outputs, vocab_size, dropout,
                             embedding if tie_embeddings else None, embedding_dim)
    return keras.Model({"token_ids": token_ids}, logits, name=name)


def _variant(name, cell_type, *, defaults=None, paper, doc):
    return register_variant(recurrent_lm, name, fixed={"cell_type": cell_type},
                            defaults=defaults, doc=doc, paper=paper, tiny=_TINY,
                            training=_TRAINING, kind="lm")


rnn_lm = _variant("rnn_lm", "rnn", paper=_MIKOLOV, doc="""
    Simple (Elman) RNN language model (Mikolov et al., 2010).

    Example:

    >>> model = rnn_lm(30, units=16)

    Reference:
        - Mikolov et al., 2010. Interspeech.
    """)

lstm_lm = _variant("lstm_lm", "lstm", defaults={"num_layers": 2, "dropout": 0.2},
                   paper=_SUNDERMEYER, doc="""
    Stacked LSTM language model with dropout between layers (Zaremba et al., 2014).

    Example:

    >>> model = lstm_lm(30, units=16, num_layers=1)

    Reference:
        - Sundermeyer et al., 2012. Interspeech.
        - Zaremba et al., 2014. arXiv:1409.2329.
    """)

gru_lm = _variant("gru_lm", "gru", paper=_SUNDERMEYER, doc="""
    GRU language model.

    Example:

    >>> model = gru_lm(30, units=16)

    Reference:
        - Cho et al., 2014. arXiv:1406.1078 (the GRU).
    """)


_RADFORD = ("Radford et al., 2019. Language Models are Unsupervised Multitask Learners "
            "(GPT-2). OpenAI")
_DEVLIN = ("Devlin et al., 2019. BERT: Pre-training of Deep Bidirectional Transformers for "
           "Language Understanding. arXiv:1810.04805")
_TRANSFORMER_TINY = {"hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16, "num_layers": 2,
                     "max_length": 16}
_TRANSFORMER_TRAINING = {**_TRAINING, "learning_rate": 1e-3}


@register_model(paper=_RADFORD, tiny=_TRANSFORMER_TINY, training=_TRANSFORMER_TRAINING,
                kind="lm")
def transformer_lm(vocab_size, *, hidden_dim=256, num_heads=4, intermediate_dim=1024,
                   num_layers=4, dropout=0.1, normalize_first=True, position="learned",
                   max_length=256, activation="gelu", tie_embeddings=True,
                   scale_embeddings=True, layer_norm_epsilon=1e-5, name="transformer_lm"):
    """GPT-style decoder-only Transformer LM: causal keras-hub blocks, cached generation.

    Args:
        vocab_size: Size of the vocabulary, special tokens included.
        hidden_dim: Model width; a multiple of `num_heads`.
        num_heads: Attention heads.
        intermediate_dim: Width of the feed-forward sublayers.
        num_layers: Decoder blocks.
        dropout: Dropout of embeddings, attention weights and sublayer outputs.
        normalize_first: Pre-LN blocks with a final layer norm, as GPT-2.
        position: `"learned"` (GPT) or `"sinusoidal"` position encodings.
        max_length: The longest sequence, prompt included; also the decoding cache size.
        activation: Feed-forward activation: a Keras activation's name, or
            `"gelu_approximate"` (GPT-2's tanh approximation).
        tie_embeddings: Share the token embedding with the output projection.
        scale_embeddings: Multiply the embeddings by sqrt(hidden_dim) before adding the
            positions (GPT-2 does not).
        layer_norm_epsilon: Epsilon of every layer norm.
        name: Name of the model.

    Returns:
        A functional `keras.Model` `{"token_ids"} -> logits (batch, T, vocab_size)`.

    Example:

    >>> model = transformer_lm(30, hidden_dim=32, num_heads=2, intermediate_dim=64)

    Reference:
        - Radford et al., 2019. GPT-2.
        - Vaswani et al., 2017. arXiv:1706.03762.
    """
    from keras_s2s.layers.transformer import TransformerDecoderStack
    from keras_s2s.zoo.transformer import embedding

    C.check_vocabularies(vocab_size=vocab_size)
    check_positive_int("hidden_dim", hidden_dim)
    token_ids = lm_input()
    token_embedding = embedding(vocab_size, hidden_dim, tie_embeddings, "decoder_embedding")
    outputs = TransformerDecoderStack(
        num_layers, num_heads=num_heads, intermediate_dim=intermediate_dim, dropout=dropout,
        normalize_first=normalize_first, position=position, max_length=max_length,
        activation=activation, scale_embeddings=scale_embeddings,
        layer_norm_epsilon=layer_norm_epsilon, cross_attention=False,
        name="decoder")(token_embedding(token_ids))
    logits = C.output_logits(outputs, vocab_size, 0.0,
                             token_embedding if tie_embeddings else None, hidden_dim)
    return keras.Model({"token_ids": token_ids}, logits, name=name)


@register_model(paper=_DEVLIN, tiny=_TRANSFORMER_TINY, training=_TRANSFORMER_TRAINING,
                kind="mlm")
def bert_mlm(vocab_size, *, hidden_dim=256, num_heads=4, intermediate_dim=1024, num_layers=4,
             dropout=0.1, normalize_first=False, position="learned", max_length=256,
             activation="gelu", embedding_norm=False, layer_norm_epsilon=1e-5,
             name="bert_mlm"):
    """BERT-style bidirectional Transformer encoder trained with masked LM (keras-hub head).

    The inputs are `{"token_ids", "mask_positions"}`: the token ids with some positions
    replaced by the mask id (keras_s2s uses the tokenizer's vocabulary size as the mask id,
    so `vocab_size` is the tokenizer's size + 1; see `Task.mlm_dataset`) and the positions
    to predict. The output is the logits at those positions, `(batch, P, vocab_size)`.
    `keras_s2s.inference.build_embedding_model(model)` gives the encoder's contextual
    embeddings for downstream use.

    Args:
        vocab_size: Size of the vocabulary, special tokens and the mask token included.
        hidden_dim: Model width; a multiple of `num_heads`.
        num_heads: Attention heads.
        intermediate_dim: Width of the feed-forward sublayers.
        num_layers: Encoder blocks.
        dropout: Dropout of embeddings, attention weights and sublayer outputs.
        normalize_first: Pre-LN blocks; BERT is post-LN (False).
        position: `"learned"` (BERT) or `"sinusoidal"` position encodings.
        max_length: The longest sequence.
        activation: Feed-forward activation.
        embedding_norm: Layer-normalize the embeddings after adding the positions (BERT's
            and RoBERTa's embedding layer norm).
        layer_norm_epsilon: Epsilon of every layer norm.
        name: Name of the model.

    Returns:
        A functional `keras.Model` `{"token_ids", "mask_positions"} -> logits`.

    Example:

    >>> model = bert_mlm(31, hidden_dim=32, num_heads=2, intermediate_dim=64)

    Reference:
        - Devlin et al., 2019. arXiv:1810.04805.
    """
    import keras_hub

    from keras_s2s.layers import PaddingMask
    from keras_s2s.layers.transformer import TransformerEncoderStack

    C.check_vocabularies(vocab_size=vocab_size)
    check_positive_int("hidden_dim", hidden_dim)
    token_ids = lm_input()
    mask_positions = keras.Input((None,), dtype="int32", name="mask_positions")
    x = keras.layers.Embedding(vocab_size, hidden_dim, name="encoder_embedding")(token_ids)
    padding_mask = PaddingMask(name="source_mask")(token_ids)
    x = TransformerEncoderStack(num_layers, num_heads=num_heads,
                                intermediate_dim=intermediate_dim, dropout=dropout,
                                normalize_first=normalize_first, position=position,
                                max_length=max_length, activation=activation,
                                scale_embeddings=False, embedding_norm=embedding_norm,
                                layer_norm_epsilon=layer_norm_epsilon, name="encoder")(
        x, padding_mask=padding_mask)
    # The head has its own output matrix: keras-hub's head re-creates a tied embedding as a
    # separate copy when a model is reloaded, which would silently untie the weights.
    logits = keras_hub.layers.MaskedLMHead(vocab_size, intermediate_activation=activation,
                                           name="mlm_head")(x, mask_positions)
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model({"token_ids": token_ids, "mask_positions": mask_positions}, logits,
                       name=name)
