"""Recurrent encoder-decoders with attention (Bahdanau et al. 2015; Luong et al. 2015).

The encoder outputs are the memory; the decoder is an `AttentionDecoder` that attends at every
step. Layer names: see `keras_s2s.zoo._components`; the attention layer lives inside the
`decoder` layer as `model.get_layer("decoder").attention`.

Every entry steps the decoder in Luong's order (the new state h_t is the query), also the
`bahdanau_*` ones, whose additive score equals Luong's concat score: `bahdanau_bilstm` and
`luong_concat_bilstm` are the same function. See docs/ARCHITECTURE.md.
"""

import keras

from keras_s2s.layers import AttentionDecoder, BahdanauAttention, LuongAttention
from keras_s2s.layers._checks import check_choice
from keras_s2s.zoo import _components as C
from keras_s2s.zoo.registry import register_model

_TINY = {"embedding_dim": 8, "units": 8}
_TRAINING = {"optimizer": "adam", "learning_rate": 2e-3, "batch_size": 64, "clipnorm": 1.0,
             "label_smoothing": 0.1, "epochs": 30}
_BAHDANAU = ("Bahdanau, Cho & Bengio, 2015. Neural Machine Translation by Jointly Learning to "
             "Align and Translate. arXiv:1409.0473")
_LUONG = ("Luong, Pham & Manning, 2015. Effective Approaches to Attention-based Neural Machine "
          "Translation. arXiv:1508.04025")


def _attention_seq2seq(source_vocab_size, target_vocab_size, *, embedding_dim, units,
                       num_layers, dropout, cell_type, bidirectional, attention, score="general",
                       normalize=False, scale=False, input_feeding=True, bridge=None,
                       tie_embeddings=False, name):
    C.check_common(source_vocab_size, target_vocab_size, embedding_dim, units, num_layers,
                   dropout)
    check_choice("attention", attention, ("bahdanau", "luong"))
    bridge = bridge or ("dense" if bidirectional else "copy")
    encoder_ids, decoder_ids = C.seq2seq_inputs()
    memory, states, source_mask = C.encode(
        encoder_ids, source_vocab_size=source_vocab_size, embedding_dim=embedding_dim,
        cell_type=cell_type, units=units, num_layers=num_layers, bidirectional=bidirectional,
        residual=False, dropout=dropout)
    if attention == "bahdanau":
        mechanism = BahdanauAttention(units, normalize=normalize, name="attention")
    else:
        mechanism = LuongAttention(score, scale=scale, name="attention")
        if score == "dot" and memory.shape[-1] != units:
            # dot scores need memory and query of one size; a bidirectional memory is 2·units
            memory = keras.layers.Dense(units, use_bias=False, name="memory_projection")(memory)
    cell = C.make_cell(cell_type, units, num_layers, dropout, name="decoder")
    initial_state = C.bridge(states, cell, bridge, bidirectional)
    embedding, y = C.decoder_embedding(decoder_ids, target_vocab_size, embedding_dim,
                                       tie_embeddings)
    decoder = AttentionDecoder(cell, mechanism, attention_layer_size=units,
                               input_feeding=input_feeding, name="decoder")
    outputs, _, _ = decoder(y, memory, memory_mask=source_mask, initial_state=initial_state)
    logits = C.output_logits(outputs, target_vocab_size, dropout,
                             embedding if tie_embeddings else None, embedding_dim)
    return C.seq2seq_model(encoder_ids, decoder_ids, logits, name)




@register_model(paper=_BAHDANAU, tiny=_TINY, training=_TRAINING)
def bahdanau_gru(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                 num_layers=1, dropout=0.1, normalize=False, input_feeding=True, bridge="dense",
                 tie_embeddings=False, name="bahdanau_gru"):
    """RNNsearch: bidirectional GRU encoder, GRU decoder with additive attention.

    `normalize=True` gives the weight-normalised ("normed Bahdanau") score of GNMT. The
    decoder initial state is a projection of the encoder's final states, as in the paper.
    Others as the family's arguments.

    Example:

    >>> model = bahdanau_gru(30, 30, units=16, normalize=True)

    Reference:
        - Bahdanau et al., 2015. arXiv:1409.0473.
    """
    return _attention_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                              units=units, num_layers=num_layers, dropout=dropout,
                              cell_type="gru", bidirectional=True, attention="bahdanau",
                              normalize=normalize, input_feeding=input_feeding, bridge=bridge,
                              tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_BAHDANAU, tiny=_TINY, training=_TRAINING)
