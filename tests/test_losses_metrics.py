import keras
import numpy as np
import pytest

from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.metrics import MaskedAccuracy


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _reference(y, logits, eps):
    logp = _log_softmax(logits.astype("float64"))
    vocab = logits.shape[-1]
    q = np.full(logits.shape, eps / vocab)
    q += (1 - eps) * np.eye(vocab)[y]
    per_token = -(q * logp).sum(-1)
    mask = y != 0
    return per_token[mask].mean()


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_loss_matches_numpy_and_averages_over_real_tokens(eps):
    rng = np.random.default_rng(0)
    y = np.array([[4, 5, 3, 0, 0], [6, 3, 0, 0, 0]])
    logits = rng.normal(size=(2, 5, 9)).astype("float32")
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=eps)
    value = float(keras.ops.convert_to_numpy(loss(y, logits)))
    np.testing.assert_allclose(value, _reference(y, logits, eps), rtol=1e-5)
    # more padding changes nothing
    y_pad = np.pad(y, ((0, 0), (0, 4)))
    logits_pad = np.concatenate([logits, rng.normal(size=(2, 4, 9)).astype("float32")], 1)
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(loss(y_pad, logits_pad))),
                               value, rtol=1e-6)


def test_loss_sum_reduction_and_all_padding_is_zero_not_nan():
    rng = np.random.default_rng(1)
    y = np.array([[4, 0], [5, 6]])
    logits = rng.normal(size=(2, 2, 7)).astype("float32")
    total = MaskedSparseCategoricalCrossentropy(reduction="sum")(y, logits)
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(total)),
                               3 * _reference(y, logits, 0.0), rtol=1e-5)
    empty = MaskedSparseCategoricalCrossentropy()(np.zeros((2, 2), "int32"), logits)
    assert float(keras.ops.convert_to_numpy(empty)) == 0.0


def test_loss_config_roundtrip_and_bad_smoothing():
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=0.2, padding_id=0)
    assert MaskedSparseCategoricalCrossentropy.from_config(loss.get_config()).label_smoothing == 0.2
    with pytest.raises(ValueError, match="label_smoothing"):
        MaskedSparseCategoricalCrossentropy(label_smoothing=1.5)


def test_masked_accuracy_ignores_padding():
    metric = MaskedAccuracy()
    y = np.array([[4, 5, 3, 0], [6, 3, 0, 0]])
    pred = np.array([[4, 7, 3, 0], [6, 3, 1, 1]])
    metric.update_state(y, np.eye(9)[pred])
    np.testing.assert_allclose(float(metric.result()), 4 / 5)
    assert MaskedAccuracy.from_config(metric.get_config()).name == "masked_accuracy"


def test_masked_accuracy_counts_every_token_once_across_batch_widths():
    # batch 1: width 2, one real token, correct; batch 2: width 6, four real tokens, one
    # correct. Token accuracy is 2/5; Keras' Mean with per-position weights averages each row
    # over its width first and gives (1/2 + 1/6) / (1/2 + 4/6) = 4/7.
    metric = MaskedAccuracy()
    labels1 = np.array([[5, 0]])
    metric.update_state(labels1, np.eye(8)[[[5, 0]]])
    labels2 = np.array([[4, 4, 4, 4, 0, 0]])
    metric.update_state(labels2, np.eye(8)[[[4, 1, 1, 1, 0, 0]]])
    np.testing.assert_allclose(float(metric.result()), 2 / 5, rtol=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0
