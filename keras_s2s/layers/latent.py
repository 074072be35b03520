"""The Gaussian posterior of a sequence VAE: reparameterised sampling and its KL term.

The KL weight is a non-trainable variable that the compiled train step reads, so that
`keras_s2s.training.KLAnnealing` can change it every batch without recompiling; the layer
also records the last training batch's raw KL (total and per dimension) for logging and for
counting active units.
"""

import numbers

import keras
from keras import ops

from keras_s2s.layers._checks import check_positive_int


@keras.saving.register_keras_serializable(package="keras_s2s")
class GaussianPosterior(keras.layers.Layer):
    """A diagonal Gaussian posterior `q(z | h)` with the reparameterisation trick and a KL loss.

    Two dense layers, `mean` and `log_variance`, map the features `h` to `mu` and
    `log sigma^2`. In training the layer returns `z = mu + exp(log sigma^2 / 2) * eps` with
    `eps ~ N(0, I)` drawn from a seeded `keras.random.SeedGenerator`; otherwise it returns `mu`.

    On every call it adds `kl_weight * KL` to the model's losses (`self.add_loss`), where `KL`
    is the closed-form divergence from the prior `N(0, I)`, averaged over the batch:
    `KL = mean_batch(0.5 * sum_d(mu_d^2 + sigma_d^2 - 1 - log sigma_d^2))`. With
    `free_bits > 0` the loss uses `sum_d max(KL_d, free_bits)` instead, where `KL_d` is the
    batch mean of dimension `d`'s KL (Kingma et al.'s free bits, per dimension): dimensions
    below `free_bits` nats get no gradient toward the prior.

    Variables (all non-trainable, saved with the model): `kl_weight` (scalar, the weight that
    `KLAnnealing` drives), `kl` (scalar, the last training batch's raw KL, without weight or
    free bits) and `kl_per_dimension` (`(latent_dim,)`, its per-dimension batch means; a unit is
    "active" (Burda et al.) when its KL is clearly above 0). The last two are assigned inside
    `call` when `training=True`.

    Args:
        latent_dim: Positive integer, the size of `z`.
        free_bits: Float >= 0, the per-dimension KL floor of the loss, in nats (0 turns it off).
        kl_weight: Float >= 0, the initial value of the `kl_weight` variable.
        seed: Optional integer seed of the noise `eps`.
        **kwargs: Base layer arguments.

    Call arguments:
        h: Float tensor `(batch, features)`, for instance the encoder's final state.
        target_token_ids: Optional int `(batch, length)` ids of what the model reconstructs
            (0 = padding). When given, the KL term is divided by their number of real tokens
            per sequence (`sum_b KL_b / sum_b tokens_b`), so that with a reconstruction loss
            averaged over tokens the total is the negative ELBO per token. Without it, the
            KL of a whole sequence would be weighed against the loss of one token, which
            drives the posterior to collapse.
        training: Python boolean; sample `z` when True, return the mean otherwise.

    Returns:
        Float tensor `(batch, latent_dim)`.

    Example:

    >>> posterior = GaussianPosterior(4, seed=0)
    >>> z = posterior(np.ones((2, 8), "float32"), training=True)
    >>> tuple(z.shape), tuple(posterior.kl_per_dimension.shape)
    ((2, 4), (4,))
    >>> mean, log_variance = posterior.mean_and_log_variance(np.ones((2, 8), "float32"))

    Reference:
        - [Kingma & Welling, 2014. Auto-Encoding Variational Bayes.](
          https://arxiv.org/abs/1312.6114)
        - [Bowman et al., 2016. Generating Sentences from a Continuous Space.](
          https://arxiv.org/abs/1511.06349)
        - [Kingma et al., 2016. Improving Variational Inference with Inverse Autoregressive
          Flow.](https://arxiv.org/abs/1606.04934) (free bits)
    """

    def __init__(self, latent_dim, free_bits=0.0, kl_weight=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = check_positive_int("latent_dim", latent_dim)
        self.free_bits = _check_non_negative("free_bits", free_bits)
        self.initial_kl_weight = _check_non_negative("kl_weight", kl_weight)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"Argument `seed` must be an integer or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.mean = keras.layers.Dense(self.latent_dim, name="mean", dtype=self.dtype_policy)
        self.log_variance = keras.layers.Dense(self.latent_dim, name="log_variance",
                                               dtype=self.dtype_policy)

    def build(self, input_shape):
        self.mean.build(input_shape)
        self.log_variance.build(input_shape)
        self.kl_weight = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(self.initial_kl_weight),
            trainable=False, name="kl_weight", dtype="float32")
        self.kl = self.add_weight(shape=(), initializer="zeros", trainable=False, name="kl",
                                  dtype="float32")
        self.kl_per_dimension = self.add_weight(
            shape=(self.latent_dim,), initializer="zeros", trainable=False,
            name="kl_per_dimension", dtype="float32")

    def mean_and_log_variance(self, h):
        """The posterior's parameters `(mu, log sigma^2)`, each `(batch, latent_dim)`."""
        return self.mean(h), self.log_variance(h)

    def call(self, h, target_token_ids=None, training=None):
        mean, log_variance = self.mean_and_log_variance(h)  # (batch, latent_dim) each
        mean32, log_variance32 = ops.cast(mean, "float32"), ops.cast(log_variance, "float32")
        kl_per_dimension = ops.mean(
            0.5 * (ops.square(mean32) + ops.exp(log_variance32) - 1.0 - log_variance32), axis=0)
        kl = ops.sum(kl_per_dimension)
        if self.free_bits > 0:
            loss = ops.sum(ops.maximum(kl_per_dimension, self.free_bits))
        else:
            loss = kl
        if target_token_ids is not None:
            # per target token: sum_b KL_b / sum_b tokens_b, the scale of a per-token mean loss
            tokens = ops.sum(ops.cast(ops.not_equal(target_token_ids, 0), "float32"))
            batch = ops.cast(ops.shape(mean32)[0], "float32")
            loss = loss * batch / ops.maximum(tokens, 1.0)
        self.add_loss(ops.cast(self.kl_weight, "float32") * loss)
        if not training:
            return mean
        self.kl.assign(kl)
        self.kl_per_dimension.assign(kl_per_dimension)
        epsilon = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_variance) * epsilon

    def compute_output_spec(self, h, target_token_ids=None, training=None):
        return keras.KerasTensor((*tuple(h.shape)[:-1], self.latent_dim), dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "free_bits": self.free_bits, "kl_weight": self.initial_kl_weight,
                "seed": self.seed}


def _check_non_negative(name, value):
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0
            or value == float("inf")):
        raise ValueError(f"Argument `{name}` must be a finite float >= 0. "
                         f"Received: {name}={value!r}")
    return float(value)
