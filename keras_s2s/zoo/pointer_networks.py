"""Pointer networks (Vinyals, Fortunato and Jaitly, 2015): the output is a position in the input.

The encoder reads float feature vectors (2-D points, numbers) as *slots*: the four special
slots first (`</s>` is the one that may be chosen: it ends the output), then one projected
vector per input (`keras_s2s.layers.PointerSlots`). At each step the decoder reads the slot it
pointed at last (`<s>` first) and scores every slot with the paper's additive score

    u_ij = vᵀ tanh(W1 e_j + W2 d_i)

(`keras_s2s.layers.PointerLogits`); those scores are the model's logits over slots, so the
training loss, greedy and beam search run unchanged, with slot `NUM_SPECIAL_TOKENS + j` meaning
"input `j`". Inputs and outputs (the `pointer` kind, `keras_s2s.kinds.pointer`):

- `points` `(batch, n, point_dim)` float32, `point_mask` `(batch, n)` int (1 = real input,
  0 = padding at the end of a shorter input), `decoder_token_ids` `(batch, T)` slot ids;
- logits `(batch, T, NUM_SPECIAL_TOKENS + n)`, -1e9 at the slots that may not be chosen.

The encoder is the paper's LSTM (`pointer_lstm`), or a Transformer encoder with no position
embedding (`pointer_transformer`): the inputs of the convex hull or the TSP are a set, so its
encoding does not depend on the order they were listed in.
"""

import keras

from keras_s2s.constants import (DECODER, DECODER_TOKEN_IDS, POINT_MASK, POINTER,
                                 POINTER_READ_MASK, POINTER_SLOTS, POINTS)
from keras_s2s.layers.pointer import GatherSlots, PointerLogits, PointerSlots, SlotReadMask
from keras_s2s.zoo.registry import register_variant

#: stable names of the layers the inference graphs read (`keras_s2s.decoding.pointer`)
MEMORY, BRIDGE_H, BRIDGE_C, DECODER_INPUTS = ("pointer_memory", "bridge_h", "bridge_c",
                                              "decoder_inputs")

_PAPER = ("Vinyals, Fortunato & Jaitly, 2015. Pointer Networks. NeurIPS; arXiv:1506.03134")
_TRAINING = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 128, "clipnorm": 2.0,
             "label_smoothing": 0.0, "epochs": 30}


