"""KLAnnealing: schedules against their formulas, and the callback inside a compiled `fit`."""

import doctest
import math

import keras
import numpy as np
import pytest
from keras import ops

import keras_s2s
from keras_s2s.layers import GaussianPosterior
from keras_s2s.training import annealing as annealing_module
from keras_s2s.training.annealing import KLAnnealing, find_posteriors


def frange_cycle_linear(n_iter, start=0.0, stop=1.0, n_cycle=4, ratio=0.5):
    """Fu et al.'s reference implementation (github.com/haofuml/cyclical_annealing)."""
    weights = np.ones(n_iter) * stop
    period = n_iter / n_cycle
    step = (stop - start) / (period * ratio)
    for c in range(n_cycle):
        v, i = start, 0
        while v <= stop and (int(i + c * period) < n_iter):
            weights[int(i + c * period)] = v
            v += step
            i += 1
    return weights


def test_linear_schedule():
    annealing = KLAnnealing("linear", warmup_steps=100, start=0.1, stop=0.9)
    for step, expected in [(0, 0.1), (25, 0.3), (50, 0.5), (100, 0.9), (1000, 0.9)]:
        assert annealing.schedule(step) == pytest.approx(expected)


def test_sigmoid_schedule():
    annealing = KLAnnealing("sigmoid", warmup_steps=1000, start=0.0, stop=2.0)
    for step in (0, 100, 500, 777, 1000, 5000):
        expected = 2.0 / (1.0 + math.exp(-(10 / 1000) * (step - 500)))
        assert annealing.schedule(step) == pytest.approx(expected)
    assert annealing.schedule(500) == pytest.approx(1.0)
    assert annealing.schedule(0) < 0.02 and annealing.schedule(1000) > 1.98
    steep = KLAnnealing("sigmoid", warmup_steps=1000, steepness=0.0025, start=0.5, stop=1.0)
    assert steep.schedule(100) == pytest.approx(0.5 + 0.5 / (1 + math.exp(-0.0025 * (100 - 500))))
    assert steep.schedule(10 ** 7) == 1.0 and steep.schedule(-10 ** 7) == 0.5  # no overflow


@pytest.mark.parametrize("start,stop,cycles,ratio", [(0.0, 1.0, 4, 0.5), (0.2, 0.8, 2, 0.25)])
def test_cyclical_schedule_equals_fu_et_al(start, stop, cycles, ratio):
    annealing = KLAnnealing("cyclical", total_steps=800, start=start, stop=stop, cycles=cycles,
                            ratio=ratio)
    reference = frange_cycle_linear(800, start, stop, cycles, ratio)
    ours = np.array([annealing.schedule(step) for step in range(800)])
    np.testing.assert_allclose(ours, reference, atol=1e-9)
    assert annealing.schedule(800) == stop and annealing.schedule(10 ** 6) == stop


def _model(batch=8, features=6, latent_dim=3, counter=None):
    class CountingPosterior(GaussianPosterior):
        def call(self, h, training=None):
            counter.append(training)  # runs once per trace, not per step
            return super().call(h, training=training)

    make = CountingPosterior if counter is not None else GaussianPosterior
    inputs = keras.Input((features,))
    posterior = make(latent_dim, kl_weight=0.123, seed=0, name="posterior")
    model = keras.Model(inputs, posterior(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.0), jit_compile=True)  # the loss is the KL
    one_batch = np.random.default_rng(0).normal(size=(batch, features)).astype("float32")
    return model, posterior, one_batch


def _closed_form_kl(posterior, h):
    kernel, bias = (ops.convert_to_numpy(w) for w in posterior.mean.weights)
    mean = h @ kernel + bias
    kernel, bias = (ops.convert_to_numpy(w) for w in posterior.log_variance.weights)
    log_variance = h @ kernel + bias
    return float((0.5 * (mean ** 2 + np.exp(log_variance) - 1 - log_variance)).sum(1).mean())


