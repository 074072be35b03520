"""Recurrent encoder-decoders with attention (Bahdanau et al. 2015; Luong et al. 2015).

The encoder outputs are the memory; the decoder is an `AttentionDecoder` that attends at every
step. Layer names: see `keras_s2s.zoo._components`; the attention layer lives inside the
`decoder` layer as `model.get_layer("decoder").attention`.

The `luong_*` entries step the decoder in Luong's order (the new state h_t queries the
memory; input feeding carries the attentional vector to the next step). The `bahdanau_*`
entries are RNNsearch as in Bahdanau et al.'s appendix A (`attention_first=True`): the
previous state s_{i-1} queries the memory, the context enters the cell with the previous
token, and a maxout deep output reads s_i, y_{i-1} and c_i:

    e_ij = vᵀ tanh(W_q s_{i-1} + W_m h_j)      α_i = softmax(e_i)      c_i = Σ_j α_ij h_j
    s_i  = cell([E y_{i-1}; c_i], s_{i-1})
    t_i  = max over pairs of (W_o [s_i; E y_{i-1}; c_i] + b_o)          # maxout, pool 2
    p(y_i | y_<i, x) = softmax(W t_i + b)

Luong's additive ("concat") score stays under `luong_concat_bilstm`. See docs/ARCHITECTURE.md.
"""

import keras

from keras_s2s.layers import (
    AttentionDecoder,
    BahdanauAttention,
    BahdanauMonotonicAttention,
    CoverageAttention,
    LocationSensitiveAttention,
    LuongAttention,
    LuongLocalAttention,
    LuongMonotonicAttention,
)
from keras_s2s.layers._checks import check_choice
from keras_s2s.zoo import _components as C
from keras_s2s.zoo.registry import register_variant

_TINY = {"embedding_dim": 8, "units": 8}
_TRAINING = {"optimizer": "adam", "learning_rate": 2e-3, "batch_size": 64, "clipnorm": 1.0,
             "label_smoothing": 0.1, "epochs": 30}
_BAHDANAU = ("Bahdanau, Cho & Bengio, 2015. Neural Machine Translation by Jointly Learning to "
             "Align and Translate. arXiv:1409.0473")
_CHOROWSKI = ("Chorowski, Bahdanau, Serdyuk, Cho & Bengio, 2015. Attention-Based Models for "
              "Speech Recognition. arXiv:1506.07503")
_LUONG = ("Luong, Pham & Manning, 2015. Effective Approaches to Attention-based Neural Machine "
          "Translation. arXiv:1508.04025")


