"""Decoding a pointer network: greedy and beam search over input positions, with constraints.

A pointer model's logits are over *slots* (the special ids, then one slot per input; see
`keras_s2s.zoo.pointer_networks`), so the search loops of `keras_s2s.decoding` run unchanged;
this module builds the model's inference graphs and the step function, which adds the
optional constraints:

- `"no_repeat"`: each input is chosen at most once (the decoder keeps a `taken` mask in its
  state, which beam search reorders with the rest of the state);
- `"permutation"`: each input exactly once (`</s>` only after every real input): a valid tour
  or sorted order by construction;
- None: the model's own distribution.

The outputs are positions: `result.texts` holds `"i j k"` (0-based input indices), and the
alignments are the pointer distributions over the inputs.
"""

import weakref

import keras
import numpy as np
from keras import ops

from keras_s2s.constants import (DECODER, DECODER_TOKEN_IDS, EOS_ID, NUM_SPECIAL_TOKENS,
                                 POINT_MASK, POINTER, POINTER_SLOTS, POINTS)
from keras_s2s.decoding._common import NEG_INF, check_float, check_int
from keras_s2s.decoding.api import DecodeResult, _lengths, compile_decode
from keras_s2s.decoding.beam import beam_search
from keras_s2s.decoding.greedy import greedy_search
from keras_s2s.decoding.progress import Progress
from keras_s2s.data.pointer_format import pad_points, parse_points
from keras_s2s.inference import InferenceModels

CONSTRAINTS = (None, "no_repeat", "permutation")
_CACHE = weakref.WeakKeyDictionary()  # model -> {"graphs": ..., settings: compiled fn}


def build_pointer_inference_models(model):
    """The encoder graph and the one-step decoder graph of a pointer network.

    Args:
        model: A model of kind `"pointer"` from `keras_s2s.zoo.build` (fresh or reloaded).

    Returns:
        An `keras_s2s.inference.InferenceModels` (unpacks as `(encoder_model,
        decoder_model)`):

        - `encoder_model({"points", "point_mask"})` returns `slots` `(batch, S, units)`,
          `memory` `(batch, S, units)`, `slot_mask` `(batch, S)` (the slots that may be
          chosen) and the decoder's initial `state_0`, `state_1`, with
          `S = NUM_SPECIAL_TOKENS + n`;
        - `decoder_model({"decoder_token_ids": (batch, 1), "state_0", "state_1", "slots",
          "memory", "slot_mask"})` returns `logits` `(batch, S)` and the new states.

    Example:

    >>> model = keras_s2s.zoo.build("pointer_lstm", point_dim=2, units=16)
    >>> encoder_model, decoder_model = build_pointer_inference_models(model)
    >>> sorted(encoder_model.output)
    ['memory', 'slot_mask', 'slots', 'state_0', 'state_1']
    """
    from keras_s2s.zoo.pointer_networks import BRIDGE_C, BRIDGE_H, DECODER_INPUTS, MEMORY

    points, mask = model.get_layer(POINTS).output, model.get_layer(POINT_MASK).output
    slots, choosable = model.get_layer(POINTER_SLOTS).output
    memory = model.get_layer(MEMORY).output
    states = [model.get_layer(BRIDGE_H).output, model.get_layer(BRIDGE_C).output]
    encoder_model = keras.Model(
        {POINTS: points, POINT_MASK: mask},
        {"slots": slots, "memory": memory, "slot_mask": choosable, "state_0": states[0],
         "state_1": states[1]}, name=f"{model.name}_encoder")

    units = slots.shape[-1]
    token = keras.Input((1,), dtype="int32", name=DECODER_TOKEN_IDS)
    state_in = [keras.Input((s.shape[-1],), name=f"state_{i}") for i, s in enumerate(states)]
    slots_in = keras.Input((None, units), name="slots")
    memory_in = keras.Input((None, memory.shape[-1]), name="memory")
    mask_in = keras.Input((None,), dtype="bool", name="slot_mask")
    fed = model.get_layer(DECODER_INPUTS)(slots_in, token)  # (batch, 1, units)
    decoded, h, c = model.get_layer(DECODER)(fed, initial_state=state_in)
    logits = model.get_layer(POINTER)(decoded, memory_in, mask_in)  # (batch, 1, S)
    decoder_model = keras.Model(
        {DECODER_TOKEN_IDS: token, "state_0": state_in[0], "state_1": state_in[1],
         "slots": slots_in, "memory": memory_in, "slot_mask": mask_in},
        {"logits": keras.layers.Reshape((-1,), name="step_logits")(logits),
         "state_0": h, "state_1": c}, name=f"{model.name}_decoder_step")
    from keras_s2s import kinds

    return InferenceModels(
        encoder_model, decoder_model, kind=kinds.of(model), input_vocabulary_size=None,
        output_vocabulary_size=None, max_length=None, attention=True, kv_cache=False,
        state_names=["state_0", "state_1"], constant_names=["slots", "memory", "slot_mask"])


