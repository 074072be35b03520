"""Recurrent encoder-decoders without attention: the context vector is the encoder's final state.

The encoder's final states go through the `bridge` to the decoder's initial states; the decoder
is a `keras.layers.RNN` over the same kind of cell, fed the embedded previous target token
(teacher forcing). Layer names: see `keras_s2s.zoo._components`.
"""

import keras

from keras_s2s.layers.read_once_rnn import ReadOnceRNN
from keras_s2s.zoo import _components as C
from keras_s2s.zoo.registry import register_variant

_TINY = {"embedding_dim": 8, "units": 8}
_TRAINING = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64, "clipnorm": 1.0,
             "label_smoothing": 0.1, "epochs": 30}
_SUTSKEVER = "Sutskever, Vinyals & Le, 2014. Sequence to Sequence Learning with Neural Networks. arXiv:1409.3215"
_CHO = ("Cho et al., 2014. Learning Phrase Representations using RNN Encoder-Decoder for "
        "Statistical Machine Translation. arXiv:1406.1078")


def rnn_encoder_decoder(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                        num_layers=1, dropout=0.1, cell_type="lstm", bidirectional=False,
                        residual=False, reverse_source=False, bridge=None, tie_embeddings=False,
                        sampled_softmax=None,
                        name="rnn_encoder_decoder"):
    """The family builder: a recurrent encoder-decoder without attention.

    Every entry of this file is this builder with a few arguments fixed or given other
    defaults (`register_variant`); the entries' docstrings take their `Args` from here.

    Args:
        source_vocab_size: Size of the source vocabulary, special tokens included.
        target_vocab_size: Size of the target vocabulary, special tokens included.
        embedding_dim: Size of the token embeddings.
        units: Size of the recurrent state.
        num_layers: Number of stacked recurrent layers in the encoder and the decoder; each
            decoder layer starts from its encoder layer's state.
        dropout: Input dropout of every recurrent layer and dropout before the projection.
        cell_type: `"rnn"`, `"gru"`, `"lstm"`, `"peephole"` or `"cifg"`.
        bidirectional: A bidirectional encoder.
        residual: Residual connections between stacked layers (GNMT).
        reverse_source: Whether to reverse the source inside the model (the
            `source_reversal` layer reverses only the real tokens; padding stays at the end).
        bridge: How the encoder's final states start the decoder: `"copy"`, `"sum"`
            (forward + backward) or `"dense"` (concatenate forward and backward states and
            project); None: `"dense"` for a bidirectional encoder, else `"copy"`.
        tie_embeddings: Share the decoder embedding with the output projection.
        sampled_softmax: Train the output softmax on this many log-uniform samples per step
            (Jean et al., 2015; `SampledSoftmaxProjection`), for large target vocabularies;
            evaluation and decoding use the full softmax. None: the full softmax.
        name: Name of the model.

    Returns:
        A functional `keras.Model`, see the zoo contract.

    Example:

    >>> model = rnn_encoder_decoder(30, 30, units=16, cell_type="gru", bidirectional=True)
    """
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
    outputs, *_ = ReadOnceRNN(cell, return_sequences=True, return_state=True,
                                   name="decoder")(y, initial_state=initial_state)
    logits = C.output_logits(outputs, target_vocab_size, dropout,
                             embedding if tie_embeddings else None, embedding_dim,
                             sampled_softmax=sampled_softmax)
    return C.seq2seq_model(encoder_ids, decoder_ids, logits, name)


def _variant(name, fixed, *, hide=("bidirectional", "residual", "reverse_source", "bridge"),
             defaults=None, paper=_SUTSKEVER, tiny=_TINY, doc):
    return register_variant(rnn_encoder_decoder, name, fixed=fixed, defaults=defaults,
                            hide=tuple(h for h in hide if h not in (defaults or {})),
                            doc=doc, paper=paper, tiny=tiny, training=_TRAINING)


_DEEP = {"num_layers": 4, "dropout": 0.2}

vanilla_rnn = _variant("vanilla_rnn", {"cell_type": "rnn"}, paper=_CHO, doc="""
    Simple (Elman) RNN encoder-decoder: the baseline that shows why gates matter.

    Example:

    >>> model = vanilla_rnn(30, 30, units=16)

    Reference:
        - Cho et al., 2014. arXiv:1406.1078.
    """)

