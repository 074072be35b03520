"""`export_saved_model`: a trained model as a TensorFlow SavedModel that serves strings.

The SavedModel has one serving signature, `translate` (also `serving_default`):

    translate(text: tf.string[batch]) -> {"text": tf.string[batch, n],
                                          "score": tf.float32[batch, n]}

Everything runs inside the graph: the source tokenizer (`keras_s2s.export.text_graph`), the
model's encoder and step graphs (`keras_s2s.inference.build_inference_models`), the search
of `keras_s2s.decoding` (greedy, or beam with its n-best and length penalty) and the target
detokenizer. It loads with `tf.saved_model.load` alone, without Keras or keras_s2s (and,
for a subword tokenizer, after `import tensorflow_text`, whose WordPiece ops it runs).

The settings are fixed at export: `max_length` (a static bound; each row may also get its
own limit `max_length_a · |source| + max_length_b`, as `decode` does), `min_length`,
`beam_width`, `num_return_sequences`, `length_penalty`. A language model (`kind="lm"`) takes
prompts and returns the prompt with its continuation. Kinds that decode by themselves
(pointer networks, copy models) and kinds without a decoder are refused with the reason.

Example:

>>> export_saved_model(model, task.source_tokenizer, task.target_tokenizer, "served",
...                    beam_width=4)
>>> served = tf.saved_model.load("served")
>>> served.translate(tf.constant(["hello"]))["text"]
"""

import json
import os

import keras
import tensorflow as tf

from keras_s2s import kinds
from keras_s2s.constants import PAD_ID
from keras_s2s.data.tokenizers import SubwordTokenizer
from keras_s2s.decoding import api
from keras_s2s.export.text_graph import GraphText, supports

__all__ = ["DEFAULT_MAX_LENGTH", "MANIFEST", "check_exportable", "export_saved_model"]

#: the static bound on generated tokens when none is given (or the model's own, if smaller)
DEFAULT_MAX_LENGTH = 256
#: the file beside the SavedModel that records what was exported and how
MANIFEST = "keras_s2s_export.json"


