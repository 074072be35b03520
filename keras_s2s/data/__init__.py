"""Data: tokenizers with fixed special ids, tasks (built-in and your own files), tf.data pipelines.

TensorFlow is used here (tf.data, and keras-hub/tensorflow-text for WordPiece); the layers,
models and decoding stay backend-agnostic.
"""

from keras_s2s.data.builtin import list_tasks, load_task
from keras_s2s.data.files import from_parallel_text, from_tsv, read_parallel, read_tsv
from keras_s2s.data.task import Example, Task
from keras_s2s.data.tokenizers import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SPECIAL_TOKENS,
    UNK_ID,
    CharTokenizer,
    SubwordTokenizer,
    Tokenizer,
    WordTokenizer,
    load_tokenizer,
)

__all__ = [
    "BOS_ID", "EOS_ID", "PAD_ID", "SPECIAL_TOKENS", "UNK_ID", "CharTokenizer", "Example",
    "SubwordTokenizer", "Task", "Tokenizer", "WordTokenizer", "from_parallel_text", "from_tsv",
    "list_tasks", "load_task", "load_tokenizer", "read_parallel", "read_tsv",
]
