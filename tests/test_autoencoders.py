"""Autoencoders and VAEs end to end: reconstruction, the KL term, posterior collapse and its
cure (Bowman et al., 2016), sampling and interpolation."""

import keras
import numpy as np
import pytest

from keras_s2s import autoencoders, losses, metrics, zoo
from keras_s2s.callbacks import KLAnnealing


def _teacher_forcing(seqs, width):
    n = len(seqs)
    x, d, y = (np.zeros((n, width), "int32") for _ in range(3))
    for i, s in enumerate(seqs):
        x[i, :len(s)] = s
        d[i, 0], d[i, 1:len(s) + 1] = 2, s
        y[i, :len(s)], y[i, len(s)] = s, 3
    return {"encoder_token_ids": x, "decoder_token_ids": d}, y


def _topics(n, seed, topics=8, per_topic=4, vocab=36, p_topic=0.8):
    """Sequences of 8-12 tokens that share one hidden topic: each token is one of the topic's
    4 tokens with probability 0.8, else any token. A decoder can guess the topic from the
    prefix, so a VAE can do without its code (and collapses); the code needs log 8 nats."""
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(n):
        k, m = rng.integers(topics), rng.integers(8, 13)
        own = 4 + k * per_topic + rng.integers(per_topic, size=m)
        seqs.append(np.where(rng.random(m) < p_topic, own, rng.integers(4, vocab, size=m)))
    return _teacher_forcing(seqs, 13)


# The fits here train as TensorFlow graphs: with one thread, as in `make test`, the VAE pair
# took 10.9 s against 22.5 s under XLA and the reconstruction test 13.7 s against 13.8 s (the
# per-entry test compiles each class under XLA)
JIT = False


def _compile(model):
    model.compile(optimizer=keras.optimizers.Adam(5e-3, clipnorm=1.0),
                  loss=losses.MaskedSparseCategoricalCrossentropy(),
                  metrics=[metrics.MaskedAccuracy()], jit_compile=JIT)
    return model


def _token_accuracy(result, labels):
    ids = result.token_ids[:, 0]
    width = min(ids.shape[1], labels.shape[1])
    predicted = np.zeros_like(labels)
    predicted[:, :width] = ids[:, :width]
    real = labels != 0
    return (predicted == labels)[real].mean()


@pytest.mark.extended  # 52 s; make test trains the VAEs (the fixture `vaes`) instead
def test_sequence_autoencoder_reconstructs_held_out_sequences():
    from keras_s2s.data import load_task

    keras.utils.set_random_seed(0)
    task = load_task("copy", num_train=3000, max_length=10)
    vocab = task.source_tokenizer.vocabulary_size
    (train_src, _, _), (test_src, _, _) = task.encode_pairs("train"), task.encode_pairs("test")
    x, y = _teacher_forcing(train_src, 11)
    model = _compile(zoo.build("seq_autoencoder_lstm", source_vocab_size=vocab,
                               target_vocab_size=vocab, embedding_dim=32, units=128,
                               dropout=0.0))
    model.fit(x, y, batch_size=32, epochs=10, verbose=0)
    x_test, y_test = _teacher_forcing(test_src[:256], 11)
    result = autoencoders.reconstruct(model, x_test["encoder_token_ids"], max_length=12)
    assert _token_accuracy(result, y_test) >= 0.9


