"""Language models: recurrent and Transformer decoder-only LMs, and a BERT-style masked LM.

Decoder-only entries (`kind="lm"`) take `{"token_ids": (batch, T)}` = `[<s>, y1 .. yn]`
(0-padded) and return float32 next-token logits `(batch, T, vocab_size)`; the labels are
`[y1 .. yn, </s>]`. They are the decoder half of a seq2seq model with no source: the same layer
names (`decoder_embedding`, `decoder`, `logits`, ...), the same inference graphs (the
"encoder" graph only makes the zero initial state) and the same `decode` API, which continues
a prompt. See `docs/ARCHITECTURE.md`.
"""

import keras

from keras_s2s.zoo import _components as C
from keras_s2s.zoo.registry import register_model

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


def _rnn_lm(vocab_size, *, embedding_dim, units, num_layers, dropout, cell_type,
            tie_embeddings, name):
    C.check_vocabularies(vocab_size=vocab_size)
    C.check_common(vocab_size, vocab_size, embedding_dim, units, num_layers, dropout)
    token_ids = lm_input()
    embedding, x = C.decoder_embedding(token_ids, vocab_size, embedding_dim, tie_embeddings)
    cell = C.make_cell(cell_type, units, num_layers, dropout, name="decoder")
    outputs, *_ = keras.layers.RNN(cell, return_sequences=True, return_state=True,
                                   name="decoder")(x)
    logits = C.output_logits(outputs, vocab_size, dropout,
                             embedding if tie_embeddings else None, embedding_dim)
    return keras.Model({"token_ids": token_ids}, logits, name=name)


@register_model(paper=_MIKOLOV, tiny=_TINY, training=_TRAINING, kind="lm")
def rnn_lm(vocab_size, *, embedding_dim=128, units=256, num_layers=1, dropout=0.1,
           tie_embeddings=False, name="rnn_lm"):
    """Simple (Elman) RNN language model (Mikolov et al., 2010).

    Args:
        vocab_size: Size of the vocabulary, special tokens included.
        embedding_dim: Size of the token embeddings.
        units: Size of the recurrent state.
        num_layers: Number of stacked recurrent layers.
        dropout: Input dropout of every recurrent layer and dropout before the projection.
        tie_embeddings: Share the embedding with the output projection (Press & Wolf, 2017).
        name: Name of the model.

    Returns:
        A functional `keras.Model` `{"token_ids"} -> logits (batch, T, vocab_size)`.

    Example:

    >>> model = rnn_lm(30, units=16)

    Reference:
        - Mikolov et al., 2010. Interspeech.
    """
    return _rnn_lm(vocab_size, embedding_dim=embedding_dim, units=units, num_layers=num_layers,
                   dropout=dropout, cell_type="rnn", tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_SUNDERMEYER, tiny=_TINY, training=_TRAINING, kind="lm")
def lstm_lm(vocab_size, *, embedding_dim=128, units=256, num_layers=2, dropout=0.2,
            tie_embeddings=False, name="lstm_lm"):
    """Stacked LSTM language model with dropout between layers (Zaremba et al., 2014).

    Args: as `rnn_lm`.

    Example:

    >>> model = lstm_lm(30, units=16, num_layers=1)

    Reference:
        - Sundermeyer et al., 2012. Interspeech.
        - Zaremba et al., 2014. arXiv:1409.2329.
    """
    return _rnn_lm(vocab_size, embedding_dim=embedding_dim, units=units, num_layers=num_layers,
                   dropout=dropout, cell_type="lstm", tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_SUNDERMEYER, tiny=_TINY, training=_TRAINING, kind="lm")
def gru_lm(vocab_size, *, embedding_dim=128, units=256, num_layers=1, dropout=0.1,
           tie_embeddings=False, name="gru_lm"):
    """GRU language model.

    Args: as `rnn_lm`.

    Example:

    >>> model = gru_lm(30, units=16)

    Reference:
        - Cho et al., 2014. arXiv:1406.1078 (the GRU).
    """
    return _rnn_lm(vocab_size, embedding_dim=embedding_dim, units=units, num_layers=num_layers,
                   dropout=dropout, cell_type="gru", tie_embeddings=tie_embeddings, name=name)
