"""keras_s2s: a Keras 3 model zoo for sequence-to-sequence learning.

`keras_s2s.layers` and `keras_s2s.zoo` hold the models; `keras_s2s.inference` and
`keras_s2s.decoding` turn any trained model into compiled greedy, beam and sampling decoders;
`keras_s2s.data` brings tokenizers, tasks and tf.data pipelines; `keras_s2s.training` the
callbacks and the recipe behind the `keras-s2s` command.
"""

__version__ = "0.1.0"

from keras_s2s import decoding  # noqa: E402
from keras_s2s import inference  # noqa: E402
from keras_s2s import layers  # noqa: E402
from keras_s2s import losses  # noqa: E402
from keras_s2s import metrics  # noqa: E402
from keras_s2s import zoo  # noqa: E402

__all__ = ["data", "decoding", "evaluation", "inference", "layers", "losses", "metrics",
           "training", "zoo", "__version__"]


def __getattr__(name):
    # `data`, `evaluation` and `training` import TensorFlow; load them on first use so that
    # `import keras_s2s` stays light on the JAX backend.
    if name in ("data", "evaluation", "training"):
        import importlib

        return importlib.import_module(f"keras_s2s.{name}")
    raise AttributeError(f"module 'keras_s2s' has no attribute '{name}'")