@pytest.fixture(scope="module")
def vaes():
    """The same VAE trained twice: plain, and with KL annealing and word dropout.

    Measured with these settings (seed 0): the plain VAE ends at KL 0.01 nats/token with no
    active unit, the cured one at KL 1.7 with all 8 active (with 3,000 sequences: the same
    picture at twice the cost)."""
    x, y = _topics(1500, 0)
    trained = {}
    for cure in (False, True):
        keras.utils.set_random_seed(0)
        model = _compile(zoo.build("seq_vae_lstm", source_vocab_size=36, target_vocab_size=36,
                                   embedding_dim=32, units=64, latent_dim=8, dropout=0.0,
                                   word_dropout=0.5 if cure else 0.0, seed=1))
        steps = 6 * (len(y) // 32 + 1)
        callbacks = [KLAnnealing("linear", warmup_steps=steps // 2) if cure
                     else KLAnnealing("constant")]  # the plain VAE only reports its KL
        history = model.fit(x, y, batch_size=32, epochs=6, verbose=0, callbacks=callbacks)
        trained[cure] = (model, history)
    return trained


def test_annealing_and_word_dropout_keep_the_vae_from_collapsing(vaes):
    test_ids = _topics(500, 1)[0]["encoder_token_ids"]
    collapsed, _ = vaes[False]
    cured, history = vaes[True]
    au_collapsed, _ = autoencoders.active_units(collapsed, test_ids)
    au_cured, variances = autoencoders.active_units(cured, test_ids)
    assert au_collapsed == 0 and float(collapsed.get_layer("posterior").kl) < 0.1
    assert au_cured > 0 and float(cured.get_layer("posterior").kl) > 0.5, variances
    assert history.history["kl_weight"][0] < history.history["kl_weight"][-1] == 1.0
    assert history.history["kl"][-1] > 0.5
    plain = vaes[False][1].history
    assert set(plain["kl_weight"]) == {1.0} and plain["kl"][-1] < 0.1


def test_kl_term_is_the_closed_form_per_target_token():
    keras.utils.set_random_seed(0)
    model = zoo.build("seq_vae_gru", source_vocab_size=20, target_vocab_size=20, units=8,
                      embedding_dim=8, latent_dim=3)
    x, _ = _topics(4, 2, vocab=20, topics=4)
    posterior = model.get_layer("posterior")
    posterior.mean.kernel.assign(posterior.mean.kernel * 30.0)  # a KL far from 0
    model(x)
    h = keras.Model(model.input, posterior.input[0])(x)
    mean, log_var = (keras.ops.convert_to_numpy(t) for t in posterior.mean_and_log_variance(h))
    kl = 0.5 * (mean ** 2 + np.exp(log_var) - 1 - log_var).sum(1)
    tokens = (x["decoder_token_ids"] != 0).sum()
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(model.losses[0])),
                               kl.sum() / tokens, rtol=1e-5)
    assert kl.sum() / tokens > 0.01


def test_samples_and_interpolations_are_valid_sequences(vaes):
    model, _ = vaes[True]
    max_length = 14
    samples = autoencoders.sample(model, 6, seed=0, max_length=max_length)
    again = autoencoders.sample(model, 6, seed=0, max_length=max_length)
    np.testing.assert_array_equal(samples.token_ids, again.token_ids)
    x, _ = _topics(2, 3)
    a, b = (row[row != 0] for row in x["encoder_token_ids"])
    codes, path = autoencoders.interpolate(model, a, b, steps=5, max_length=max_length)
    np.testing.assert_allclose(codes[0], autoencoders.encode(model, a)[0], atol=1e-5)
    np.testing.assert_allclose(codes[-1], autoencoders.encode(model, b)[0], atol=1e-5)
    for result in (samples, path):
        for row, length in zip(result.token_ids[:, 0], result.lengths[:, 0]):
            assert row[length - 1] == 3 or length == max_length  # ends in </s> or is cut
            assert np.all(row[:length] >= 3) and not row[length:].any()  # no <pad>/<s> inside


def test_dense_autoencoder_and_clear_errors():
    keras.utils.set_random_seed(0)
    dense = zoo.build("dense_autoencoder", vocab_size=12, sequence_length=6, latent_dim=4)
    result = autoencoders.reconstruct(dense, [[5, 6, 7], [8, 9]])
    assert result.token_ids.shape == (2, 1, 3)
    assert autoencoders.decode_latent(dense, np.zeros((3, 4))).token_ids.shape == (3, 1, 6)
    with pytest.raises(ValueError, match="longer than the model's sequence_length"):
        autoencoders.encode(dense, [[5] * 7])
    plain = zoo.build("seq_autoencoder_lstm", source_vocab_size=12, target_vocab_size=12,
                      units=8, embedding_dim=8)
    assert autoencoders.encode(plain, [[5, 6]]).shape == (1, 16)  # (h, c) is the code
    with pytest.raises(ValueError, match="no prior to sample from"):
        autoencoders.sample(plain, 2)
    with pytest.raises(ValueError, match="no latent code to decode from"):
        autoencoders.interpolate(plain, [5], [6])
    vae = zoo.build("seq_vae_gru", source_vocab_size=12, target_vocab_size=12, units=8,
                    embedding_dim=8, latent_dim=4)
    with pytest.raises(ValueError, match="latent code of 4"):
        autoencoders.decode_latent(vae, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="not an autoencoder"):
        autoencoders.encode(zoo.build("lstm_lm", vocab_size=12, units=8), [[5]])