class _TrainFunctions(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.model.train_function)


def test_callback_drives_the_weight_in_compiled_fit_without_retracing():
    traces = []
    model, posterior, one_batch = _model(counter=traces)
    x = np.tile(one_batch, (4, 1))  # 4 identical batches per epoch: the KL is the same each step
    kl = _closed_form_kl(posterior, one_batch)
    annealing = KLAnnealing("linear", warmup_steps=6, start=0.0, stop=1.0)
    functions = _TrainFunctions()
    history = model.fit(x, batch_size=8, epochs=3, shuffle=False, verbose=0,
                        callbacks=[annealing, functions])
    weights = [min(step / 6, 1.0) for step in range(12)]
    # the loss of each step is weight(step) * KL: the compiled step reads the variable
    for epoch in range(3):
        np.testing.assert_allclose(history.history["loss"][epoch],
                                   kl * np.mean(weights[4 * epoch:4 * epoch + 4]), rtol=1e-5)
    assert history.history["kl_weight"] == pytest.approx([weights[3], weights[7], weights[11]])
    np.testing.assert_allclose(history.history["kl"], [kl] * 3, rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(posterior.kl_weight), 1.0)
    assert functions.seen[0] is functions.seen[1] is functions.seen[2]
    assert sum(1 for training in traces if training) <= 2  # traced for the train step, once

    # a second fit resumes the schedule from the optimizer's step counter (12)
    resumed = KLAnnealing("linear", warmup_steps=24, start=0.0, stop=1.0)
    history = model.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0,
                        callbacks=[resumed])
    assert history.history["kl_weight"] == pytest.approx([15 / 24])
    np.testing.assert_allclose(history.history["loss"][0], kl * np.mean([12, 13, 14, 15]) / 24,
                               rtol=1e-5)


def test_cyclical_takes_its_total_from_fit_and_finds_nested_posteriors():
    model, posterior, one_batch = _model()
    inputs = keras.Input((6,))
    outer = keras.Model(inputs, keras.layers.Dense(2)(model(inputs)))  # posterior one level down
    assert find_posteriors(outer) == [posterior]
    outer.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", jit_compile=True)
    annealing = keras_s2s.callbacks.KLAnnealing("cyclical", cycles=2, ratio=0.5)
    history = outer.fit(np.tile(one_batch, (4, 1)), np.zeros((32, 2), "float32"), batch_size=8,
                        epochs=2, shuffle=False, verbose=0, callbacks=[annealing])
    # total 8 steps, 2 cycles of 4: ramps 0, 0.5, 1, 1 | 0, 0.5, 1, 1
    assert [annealing.schedule(s) for s in range(8)] == [0, 0.5, 1, 1, 0, 0.5, 1, 1]
    assert history.history["kl_weight"] == [1.0, 1.0]
    assert "kl" in history.history


def test_errors_name_the_problem():
    inputs = keras.Input((4,))
    plain = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    plain.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="GaussianPosterior"):
        plain.fit(np.zeros((4, 4)), np.zeros((4, 2)), verbose=0,
                  callbacks=[KLAnnealing(warmup_steps=10)])
    with pytest.raises(ValueError, match="`schedule`"):
        KLAnnealing("cosine", warmup_steps=10)
    with pytest.raises(ValueError, match="`warmup_steps`"):
        KLAnnealing("linear")
    with pytest.raises(ValueError, match="`ratio`"):
        KLAnnealing("cyclical", ratio=0.0)
    with pytest.raises(ValueError, match="`stop`"):
        KLAnnealing("linear", warmup_steps=10, stop=-1.0)
    with pytest.raises(ValueError, match="total_steps"):
        KLAnnealing("cyclical").schedule(3)


def test_docstring_examples():
    result = doctest.testmod(annealing_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_constant_schedule_only_reports():
    callback = KLAnnealing("constant", stop=0.7)
    assert [callback.schedule(s) for s in (0, 10, 10_000)] == [0.7, 0.7, 0.7]
