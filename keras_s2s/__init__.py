"""keras_s2s: a Keras 3 model zoo for sequence-to-sequence learning."""

__version__ = "0.1.0"

from keras_s2s import layers  # noqa: E402
from keras_s2s import losses  # noqa: E402
from keras_s2s import metrics  # noqa: E402
from keras_s2s import zoo  # noqa: E402

__all__ = ["layers", "losses", "metrics", "zoo", "__version__"]