def _graphs(model):
    entry = _CACHE.setdefault(model, {})
    if "graphs" not in entry:
        entry["graphs"] = build_pointer_inference_models(model)
    return entry


def constrain(logits, taken, real_count, constraint):
    """The logits with the constraint's forbidden slots at `NEG_INF`.

    Args:
        logits: `(batch, S)` step logits.
        taken: `(batch, S)` bool, the slots chosen so far.
        real_count: `(batch,)` int, the real inputs of each row.
        constraint: One of `CONSTRAINTS`.

    Returns:
        `(batch, S)` logits.

    Example:

    >>> out = constrain(np.zeros((1, 6), "float32"), np.array([[0, 0, 0, 0, 1, 0]], bool),
    ...                 np.array([2]), "permutation")
    >>> (keras.ops.convert_to_numpy(out)[0] > -1).tolist()
    [True, True, True, False, False, True]
    """
    if constraint is None:
        return logits
    forbidden = ops.cast(taken, "bool")
    slots = ops.arange(ops.shape(logits)[1])
    is_eos = ops.expand_dims(ops.equal(slots, EOS_ID), 0)
    forbidden = ops.logical_and(forbidden, ops.logical_not(is_eos))  # </s> is never "taken"
    if constraint == "permutation":
        is_input = ops.expand_dims(slots >= NUM_SPECIAL_TOKENS, 0)
        chosen = ops.sum(ops.cast(ops.logical_and(forbidden, is_input), "int32"), axis=1)
        unfinished = ops.expand_dims(ops.less(chosen, ops.cast(real_count, "int32")), 1)
        forbidden = ops.logical_or(forbidden, ops.logical_and(is_eos, unfinished))
    return ops.where(forbidden, ops.full_like(logits, NEG_INF), logits)


def _decode_fn(model, *, method, max_length, beam_width, num_return_sequences, length_penalty,
               constraint, return_alignments, jit):
    encoder_model, decoder_model = _graphs(model)["graphs"]

    def step_fn(tokens, state, constants):
        slot_count = ops.shape(constants["slot_mask"])[1]
        taken = ops.logical_or(state["taken"], ops.one_hot(tokens, slot_count) > 0)
        out = decoder_model({DECODER_TOKEN_IDS: ops.expand_dims(tokens, 1),
                             "state_0": state["state_0"], "state_1": state["state_1"],
                             "slots": constants["slots"], "memory": constants["memory"],
                             "slot_mask": constants["slot_mask"]}, training=False)
        logits = constrain(out["logits"], taken, constants["real_count"], constraint)
        new_state = {"state_0": out["state_0"], "state_1": out["state_1"], "taken": taken}
        return logits, new_state, ops.softmax(logits, axis=-1)

    def run(points, mask):
        encoded = encoder_model({POINTS: points, POINT_MASK: mask}, training=False)
        batch, slot_count = ops.shape(points)[0], ops.shape(encoded["slot_mask"])[1]
        state = {"state_0": encoded["state_0"], "state_1": encoded["state_1"],
                 "taken": ops.zeros((batch, slot_count), "bool")}
        # (`* 1.0` drops the Keras mask the encoder's output carries: the step reads none)
        constants = {"slots": encoded["slots"], "memory": encoded["memory"] * 1.0,
                     "slot_mask": encoded["slot_mask"],
                     "real_count": ops.sum(ops.cast(mask, "int32"), axis=1)}
        common = dict(batch_size=batch, max_length=max_length, constants=constants,
                      return_alignments=return_alignments)
        if method == "beam":
            return beam_search(step_fn, state, beam_width=beam_width,
                               num_return_sequences=num_return_sequences,
                               length_penalty=length_penalty,
                               source_mask=encoded["slot_mask"], **common)
        tokens, log_probs, alignments = greedy_search(step_fn, state, source_length=slot_count,
                                                      **common)
        tokens = ops.expand_dims(tokens, 1)
        log_probs = ops.expand_dims(log_probs, 1)
        if alignments is not None:
            alignments = ops.expand_dims(alignments, 1)
        return tokens, log_probs, log_probs, alignments

    return compile_decode(run, jit, model)


