"""ONNX export of a model's inference graphs: `encoder.onnx` and `step.onnx`.

The two graphs are `keras_s2s.inference.build_inference_models`' encoder and one-step decoder,
converted by tf2onnx from a `tf.function` over each (Keras' own `model.export(format="onnx")`
loses the names of a dict input with several tensors: tf2onnx then finds no `state_0`). The
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

import keras

from keras_s2s import kinds
from keras_s2s.constants import BOS_ID, EOS_ID, PAD_ID

ONNX_MANIFEST = "keras_s2s_onnx.json"
DEFAULT_OPSET = 17


def _check(model):
    if keras.backend.backend() != "tensorflow":
        raise ValueError("ONNX export converts TensorFlow graphs (tf2onnx); run it with "
                         f"KERAS_BACKEND=tensorflow (this process uses "
                         f"{keras.backend.backend()}).")
    kind = kinds.of(model)
    if not kind.has_decoder:
        raise ValueError(f"Model '{model.name}' is a {kind.name} model: it has no decoder, so "
                         "there is no step graph to export.")
    if kind.own_decode:
        raise ValueError(f"Model '{model.name}' is a {kind.name} model, whose decoding "
                         "post-processes the step graph's output in Python (extended "
                         "vocabulary ids or pointer slots); ONNX export supports seq2seq "
                         "models and language models.")
    from keras_s2s.inference import has_kv_cache

    if has_kv_cache(model):
        raise ValueError(f"Model '{model.name}' has a Transformer decoder, whose cached "
                         "attention (keras-hub) updates its caches with ops.slice_update: "
                         "TensorFlow lowers that to XlaDynamicUpdateSlice, which tf2onnx "
                         "can't convert. Serve it with keras-s2s export (a SavedModel).")
    try:
        import tf2onnx  # noqa: F401
    except ImportError:
        raise ImportError("ONNX export needs tf2onnx, which keras_s2s does not install: "
                          "pip install tf2onnx onnxruntime") from None
    return kind


def _step_name(name):
    return "previous_" + name if name.startswith("state_") else name


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

    onnx_model, _ = tf2onnx.convert.from_function(run, input_signature=spec, opset=opset,
                                                  output_path=path)
    return ([i.name for i in onnx_model.graph.input],
            [o.name for o in onnx_model.graph.output])


def export_onnx(model, directory, opset=DEFAULT_OPSET):
    """Write a model's encoder and one-step decoder as ONNX files, with a manifest.

    Args:
        model: A keras_s2s seq2seq model (recurrent, attention or Transformer) or a
            decoder-only language model, on the TensorFlow backend.
        directory: Where to write `encoder.onnx`, `step.onnx` and `keras_s2s_onnx.json`
            (created; files of the same names are replaced).
        opset: The ONNX opset (default 17).

    Returns:
        The manifest (also written as `keras_s2s_onnx.json`): the files, each graph's input
        and output names, the state names, the special ids, the model's length limit.

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
        "max_length": max_decode_length(model),
    }
    with open(os.path.join(directory, ONNX_MANIFEST), "w") as f:
        json.dump(manifest, f, indent=2)
    return manifest