def attention_encoder_decoder(source_vocab_size, target_vocab_size, *, embedding_dim=128,
                              units=256, num_layers=1, dropout=0.1, cell_type="lstm",
                              bidirectional=True, attention="luong", score="general",
                              normalize=False, scale=False, window=10,
                              local_mode="predictive", monotonic_mode="parallel",
                              sigmoid_noise=1.0, score_bias_init=0.0, location_filters=8,
                              location_kernel_size=7, input_feeding=True,
                              attention_first=False, bridge=None, tie_embeddings=False,
                              sampled_softmax=None, name="attention_encoder_decoder"):
    """The family builder: a recurrent encoder-decoder whose decoder attends at every step.

    Every entry of this file is this builder with a few arguments fixed or given other
    defaults (`register_variant`); the entries' docstrings take their `Args` from here.

    Args:
        source_vocab_size: Size of the source vocabulary, special tokens included.
        target_vocab_size: Size of the target vocabulary, special tokens included.
        embedding_dim: Size of the token embeddings.
        units: Size of the recurrent state and of the attentional hidden state.
        num_layers: Number of stacked recurrent layers in the encoder and the decoder.
        dropout: Input dropout of every recurrent layer and dropout before the projection.
        cell_type: `"rnn"`, `"gru"`, `"lstm"`, `"peephole"` or `"cifg"`.
        bidirectional: A bidirectional encoder; the memory is then 2·units wide.
        attention: `"bahdanau"` (additive score), `"luong"` (the `score` below),
            `"bahdanau_monotonic"` or `"luong_monotonic"` (Raffel et al.'s monotonic
            attention with those scores), `"luong_local"` (Luong's local attention),
            `"bahdanau_coverage"` (the additive score with See et al.'s coverage feature) or
            `"location"` (the additive score with Chorowski et al.'s location features).
        score: Luong's score: `"general"` `qᵀ W m`, `"dot"` `qᵀ m` (a `memory_projection`
            maps a 2·units memory to units) or `"concat"` `vᵀ tanh(W [q; m])`.
        normalize: The weight-normalised ("normed Bahdanau") additive score of GNMT.
        scale: A learned scalar `g` on Luong's score.
        window: Local attention's half-width D: the decoder reads `[p_t - D, p_t + D]`.
        local_mode: `"predictive"` (local-p: p_t predicted from the state, Gaussian-weighted)
            or `"monotonic"` (local-m: p_t = t).
        monotonic_mode: How monotonic attention computes its alignments: `"parallel"`
            (Raffel et al.'s closed form), `"recursive"` (the exact recurrence) or `"hard"`
            (test-time hard attention).
        sigmoid_noise: Standard deviation of the noise added to monotonic attention's scores
            in training (Raffel et al. use 1), which makes the stopping decisions near-hard.
        score_bias_init: Initial value of monotonic attention's learned score bias r.
        location_filters: Location-sensitive attention's number of filters over the earlier
            alignments.
        location_kernel_size: Their width in source positions (odd).
        input_feeding: Feed the previous attentional vector into the cell (Luong et al.);
            False gives the parallel attention-after-the-RNN variant.
        attention_first: Bahdanau's order (RNNsearch): the previous decoder state queries
            the memory, the context enters the cell with the previous token, and a maxout
            deep output reads the new state, the previous token and the context. Needs
            `input_feeding=False`.
        bridge: How the encoder's final states start the decoder: `"copy"`, `"sum"`,
            `"dense"` or `"zeros"`; None: `"dense"` for a bidirectional encoder, else
            `"copy"`.
        tie_embeddings: Share the decoder embedding with the output projection.
        sampled_softmax: Train the output softmax on this many log-uniform samples per step
            (Jean et al., 2015; `SampledSoftmaxProjection`), for large target vocabularies;
            evaluation and decoding use the full softmax. None: the full softmax.
        name: Name of the model.

    Returns:
        A functional `keras.Model`, see the zoo contract.

    Example:

    >>> model = attention_encoder_decoder(30, 30, units=16, cell_type="gru",
    ...                                   attention="bahdanau")
    """
    C.check_common(source_vocab_size, target_vocab_size, embedding_dim, units, num_layers,
                   dropout)
    check_choice("attention", attention, ("bahdanau", "luong", "bahdanau_monotonic",
                                          "luong_monotonic", "luong_local",
                                          "bahdanau_coverage", "location"))
    bridge = bridge or ("dense" if bidirectional else "copy")
    encoder_ids, decoder_ids = C.seq2seq_inputs()
    memory, states, source_mask = C.encode(
        encoder_ids, source_vocab_size=source_vocab_size, embedding_dim=embedding_dim,
        cell_type=cell_type, units=units, num_layers=num_layers, bidirectional=bidirectional,
        residual=False, dropout=dropout)
    monotonic = dict(sigmoid_noise=sigmoid_noise, score_bias_init=score_bias_init,
                     mode=monotonic_mode, name="attention")
    if attention == "bahdanau":
        mechanism = BahdanauAttention(units, normalize=normalize, name="attention")
    elif attention == "bahdanau_monotonic":
        mechanism = BahdanauMonotonicAttention(units, normalize=normalize, **monotonic)
    elif attention == "bahdanau_coverage":
        mechanism = CoverageAttention(units, normalize=normalize, name="attention")
    elif attention == "location":
        mechanism = LocationSensitiveAttention(units, filters=location_filters,
                                               kernel_size=location_kernel_size,
                                               normalize=normalize, name="attention")
    else:
        if attention == "luong":
            mechanism = LuongAttention(score, scale=scale, name="attention")
        elif attention == "luong_monotonic":
            mechanism = LuongMonotonicAttention(score, scale=scale, **monotonic)
        else:
            mechanism = LuongLocalAttention(score, window=window, mode=local_mode, scale=scale,
                                            name="attention")
        if score == "dot" and memory.shape[-1] != units:
            # dot scores need memory and query of one size; a bidirectional memory is 2·units
            memory = keras.layers.Dense(units, use_bias=False, name="memory_projection")(memory)
    cell = C.make_cell(cell_type, units, num_layers, dropout, name="decoder")
    initial_state = C.bridge(states, cell, bridge, bidirectional)
    embedding, y = C.decoder_embedding(decoder_ids, target_vocab_size, embedding_dim,
                                       tie_embeddings)
    decoder = AttentionDecoder(cell, mechanism, attention_layer_size=units,
                               input_feeding=input_feeding, attention_first=attention_first,
                               name="decoder")
    outputs, _, _ = decoder(y, memory, memory_mask=source_mask, initial_state=initial_state)
    logits = C.output_logits(outputs, target_vocab_size, dropout,
                             embedding if tie_embeddings else None, embedding_dim,
                             sampled_softmax=sampled_softmax)
    return C.seq2seq_model(encoder_ids, decoder_ids, logits, name)