def _as_points(inputs, point_mask):
    """`decode_points`' inputs as `(points, mask)` arrays."""
    if isinstance(inputs, str):
        inputs = [inputs]
    if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], str):
        return pad_points([parse_points(t, f"source {i}") for i, t in enumerate(inputs)])
    if isinstance(inputs, (list, tuple)) and inputs and np.ndim(inputs[0]) == 2:
        return pad_points([np.asarray(p, "float32") for p in inputs])
    points = np.asarray(ops.convert_to_numpy(inputs) if not isinstance(inputs, np.ndarray)
                        else inputs, "float32")
    if points.ndim == 2:
        points = points[None]
    if points.ndim != 3:
        raise ValueError(f"Pointer inputs must be points of shape (batch, n, features), "
                         f"strings 'x y; x y; ...', or a list of (n, features) arrays. "
                         f"Received shape {points.shape}.")
    mask = (np.ones(points.shape[:2], "int32") if point_mask is None
            else np.asarray(point_mask).astype("int32"))
    if mask.shape != points.shape[:2]:
        raise ValueError(f"`point_mask` has shape {mask.shape}; the points need "
                         f"{points.shape[:2]}.")
    return points, mask


def decode_points(model, inputs, method="greedy", *, point_mask=None, constraint="no_repeat",
                  max_length=None, beam_width=4, num_return_sequences=1, length_penalty=0.0,
                  return_alignments=False, batch_size=64, jit=True, verbose="auto", **unused):
    """Point: decode input positions with a pointer network, greedy or beam search.

    Args:
        model: A model of kind `"pointer"` (`pointer_lstm`, `pointer_transformer`).
        inputs: Points `(batch, n, features)`, a list of `(n_i, features)` arrays, or strings
            `"x y; x y; ..."`.
        method: `"greedy"` or `"beam"`.
        point_mask: `(batch, n)`, 1 for real inputs (with an array of points; default all).
        constraint: `"no_repeat"` (default), `"permutation"` (each input exactly once: tours,
            sorting) or None (see the module docstring).
        max_length: Most positions output, `</s>` included (default: the inputs + 1).
        beam_width, num_return_sequences, length_penalty: Beam search (as `decode`).
        return_alignments: Also return the pointer distributions over the inputs.
        batch_size: Sources per compiled call (the last batch is padded to the same shape).
        jit: Compile with XLA.
        verbose: Show a progress bar over more than one batch (`"auto"`), always or never.
        **unused: `decode`'s options that don't apply to pointing (`task`, `side`); sampling
            options are refused.

    Returns:
        A `keras_s2s.decoding.DecodeResult`: `token_ids` are slots (input `j` is slot
        `NUM_SPECIAL_TOKENS + j`, then `</s>`); `texts` the positions `"i j k"`; alignments
        `(batch, n_best, length, n)` over the inputs.

    Example:

    >>> model = keras_s2s.zoo.build("pointer_lstm", point_dim=1, units=8)
    >>> result = decode_points(model, ["0.3; 0.1; 0.2"], constraint="permutation")
    >>> len(result.texts[0][0].split())
    3
    """
    unused.pop("task", None), unused.pop("side", None)
    for option in ("temperature", "top_k", "top_p", "seed"):
        unused.pop(option, None)
    if unused.pop("coverage_penalty", 0.0):
        raise ValueError("A pointer network has no coverage penalty; leave it at 0.")
    if unused.pop("min_length", 0):
        raise ValueError("`min_length` does not apply to pointing; use "
                         "constraint='permutation' to point at every input.")
    if unused:
        raise ValueError(f"decode_points got unknown argument(s) {sorted(unused)}.")
    if method not in ("greedy", "beam"):
        raise ValueError(f"A pointer network decodes with method 'greedy' or 'beam', got "
                         f"{method!r} (sampling positions is not supported).")
    if constraint not in CONSTRAINTS:
        raise ValueError(f"Argument `constraint` must be one of {list(CONSTRAINTS)}. "
                         f"Received: {constraint!r}")
    points, mask = _as_points(inputs, point_mask)
    expected = model.get_layer(POINTS).output.shape[-1]
    if points.shape[-1] != expected:
        raise ValueError(f"The inputs have {points.shape[-1]} features per point; model "
                         f"'{model.name}' reads {expected}.")
    slot_count = NUM_SPECIAL_TOKENS + points.shape[1]
    max_length = points.shape[1] + 1 if max_length is None else max_length
    check_int("max_length", max_length, 1)
    check_int("batch_size", batch_size, 1)
    if method == "beam":
        check_int("beam_width", beam_width, 1)
        check_int("num_return_sequences", num_return_sequences, 1)
        if num_return_sequences > beam_width:
            raise ValueError(f"`num_return_sequences` ({num_return_sequences}) cannot exceed "
                             f"`beam_width` ({beam_width}).")
        check_float("length_penalty", length_penalty, 0.0, 1e3)
    else:
        if num_return_sequences != 1:
            raise ValueError("Greedy search returns one sequence; use method='beam' for "
                             "num_return_sequences > 1.")
        beam_width, length_penalty = 1, 0.0
    settings = dict(method=method, max_length=int(max_length), beam_width=int(beam_width),
                    num_return_sequences=int(num_return_sequences),
                    length_penalty=float(length_penalty), constraint=constraint,
                    return_alignments=bool(return_alignments), jit=bool(jit))
    entry = _graphs(model)
    key = tuple(sorted(settings.items(), key=lambda kv: kv[0]))
    if key not in entry:
        entry[key] = _decode_fn(model, **settings)
    fn = entry[key]
    total = len(points)
    size = max(1, min(batch_size, total))
    starts = range(0, total, size)
    show = verbose is True or (verbose == "auto" and len(starts) > 1)
    progbar = Progress(total) if show else None  # on stderr: stdout is for outputs
    pieces = []
    for start in starts:
        chunk, chunk_mask = points[start:start + size], mask[start:start + size]
        real = len(chunk)
        if real < size:  # keep one shape: pad with copies of the first row
            chunk = np.concatenate([chunk, np.repeat(chunk[:1], size - real, 0)])
            chunk_mask = np.concatenate([chunk_mask, np.repeat(chunk_mask[:1], size - real, 0)])
        out = fn(ops.convert_to_tensor(chunk), ops.convert_to_tensor(chunk_mask))
        pieces.append([None if o is None else ops.convert_to_numpy(o)[:real] for o in out])
        if progbar is not None:
            progbar.add(real)
    tokens, log_probs, scores, alignments = [
        None if p[0] is None else np.concatenate(p) for p in zip(*pieces)]
    lengths = _lengths(tokens)
    used = max(int(lengths.max()) if lengths.size else 1, 1)
    tokens = tokens[..., :used]
    if alignments is not None:
        alignments = alignments[:, :, :used, NUM_SPECIAL_TOKENS:slot_count]
    texts = [[positions_text(row) for row in rows] for rows in tokens]
    return DecodeResult(tokens, log_probs, scores, alignments, lengths, texts)


def positions_text(slot_ids):
    """Slot ids (up to `</s>`) as the positions they point at: `"i j k"`.

    Example:

    >>> positions_text([6, 4, 5, 3, 0])
    '2 0 1'
    """
    out = []
    for slot in np.asarray(slot_ids).tolist():
        if slot == EOS_ID or slot < NUM_SPECIAL_TOKENS:
            break
        out.append(str(slot - NUM_SPECIAL_TOKENS))
    return " ".join(out)
