"""No two zoo entries may build the same function.

Every pair of entries of one kind is built at tiny size, every weight is set from its own name
(so that weights which two models share by name are equal), and the outputs on one batch are
compared. Two entries that differ only in their names, as `bahdanau_bilstm` and
`luong_concat_bilstm` once did, give identical outputs and fail.

The only exceptions are entries that are one network trained for another objective; each is
listed with its reason, and the test checks that the list holds nothing else.
"""

import itertools
import zlib

import numpy as np
import pytest

from keras_s2s import zoo
from tests.zoo.test_models import _batch, _tiny


# pairs of one inference network whose entries differ in what they are trained to do
SAME_NETWORK = {
    ("seq_autoencoder_lstm", "vanilla_lstm"):
        "Dai & Le's sequence autoencoder is the LSTM encoder-decoder whose final encoder "
        "state starts the decoder, trained to reproduce its input",
    ("denoising_autoencoder_lstm", "seq_autoencoder_lstm"):
        "the denoising autoencoder corrupts its input in training only",
    ("denoising_autoencoder_lstm", "vanilla_lstm"): "both of the above",
}


def _set_weights_by_name(model):
    for weight in model.weights:
        rng = np.random.default_rng(zlib.crc32(weight.path.encode()))
        weight.assign(rng.normal(0.0, 0.3, weight.shape).astype(weight.dtype))


def _outputs(name, kind):
    model = _tiny(name)
    _set_weights_by_name(model)
    inputs, _ = _batch(kind=kind)
    return np.asarray(model(inputs, training=False), "float64")


@pytest.fixture(scope="module")
def outputs_by_kind():
    by_kind = {}
    for name in zoo.list_models():
        kind = zoo.get_spec(name).kind
        by_kind.setdefault(kind, {})[name] = _outputs(name, kind)
    return by_kind


def test_no_two_entries_give_the_same_outputs(outputs_by_kind):
    same = []
    for outputs in outputs_by_kind.values():
        for (a, ya), (b, yb) in itertools.combinations(sorted(outputs.items()), 2):
            if ya.shape == yb.shape and np.allclose(ya, yb, atol=1e-6):
                same.append((a, b))
    unexplained = [pair for pair in same if pair not in SAME_NETWORK]
    assert not unexplained, f"entries that build the same function: {unexplained}"
    assert set(same) == set(SAME_NETWORK), "SAME_NETWORK lists a pair that now differs"


def test_the_check_sees_two_names_of_one_function(outputs_by_kind):
    """The comparison is not vacuous: `luong_bilstm(score="concat")` is the function of
    `luong_concat_bilstm` under another name, and its outputs match."""
    twin = _tiny("luong_bilstm", score="concat")
    _set_weights_by_name(twin)
    inputs, _ = _batch(kind="seq2seq")
    y = np.asarray(twin(inputs, training=False), "float64")
    np.testing.assert_allclose(y, outputs_by_kind["seq2seq"]["luong_concat_bilstm"], atol=1e-6)
