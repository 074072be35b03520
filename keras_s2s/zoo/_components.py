"""Building blocks shared by the zoo families.

Every zoo model follows one contract (see `docs/ARCHITECTURE.md`): inputs
`{"encoder_token_ids", "decoder_token_ids"}`, int32, 0 = padding; output float32 logits
`(batch, target_len, target_vocab_size)`; and these stable layer names, which
`keras_s2s.inference` relies on:

| name | layer |
| --- | --- |
| `encoder_embedding` | `Embedding(mask_zero=True)` over the source (absent when a Transformer shares one embedding) |
| `source_reversal` | `ReverseSequence`, only when the source is reversed (Sutskever) |
| `encoder` | `RNN` or `Bidirectional(RNN)` over one cell or a `StackedCells`, or a `TransformerEncoderStack` |
| `source_mask` | `PaddingMask` over the source ids |
| `bridge` | `StateBridge`, encoder final states → decoder initial states (recurrent decoders) |
| `memory_projection` | `Dense`, only where dot attention needs the memory at the query size |
| `decoder_embedding` | `Embedding` (or keras-hub `ReversibleEmbedding` with tied embeddings) |
| `decoder` | `RNN` over the decoder cell, `AttentionDecoder`, or `TransformerDecoderStack` |
| `output_dropout` | `Dropout` on the decoder outputs, one mask per sequence (variational) |
| `output_bottleneck` | `Dense` to `embedding_dim`, only with tied embeddings and units ≠ embedding_dim |
| `output_projection` | `Dense(target_vocab_size)`, float32 (absent with tied embeddings), or a `SampledSoftmaxProjection` with `sampled_softmax=N` |
| `logits` | float32 identity `Activation`, the model output |

Language models (`keras_s2s.zoo.language_models`) take `token_ids` and use the decoder-side
names; the masked LM has `encoder_embedding`, `source_mask`, `encoder` and an `mlm_head`
(keras-hub `MaskedLMHead`) before `logits`.
"""

import keras

from keras_s2s.layers import (
    CoupledGateLSTMCell,
    PaddingMask,
    PeepholeLSTMCell,
    ReverseSequence,
    StackedCells,
    StateBridge,
)
from keras_s2s.layers.read_once_rnn import ReadOnceRNN
from keras_s2s.layers.sampled_softmax import SampledSoftmaxProjection
from keras_s2s.layers._checks import check_choice, check_positive_int, check_rate

CELL_TYPES = {
    "rnn": keras.layers.SimpleRNNCell,
    "gru": keras.layers.GRUCell,
    "lstm": keras.layers.LSTMCell,
    "peephole": PeepholeLSTMCell,
    "cifg": CoupledGateLSTMCell,
}
BRIDGES = ("copy", "sum", "dense", "zeros")


def check_common(source_vocab_size, target_vocab_size, embedding_dim, units, num_layers,
                 dropout):
    """Validate the arguments every recurrent entry shares."""
    check_positive_int("source_vocab_size", source_vocab_size)
    check_positive_int("target_vocab_size", target_vocab_size)
    check_positive_int("embedding_dim", embedding_dim)
    check_positive_int("units", units)
    check_positive_int("num_layers", num_layers)
    check_rate("dropout", dropout)
    check_vocabularies(source_vocab_size=source_vocab_size, target_vocab_size=target_vocab_size)


def check_vocabularies(**sizes):
    """Every vocabulary is a positive int that holds the 4 special tokens."""
    for key, value in sizes.items():
        check_positive_int(key, value)
    if min(sizes.values()) < 4:
        received = ", ".join(f"{k}={v}" for k, v in sizes.items())
        raise ValueError(
            "The vocabularies must hold at least the 4 special tokens (<pad>, <unk>, <s>, </s>). "
            f"Received: {received}")


def check_shared_vocabulary(share_embeddings, source_vocab_size, target_vocab_size):
    """`share_embeddings=True` (one embedding for both sides) needs one vocabulary."""
    if share_embeddings and source_vocab_size != target_vocab_size:
        raise ValueError(
            "`share_embeddings=True` needs one vocabulary for source and target. Received: "
            f"source_vocab_size={source_vocab_size}, target_vocab_size={target_vocab_size}. "
            "Use a shared tokenizer or set share_embeddings=False.")


def embedding_initializer(embedding_dim=None, tied=False):
    """The initializer of the recurrent entries' token embeddings: N(0, 1), or N(0, 1/d) tied.

    Keras' default (uniform in ±0.05) gives a recurrent encoder outputs of about 0.005 RMS.
    Luong's general score h_tᵀ W m_s multiplies three such small quantities, so the gradient
    of W is about 1e-9 per element at the start, under Adam's epsilon (1e-7): the attention
    never leaves uniform, and on 30-token sentences the decoder stays at the unigram
    distribution (docs/ARCHITECTURE.md, "Initialisation"). N(0, 1), PyTorch's default for
    `nn.Embedding`, gives memory ~0.1 RMS and gradients ~1e-5. A tied embedding is also the
    output matrix, where N(0, 1) would make the first logits far too peaked; it gets
    N(0, 1/d), as fairseq initialises shared embeddings.
    """
    stddev = float(embedding_dim) ** -0.5 if tied else 1.0
    return keras.initializers.RandomNormal(stddev=stddev)


def make_cell(cell_type, units, num_layers=1, dropout=0.0, residual=False, name=None):
    """One cell, or a `StackedCells` of `num_layers` cells; `dropout` is each layer's input dropout."""
    check_choice("cell_type", cell_type, CELL_TYPES)
    cells = [CELL_TYPES[cell_type](units, dropout=dropout, name=f"{name}_cell_{i}")
             for i in range(num_layers)]
    if num_layers == 1 and not residual:
        return cells[0]
    return StackedCells(cells, residual=residual, name=f"{name}_cells")