# the arguments of each mechanism; an entry takes those of its own
_MECHANISM_ARGUMENTS = {
    "bahdanau": {"normalize"},
    "luong": {"score", "scale"},
    "bahdanau_monotonic": {"normalize", "monotonic_mode", "sigmoid_noise", "score_bias_init"},
    "luong_monotonic": {"score", "scale", "monotonic_mode", "sigmoid_noise", "score_bias_init"},
    "luong_local": {"score", "scale", "window", "local_mode"},
    "bahdanau_coverage": {"normalize"},
    "location": {"normalize", "location_filters", "location_kernel_size"},
}


def _variant(name, fixed, *, defaults=None, paper, doc, tiny=_TINY):
    mechanism = fixed["attention"]
    if mechanism.startswith("bahdanau"):
        # Bahdanau's entries are RNNsearch: attention first, no input feeding
        fixed = {**fixed, "attention_first": True, "input_feeding": False}
    every = set().union(*_MECHANISM_ARGUMENTS.values())
    hide = {"cell_type", "bidirectional", "attention", "attention_first",
            *(every - _MECHANISM_ARGUMENTS[mechanism])}
    # monotonic attention draws noise in training (sigmoid_noise)
    return register_variant(attention_encoder_decoder, name, fixed=fixed, defaults=defaults,
                            hide=tuple(sorted(hide - set(fixed))), doc=doc, paper=paper,
                            tiny=tiny, training=_TRAINING,
                            stochastic=mechanism.endswith("monotonic"))


bahdanau_gru = _variant(
    "bahdanau_gru", {"cell_type": "gru", "bidirectional": True, "attention": "bahdanau"},
    defaults={"bridge": "dense"}, paper=_BAHDANAU, doc="""
    RNNsearch: bidirectional GRU encoder, GRU decoder with additive attention, as in the paper.

    The decoder's initial state is a projection of the encoder's final states (the paper
    uses the backward one). `normalize=True` gives the weight-normalised ("normed
    Bahdanau") score of GNMT.

    The equations (RNNsearch, Bahdanau et al. 2015, appendix A; h_j the encoder outputs):
    `e_ij = vᵀ tanh(W_q s_{i-1} + W_m h_j)`, `α_i = softmax(e_i)`, `c_i = Σ_j α_ij h_j`;
    `s_i = cell([E y_{i-1}; c_i], s_{i-1})`; `t_i = maxout(W_o [s_i; E y_{i-1}; c_i] + b_o)`
    (pool 2, `units` outputs); `p(y_i) = softmax(W t_i + b)`.

    Example:

    >>> model = bahdanau_gru(30, 30, units=16, normalize=True)

    Reference:
        - Bahdanau et al., 2015. arXiv:1409.0473.
    """)

