"""Analytic FLOP counts of one training step, for the hardware-efficiency part of the benchmarks.

Only matrix products are counted, at 2·m·n·k FLOPs for an `(m, k) @ (k, n)` product (one
multiply and one add per term); gathers (embeddings), elementwise ops, softmax, layer norms and
the optimizer are left out. A training step counts 3× the forward pass: the backward pass does
two products of the same size per forward product (gradients of the inputs and of the weights).

Counted per model, for batch B, source length S, target length T (the padded widths: padding is
computed like real tokens), vocabulary V:

- recurrent layer of a cell with g gate blocks (SimpleRNN 1, GRU 3, CIFG 3, LSTM/peephole 4)
  over L steps, input size i, units u: `2·B·L·g·u·(i + u)` (input and recurrent products at
  every step); a bidirectional layer counts twice;
- dense bridge of the encoder's final states: `2·B·in·out`;
- attention per decoder step: the scores `2·B·S·q` and the context `2·B·S·m` (query size q,
  memory size m), the memory keys once `2·B·S·m·k`, a query projection where the score has one,
  and the attentional layer `2·B·T·(m + u)·u`; input feeding adds u to the decoder's input;
- Transformer layer, width d, feed-forward f: self-attention `8·B·L·d²` (Q, K, V, O) plus
  `4·B·L²·d` (scores and context), the feed-forward `4·B·L·d·f`; a decoder layer adds
  cross-attention `4·B·T·d² + 4·B·S·d² + 4·B·T·S·d`;
- output projection `2·B·T·u·V`.

Monotonic and local attention count as their score (their recurrences and windows are
elementwise), local-p adds its position network `2·B·T·u·(u + 1)`; location-sensitive
attention counts the additive score and its filters, one convolution of the two alignment
channels into u channels at every step, `2·B·T·S·u·2·r` for filters r wide. The cell, the direction and
the mechanism come from the entry's arguments where given (`cell_type`, `bidirectional`,
`attention`: what `bench` passes), else from the name.
"""

GATES = {"rnn": 1, "gru": 3, "cifg": 3, "lstm": 4, "peephole": 4}
STATES = {"rnn": 1, "gru": 1, "cifg": 2, "lstm": 2, "peephole": 2}
_CELLS = {"vanilla_rnn": "rnn", "vanilla_gru": "gru", "bigru": "gru", "bahdanau_gru": "gru",
          "peephole_lstm": "peephole", "coupled_lstm": "cifg"}
_BIDIRECTIONAL = ("bilstm", "bigru", "bahdanau_gru", "bahdanau_bilstm", "luong_bilstm",
                  "luong_dot_bilstm", "luong_concat_bilstm", "baseline_bilstm_attention")
_RECURRENT = ("vanilla_rnn", "vanilla_gru", "vanilla_lstm", "bigru", "bilstm", "stacked_lstm",
              "residual_lstm", "sutskever", "peephole_lstm", "coupled_lstm", "baseline_lstm")


def dense_flops(batch, length, in_dim, out_dim):
    """Forward FLOPs of a Dense layer applied at `length` positions: `2·B·L·in·out`.

    Example:

    >>> dense_flops(2, 3, 4, 5)
    240
    """
    return 2 * batch * length * in_dim * out_dim


def recurrent_flops(batch, length, in_dim, units, cell="lstm", num_layers=1):
    """Forward FLOPs of a (stacked) recurrent layer: `2·B·L·g·u·(i + u)` per layer.

    Example:

    >>> recurrent_flops(1, 2, 2, 3, "lstm")  # 2·1·2·(4·3)·(2 + 3)
    240
    """
    if cell not in GATES:
        raise ValueError(f"Unknown cell {cell!r}; expected one of {sorted(GATES)}.")
    total = 0
    for layer in range(num_layers):
        total += 2 * batch * length * GATES[cell] * units * ((in_dim if layer == 0 else units)
                                                             + units)
    return total


def attention_flops(batch, source_length, target_length, query_dim, memory_dim, key_dim,
                    query_projection=False):
    """Forward FLOPs of attention over all target steps (keys computed once)."""
    keys = dense_flops(batch, source_length, memory_dim, key_dim) if key_dim else 0
    query = dense_flops(batch, target_length, query_dim, key_dim) if query_projection else 0
    scores = 2 * batch * target_length * source_length * (key_dim or memory_dim)
    context = 2 * batch * target_length * source_length * memory_dim
    return keys + query + scores + context