vanilla_gru = _variant("vanilla_gru", {"cell_type": "gru"}, paper=_CHO, doc="""
    GRU encoder-decoder (Cho et al., 2014).

    Example:

    >>> model = vanilla_gru(30, 30, units=16)

    Reference:
        - Cho et al., 2014. arXiv:1406.1078.
    """)

vanilla_lstm = _variant("vanilla_lstm", {"cell_type": "lstm"}, doc="""
    LSTM encoder-decoder: the final (h, c) of the encoder starts the decoder.

    Example:

    >>> model = vanilla_lstm(30, 30, units=16)

    Reference:
        - Sutskever et al., 2014. arXiv:1409.3215.
    """)

bigru = _variant("bigru", {"cell_type": "gru", "bidirectional": True},
                 defaults={"bridge": "dense"}, paper=_CHO, doc="""
    Bidirectional GRU encoder, GRU decoder; states bridged by concat + dense or by sum.

    Example:

    >>> model = bigru(30, 30, units=16, bridge="sum")

    Reference:
        - Cho et al., 2014. arXiv:1406.1078.
    """)

bilstm = _variant("bilstm", {"cell_type": "lstm", "bidirectional": True},
                  defaults={"bridge": "dense"}, doc="""
    Bidirectional LSTM encoder, LSTM decoder; states bridged by concat + dense or by sum.

    Example:

    >>> model = bilstm(30, 30, units=16)

    Reference:
        - Sutskever et al., 2014. arXiv:1409.3215 (with a bidirectional encoder).
    """)

stacked_lstm = _variant("stacked_lstm", {"cell_type": "lstm"}, defaults=_DEEP,
                        tiny={**_TINY, "num_layers": 2}, doc="""
    Deep LSTM encoder-decoder; each decoder layer starts from its encoder layer's state.

    Example:

    >>> model = stacked_lstm(30, 30, units=16, num_layers=2)

    Reference:
        - Sutskever et al., 2014. arXiv:1409.3215.
    """)

residual_lstm = _variant(
    "residual_lstm", {"cell_type": "lstm", "residual": True}, defaults=_DEEP,
    tiny={**_TINY, "num_layers": 3},
    paper="Wu et al., 2016. Google's Neural Machine Translation System. arXiv:1609.08144",
    doc="""
    Deep LSTM encoder-decoder with residual connections between stacked layers (GNMT).

    Example:

    >>> model = residual_lstm(30, 30, units=16, num_layers=3)

    Reference:
        - Wu et al., 2016. arXiv:1609.08144.
    """)

peephole_lstm = _variant(
    "peephole_lstm", {"cell_type": "peephole"},
    paper="Gers & Schmidhuber, 2000. Recurrent nets that time and count. IJCNN.", doc="""
    Encoder-decoder with peephole LSTM cells in the encoder and the decoder.

    Example:

    >>> model = peephole_lstm(30, 30, units=16)

    Reference:
        - Gers & Schmidhuber, 2000.
    """)

coupled_lstm = _variant(
    "coupled_lstm", {"cell_type": "cifg"},
    paper="Greff et al., 2017. LSTM: A Search Space Odyssey. arXiv:1503.04069", doc="""
    Encoder-decoder with coupled input-forget gate (CIFG) LSTM cells.

    Example:

    >>> model = coupled_lstm(30, 30, units=16)

    Reference:
        - Greff et al., 2017. arXiv:1503.04069.
    """)

sutskever = _variant("sutskever", {"cell_type": "lstm"},
                     defaults={**_DEEP, "reverse_source": True},
                     tiny={**_TINY, "num_layers": 2}, doc="""
    Deep LSTM that reads the source reversed, inside the model (Sutskever et al., 2014).

    The paper used 4 layers of 1000 units and 1000-dimensional embeddings; the defaults here
    are smaller so that the entry trains on a CPU. Reversal happens in the `source_reversal`
    layer (only the real tokens are reversed; padding stays at the end), so data is never
    reversed by hand. `reverse_source=False` gives the unreversed control.

    Example:

    >>> model = sutskever(30, 30, units=16, num_layers=2)

    Reference:
        - Sutskever et al., 2014. arXiv:1409.3215.
    """)
