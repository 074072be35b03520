"""ONNX export of a model's inference graphs: `encoder.onnx` and `step.onnx`.

The two graphs are `keras_s2s.inference.build_inference_models`' encoder and one-step decoder,
converted by tf2onnx from a `tf.function` over each (Keras' own `model.export(format="onnx")`
failed on the step graph, whose input and output are both called `state_0`: tf2onnx then
found no graph input `state_0`). The
search is not in the files: a runtime loops over `step.onnx` itself, as the NumPy greedy loop
in docs/DEPLOYING.md does with onnxruntime.

Names (an ONNX value can't be a graph's input and output at once):
- `encoder.onnx`: the encoder graph's inputs and outputs, as in `build_inference_models`;
- `step.onnx`: inputs `decoder_token_ids` `(batch, 1)`, the encoder's per-source constants
  under their own names, and the previous decoder state as `previous_state_i`; outputs
  `logits` `(batch, vocab)`, the new `state_i` (and `alignments` for attention models).

tf2onnx and onnxruntime are not dependencies of keras_s2s: `pip install tf2onnx onnxruntime`.

Example:

>>> from keras_s2s.export.onnx import export_onnx
>>> manifest = export_onnx(model, "onnx_model")
>>> sorted(manifest["files"])
['encoder', 'step']
"""

import json
import os

from keras_s2s.constants import BOS_ID, EOS_ID, PAD_ID

ONNX_MANIFEST = "keras_s2s_onnx.json"
DEFAULT_OPSET = 17


def _check(model):
    from keras_s2s.export.saved_model import check_export_kind

    kind = check_export_kind(model, "ONNX export converts TensorFlow graphs (tf2onnx)")
    try:
        import tf2onnx  # noqa: F401
    except ImportError:
        raise ImportError("ONNX export needs tf2onnx, which keras_s2s does not install: "
                          "pip install tf2onnx onnxruntime") from None
    return kind


def _step_name(name):
    return "previous_" + name if name.startswith("state_") else name


def _dynamic_update_slice(ctx, node, name, args):
    """tf2onnx handler: `XlaDynamicUpdateSlice(operand, update, start)` as ONNX
    `ScatterND(operand, indices, update)`, with `indices[i...] = start + (i...)` built from
    the update's shape. TensorFlow lowers `keras.ops.slice_update` (keras-hub's cached
    attention writes its key/value caches with it) to this op, which tf2onnx 1.17 does not
    convert. XLA clamps a start that would put the update out of bounds; the caches' writes
    never are, and ScatterND does not clamp."""
    import numpy as np
    from onnx import TensorProto
    from tf2onnx import utils

    operand, update, start = node.input
    rank = ctx.get_rank(update)
    if rank is None:
        raise ValueError(f"{node.name}: XlaDynamicUpdateSlice of unknown rank")

    def const(value):
        return ctx.make_const(utils.make_name(name), np.array(value, np.int64)).output[0]

    shape = ctx.make_node("Shape", [update]).output[0]
    start = ctx.make_node("Cast", [start], attr={"to": TensorProto.INT64}).output[0]
    zero, one, last = const(0), const(1), const([rank])
    columns = []
    for k in range(rank):
        size = ctx.make_node("Gather", [shape, const(k)]).output[0]
        offset = ctx.make_node("Gather", [start, const(k)]).output[0]
        column = ctx.make_node("Range", [zero, size, one]).output[0]  # (size_k,)
        column = ctx.make_node("Add", [column, offset]).output[0]
        view = [1] * rank
        view[k] = -1
        column = ctx.make_node("Reshape", [column, const(view)]).output[0]
        column = ctx.make_node("Expand", [column, shape]).output[0]  # the update's shape
        columns.append(ctx.make_node("Unsqueeze", [column, last]).output[0])
    indices = ctx.make_node("Concat", columns, attr={"axis": rank}).output[0]
    ctx.replace_inputs(node, [operand, indices, update])
    node.type = "ScatterND"