def pointer_network(point_dim=2, *, units=128, encoder="lstm", num_layers=2, num_heads=4,
                    intermediate_dim=256, dropout=0.0, name="pointer_network"):
    """The family builder: a pointer network over float inputs.

    Args:
        point_dim: Features per input (2 for points in the plane, 1 for numbers).
        units: Size of the slot vectors, of the encoder and decoder states and of the
            pointer score's hidden layer (the paper's `W1`, `W2` map to it).
        encoder: `"lstm"` (the paper's) or `"transformer"` (keras-hub Transformer encoder
            blocks over the slots, no position embedding).
        num_layers: Transformer encoder blocks (`encoder="transformer"` only).
        num_heads: Attention heads of each block (`encoder="transformer"` only).
        intermediate_dim: Feed-forward width of each block (`encoder="transformer"` only).
        dropout: Input dropout of the recurrent layers, and the Transformer blocks' dropout.
        name: Name of the model.

    Returns:
        A functional `keras.Model` from `{"points", "point_mask", "decoder_token_ids"}` to
        logits over slots `(batch, T, NUM_SPECIAL_TOKENS + n)`.

    Example:

    >>> model = pointer_network(2, units=16)
    >>> logits = model({"points": np.zeros((1, 5, 2), "float32"),
    ...                 "point_mask": np.ones((1, 5), "int32"),
    ...                 "decoder_token_ids": np.array([[2, 4]])})
    >>> tuple(logits.shape)
    (1, 2, 9)
    """
    if encoder not in ("lstm", "transformer"):
        raise ValueError(f"Argument `encoder` must be 'lstm' or 'transformer'. Received: "
                         f"{encoder!r}")
    points = keras.Input((None, point_dim), name=POINTS)
    point_mask = keras.Input((None,), dtype="int32", name=POINT_MASK)
    decoder_ids = keras.Input((None,), dtype="int32", name=DECODER_TOKEN_IDS)
    slots, choosable = PointerSlots(units, name=POINTER_SLOTS)(points, point_mask)
    read = SlotReadMask(name=POINTER_READ_MASK)(point_mask)  # (batch, 4 + n)
    if encoder == "lstm":
        memory, h, c = keras.layers.LSTM(units, return_sequences=True, return_state=True,
                                         dropout=dropout, name="encoder")(slots, mask=read)
        h = keras.layers.Identity(name=BRIDGE_H)(h)
        c = keras.layers.Identity(name=BRIDGE_C)(c)
    else:
        import keras_hub

        memory = slots
        for i in range(num_layers):
            memory = keras_hub.layers.TransformerEncoder(
                intermediate_dim, num_heads, dropout=dropout, normalize_first=True,
                name=f"encoder_block_{i}")(memory, padding_mask=read)
        memory = keras.layers.LayerNormalization(name="encoder_norm")(memory)
        pooled = keras.layers.GlobalAveragePooling1D(name="memory_pool")(memory, mask=read)
        h = keras.layers.Dense(units, activation="tanh", name=BRIDGE_H)(pooled)
        c = keras.layers.Dense(units, name=BRIDGE_C)(pooled)
    memory = keras.layers.Identity(name=MEMORY)(memory)  # (batch, 4 + n, units)
    # the decoder reads the slot it chose last (<s> first), as in the paper
    fed = GatherSlots(name=DECODER_INPUTS)(slots, decoder_ids)  # (batch, T, units)
    decoded, _, _ = keras.layers.LSTM(units, return_sequences=True, return_state=True,
                                      dropout=dropout, name=DECODER)(fed, initial_state=[h, c])
    logits = PointerLogits(units, name=POINTER)(decoded, memory, choosable)
    return keras.Model({POINTS: points, POINT_MASK: point_mask, DECODER_TOKEN_IDS: decoder_ids},
                       logits, name=name)


pointer_lstm = register_variant(
    pointer_network, "pointer_lstm", fixed={"encoder": "lstm"},
    hide=("num_layers", "num_heads", "intermediate_dim"), kind="pointer", paper=_PAPER,
    tiny={"units": 8}, training=_TRAINING, doc="""
    The paper's pointer network: an LSTM encoder over the inputs, an LSTM decoder that points.

    For outputs that are positions in the input: convex hulls, travelling salesman tours,
    sorting (`load_task("convex_hull")`, `"tsp"`, `"sort_numbers"`), or any TSV of
    `x y; x y; ...` sources and `i j k` targets. The paper used one layer of 256 or 512
    units; the default here is 128, which trains on a CPU in minutes.

    Example:

    >>> model = pointer_lstm(2, units=16)

    Reference:
        - Vinyals, Fortunato & Jaitly, 2015. arXiv:1506.03134.
    """)

pointer_transformer = register_variant(
    pointer_network, "pointer_transformer", fixed={"encoder": "transformer"},
    kind="pointer", paper=_PAPER, training=_TRAINING,
    tiny={"units": 16, "num_layers": 1, "num_heads": 2, "intermediate_dim": 32}, doc="""
    A pointer network whose encoder is Transformer blocks with no position embedding.

    The inputs of a convex hull or a tour are a set: self-attention without positions encodes
    each point from all others, whatever order they are listed in (as in Kool et al.'s
    attention model). The decoder is the paper's LSTM and pointer, started from the mean of
    the encodings.

    Example:

    >>> model = pointer_transformer(2, units=16, num_heads=2, intermediate_dim=32)

    Reference:
        - Vinyals, Fortunato & Jaitly, 2015. arXiv:1506.03134.
        - Kool, van Hoof & Welling, 2019. Attention, Learn to Solve Routing Problems!
          arXiv:1803.08475.
    """)
