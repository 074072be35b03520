"""Export for serving: a trained run as a TensorFlow SavedModel whose `translate` signature
takes strings and returns strings, with tokenization, search and detokenization in the graph.

`export_onnx` writes a model's encoder and step graphs as ONNX files instead (with
tf2onnx installed). Imported on demand (it imports TensorFlow):
`from keras_s2s.export import export_saved_model`.

Example:

>>> from keras_s2s.export import export_saved_model
>>> export_saved_model(model, task.source_tokenizer, task.target_tokenizer, "served")
"""

from keras_s2s.export.onnx import ONNX_MANIFEST, export_onnx
from keras_s2s.export.saved_model import (DEFAULT_MAX_LENGTH, MANIFEST, check_exportable,
                                          export_saved_model)
from keras_s2s.export.text_graph import GraphText, graph_text

__all__ = ["DEFAULT_MAX_LENGTH", "GraphText", "MANIFEST", "ONNX_MANIFEST", "check_exportable",
           "export_onnx", "export_saved_model", "graph_text"]