def bahdanau_lstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                  num_layers=1, dropout=0.1, normalize=False, input_feeding=True, bridge="copy",
                  tie_embeddings=False, name="bahdanau_lstm"):
    """LSTM encoder, LSTM decoder with additive attention.

    Example:

    >>> model = bahdanau_lstm(30, 30, units=16)

    Reference:
        - Bahdanau et al., 2015. arXiv:1409.0473.
    """
    return _attention_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                              units=units, num_layers=num_layers, dropout=dropout,
                              cell_type="lstm", bidirectional=False, attention="bahdanau",
                              normalize=normalize, input_feeding=input_feeding, bridge=bridge,
                              tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_BAHDANAU, tiny=_TINY, training=_TRAINING)
def bahdanau_bilstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                    num_layers=1, dropout=0.1, normalize=False, input_feeding=True,
                    bridge="dense", tie_embeddings=False, name="bahdanau_bilstm"):
    """Bidirectional LSTM encoder, LSTM decoder with additive attention.

    Example:

    >>> model = bahdanau_bilstm(30, 30, units=16)

    Reference:
        - Bahdanau et al., 2015. arXiv:1409.0473.
    """
    return _attention_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                              units=units, num_layers=num_layers, dropout=dropout,
                              cell_type="lstm", bidirectional=True, attention="bahdanau",
                              normalize=normalize, input_feeding=input_feeding, bridge=bridge,
                              tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_LUONG, tiny=_TINY, training=_TRAINING)
def luong_lstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
               num_layers=1, dropout=0.1, score="general", scale=False, input_feeding=True,
               bridge="copy", tie_embeddings=False, name="luong_lstm"):
    """LSTM encoder, LSTM decoder with Luong global attention and input feeding.

    `score` is `"general"` (default), `"dot"` or `"concat"`; `input_feeding=False` gives the
    parallel attention-after-the-RNN variant.

    Example:

    >>> model = luong_lstm(30, 30, units=16, score="dot")

    Reference:
        - Luong et al., 2015. arXiv:1508.04025.
    """
    return _attention_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                              units=units, num_layers=num_layers, dropout=dropout,
                              cell_type="lstm", bidirectional=False, attention="luong",
                              score=score, scale=scale, input_feeding=input_feeding,
                              bridge=bridge, tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_LUONG, tiny=_TINY, training=_TRAINING)
def luong_bilstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                 num_layers=1, dropout=0.1, score="general", scale=False, input_feeding=True,
                 bridge="dense", tie_embeddings=False, name="luong_bilstm"):
    """Bidirectional LSTM encoder, LSTM decoder with Luong attention and input feeding.

    The design card's flagship. `score` is `"general"` (default), `"dot"` or `"concat"`;
    `input_feeding=False` gives the parallel variant.

    Example:

    >>> model = luong_bilstm(30, 30, units=16)

    Reference:
        - Luong et al., 2015. arXiv:1508.04025.
    """
    return _attention_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                              units=units, num_layers=num_layers, dropout=dropout,
                              cell_type="lstm", bidirectional=True, attention="luong",
                              score=score, scale=scale, input_feeding=input_feeding,
                              bridge=bridge, tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_LUONG, tiny=_TINY, training=_TRAINING)
def luong_dot_bilstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                     num_layers=1, dropout=0.1, scale=False, input_feeding=True, bridge="dense",
                     tie_embeddings=False, name="luong_dot_bilstm"):
    """`luong_bilstm` with the dot score; a `memory_projection` maps the 2·units memory to units.

    Example:

    >>> model = luong_dot_bilstm(30, 30, units=16)

    Reference:
        - Luong et al., 2015. arXiv:1508.04025.
    """
    return _attention_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                              units=units, num_layers=num_layers, dropout=dropout,
                              cell_type="lstm", bidirectional=True, attention="luong",
                              score="dot", scale=scale, input_feeding=input_feeding,
                              bridge=bridge, tie_embeddings=tie_embeddings, name=name)


@register_model(paper=_LUONG, tiny=_TINY, training=_TRAINING)
def luong_concat_bilstm(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                        num_layers=1, dropout=0.1, scale=False, input_feeding=True,
                        bridge="dense", tie_embeddings=False, name="luong_concat_bilstm"):
    """`luong_bilstm` with the concat score `vᵀ tanh(W [q; m])`.

    Example:

    >>> model = luong_concat_bilstm(30, 30, units=16)

    Reference:
        - Luong et al., 2015. arXiv:1508.04025.
    """
    return _attention_seq2seq(source_vocab_size, target_vocab_size, embedding_dim=embedding_dim,
                              units=units, num_layers=num_layers, dropout=dropout,
                              cell_type="lstm", bidirectional=True, attention="luong",
                              score="concat", scale=scale, input_feeding=input_feeding,
                              bridge=bridge, tie_embeddings=tie_embeddings, name=name)