def _erfc(ctx, node, name, args):
    """tf2onnx handler: `Erfc(x)` (exact GELU's, in keras-hub's GPT-2-style blocks) as
    `1 - Erf(x)`; tf2onnx 1.17 leaves Erfc unconverted."""
    import numpy as np
    from tf2onnx import utils

    (x,) = node.input
    erf = ctx.make_node("Erf", [x]).output[0]
    dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(x))
    one = ctx.make_const(utils.make_name(name), np.array(1, dtype)).output[0]
    ctx.replace_inputs(node, [one, erf])
    node.type = "Sub"


def _convert(graph, path, renamed, opset):
    """Write `graph` (a functional model with dict inputs) to `path`; returns the names of
    its ONNX inputs and outputs."""
    import tensorflow as tf
    import tf2onnx

    names = [i.name for i in graph.inputs]
    spec = [tf.TensorSpec(i.shape, i.dtype, name=renamed(i.name)) for i in graph.inputs]

    @tf.function(input_signature=spec)
    def run(*args):
        return graph(dict(zip(names, args)))

    onnx_model, _ = tf2onnx.convert.from_function(
        run, input_signature=spec, opset=opset, output_path=path,
        custom_op_handlers={"XlaDynamicUpdateSlice": (_dynamic_update_slice, []),
                            "Erfc": (_erfc, [])})
    return ([i.name for i in onnx_model.graph.input],
            [o.name for o in onnx_model.graph.output])


def export_onnx(model, directory, opset=DEFAULT_OPSET, target_order="left-to-right"):
    """Write a model's encoder and one-step decoder as ONNX files, with a manifest.

    Args:
        model: A keras_s2s seq2seq model (recurrent, attention or Transformer) or a
            decoder-only language model, on the TensorFlow backend.
        directory: Where to write `encoder.onnx`, `step.onnx` and `keras_s2s_onnx.json`
            (created; files of the same names are replaced).
        opset: The ONNX opset (default 17).
        target_order: The order in which the model writes its targets, recorded in the
            manifest: `"right-to-left"` for a run trained with a `reverse` target tokenizer
            (`keras-s2s export` passes the run's), whose generated ids a runtime reverses
            before it looks them up.

    Returns:
        The manifest (also written as `keras_s2s_onnx.json`): the files, each graph's input
        and output names, the state names, the special ids, the model's length limit, the
        target order.

    Raises:
        ValueError: A kind without a step decoder, or one that decodes in its own Python
            search (pointer, copy), or a backend other than TensorFlow.
        ImportError: tf2onnx is not installed.

    Example:

    >>> manifest = export_onnx(model, "onnx_model")
    >>> manifest["step"]["inputs"][:2]
    ['attention_keys', 'decoder_token_ids']
    """
    from keras_s2s.inference import build_inference_models, max_decode_length

    kind = _check(model)
    os.makedirs(directory, exist_ok=True)
    encoder, step = build_inference_models(model)
    files = {"encoder": "encoder.onnx", "step": "step.onnx"}
    enc_in, enc_out = _convert(encoder, os.path.join(directory, files["encoder"]),
                               lambda n: n, opset)
    step_in, step_out = _convert(step, os.path.join(directory, files["step"]), _step_name,
                                 opset)
    states = sorted((n for n in enc_out if n.startswith("state_")),
                    key=lambda n: int(n.split("_")[1]))
    manifest = {
        "model": model.name, "kind": kind.name, "opset": opset, "files": files,
        "encoder": {"inputs": enc_in, "outputs": enc_out},
        "step": {"inputs": step_in, "outputs": step_out},
        "states": states, "constants": [n for n in enc_out if n not in states],
        "pad_id": PAD_ID, "bos_id": BOS_ID, "eos_id": EOS_ID,
        "max_length": max_decode_length(model), "target_order": target_order,
    }
    with open(os.path.join(directory, ONNX_MANIFEST), "w") as f:
        json.dump(manifest, f, indent=2)
    return manifest
