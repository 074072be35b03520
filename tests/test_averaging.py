"""Checkpoint averaging: the kept epochs and the averaged weights (`keras-s2s average` is
tested in `tests/test_cli.py`, on its trained run)."""

import os

import keras
import numpy as np
import pytest

from keras_s2s.training.averaging import (KeepLastEpochs, average_weights, kept_epochs,
                                          save_weights_npz)


def _tiny_model():
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(2, name="dense")(inputs))


def test_keep_last_epochs_keeps_each_epochs_own_weights(tmp_path):
    model = _tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    seen = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(
        [keras.ops.convert_to_numpy(w).copy() for w in model.weights]))
    directory = str(tmp_path / "epochs")
    model.fit(x, y, epochs=5, verbose=0, callbacks=[KeepLastEpochs(directory, keep=2), record])
    kept = kept_epochs(directory)
    assert [epoch for epoch, _ in kept] == [4, 5]
    assert sorted(os.listdir(directory)) == ["epoch-0004.weights.npz", "epoch-0005.weights.npz"]
    for epoch, path in kept:  # each file holds its own epoch's weights, not the last one's
        with np.load(path) as stored:
            assert list(stored["paths"]) == ["dense/kernel", "dense/bias"]
            np.testing.assert_array_equal(stored["w0000"], seen[epoch - 1][0])
            np.testing.assert_array_equal(stored["w0001"], seen[epoch - 1][1])
        assert not np.array_equal(seen[epoch - 1][0], seen[epoch - 2][0])
    with pytest.raises(ValueError, match="keep"):
        KeepLastEpochs(directory, keep=0)


def test_average_weights_is_the_elementwise_mean(tmp_path):
    model = _tiny_model()
    paths = []
    for k in range(3):
        model.get_layer("dense").set_weights([np.full((3, 2), float(k * k)),
                                              np.arange(2.0) * (k + 1)])
        paths.append(str(tmp_path / f"epoch-{k}.weights.npz"))
        save_weights_npz(model, paths[-1])
    average_weights(model, paths)
    kernel, bias = model.get_layer("dense").get_weights()
    np.testing.assert_allclose(kernel, np.full((3, 2), (0 + 1 + 4) / 3), rtol=1e-6)
    np.testing.assert_allclose(bias, np.arange(2.0) * 2, rtol=1e-6)
    assert average_weights(model, paths[-1:]).get_layer("dense").get_weights()[0][0, 0] == 4.0
    # another architecture is refused in one line that names the file
    with pytest.raises(ValueError, match=r"epoch-0.weights.npz holds dense/kernel with shape"):
        average_weights(_wider_model(), paths)


def _wider_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(2, name="dense")(inputs))
