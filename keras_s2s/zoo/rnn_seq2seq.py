"""Recurrent encoder-decoders without attention: the context vector is the encoder's final state.

The encoder's final states go through the `bridge` to the decoder's initial states; the decoder
is a `keras.layers.RNN` over the same kind of cell, fed the embedded previous target token
(teacher forcing). Layer names: see `keras_s2s.zoo._components`.
"""

import keras

from keras_s2s.zoo import _components as C
from keras_s2s.zoo.registry import register_model

_TINY = {"embedding_dim": 8, "units": 8}
_TRAINING = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64, "clipnorm": 1.0,
             "label_smoothing": 0.1, "epochs": 30}
_SUTSKEVER = "Sutskever, Vinyals & Le, 2014. Sequence to Sequence Learning with Neural Networks. arXiv:1409.3215"
_CHO = ("Cho et al., 2014. Learning Phrase Representations using RNN Encoder-Decoder for "
        "Statistical Machine Translation. arXiv:1406.1078")


def _rnn_seq2seq(source_vocab_size, target_vocab_size, *, embedding_dim, units, num_layers,
                 dropout, cell_type, bidirectional=False, residual=False, reverse_source=False,
                 bridge=None, tie_embeddings=False, name):
    C.check_common(source_vocab_size, target_vocab_size, embedding_dim, units, num_layers,
                   dropout)
    bridge = bridge or ("dense" if bidirectional else "copy")
    if bridge == "zeros":
        raise ValueError("Argument `bridge='zeros'` leaves a model without attention no way to "
                         "see the source. Use 'copy', 'sum' or 'dense'.")
    encoder_ids, decoder_ids = C.seq2seq_inputs()
    _, states, _ = C.encode(
        encoder_ids, source_vocab_size=source_vocab_size, embedding_dim=embedding_dim,
        cell_type=cell_type, units=units, num_layers=num_layers, bidirectional=bidirectional,
        residual=residual, dropout=dropout, reverse_source=reverse_source)
    cell = C.make_cell(cell_type, units, num_layers, dropout, residual, name="decoder")
    initial_state = C.bridge(states, cell, bridge, bidirectional)
    embedding, y = C.decoder_embedding(decoder_ids, target_vocab_size, embedding_dim,
                                       tie_embeddings)
    outputs, *_ = keras.layers.RNN(cell, return_sequences=True, return_state=True,
                                   name="decoder")(y, initial_state=initial_state)
    logits = C.output_logits(outputs, target_vocab_size, dropout,
                             embedding if tie_embeddings else None, embedding_dim)
    return C.seq2seq_model(encoder_ids, decoder_ids, logits, name)


@register_model(paper=_CHO, tiny=_TINY, training=_TRAINING)
def vanilla_rnn(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                num_layers=1, dropout=0.1, tie_embeddings=False, name="vanilla_rnn"):
    """Simple (Elman) RNN encoder-decoder: the baseline that shows why gates matter.

    Args:
        source_vocab_size: Size of the source vocabulary, special tokens included.
        target_vocab_size: Size of the target vocabulary, special tokens included.
        embedding_dim: Size of the token embeddings.
        units: Size of the recurrent state.
        num_layers: Number of stacked recurrent layers in the encoder and the decoder.
        dropout: Input dropout of every recurrent layer and dropout before the projection.
        tie_embeddings: Share the decoder embedding with the output projection.
        name: Name of the model.

    Returns:
        A functional `keras.Model`, see the zoo contract.

    Example:

    >>> model = vanilla_rnn(30, 30, units=16)

    Reference:
        - Cho et al., 2014. arXiv:1406.1078.
    """
    return _rnn_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                        units=units, num_layers=num_layers, dropout=dropout, cell_type="rnn",
                        tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_CHO, tiny=_TINY, training=_TRAINING)
def vanilla_gru(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                num_layers=1, dropout=0.1, tie_embeddings=False, name="vanilla_gru"):
    """GRU encoder-decoder (Cho et al., 2014).

    Args: as `vanilla_rnn`.

    Example:

    >>> model = vanilla_gru(30, 30, units=16)

    Reference:
        - Cho et al., 2014. arXiv:1406.1078.
    """
    return _rnn_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                        units=units, num_layers=num_layers, dropout=dropout, cell_type="gru",
                        tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_SUTSKEVER, tiny=_TINY, training=_TRAINING)
def vanilla_lstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                 num_layers=1, dropout=0.1, tie_embeddings=False, name="vanilla_lstm"):
    """LSTM encoder-decoder: the final (h, c) of the encoder starts the decoder.

    Args: as `vanilla_rnn`.

    Example:

    >>> model = vanilla_lstm(30, 30, units=16)

    Reference:
        - Sutskever et al., 2014. arXiv:1409.3215.
    """
    return _rnn_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                        units=units, num_layers=num_layers, dropout=dropout, cell_type="lstm",
                        tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_CHO, tiny=_TINY, training=_TRAINING)