def check_export_kind(model, what):
    """What both exports need: the TensorFlow backend (`what` says why) and a kind whose
    decoding is the library's step search; returns the model's kind.

    Example:

    >>> check_export_kind(model, "ONNX export converts TensorFlow graphs").name
    'seq2seq'
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(f"{what}; run it with KERAS_BACKEND=tensorflow (this process uses "
                         f"{keras.backend.backend()}).")
    kind = kinds.of(model)
    if not kind.has_decoder:
        raise ValueError(f"Model '{model.name}' is a {kind.name} model: it has no decoder, so "
                         "there is no text to generate and nothing to export for serving.")
    if kind.own_decode:
        raise ValueError(f"Model '{model.name}' is a {kind.name} model, which decodes with its "
                         "own search in Python (keras_s2s.decoding.decode); export supports "
                         "seq2seq models and language models.")
    return kind


def check_exportable(model, source_tokenizer, target_tokenizer):
    """Refuse, with the reason, a model or tokenizer that `export_saved_model` can't serve.

    Example:

    >>> check_exportable(model, task.source_tokenizer, task.target_tokenizer)
    """
    kind = check_export_kind(model, "Export writes a TensorFlow SavedModel")
    for name, tokenizer in (("source", source_tokenizer), ("target", target_tokenizer)):
        if not supports(tokenizer):
            raise ValueError(f"The {name} tokenizer ({type(tokenizer).__name__}) has no graph "
                             "version; export supports char, word and subword tokenizers.")
    return kind


def export_saved_model(model, source_tokenizer, target_tokenizer, path, *, beam_width=None,
                       num_return_sequences=1, max_length=None, min_length=0,
                       max_length_a=None, max_length_b=None, length_penalty=0.0,
                       side="target", jit=False):
    """Write `model` with its tokenizers and search as a SavedModel at `path`.

    Args:
        model: A trained keras_s2s seq2seq model or language model (TensorFlow backend).
        source_tokenizer, target_tokenizer: The run's tokenizers (`keras_s2s.data.Task`'s).
        path: The directory to write (it must not exist; `keras-s2s export` writes it
            whole or not at all).
        beam_width: Beam search of this width; None for greedy search.
        num_return_sequences: The n-best size (beam search); `text` and `score` hold n
            columns, best first.
        max_length: The most tokens generated, `</s>` (and a prompt) included; a static
            bound. Defaults to `DEFAULT_MAX_LENGTH`, or the model's own limit if smaller.
        min_length: `</s>` is forbidden before this many generated tokens (1 rules out
            empty outputs); below `max_length`.
        max_length_a, max_length_b: Each source's own limit `a · |source| + b` within
            `max_length` (fairseq's `max_len_a`/`max_len_b`; seq2seq models only).
        length_penalty: GNMT α (beam search).
        side: A language model's side of its task (`"source"` or `"target"`).
        jit: Compile the search with XLA inside the SavedModel (faster, but the server
            must be able to JIT-compile XLA); off by default.

    Returns:
        A dict: the manifest written beside the SavedModel (`MANIFEST`).

    Example:

    >>> export_saved_model(model, task.source_tokenizer, task.target_tokenizer, "served")
    """
    kind = check_exportable(model, source_tokenizer, target_tokenizer)
    prompted = kind.continues_prompt
    if prompted:
        tokenizer = source_tokenizer if side == "source" else target_tokenizer
        source_tokenizer = target_tokenizer = tokenizer
        if max_length_a is not None or max_length_b is not None:
            raise ValueError("`max_length_a`/`max_length_b` bound a translation by its "
                             "source; a language model takes `max_length` only.")
    _, graphs = api._graphs(model)
    limit = graphs.max_length
    if max_length is None:
        max_length = DEFAULT_MAX_LENGTH if limit is None else min(limit, DEFAULT_MAX_LENGTH)
    method = "greedy" if beam_width is None else "beam"
    api._check_controls(0, 1.0, max_length_a, max_length_b)
    api._settings(method, max_length, min_length, beam_width or 1, num_return_sequences,
                  length_penalty, 0.0, 1.0, None, None, False, graphs.attention)
    api._check_max_length(model, graphs, False, max_length, 0)  # the model's own limit
    settings = dict(method=method, max_length=int(max_length), min_length=int(min_length),
                    beam_width=int(beam_width or 1),
                    num_return_sequences=int(num_return_sequences),
                    length_penalty=float(length_penalty) if beam_width else 0.0,
                    coverage_penalty=0.0, temperature=1.0, top_k=None, top_p=None,
                    return_alignments=False, jit=bool(jit), prompted=bool(prompted),
                    max_length_a=None if max_length_a is None else float(max_length_a),
                    max_length_b=None if max_length_b is None else float(max_length_b))
    encoder_model, decoder_model = graphs
    search = api._decode_fn(model, encoder_model, decoder_model, **settings)
    reader, writer = GraphText(source_tokenizer), GraphText(target_tokenizer)
    n = settings["num_return_sequences"] if method == "beam" else 1
    # the widest input the model takes: its positions (a Transformer), or below the
    # generation bound (a prompt)
    widest = limit
    if prompted:
        widest = max_length - 1 if widest is None else min(widest, max_length - 1)

    def translate(text):
        ids = reader.encode(text).to_tensor(default_value=PAD_ID)  # (batch, width)
        batch = tf.shape(ids)[0]
        ids = tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])
        checks = []
        if widest is not None:
            checks.append(tf.debugging.assert_less_equal(
                tf.shape(ids)[1], widest,
                message=f"an input is longer than the {widest} tokens this model takes"))
        with tf.control_dependencies(checks):
            ids = tf.identity(ids)
        noise = tf.zeros([batch * n, settings["max_length"]], tf.float32)  # sampling only
        tokens, _, scores, _ = search(ids, noise)
        return {"text": writer.decode(tokens), "score": tf.cast(scores, tf.float32)}

    archive = keras.export.ExportArchive()
    archive.track(encoder_model)
    archive.track(decoder_model)
    for text in (reader, writer):  # a WordPiece tokenizer's vocabulary is a graph constant
        if text.table is not None:
            archive.track(text.table)
    archive.add_endpoint("translate", translate,
                         input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    archive.write_out(path, verbose=False)
    manifest = {
        "model": model.name, "kind": kind.name, "signature": "translate",
        "inputs": {"text": "string[batch]"},
        "outputs": {"text": f"string[batch, {n}]", "score": f"float32[batch, {n}]"},
        "method": method, "beam_width": beam_width, "num_return_sequences": n,
        "max_length": settings["max_length"], "min_length": settings["min_length"],
        "max_length_a": max_length_a,
        "max_length_b": max_length_b, "length_penalty": settings["length_penalty"],
        "xla": bool(jit),
        "tokenizers": {"source": type(source_tokenizer).__name__,
                       "target": type(target_tokenizer).__name__},
        "needs_tensorflow_text": any(isinstance(t, SubwordTokenizer)
                                     for t in (source_tokenizer, target_tokenizer)),
        "tensorflow": tf.__version__,
    }
    with open(os.path.join(path, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest
