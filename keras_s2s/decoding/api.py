"""`decode(model, ...)`: wire a zoo model's inference graphs to the decoding loops.

The loops (`greedy_search`, `beam_search`, `sample`) know nothing about architectures; this
module builds the step function from `keras_s2s.inference.build_inference_models`, compiles
one decode function per (model, settings) with XLA on the TensorFlow backend (`lax`
control flow compiles it on JAX), and runs it over batches, reporting progress on stderr
(`keras_s2s.decoding.progress`, also when stderr is not a terminal).
"""

import dataclasses
import weakref

import keras
import numpy as np
from keras import ops

from keras_s2s import distribution, inference, kinds
from keras_s2s.decoding import processors
from keras_s2s.decoding._common import BOS_ID, EOS_ID, NEG_INF, PAD_ID, check_float, check_int
from keras_s2s.decoding.beam import beam_search
from keras_s2s.decoding.ensemble import Ensemble, as_ensemble
from keras_s2s.decoding.greedy import greedy_search
from keras_s2s.decoding.progress import Progress
from keras_s2s.decoding.sampling import sample

METHODS = ("greedy", "beam", "sample")
_CACHE = weakref.WeakKeyDictionary()  # model -> {"graphs": (enc, dec), settings: fn}


@dataclasses.dataclass
class DecodeResult:
    """What `decode` returns (NumPy arrays).

    Attributes:
        token_ids: `(batch, n, length)` int32: the tokens after `<s>`, up to and including
            `</s>`, then 0.
        log_probs: `(batch, n)`: the sum of the model's log-softmax over the emitted tokens,
            `</s>` included.
        scores: `(batch, n)`: the ranking score (after the beam search penalties; equal to
            `log_probs` for greedy and sampling).
        alignments: `(batch, n, length, source_len)` or None.
        lengths: `(batch, n)`: the number of emitted tokens, `</s>` included.
        texts: `[[str] * n] * batch`, the decoded strings, when `decode` was given a task.
    """

    token_ids: np.ndarray
    log_probs: np.ndarray
    scores: np.ndarray
    alignments: object = None
    lengths: object = None
    texts: object = None


def _own_decoding_kind(model):
    """The model's kind when that kind decodes by itself (`Kind.own_decode`), else None."""
    if not isinstance(model, keras.Model):
        return None
    try:
        kind = kinds.of(model)
    except ValueError:
        return None
    return kind if kind.own_decode else None


def _graphs(model):
    """The model's `InferenceModels` (built and checked once per model), and its cache entry."""
    if not isinstance(model, (keras.Model, Ensemble)):
        inference.check_seq2seq_model(model)  # raises, naming what was given
    entry = _CACHE.setdefault(model, {})
    if "graphs" not in entry:
        entry["graphs"] = (model.build_inference_models() if isinstance(model, Ensemble)
                           else inference.build_inference_models(model))
    return entry, entry["graphs"]


def compile_decode(fn, jit, model):
    """Compile a whole decode, `fn(ids, noise)`, with XLA; the backend-specific lines of the
    package live here.

    On TensorFlow it is a `tf.function` (`jit_compile=jit`); on JAX with `jit`, a `jax.jit` that
    takes `model`'s weights as arguments, so the compiled decode follows the model while it
    trains; otherwise `fn` itself. Used by `decode` and by the benchmarks' uncached loop.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # XLA can't compile reads of variables mirrored on several devices (a model trained
        # under `keras_s2s.distribution.data_parallel` decodes its validation split as a graph)
        jit = jit and not distribution.is_mirrored(model)
        return tf.function(fn, jit_compile=jit, reduce_retracing=True)
    if backend == "jax" and jit:
        import jax

        # Weights enter as arguments (read through a StatelessScope), never as baked-in
        # constants, so one compiled decode stays correct while the model keeps training.
        variables = list(model.variables)

        def stateless(ids, noise, values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn(ids, noise)

        compiled = jax.jit(stateless)
        return lambda ids, noise: compiled(ids, noise, [v.value for v in variables])
    return fn


def _is_strings(x):
    return isinstance(x, str) or (isinstance(x, (list, tuple)) and bool(x)
                                  and isinstance(x[0], str))


def to_ids(encoder_token_ids, source_vocab_size):
    """Token ids as a padded `(batch, width)` int array, checked against the vocabulary.

    Takes an array, a tensor, or a list of id lists (padded on the right with 0).

    Example:

    >>> to_ids([[5, 6], [7]], source_vocab_size=10)
    array([[5, 6],
           [7, 0]])
    """
    if _is_strings(encoder_token_ids):
        raise TypeError(
            "decode() got strings but no task; pass task=... (a keras_s2s.data.Task, whose "
            "source tokenizer encodes them), or encode them first with "
            "task.encode_source(strings).")
    if isinstance(encoder_token_ids, (list, tuple)) and encoder_token_ids and isinstance(
            encoder_token_ids[0], (list, tuple, np.ndarray)):
        width = max(len(row) for row in encoder_token_ids)
        padded = np.zeros((len(encoder_token_ids), max(width, 1)), "int64")
        for i, row in enumerate(encoder_token_ids):
            padded[i, :len(row)] = row
        encoder_token_ids = padded
    ids = np.asarray(ops.convert_to_numpy(encoder_token_ids)
                     if not isinstance(encoder_token_ids, np.ndarray) else encoder_token_ids)
    if ids.ndim == 1:
        ids = ids[None]
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            "`encoder_token_ids` must be integer token ids of shape (batch, source_len). "
            f"Received dtype {ids.dtype} and shape {ids.shape}.")
    if ids.size and (ids.min() < 0 or ids.max() >= source_vocab_size):
        bad = int(ids.max() if ids.max() >= source_vocab_size else ids.min())
        row = int(np.argwhere((ids < 0) | (ids >= source_vocab_size))[0][0])
        raise ValueError(
            f"Token id {bad} (row {row}) is outside the model's input vocabulary "
            f"[0, {source_vocab_size}). Encode with the tokenizer the model was trained with.")
    return ids.astype("int32")


def _settings(method, max_length, min_length, beam_width, num_return_sequences, length_penalty,
              coverage_penalty, temperature, top_k, top_p, return_alignments, attention):
    if method not in METHODS:
        raise ValueError(f"Argument `method` must be one of {list(METHODS)}. Received: {method!r}")
    check_int("max_length", max_length, 1)
    check_int("min_length", min_length, 0)
    if min_length >= max_length:
        raise ValueError(f"`min_length` ({min_length}) must be smaller than `max_length` "
                         f"({max_length}).")
    check_int("num_return_sequences", num_return_sequences, 1)
    if method == "beam":
        check_int("beam_width", beam_width, 1)
        if num_return_sequences > beam_width:
            raise ValueError(f"`num_return_sequences` ({num_return_sequences}) cannot exceed "
                             f"`beam_width` ({beam_width}).")
        check_float("length_penalty", length_penalty, 0.0, 1e3)
        check_float("coverage_penalty", coverage_penalty, 0.0, 1e3)
        if coverage_penalty and not attention:
            raise ValueError("`coverage_penalty` needs a model with attention; this model has "
                             "none. Set coverage_penalty=0.")
    elif method == "greedy" and num_return_sequences != 1:
        raise ValueError("Greedy search returns one sequence; use method='beam' or 'sample' "
                         "for num_return_sequences > 1.")
    if method == "sample":
        check_float("temperature", temperature, 0.0, 1e6, low_open=True)
        if top_k is not None:
            check_int("top_k", top_k, 1)
        if top_p is not None:
            check_float("top_p", top_p, 0.0, 1.0, low_open=True)
    if return_alignments and not attention:
        raise ValueError("`return_alignments=True` needs a model with attention; this model "
                         "has none.")


def _check_controls(no_repeat_ngram_size, repetition_penalty, max_length_a, max_length_b):
    """Check the generation controls; returns whether rows have their own length limits."""
    check_int("no_repeat_ngram_size", no_repeat_ngram_size, 0)
    check_float("repetition_penalty", repetition_penalty, 0.0, 1e6, low_open=True)
    for name, value in (("max_length_a", max_length_a), ("max_length_b", max_length_b)):
        if value is not None:
            check_float(name, value, 0.0, 1e6)
    if (max_length_a is not None or max_length_b is not None) and not (
            (max_length_a or 0.0) > 0 or (max_length_b or 0.0) >= 1):
        raise ValueError("`max_length_a` · |source| + `max_length_b` must allow at least one "
                         f"token; got a={max_length_a}, b={max_length_b}.")
    return max_length_a is not None or max_length_b is not None


def _force_prompt(logits, prompt, t):
    """Where row `r` is still inside its prompt (`t < len(prompt[r])`), make the prompt's token
    at `t` certain: log-probability 0 there and -inf elsewhere, so every loop emits it at no
    cost to the score."""
    width = ops.shape(prompt)[1]
    forced = ops.take_along_axis(prompt, ops.expand_dims(ops.minimum(t, width - 1), 1), axis=1)
    forced = forced[:, 0]
    active = ops.logical_and(ops.less(t, width), ops.greater(forced, 0))
    certain = ops.where(ops.one_hot(forced, ops.shape(logits)[-1]) > 0, 0.0, NEG_INF)
    return ops.where(ops.expand_dims(active, 1), ops.cast(certain, logits.dtype), logits)


# the layers of a step graph that read no per-source constant, or read it row by row
_ROW_LAYERS = (keras.layers.InputLayer, keras.layers.Embedding, keras.layers.Dense,
               keras.layers.Activation, keras.layers.Reshape, keras.layers.Dropout)


def beams_share_memory(decoder_model):
    """Whether beam search (and sampling with several samples per source) may hand
    `decoder_model` (a step graph) its per-source constants untiled, `(batch, ...)` for
    `(batch * beam, ...)` hypotheses: true when the graph is
    embeddings, dense layers and `AttentionDecoder`s whose attention `groups_rows` (each
    source's memory is read by its hypotheses as one block, never copied per hypothesis);
    false for anything else (a copy mixture, a stateful or positional attention, an
    ensemble), which gets tiled constants as before.

    Example:

    >>> encoder_model, decoder_model = build_inference_models(zoo.build("luong_bilstm", 30, 30))
    >>> beams_share_memory(decoder_model)
    True
    """
    from keras_s2s.layers.attention_decoder import AttentionDecoder

    layers = getattr(decoder_model, "layers", None)
    if not layers:
        return False
    decoders = [layer for layer in layers if isinstance(layer, AttentionDecoder)]
    others = [layer for layer in layers if not isinstance(layer, AttentionDecoder)]
    return (bool(decoders) and all(type(d) is AttentionDecoder and d.attention.groups_rows
                                   for d in decoders)
            and all(type(layer) in _ROW_LAYERS for layer in others))


def _decode_fn(model, encoder_model, decoder_model, *, method, max_length, min_length,
               beam_width, num_return_sequences, length_penalty, coverage_penalty, temperature,
               top_k, top_p, return_alignments, jit, prompted=False, no_repeat_ngram_size=0,
               repetition_penalty=1.0, max_length_a=None, max_length_b=None):
    state_names = [k for k in encoder_model.output if k.startswith("state_")]
    # generation controls (`processors`): they read the tokens emitted so far, which travel
    # in the state ("history", "emitted") so that beam search reorders them per hypothesis
    row_limits = max_length_a is not None or max_length_b is not None
    controls = bool(no_repeat_ngram_size) or repetition_penalty != 1.0
    constant_names = [k for k in encoder_model.output if not k.startswith("state_")]
    input_name = next(iter(encoder_model.input))
    # prompted: the inputs are prompts to continue (an LM), not sources
    caches = [k for k in state_names if k != "state_0"] if _CACHE[model]["graphs"].kv_cache else []
    # beam search's hypotheses, or sampling's samples, of one source read one copy of its memory
    share_memory = method != "greedy" and beams_share_memory(decoder_model)

    def step_fn(tokens, state, constants):
        model_constants = {k: constants[k] for k in constant_names}
        out = decoder_model({"decoder_token_ids": ops.expand_dims(tokens, 1),
                             **{k: state[k] for k in state_names}, **model_constants},
                            training=False)
        new_state = {k: out[k] for k in state_names}
        logits = out["logits"]
        if controls:
            t = state["emitted"]  # (rows,): tokens emitted before this step
            # `tokens` is the token emitted last (<s> at the first step): write it at t - 1
            slot = ops.logical_and(ops.equal(ops.expand_dims(ops.arange(max_length), 0),
                                             ops.expand_dims(t - 1, 1)),
                                   ops.expand_dims(t > 0, 1))
            history = ops.where(slot, ops.expand_dims(tokens, 1), state["history"])
            if repetition_penalty != 1.0:
                logits = processors.repetition_penalty(logits, history, t, repetition_penalty)
            if no_repeat_ngram_size:
                logits = processors.no_repeat_ngram(logits, history, t, no_repeat_ngram_size)
            new_state["history"], new_state["emitted"] = history, t + 1
        if row_limits:
            logits = processors.length_limit(logits, state["step"], constants["limits"])
            new_state["step"] = state["step"] + 1
        if prompted:  # continue the prompt: its tokens are forced, one per step
            logits = _force_prompt(logits, constants["prompt"], state["position"])
            new_state["position"] = state["position"] + 1
        return logits, new_state, out.get("alignments")

    def run(ids, noise):
        encoded = encoder_model({input_name: ids}, training=False)
        # a key/value cache is as long as the model allows; the decode needs max_length
        state = {k: encoded[k][:, :, :max_length] if k in caches else encoded[k]
                 for k in state_names}
        constants = {k: encoded[k] for k in constant_names}
        if prompted:
            state["position"] = ops.zeros((ops.shape(ids)[0],), "int32")
            constants["prompt"] = ids
        batch, source_len = ops.shape(ids)[0], ops.shape(ids)[1]
        if controls:
            state["history"] = ops.zeros((batch, max_length), "int32")
            state["emitted"] = ops.zeros((batch,), "int32")
        if row_limits:  # each row's own limit, a·|source| + b, within max_length
            lengths = ops.cast(ops.sum(ops.cast(ops.not_equal(ids, PAD_ID), "int32"), axis=1),
                               "float32")
            limits = ops.floor((max_length_a or 0.0) * lengths + (max_length_b or 0.0))
            constants["limits"] = ops.cast(ops.clip(limits, 1, max_length), "int32")
            state["step"] = ops.zeros((batch,), "int32")
        common = dict(batch_size=batch, max_length=max_length, constants=constants,
                      min_length=min_length, return_alignments=return_alignments)
        if method == "beam":
            source_mask = constants.get("memory_mask")
            if share_memory:  # the model's constants untiled; the controls' tiled here
                common["constants"] = {
                    k: v if k in constant_names else ops.repeat(v, beam_width, axis=0)
                    for k, v in constants.items()}
            return beam_search(step_fn, state, beam_width=beam_width,
                               num_return_sequences=num_return_sequences,
                               length_penalty=length_penalty, coverage_penalty=coverage_penalty,
                               source_mask=source_mask, tile_constants=not share_memory,
                               **common)
        if method == "greedy":
            tokens, log_probs, alignments = greedy_search(step_fn, state,
                                                          source_length=source_len, **common)
        else:
            n = num_return_sequences
            state = {k: ops.repeat(v, n, axis=0) for k, v in state.items()}
            common["constants"] = {
                k: v if share_memory and k in constant_names else ops.repeat(v, n, axis=0)
                for k, v in constants.items()}
            common["batch_size"] = batch * n
            tokens, log_probs, alignments = sample(
                step_fn, state, noise=noise, temperature=temperature, top_k=top_k, top_p=top_p,
                source_length=source_len, **common)
        n = 1 if method == "greedy" else num_return_sequences
        tokens = ops.reshape(tokens, (batch, n, max_length))
        log_probs = ops.reshape(log_probs, (batch, n))
        if alignments is not None:
            alignments = ops.reshape(alignments, (batch, n, max_length, source_len))
        return tokens, log_probs, log_probs, alignments

    return compile_decode(run, jit, model)


def decode(model, encoder_token_ids, method="greedy", *, max_length=None, min_length=0,
           beam_width=4, num_return_sequences=1, length_penalty=0.0, coverage_penalty=0.0,
           temperature=1.0, top_k=None, top_p=None, seed=None, return_alignments=False,
           batch_size=64, jit=True, verbose="auto", task=None, side="target",
           no_repeat_ngram_size=0, repetition_penalty=1.0, max_length_a=None,
           max_length_b=None):
    """Decode a batch of sources with a keras_s2s model, in one compiled loop.

    Seq2seq models translate the sources. Decoder-only language models (`kind="lm"`) take
    prompts instead and continue them: the prompt's tokens are forced one per step (at no
    cost to the score) and the search takes over where each prompt ends, so prompts of
    different lengths share one batch. Their `token_ids` hold the prompt and its
    continuation; `log_probs` count the continuation only.

    Args:
        model: A model from `keras_s2s.zoo.build` (trained, fresh or reloaded), seq2seq or
            decoder-only LM; or a list of seq2seq models that share their tokenizers, decoded
            as an ensemble (the normalised mean of their per-step log-probabilities, see
            `keras_s2s.decoding.ensemble`; no alignments or coverage penalty).
        encoder_token_ids: `(batch, source_len)` ints (0 = padding), a list of id lists, or
            strings when `task` is given. For an LM: the prompts, without `<s>` (an empty
            prompt, `[[]]`, generates from scratch).
        method: `"greedy"`, `"beam"` or `"sample"`.
        max_length: Maximum number of generated tokens, `</s>` (and an LM's prompt)
            included. Defaults to `2 * source_len + 10`, or the prompt width + 32 for an LM.
            A Transformer decodes at most its `max_length` tokens (its cache size).
        min_length: `</s>` is forbidden before this many tokens.
        beam_width: Beam size (beam search).
        num_return_sequences: n-best size (beam) or samples per source (sampling).
        length_penalty: GNMT α for beam search (0 = off).
        coverage_penalty: GNMT β for beam search (0 = off; attention models only).
        temperature: Sampling temperature (> 0).
        top_k: Sample only from the k most probable tokens.
        top_p: Sample only from the smallest set of tokens with probability ≥ top_p, in (0, 1].
        seed: Integer seed for sampling; the same seed gives the same samples.
        return_alignments: Also return attention weights (attention models).
        batch_size: Sources per compiled call; the last batch is padded to keep one shape.
            When lengths vary a lot (sorting cuts the padding at least 4-fold: one long
            source among many short ones), sources are sorted by length into batches, each
            padded to its longest source rounded up to a power of 4, and the results come
            back in input order; `max_length`'s default then follows each batch's width.
            Prompts of an LM keep one width.
        jit: Compile with XLA (TensorFlow backend).
        verbose: Report progress on stderr when decoding more than one batch (`"auto"`), always
            (`True`) or never (`False`).
        task: Optional `keras_s2s.data.Task`: encodes string inputs with its source
            tokenizer and fills `result.texts` with its target tokenizer.
        side: For an LM with a `task`: the side of the task the LM was trained on
            (`"source"` or `"target"`), whose tokenizer encodes prompts and decodes texts.
        no_repeat_ngram_size: Never emit an n-gram of this size twice in one output (0: off;
            fairseq's `--no-repeat-ngram-size`).
        repetition_penalty: Divide the positive logits (multiply the negative ones) of the
            tokens already emitted by this factor (1: off; CTRL's rule, > 1 discourages).
        max_length_a, max_length_b: Each source's own length limit, `a · |source| + b`
            tokens (`</s>` included; fairseq's `max_len_a`, `max_len_b`), within
            `max_length`, whose default becomes the widest source's limit. With any of these
            controls, `log_probs` are those of the adjusted distribution
            (`keras_s2s.decoding.processors`).

    Returns:
        A `DecodeResult`.

    Example:

    >>> model = keras_s2s.zoo.build("luong_lstm", source_vocab_size=20, target_vocab_size=20,
    ...                             units=16)
    >>> result = decode(model, [[5, 6, 7]], method="beam", beam_width=3, max_length=5)
    >>> result.token_ids.shape
    (1, 1, 5)
    """
    if isinstance(model, (list, tuple)):
        if return_alignments or coverage_penalty:
            raise ValueError("An ensemble has no single attention: decode it without "
                             "return_alignments and coverage_penalty.")
        model = as_ensemble(model)
    controls = {}  # only when asked for, so that kinds without them need not take them
    for name, value, off in (("no_repeat_ngram_size", no_repeat_ngram_size, 0),
                             ("repetition_penalty", repetition_penalty, 1.0),
                             ("max_length_a", max_length_a, None),
                             ("max_length_b", max_length_b, None)):
        if value != off:
            controls[name] = value
    own = _own_decoding_kind(model)
    if own is not None:  # e.g. a pointer network, which points at its inputs
        return own.decode(model, encoder_token_ids, method, max_length=max_length,
                          min_length=min_length, beam_width=beam_width,
                          num_return_sequences=num_return_sequences,
                          length_penalty=length_penalty, coverage_penalty=coverage_penalty,
                          temperature=temperature, top_k=top_k, top_p=top_p, seed=seed,
                          return_alignments=return_alignments, batch_size=batch_size,
                          jit=jit, verbose=verbose, task=task, side=side, **controls)
    return decode_tokens(model, encoder_token_ids, method, max_length=max_length,
                         min_length=min_length, beam_width=beam_width,
                         num_return_sequences=num_return_sequences,
                         length_penalty=length_penalty, coverage_penalty=coverage_penalty,
                         temperature=temperature, top_k=top_k, top_p=top_p, seed=seed,
                         return_alignments=return_alignments, batch_size=batch_size, jit=jit,
                         verbose=verbose, task=task, side=side, **controls)


def decode_tokens(model, encoder_token_ids, method="greedy", *, max_length=None, min_length=0,
                  beam_width=4, num_return_sequences=1, length_penalty=0.0,
                  coverage_penalty=0.0, temperature=1.0, top_k=None, top_p=None, seed=None,
                  return_alignments=False, batch_size=64, jit=True, verbose="auto", task=None,
                  side="target", no_repeat_ngram_size=0, repetition_penalty=1.0,
                  max_length_a=None, max_length_b=None):
    """The token search of `decode` over the model's inference graphs, whatever its kind.

    `decode` runs it for every kind whose decoding is the token search; a kind that decodes
    by itself (`Kind.own_decode`) may run it too and post-process the result (the `copy`
    kind maps extended ids back to source words). Arguments and result as `decode` (`model`
    is one model or an `Ensemble`).

    Example:

    >>> result = decode_tokens(model, [[5, 6, 7]], max_length=5)
    """
    entry, graphs = _graphs(model)  # checks the model; everything decode needs to know
    kind = graphs.kind
    prompted = kind.continues_prompt
    if side not in ("source", "target"):
        raise ValueError(f"Argument `side` must be 'source' or 'target'. Received: {side!r}")
    reader = writer = None  # the tokenizers that encode the inputs and decode the outputs
    if task is not None:
        reader, writer = kind.text_tokenizers(task, side)
    if reader is not None and _is_strings(encoder_token_ids):
        strings = [encoder_token_ids] if isinstance(encoder_token_ids, str) else encoder_token_ids
        encoder_token_ids = [reader.encode(text) for text in strings]
    ids = to_ids(encoder_token_ids, graphs.input_vocabulary_size)
    if prompted:
        _check_prompts(ids)
    attention = graphs.attention
    check_int("batch_size", batch_size, 1)
    # one long source must not widen every batch: sort by length into batches, each padded
    # to its own width (rounded up), then put the results back in input order
    groups = [(None, ids.shape[1])] if prompted else _length_groups(ids, batch_size)
    explicit = max_length is not None
    row_limits = _check_controls(no_repeat_ngram_size, repetition_penalty, max_length_a,
                                 max_length_b)
    runs = []
    for rows, width in groups:
        group_ids = ids if rows is None else ids[rows, :width]
        if explicit:
            group_max = max_length
        elif row_limits:  # the widest source's own limit
            group_max = max(1, int((max_length_a or 0.0) * group_ids.shape[1]
                                   + (max_length_b or 0.0)))
        else:
            group_max = kind.default_max_length(group_ids.shape[1])
        _check_max_length(model, graphs, prompted, group_max, group_ids.shape[1])
        _settings(method, group_max, min_length, beam_width, num_return_sequences,
                  length_penalty, coverage_penalty, temperature, top_k, top_p,
                  return_alignments, attention)
        runs.append((rows, group_ids, group_max))
    if method != "beam":
        length_penalty = coverage_penalty = 0.0
        beam_width = 1
    encoder_model, decoder_model = graphs
    outputs = []
    for rows, group_ids, group_max in runs:
        settings = dict(method=method, max_length=int(group_max), min_length=int(min_length),
                        beam_width=int(beam_width),
                        num_return_sequences=int(num_return_sequences),
                        length_penalty=float(length_penalty),
                        coverage_penalty=float(coverage_penalty),
                        temperature=float(temperature), top_k=top_k, top_p=top_p,
                        return_alignments=bool(return_alignments), jit=bool(jit),
                        prompted=bool(prompted),
                        no_repeat_ngram_size=int(no_repeat_ngram_size),
                        repetition_penalty=float(repetition_penalty),
                        max_length_a=None if max_length_a is None else float(max_length_a),
                        max_length_b=None if max_length_b is None else float(max_length_b))
        outputs.append((rows, _run_batches(model, entry, encoder_model, decoder_model,
                                           group_ids, settings, batch_size, seed,
                                           verbose if len(runs) == 1 else False)))
    tokens, log_probs, scores, alignments = (outputs[0][1] if len(outputs) == 1 else
                                             _merge(outputs, ids.shape))
    lengths = _lengths(tokens)
    used = max(int(lengths.max()) if lengths.size else 1, 1)
    tokens = tokens[..., :used]
    if alignments is not None:
        alignments = alignments[:, :, :used]
    texts = None
    if writer is not None:
        texts = [[writer.decode(row) for row in rows] for rows in tokens]
    return DecodeResult(tokens, log_probs, scores, alignments, lengths, texts)


#: batches are never padded narrower than this many tokens when sorted by length
MIN_BUCKET_WIDTH = 16


def _row_lengths(ids):
    """Tokens up to the last non-padding one, per row (ids are padded on the right)."""
    nonzero = ids != PAD_ID
    return np.where(nonzero.any(1), ids.shape[1] - np.argmax(nonzero[:, ::-1], axis=1), 0)


def _bucket(length):
    """The width a batch whose longest row has `length` tokens is padded to: a power of 4,
    at least `MIN_BUCKET_WIDTH` (few distinct widths: each is one more compile)."""
    width = MIN_BUCKET_WIDTH
    while width < length:
        width *= 4
    return width


def _length_groups(ids, batch_size):
    """How `decode` batches: `[(rows, width)]`, rows None for "all, as given".

    Sorted by length, each batch is padded only to its longest row rounded up to a power of
    4 (at least `MIN_BUCKET_WIDTH`), and batches of one width form a group, one compiled
    shape each. This is used only when it cuts the padded tokens at least 4-fold (one long
    source among many short ones), since every extra width costs a compile; otherwise (a
    few inputs, or lengths alike) every row is decoded as given, at the full width.
    """
    total, width = ids.shape
    if total <= batch_size or width <= MIN_BUCKET_WIDTH:
        return [(None, width)]
    lengths = _row_lengths(ids)
    order = np.argsort(lengths, kind="stable")
    widths = []
    for start in range(0, total, batch_size):
        longest = int(lengths[order[min(start + batch_size, total) - 1]])
        widths.append(min(width, _bucket(longest)))
    if len(set(widths)) == 1 or 4 * sum(w * batch_size for w in widths) > width * total:
        return [(None, width)]
    groups = []
    for i, w in enumerate(widths):
        rows = order[i * batch_size:(i + 1) * batch_size]
        if groups and groups[-1][1] == w:
            groups[-1] = (np.concatenate([groups[-1][0], rows]), w)
        else:
            groups.append((rows, w))
    return groups


def _check_max_length(model, graphs, prompted, max_length, width):
    limit = graphs.max_length
    if limit is not None and max_length > limit:
        raise ValueError(
            f"`max_length` ({max_length}) exceeds what model '{model.name}' can decode: its "
            f"position encodings and key/value cache hold {limit} positions. Pass a smaller "
            "max_length, or build the model with a larger max_length.")
    if prompted and width >= max_length:
        raise ValueError(f"`max_length` ({max_length}) must exceed the prompt width "
                         f"({width}): it counts the prompt and the continuation.")


def _merge(outputs, shape):
    """The groups' `(tokens, log_probs, scores, alignments)` back in input order, padded to
    the longest output (and alignments to the full source width)."""
    total, width = shape
    length = max(out[0].shape[-1] for _, out in outputs)
    n = outputs[0][1][0].shape[1]
    tokens = np.zeros((total, n, length), outputs[0][1][0].dtype)
    log_probs = np.zeros((total, n), outputs[0][1][1].dtype)
    scores = np.zeros((total, n), outputs[0][1][2].dtype)
    with_alignments = outputs[0][1][3] is not None
    alignments = np.zeros((total, n, length, width), "float32") if with_alignments else None
    for rows, (t, lp, sc, al) in outputs:
        tokens[rows, :, :t.shape[-1]] = t
        log_probs[rows], scores[rows] = lp, sc
        if with_alignments:
            alignments[rows, :, :al.shape[2], :al.shape[3]] = al
    return tokens, log_probs, scores, alignments


def _run_batches(model, entry, encoder_model, decoder_model, inputs, settings, batch_size, seed,
                 verbose):
    """Run the compiled decode (cached in `entry` per settings) over `inputs` in batches."""
    key = (id(encoder_model),) + tuple(sorted(settings.items()))
    if key not in entry:
        entry[key] = _decode_fn(model, encoder_model, decoder_model, **settings)
    fn = entry[key]
    method, max_length = settings["method"], settings["max_length"]
    total = inputs.shape[0]
    size = min(batch_size, total) if total else 1
    n = 1 if method == "greedy" else settings["num_return_sequences"]
    rng = np.random.default_rng(seed)
    batches = range(0, total, size)
    show = verbose is True or (verbose == "auto" and len(batches) > 1)
    progbar = Progress(total) if show else None  # on stderr: stdout is for outputs
    pieces = []
    for start in batches:
        chunk = inputs[start:start + size]
        real = len(chunk)
        if real < size:
            filler = np.zeros((size - real, *inputs.shape[1:]), inputs.dtype)
            chunk = np.concatenate([chunk, filler])
        noise = rng.random((size * n, max_length), dtype=np.float32)
        out = fn(ops.convert_to_tensor(chunk), ops.convert_to_tensor(noise))
        pieces.append([None if o is None else ops.convert_to_numpy(o)[:real] for o in out])
        if progbar is not None:
            progbar.add(real)
    tokens, log_probs, scores, alignments = (
        [None] * 4 if not pieces else
        [None if p[0] is None else np.concatenate(p) for p in zip(*pieces)])
    if tokens is None:
        tokens = np.zeros((0, n, max_length), "int32")
        log_probs = scores = np.zeros((0, n), "float32")
    return tokens, log_probs, scores, alignments


def decode_from(model, start_model, inputs, method="greedy", *, max_length=32, min_length=0,
                beam_width=4, num_return_sequences=1, length_penalty=0.0, temperature=1.0,
                top_k=None, top_p=None, seed=None, batch_size=64, jit=True, verbose="auto"):
    """Decode with `model`'s step graph from states that another graph makes.

    `decode` starts from the model's own encoder graph; `decode_from` starts from
    `start_model`, any functional model with one input that returns the decoder's initial
    `state_i` (as `keras_s2s.inference.build_inference_models` names them). This is how
    `keras_s2s.autoencoders` decodes from latent codes.

    Args:
        model: The seq2seq model whose decoder steps.
        start_model: One input → `{"state_0": ..., ...}` for `model`'s decoder.
        inputs: NumPy array, the input of `start_model` for every row.
        method, max_length, ...: As `decode` (no alignments: there is no source).

    Returns:
        A `DecodeResult`.

    Example:

    >>> vae = keras_s2s.zoo.build("seq_vae_lstm", source_vocab_size=20, target_vocab_size=20,
    ...                           units=16, latent_dim=4)
    >>> start = keras_s2s.autoencoders.latent_start_model(vae)
    >>> decode_from(vae, start, np.zeros((2, 4), "float32"), max_length=5).token_ids.shape[0]
    2
    """
    inference.check_seq2seq_model(model)
    _settings(method, max_length, min_length, beam_width, num_return_sequences, length_penalty,
              0.0, temperature, top_k, top_p, False, False)
    check_int("batch_size", batch_size, 1)
    if method != "beam":
        length_penalty = 0.0
        beam_width = 1
    settings = dict(method=method, max_length=int(max_length), min_length=int(min_length),
                    beam_width=int(beam_width), num_return_sequences=int(num_return_sequences),
                    length_penalty=float(length_penalty), coverage_penalty=0.0,
                    temperature=float(temperature), top_k=top_k, top_p=top_p,
                    return_alignments=False, jit=bool(jit))
    entry, (_, decoder_model) = _graphs(model)
    inputs = np.asarray(inputs)
    tokens, log_probs, scores, _ = _run_batches(model, entry, start_model, decoder_model, inputs,
                                                settings, batch_size, seed, verbose)
    lengths = _lengths(tokens)
    tokens = tokens[..., :max(int(lengths.max()) if lengths.size else 1, 1)]
    return DecodeResult(tokens, log_probs, scores, None, lengths, None)


_to_ids = to_ids  # the name before it was public


def _check_prompts(ids):
    for special, name in ((BOS_ID, "<s>"), (EOS_ID, "</s>")):
        if (ids == special).any():
            row = int(np.argwhere(ids == special)[0][0])
            raise ValueError(
                f"Prompt {row} contains {name} (id {special}). Give prompts without <s> (decode "
                "adds it) and without </s> (the continuation would have ended).")
    inner_padding = (ids[:, :-1] == PAD_ID) & (ids[:, 1:] != PAD_ID)
    if inner_padding.any():
        row = int(np.argwhere(inner_padding)[0][0])
        raise ValueError(f"Prompt {row} has padding (0) before its last token; prompts are "
                         "padded on the right only.")


def _lengths(tokens):
    """Number of emitted tokens, `</s>` included: up to the first `</s>`, else non-padding."""
    is_eos = tokens == EOS_ID
    has_eos = is_eos.any(-1)
    first_eos = is_eos.argmax(-1) + 1
    return np.where(has_eos, first_eos, (tokens != PAD_ID).sum(-1)).astype("int32")
