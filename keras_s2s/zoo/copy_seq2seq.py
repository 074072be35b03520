"""Copy mechanisms: the pointer-generator (See, Liu and Manning, 2017).

An attention encoder-decoder (`keras_s2s.zoo.attention_seq2seq`) whose output distribution
mixes generating from the vocabulary with copying a source token through the attention
weights (`keras_s2s.layers.CopyMixture`):

    p_gen = σ(w_cᵀ c_t + w_sᵀ s_t + w_xᵀ x_t + b)
    P(w)  = p_gen P_vocab(w) + (1 - p_gen) Σ_{j: x_j = w} α_tj

The model's output is `log P(w)` (layer `copy`, after the usual `logits` layer), so training,
decoding and the inference graphs treat it as logits; the step graph feeds the source ids to
the `copy` layer as one more per-source constant (`source_token_ids`).

`s_t` is the decoder's attentional vector (Luong's `h̃_t`, which reads the new state and the
context) and `x_t` the previous token's embedding. Source and target vocabularies may differ:
`copy_map` (taken from the task's tokenizers by `build_for_task`) says which target id each
source id copies to. `pointer_generator` adds the paper's extended vocabulary (kind `copy_seq2seq`,
`keras_s2s.kinds.copy_seq2seq`): a source word the target vocabulary lacks is emitted by copying it,
through one more output per source position. `coverage=True` adds the paper's coverage
mechanism: the additive score with the coverage feature (`CoverageAttention`, instead of
Luong's score) and the coverage loss (`CoverageLoss`, weight `coverage_loss_weight`).
"""

from keras_s2s.constants import COPY, DECODER, DECODER_EMBEDDING, ENCODER_TOKEN_IDS
from keras_s2s.layers.copy import CopyMixture, copy_map_from_vocabularies
from keras_s2s.layers.coverage import CoverageLoss
from keras_s2s.zoo import _components as C
from keras_s2s.zoo.attention_seq2seq import attention_encoder_decoder
from keras_s2s.zoo.registry import register_variant

_SEE = ("See, Liu & Manning, 2017. Get To The Point: Summarization with Pointer-Generator "
        "Networks. arXiv:1704.04368")
_TRAINING = {"optimizer": "adam", "learning_rate": 2e-3, "batch_size": 64, "clipnorm": 1.0,
             "label_smoothing": 0.1, "epochs": 30}


def copy_encoder_decoder(source_vocab_size, target_vocab_size, *, embedding_dim=128,
                         units=256, num_layers=1, dropout=0.1, score="general",
                         input_feeding=True, copy_map=None, extended_vocabulary=False,
                         coverage=False, coverage_loss_weight=1.0,
                         name="copy_encoder_decoder"):
    """The family builder: a Luong attention encoder-decoder with a pointer-generator output.

    Args:
        source_vocab_size: Size of the source vocabulary, special tokens included.
        target_vocab_size: Size of the target vocabulary, special tokens included.
        embedding_dim: Size of the token embeddings.
        units: Size of the recurrent state and of the attentional hidden state.
        num_layers: Number of stacked recurrent layers in the encoder and the decoder.
        dropout: Input dropout of every recurrent layer and dropout before the projection.
        score: Luong's score: `"general"`, `"dot"` or `"concat"`.
        input_feeding: Feed the previous attentional vector into the cell (Luong et al.).
        copy_map: List of ints, the target id each source id copies to (`<unk>` where the
            target vocabulary lacks the token); None: source id `i` copies to target id `i`
            (tokenizers that share one vocabulary). `build_for_task` and `keras-s2s train`
            take it from the task's tokenizers.
        extended_vocabulary: Output one more entry per source position, so that source words
            the target vocabulary lacks can be copied (the paper's extended vocabulary; the
            logits are then `(batch, T, target_vocab_size + source_len)`, kind `copy_seq2seq`).
        coverage: See et al.'s coverage: the attention reads the sum of its earlier weights
            (an additive score, `CoverageAttention`, instead of Luong's `score`) and the
            coverage loss is added to the training loss.
        coverage_loss_weight: The coverage loss's weight λ (`coverage=True`; 1 in the paper).
        name: Name of the model.

    Returns:
        A functional `keras.Model`, see the zoo contract.

    Example:

    >>> model = copy_encoder_decoder(30, 30, units=16)
    """
    base = attention_encoder_decoder(
        source_vocab_size, target_vocab_size, embedding_dim=embedding_dim, units=units,
        num_layers=num_layers, dropout=dropout, cell_type="lstm", bidirectional=True,
        attention="bahdanau_coverage" if coverage else "luong", score=score,
        input_feeding=input_feeding, name=name)
    encoder_ids = base.get_layer(ENCODER_TOKEN_IDS).output
    decoder_ids = base.get_layer("decoder_token_ids").output
    outputs, alignments = base.get_layer(DECODER).output[:2]
    memory = C.attention_memory(base)
    embedded = base.get_layer(DECODER_EMBEDDING).output
    logits = base.output
    if coverage:  # the loss term; the logits pass through
        logits = CoverageLoss(coverage_loss_weight, name="coverage_loss")(
            logits, alignments, decoder_ids)
    log_probs = CopyMixture(target_vocab_size, copy_map, extended=extended_vocabulary,
                            name=COPY)(logits, alignments, memory, outputs, embedded,
                                       encoder_ids)
    return C.seq2seq_model(encoder_ids, decoder_ids, log_probs, name)


def _copy_map(task):
    """`copy_map` from a task's tokenizers: which target id each source id copies to."""
    return {"copy_map": copy_map_from_vocabularies(task.source_tokenizer.vocabulary,
                                                   task.target_tokenizer.vocabulary)}


copy_bilstm = register_variant(
    copy_encoder_decoder, "copy_bilstm", hide=("extended_vocabulary",), paper=_SEE, tiny={"embedding_dim": 8, "units": 8},
    training=_TRAINING, task_arguments=_copy_map, doc="""
    `luong_bilstm` with a pointer-generator output: each token is generated or copied.

    For tasks whose outputs copy much of the input (inflection, spelling normalisation,
    summarisation): the switch `p_gen` decides, at each step, between the vocabulary
    distribution and the attention weights over the source tokens.

    Example:

    >>> model = copy_bilstm(30, 30, units=16)

    Reference:
        - See et al., 2017. arXiv:1704.04368.
    """)

pointer_generator = register_variant(
    copy_encoder_decoder, "pointer_generator", fixed={"extended_vocabulary": True},
    kind="copy_seq2seq", paper=_SEE, tiny={"embedding_dim": 8, "units": 8}, training=_TRAINING,
    task_arguments=_copy_map, doc="""
    See et al.'s pointer-generator: `copy_bilstm` with the extended vocabulary.

    A source word that the target vocabulary lacks (a name, a number, any word never seen in
    training) is emitted by copying it from its position: the output has one more entry per
    source position, and the decode maps it back to the source's word. For data whose outputs
    carry names, numbers or rare words over from the input (summaries, templates, data to
    text), with a vocabulary of the frequent words only.

    Example:

    >>> model = pointer_generator(30, 30, units=16)

    Reference:
        - See et al., 2017. arXiv:1704.04368.
    """)