def bigru(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256, num_layers=1,
          dropout=0.1, bridge="dense", tie_embeddings=False, name="bigru"):
    """Bidirectional GRU encoder, GRU decoder; states bridged by concat + dense or by sum.

    Args:
        bridge: `"dense"` (concatenate forward and backward states and project) or `"sum"`.
        Others: as `vanilla_rnn`.

    Example:

    >>> model = bigru(30, 30, units=16, bridge="sum")

    Reference:
        - Cho et al., 2014. arXiv:1406.1078.
    """
    return _rnn_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                        units=units, num_layers=num_layers, dropout=dropout, cell_type="gru",
                        bidirectional=True, bridge=bridge, tie_embeddings=tie_embeddings,
                        name=name)


@register_model(paper=_SUTSKEVER, tiny=_TINY, training=_TRAINING)
def bilstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256, num_layers=1,
           dropout=0.1, bridge="dense", tie_embeddings=False, name="bilstm"):
    """Bidirectional LSTM encoder, LSTM decoder; states bridged by concat + dense or by sum.

    Args:
        bridge: `"dense"` (concatenate forward and backward states and project) or `"sum"`.
        Others: as `vanilla_rnn`.

    Example:

    >>> model = bilstm(30, 30, units=16)

    Reference:
        - Sutskever et al., 2014. arXiv:1409.3215 (with a bidirectional encoder).
    """
    return _rnn_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                        units=units, num_layers=num_layers, dropout=dropout, cell_type="lstm",
                        bidirectional=True, bridge=bridge, tie_embeddings=tie_embeddings,
                        name=name)


@register_model(paper=_SUTSKEVER, tiny={**_TINY, "num_layers": 2}, training=_TRAINING)
def stacked_lstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                 num_layers=4, dropout=0.2, tie_embeddings=False, name="stacked_lstm"):
    """Deep LSTM encoder-decoder; each decoder layer starts from its encoder layer's state.

    Args: as `vanilla_rnn`, with `num_layers=4` by default.

    Example:

    >>> model = stacked_lstm(30, 30, units=16, num_layers=2)

    Reference:
        - Sutskever et al., 2014. arXiv:1409.3215.
    """
    return _rnn_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                        units=units, num_layers=num_layers, dropout=dropout, cell_type="lstm",
                        tie_embeddings=tie_embeddings, name=name)


@register_model(paper="Wu et al., 2016. Google's Neural Machine Translation System. arXiv:1609.08144",
                tiny={**_TINY, "num_layers": 3}, training=_TRAINING)
def residual_lstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                  num_layers=4, dropout=0.2, tie_embeddings=False, name="residual_lstm"):
    """Deep LSTM encoder-decoder with residual connections between stacked layers (GNMT).

    Args: as `stacked_lstm`.

    Example:

    >>> model = residual_lstm(30, 30, units=16, num_layers=3)

    Reference:
        - Wu et al., 2016. arXiv:1609.08144.
    """
    return _rnn_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                        units=units, num_layers=num_layers, dropout=dropout, cell_type="lstm",
                        residual=True, tie_embeddings=tie_embeddings, name=name)


@register_model(paper="Gers & Schmidhuber, 2000. Recurrent nets that time and count. IJCNN.",
                tiny=_TINY, training=_TRAINING)
def peephole_lstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                  num_layers=1, dropout=0.1, tie_embeddings=False, name="peephole_lstm"):
    """Encoder-decoder with peephole LSTM cells in the encoder and the decoder.

    Args: as `vanilla_rnn`.

    Example:

    >>> model = peephole_lstm(30, 30, units=16)

    Reference:
        - Gers & Schmidhuber, 2000.
    """
    return _rnn_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                        units=units, num_layers=num_layers, dropout=dropout,
                        cell_type="peephole", tie_embeddings=tie_embeddings, name=name)


@register_model(paper="Greff et al., 2017. LSTM: A Search Space Odyssey. arXiv:1503.04069",
                tiny=_TINY, training=_TRAINING)
def coupled_lstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                 num_layers=1, dropout=0.1, tie_embeddings=False, name="coupled_lstm"):
    """Encoder-decoder with coupled input-forget gate (CIFG) LSTM cells.

    Args: as `vanilla_rnn`.

    Example:

    >>> model = coupled_lstm(30, 30, units=16)

    Reference:
        - Greff et al., 2017. arXiv:1503.04069.
    """
    return _rnn_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                        units=units, num_layers=num_layers, dropout=dropout, cell_type="cifg",
                        tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_SUTSKEVER, tiny={**_TINY, "num_layers": 2}, training=_TRAINING)
def sutskever(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
              num_layers=4, dropout=0.2, reverse_source=True, tie_embeddings=False,
              name="sutskever"):
    """Deep LSTM that reads the source reversed, inside the model (Sutskever et al., 2014).

    The paper used 4 layers of 1000 units and 1000-dimensional embeddings; the defaults here
    are smaller so that the entry trains on a CPU. Reversal happens in the `source_reversal`
    layer (only the real tokens are reversed; padding stays at the end), so data is never
    reversed by hand. `reverse_source=False` gives the unreversed control.

    Args:
        reverse_source: Whether to reverse the source inside the model.
        Others: as `stacked_lstm`.

    Example:

    >>> model = sutskever(30, 30, units=16, num_layers=2)

    Reference:
        - Sutskever et al., 2014. arXiv:1409.3215.
    """
    return _rnn_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                        units=units, num_layers=num_layers, dropout=dropout, cell_type="lstm",
                        reverse_source=reverse_source, tie_embeddings=tie_embeddings, name=name)