bahdanau_lstm = _variant(
    "bahdanau_lstm", {"cell_type": "lstm", "bidirectional": False, "attention": "bahdanau"},
    defaults={"bridge": "copy"}, paper=_BAHDANAU, doc="""
    RNNsearch with LSTM cells and a unidirectional encoder: attention first, maxout output.

    The equations (RNNsearch, Bahdanau et al. 2015, appendix A; h_j the encoder outputs):
    `e_ij = vᵀ tanh(W_q s_{i-1} + W_m h_j)`, `α_i = softmax(e_i)`, `c_i = Σ_j α_ij h_j`;
    `s_i = cell([E y_{i-1}; c_i], s_{i-1})`; `t_i = maxout(W_o [s_i; E y_{i-1}; c_i] + b_o)`
    (pool 2, `units` outputs); `p(y_i) = softmax(W t_i + b)`.

    Example:

    >>> model = bahdanau_lstm(30, 30, units=16)

    Reference:
        - Bahdanau et al., 2015. arXiv:1409.0473.
    """)

bahdanau_bilstm = _variant(
    "bahdanau_bilstm", {"cell_type": "lstm", "bidirectional": True, "attention": "bahdanau"},
    defaults={"bridge": "dense"}, paper=_BAHDANAU, doc="""
    RNNsearch with LSTM cells: bidirectional encoder, attention first, maxout deep output.

    The equations (RNNsearch, Bahdanau et al. 2015, appendix A; h_j the encoder outputs):
    `e_ij = vᵀ tanh(W_q s_{i-1} + W_m h_j)`, `α_i = softmax(e_i)`, `c_i = Σ_j α_ij h_j`;
    `s_i = cell([E y_{i-1}; c_i], s_{i-1})`; `t_i = maxout(W_o [s_i; E y_{i-1}; c_i] + b_o)`
    (pool 2, `units` outputs); `p(y_i) = softmax(W t_i + b)`.

    Example:

    >>> model = bahdanau_bilstm(30, 30, units=16)

    Reference:
        - Bahdanau et al., 2015. arXiv:1409.0473.
    """)

luong_lstm = _variant(
    "luong_lstm", {"cell_type": "lstm", "bidirectional": False, "attention": "luong"},
    defaults={"bridge": "copy"}, paper=_LUONG, doc="""
    LSTM encoder, LSTM decoder with Luong global attention and input feeding.

    `score` is `"general"` (default), `"dot"` or `"concat"`; `input_feeding=False` gives the
    parallel attention-after-the-RNN variant.

    Example:

    >>> model = luong_lstm(30, 30, units=16, score="dot")

    Reference:
        - Luong et al., 2015. arXiv:1508.04025.
    """)

luong_bilstm = _variant(
    "luong_bilstm", {"cell_type": "lstm", "bidirectional": True, "attention": "luong"},
    defaults={"bridge": "dense"}, paper=_LUONG, doc="""
    Bidirectional LSTM encoder, LSTM decoder with Luong attention and input feeding.

    The design card's flagship. `score` is `"general"` (default), `"dot"` or `"concat"`;
    `input_feeding=False` gives the parallel variant.

    Example:

    >>> model = luong_bilstm(30, 30, units=16)

    Reference:
        - Luong et al., 2015. arXiv:1508.04025.
    """)

luong_dot_bilstm = _variant(
    "luong_dot_bilstm",
    {"cell_type": "lstm", "bidirectional": True, "attention": "luong", "score": "dot"},
    defaults={"bridge": "dense"}, paper=_LUONG, doc="""
    `luong_bilstm` with the dot score; a `memory_projection` maps the 2·units memory to units.

    Example:

    >>> model = luong_dot_bilstm(30, 30, units=16)

    Reference:
        - Luong et al., 2015. arXiv:1508.04025.
    """)

luong_concat_bilstm = _variant(
    "luong_concat_bilstm",
    {"cell_type": "lstm", "bidirectional": True, "attention": "luong", "score": "concat"},
    defaults={"bridge": "dense"}, paper=_LUONG, doc="""
    `luong_bilstm` with the concat score `vᵀ tanh(W [q; m])`.

    Example:

    >>> model = luong_concat_bilstm(30, 30, units=16)

    Reference:
        - Luong et al., 2015. arXiv:1508.04025.
    """)

_RAFFEL = ("Raffel, Luong, Liu, Weiss & Eck, 2017. Online and Linear-Time Attention by "
           "Enforcing Monotonic Alignments. ICML. arXiv:1704.00784")

