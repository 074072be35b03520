"""keras_s2s: a Keras 3 model zoo for sequence-to-sequence learning.

`keras_s2s.layers` and `keras_s2s.zoo` hold the models; `keras_s2s.inference` and
`keras_s2s.decoding` turn any trained model into compiled greedy, beam and sampling decoders;
`keras_s2s.data` brings tokenizers, tasks and tf.data pipelines; `keras_s2s.evaluation` scores
decodes; `keras_s2s.training` holds the callbacks and the recipe behind the `keras-s2s` command
(`keras_s2s.cli`, one module per command); `keras_s2s.bench` holds the benchmarks.

Submodules load on first use (`keras_s2s.zoo.build(...)` just works), so that the command line
can start quietly and `import keras_s2s` stays cheap.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("autoencoders", "bench", "callbacks", "cli", "data", "decoding", "embeddings",
               "evaluation", "inference", "kinds", "layers", "losses", "metrics", "plots",
               "text_metrics", "training", "zoo")

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"keras_s2s.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'keras_s2s' has no attribute '{name}'")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