def _transformer_flops(b, s, t, v, hidden_dim, intermediate_dim, num_encoder_layers,
                       num_decoder_layers, **_):
    d, f = hidden_dim, intermediate_dim
    encoder = num_encoder_layers * (8 * b * s * d * d + 4 * b * s * s * d + 4 * b * s * d * f)
    cross = 4 * b * t * d * d + 4 * b * s * d * d + 4 * b * t * s * d
    decoder = num_decoder_layers * (8 * b * t * d * d + 4 * b * t * t * d + cross
                                    + 4 * b * t * d * f)
    return encoder + decoder + dense_flops(b, t, d, v)


def _recurrent_seq2seq_flops(name, b, s, t, v, embedding_dim, units, num_layers=1,
                             bridge=None, score="general", input_feeding=True, cell_type=None,
                             bidirectional=None, attention=None, local_mode=None,
                             location_kernel_size=7, **_):
    # an entry's own arguments (bench passes what its variant fixes) win over the name lists
    cell = cell_type if cell_type in GATES else _CELLS.get(name, "lstm")
    bidirectional = name in _BIDIRECTIONAL if bidirectional is None else bool(bidirectional)
    attention = attention or ("bahdanau" if name.startswith("bahdanau") else "luong")
    directions = 2 if bidirectional else 1
    total = directions * recurrent_flops(b, s, embedding_dim, units, cell, num_layers)
    bridge = bridge or ("dense" if bidirectional else "copy")
    if bridge == "dense":
        states = STATES[cell] * num_layers * units
        total += dense_flops(b, 1, directions * states, states)
    if name in _RECURRENT:
        return total + recurrent_flops(b, t, embedding_dim, units, cell, num_layers) + \
            dense_flops(b, t, units, v)
    memory = directions * units
    if attention.startswith("bahdanau"):
        # RNNsearch: the cell reads [y; c], a maxout deep output reads [h; y; c]
        total += recurrent_flops(b, t, embedding_dim + memory, units, cell, num_layers)
        total += attention_flops(b, s, t, units, memory, units, query_projection=True)
        total += dense_flops(b, t, units + embedding_dim + memory, 2 * units)
        return total + dense_flops(b, t, units, v)
    parallel = name in ("baseline_attention", "baseline_bilstm_attention")  # no input feeding
    decoder_in = embedding_dim + (units if input_feeding and not parallel else 0)
    total += recurrent_flops(b, t, decoder_in, units, cell, num_layers)
    if attention == "location":  # additive; the filters read [α_{t-1}; Σα] into u channels
        total += attention_flops(b, s, t, units, memory, units, query_projection=True)
        total += 2 * b * t * s * units * 2 * location_kernel_size
    elif name == "luong_concat_bilstm" or score == "concat":
        total += attention_flops(b, s, t, units, memory, units, query_projection=True)
    elif name in ("luong_dot_bilstm", "baseline_attention") or score == "dot":
        total += dense_flops(b, s, memory, units) if memory != units else 0
        total += attention_flops(b, s, t, units, units, 0)
        memory = units
    else:  # general: keys = memory @ W (memory_dim x query_dim)
        total += attention_flops(b, s, t, units, memory, units)
    if attention == "luong_local" and local_mode == "p":  # p_t = S·σ(v_pᵀ tanh(W_p h_t))
        total += dense_flops(b, t, units, units) + dense_flops(b, t, units, 1)
    total += dense_flops(b, t, memory + units, units)  # the attentional layer
    return total + dense_flops(b, t, units, v)


def training_flops(name, batch_size, source_length, target_length, vocab, **model_kwargs):
    """Matmul FLOPs of one training step (forward and backward, 3× forward) of an entry.

    Covers the recurrent, attention and Transformer seq2seq entries of the zoo and the
    benchmark's plain-Keras baselines (`baseline_lstm`, `baseline_attention`,
    `baseline_bilstm_attention`).

    Args:
        name: The entry (or baseline) name.
        batch_size, source_length, target_length, vocab: The padded batch shape.
        **model_kwargs: The entry's hyperparameters (`units`, `embedding_dim`, `num_layers`,
            ...; `hidden_dim`, `intermediate_dim`, layer counts for Transformers).

    Returns:
        An int, or None for an entry the counter does not model (autoencoders, LMs).

    Example:

    >>> training_flops("vanilla_lstm", 1, 2, 3, 5, units=3, embedding_dim=2)  # 3·(240+360+90)
    2070
    """
    args = (batch_size, source_length, target_length, vocab)
    if name.startswith("transformer_") and "hidden_dim" in model_kwargs:
        return 3 * _transformer_flops(*args, **model_kwargs)
    known = (name in _RECURRENT or name in _BIDIRECTIONAL or name.startswith("luong_")
             or name.startswith("bahdanau_") or name.startswith("baseline_")
             or "attention" in model_kwargs)  # an attention family's entry
    if not known or "units" not in model_kwargs:
        return None
    return 3 * _recurrent_seq2seq_flops(name, *args, **model_kwargs)