bahdanau_monotonic_gru = _variant(
    "bahdanau_monotonic_gru",
    {"cell_type": "gru", "bidirectional": True, "attention": "bahdanau_monotonic"},
    defaults={"bridge": "dense"}, paper=_RAFFEL, doc="""
    RNNsearch with monotonic attention: the decoder reads the source left to right only.

    `bahdanau_gru` with Raffel et al.'s monotonic additive attention: at each step the
    mechanism moves right from where it stopped at the previous step and stops at position j
    with probability `sigmoid(e_ij + r)`; training uses the expected alignment, with
    `sigmoid_noise` in the scores. `monotonic_mode="hard"` gives the test-time hard attention.

    Example:

    >>> model = bahdanau_monotonic_gru(30, 30, units=16, monotonic_mode="hard")

    Reference:
        - Raffel et al., 2017. arXiv:1704.00784.
        - Bahdanau et al., 2015. arXiv:1409.0473.
    """)

luong_monotonic_bilstm = _variant(
    "luong_monotonic_bilstm",
    {"cell_type": "lstm", "bidirectional": True, "attention": "luong_monotonic"},
    defaults={"bridge": "dense", "scale": True}, paper=_RAFFEL, doc="""
    `luong_bilstm` with Raffel et al.'s monotonic attention on the scaled general score.

    The score is `g · qᵀ W m + r`, as TensorFlow Addons' `LuongMonotonicAttention(scale=True)`;
    the previous step's alignments travel in the decoder state, so step decoding works.

    Example:

    >>> model = luong_monotonic_bilstm(30, 30, units=16, sigmoid_noise=0.5)

    Reference:
        - Raffel et al., 2017. arXiv:1704.00784.
        - Luong et al., 2015. arXiv:1508.04025.
    """)

luong_local_p_bilstm = _variant(
    "luong_local_p_bilstm",
    {"cell_type": "lstm", "bidirectional": True, "attention": "luong_local",
     "local_mode": "predictive"},
    defaults={"bridge": "dense"}, paper=_LUONG, tiny={**_TINY, "window": 2}, doc="""
    `luong_bilstm` with local-p attention: a predicted window with a Gaussian (section 3.2).

    `p_t = S · sigmoid(v_pᵀ tanh(W_p h_t))`; the weights are the general score's softmax over
    `[p_t - D, p_t + D]` times `exp(-(s - p_t)² / (2 (D/2)²))`, exactly zero outside.

    Example:

    >>> model = luong_local_p_bilstm(30, 30, units=16, window=3)

    Reference:
        - Luong et al., 2015. arXiv:1508.04025.
    """)

location_bilstm = _variant(
    "location_bilstm", {"cell_type": "lstm", "bidirectional": True, "attention": "location"},
    defaults={"bridge": "dense"}, paper=_CHOROWSKI, doc="""
    `luong_bilstm` with location-sensitive attention: the score also reads where it was.

    The additive score `vᵀ tanh(h_t W_q + m_j W_m + f_{t,j} W_f)` with location features
    `f_t = F * [α_{t-1}; Σ_{t'<t} α_{t'}]` (filters over source positions; the cumulative
    channel as in Tacotron 2), queried by the new decoder state h_t with input feeding, as in
    `luong_bilstm`. A content-only score can jump between source positions that look alike
    (the repeated letters of `roughhouse`); the location features let it prefer the positions
    next to the last one read, in either direction. Both alignments travel in the decoder
    state, so step decoding works.

    Example:

    >>> model = location_bilstm(30, 30, units=16, location_filters=4)

    Reference:
        - Chorowski et al., 2015. arXiv:1506.07503.
        - Luong et al., 2015. arXiv:1508.04025.
    """)

luong_local_m_bilstm = _variant(
    "luong_local_m_bilstm",
    {"cell_type": "lstm", "bidirectional": True, "attention": "luong_local",
     "local_mode": "monotonic"},
    defaults={"bridge": "dense"}, paper=_LUONG, tiny={**_TINY, "window": 1}, doc="""
    `luong_bilstm` with local-m attention: the window `[t - D, t + D]` (section 3.2).

    Step t reads only the source positions within D of t, with the general score's softmax
    over them; the step counter travels in the decoder state.

    Example:

    >>> model = luong_local_m_bilstm(30, 30, units=16, window=3)

    Reference:
        - Luong et al., 2015. arXiv:1508.04025.
    """)
