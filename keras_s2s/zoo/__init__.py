"""The model zoo: `build(name, **kwargs)`, `list_models(pattern)`, `get_spec(name)`.

Importing this package registers every family.
"""

from keras_s2s.zoo.registry import ModelSpec, build, get_spec, list_models, register_model
from keras_s2s.zoo import rnn_seq2seq  # noqa: F401  (registers entries)
from keras_s2s.zoo import attention_seq2seq  # noqa: F401
from keras_s2s.zoo import transformer  # noqa: F401
from keras_s2s.zoo import language_models  # noqa: F401
from keras_s2s.zoo import autoencoders  # noqa: F401
from keras_s2s.zoo import copy_seq2seq  # noqa: F401
from keras_s2s.zoo import pointer_networks  # noqa: F401
from keras_s2s.zoo import bart  # noqa: F401
from keras_s2s.zoo import gpt2  # noqa: F401
from keras_s2s.zoo import marian  # noqa: F401
from keras_s2s.zoo import roberta  # noqa: F401
from keras_s2s.zoo import t5  # noqa: F401

__all__ = ["ModelSpec", "build", "get_spec", "list_models", "register_model"]