def flat_state_sizes(cell):
    sizes = cell.state_size
    return list(keras.tree.flatten(sizes if isinstance(sizes, (list, tuple)) else [sizes]))


def plain_structure(value):
    """A copy of a nested `state_size` with plain lists (Keras tracks list attributes in
    `TrackedList`s, which JAX does not accept as pytree nodes)."""
    if isinstance(value, (list, tuple)):
        return [plain_structure(v) for v in value]
    return value


def pack_states(cell, flat_states):
    """Nest a flat list of states like the cell's `state_size` (what `RNN(initial_state=)` wants)."""
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    return keras.tree.pack_sequence_as(plain_structure(sizes), list(flat_states))


def seq2seq_inputs():
    encoder_ids = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    decoder_ids = keras.Input((None,), dtype="int32", name="decoder_token_ids")
    return encoder_ids, decoder_ids


def encode(encoder_ids, *, source_vocab_size, embedding_dim, cell_type, units, num_layers,
           bidirectional, residual, dropout, reverse_source=False):
    """Embed and encode the source.

    Returns:
        `(memory, final_states, source_mask)`: memory `(batch, source_len, units or
        2·units)`, the flat list of final encoder states (forward then backward), and the
        boolean source mask `(batch, source_len)`.
    """
    ids = encoder_ids
    if reverse_source:
        ids = ReverseSequence(name="source_reversal")(ids)
    x = keras.layers.Embedding(source_vocab_size, embedding_dim, mask_zero=True,
                               embeddings_initializer=embedding_initializer(),
                               name="encoder_embedding")(ids)
    cell = make_cell(cell_type, units, num_layers, dropout, residual, name="encoder")
    rnn = ReadOnceRNN(cell, return_sequences=True, return_state=True,
                           name="encoder" if not bidirectional else "encoder_rnn")
    if bidirectional:
        rnn = keras.layers.Bidirectional(rnn, merge_mode="concat", name="encoder")
    memory, *states = rnn(x)
    source_mask = PaddingMask(name="source_mask")(ids)
    return memory, list(keras.tree.flatten(states)), source_mask


def bridge(encoder_states, decoder_cell, mode, bidirectional):
    """Bridge the encoder's final states into the decoder cell's (nested) initial state."""
    check_choice("bridge", mode, BRIDGES)
    sizes = flat_state_sizes(decoder_cell)
    flat = StateBridge(sizes, mode=mode, bidirectional=bidirectional, name="bridge")(encoder_states)
    return pack_states(decoder_cell, flat)


def decoder_embedding(decoder_ids, target_vocab_size, embedding_dim, tie_embeddings):
    if tie_embeddings:
        from keras_hub.layers import ReversibleEmbedding  # imported only when asked for

        layer = ReversibleEmbedding(
            target_vocab_size, embedding_dim, tie_weights=True,
            embeddings_initializer=embedding_initializer(embedding_dim, tied=True),
            name="decoder_embedding")
    else:
        layer = keras.layers.Embedding(target_vocab_size, embedding_dim,
                                       embeddings_initializer=embedding_initializer(),
                                       name="decoder_embedding")
    return layer, layer(decoder_ids)


def output_logits(outputs, target_vocab_size, dropout, embedding_layer=None, embedding_dim=None,
                  sampled_softmax=None):
    """Project decoder outputs to float32 logits (tied to the embedding when given; trained
    with `sampled_softmax` candidates per step when given, see `SampledSoftmaxProjection`)."""
    if sampled_softmax is not None:
        check_positive_int("sampled_softmax", sampled_softmax)
        if embedding_layer is not None:
            raise ValueError("Argument `sampled_softmax` needs an output projection of its own; "
                             "it can't be combined with `tie_embeddings=True`.")
        if sampled_softmax >= target_vocab_size:
            raise ValueError(f"Argument `sampled_softmax` ({sampled_softmax}) must be smaller "
                             f"than the target vocabulary ({target_vocab_size}); use the full "
                             "softmax (sampled_softmax=None) for small vocabularies.")
    if dropout:
        # One mask per sequence, shared over time (variational dropout, Gal & Ghahramani 2016):
        # per-position masks cost more than the rest of a training step under XLA on the CPU,
        # whose random-number generation is slow.
        outputs = keras.layers.Dropout(dropout, noise_shape=(None, 1, outputs.shape[-1]),
                                       name="output_dropout")(outputs)
    if embedding_layer is not None:
        if outputs.shape[-1] != embedding_dim:
            outputs = keras.layers.Dense(embedding_dim, name="output_bottleneck")(outputs)
        logits = embedding_layer(outputs, reverse=True)
    elif sampled_softmax is not None:
        logits = SampledSoftmaxProjection(target_vocab_size, sampled_softmax, dtype="float32",
                                          name="output_projection")(outputs)
    else:
        logits = keras.layers.Dense(target_vocab_size, dtype="float32",
                                    name="output_projection")(outputs)
    return keras.layers.Activation("linear", dtype="float32", name="logits")(logits)


def attention_memory(model):
    """The tensor an attention decoder of `model` reads: the encoder outputs, or their
    `memory_projection` (the dot score's map of a 2·units memory to units)."""
    if any(layer.name == "memory_projection" for layer in model.layers):
        return model.get_layer("memory_projection").output
    return model.get_layer("encoder").output[0]


def seq2seq_model(encoder_ids, decoder_ids, logits, name):
    return keras.Model({"encoder_token_ids": encoder_ids, "decoder_token_ids": decoder_ids},
                       logits, name=name)
