"""Using autoencoders and VAEs: codes, reconstructions, samples from the prior, homotopies.

Works with the entries of `keras_s2s.zoo.autoencoders`: the recurrent ones decode with the
compiled decoding API (`keras_s2s.decoding`), `dense_autoencoder` takes the most probable
token at every position.
"""

import weakref

import keras
import numpy as np

from keras_s2s import kinds
from keras_s2s.constants import PAD_ID
from keras_s2s.decoding import api
from keras_s2s.inference import find_layer as _layer

_CACHE = weakref.WeakKeyDictionary()  # model -> {"code": ..., "start": ..., "positions": ...}


def _check(model):
    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected a keras_s2s autoencoder (a keras.Model), got "
                        f"{type(model).__name__}.")
    try:
        kind = kinds.of(model)
    except ValueError:
        kind = None
    if kind is None or kind.reads_one_side or _layer(model, "encoder_token_ids") is None:
        raise ValueError(f"Model '{model.name}' is not an autoencoder: build one of "
                         "keras_s2s.zoo.list_models('*autoencoder*') or ('seq_vae_*').")
    # a step decoder reconstructs through `decode`; otherwise every position at once
    return kind


def _code_layer(model):
    return _layer(model, "posterior") or _layer(model, "latent")


def code_model(model):
    """`{"encoder_token_ids"}` → the code: the posterior mean (VAEs), the `latent` bottleneck,
    or the encoder's concatenated final states. Shares the trained weights.

    Example:

    >>> vae = keras_s2s.zoo.build("seq_vae_lstm", source_vocab_size=20, target_vocab_size=20,
    ...                           units=16, latent_dim=4)
    >>> code_model(vae).output.shape
    (None, 4)
    """
    _check(model)
    entry = _CACHE.setdefault(model, {})
    if "code" not in entry:
        layer = _code_layer(model)
        if layer is not None and layer.name == "posterior":
            # the posterior mean, from the posterior's features (its other input, the target
            # ids that scale the KL, is not needed)
            code = layer.mean(layer.input[0])
        elif layer is not None:
            code = layer.output
        else:
            states = list(model.get_layer("bridge").input)
            code = states[0] if len(states) == 1 else keras.layers.Concatenate(
                name="code")(states)
        ids = model.get_layer("encoder_token_ids").output
        entry["code"] = keras.Model({"encoder_token_ids": ids}, code, name=f"{model.name}_code")
    return entry["code"]


def latent_start_model(model):
    """`{"latent": (batch, latent_dim)}` → the decoder's initial `state_i`, through the trained
    `bridge`: where `decode_from` starts when decoding a code. Needs a `latent` or `posterior`
    code (build a plain autoencoder with `latent_dim`).

    Example:

    >>> ae = keras_s2s.zoo.build("seq_autoencoder_gru", source_vocab_size=20,
    ...                          target_vocab_size=20, units=16, latent_dim=4)
    >>> sorted(latent_start_model(ae).output)
    ['state_0']
    """
    _check(model)
    entry = _CACHE.setdefault(model, {})
    if "start" not in entry:
        layer = _code_layer(model)
        if layer is None or not kinds.of(model).has_decoder:
            raise ValueError(
                f"Model '{model.name}' has no latent code to decode from: its code is the "
                "encoder's states. Build it with `latent_dim=` (or use a seq_vae_* entry).")
        z = keras.Input((layer.output.shape[-1],), name="latent")
        states = model.get_layer("bridge")([z])
        entry["start"] = keras.Model({"latent": z},
                                     {f"state_{i}": s for i, s in enumerate(states)},
                                     name=f"{model.name}_latent_start")
    return entry["start"]


def _ids(token_ids, model):
    rows = token_ids
    if isinstance(rows, np.ndarray) and rows.ndim == 1 or (
            isinstance(rows, (list, tuple)) and rows and np.isscalar(rows[0])):
        rows = [list(np.asarray(rows).tolist())]
    return api.to_ids(rows, model.get_layer("encoder_embedding").input_dim)


def encode(model, token_ids, batch_size=256):
    """Latent codes of sequences: the posterior mean for a VAE.

    Args:
        model: An autoencoder from the zoo.
        token_ids: `(batch, length)` ids (0 = padding), a list of id lists, or one id list.
        batch_size: Rows per `predict` call.

    Returns:
        NumPy `(batch, code_dim)`.

    Example:

    >>> vae = keras_s2s.zoo.build("seq_vae_gru", source_vocab_size=20, target_vocab_size=20,
    ...                           units=16, latent_dim=4)
    >>> encode(vae, [[5, 6, 7], [8]]).shape
    (2, 4)
    """
    _check(model)
    ids = _ids(token_ids, model)
    _check_length(model, ids)
    return code_model(model).predict({"encoder_token_ids": ids}, batch_size=batch_size,
                                      verbose=0)


def _check_length(model, ids):
    fixed = _layer(model, "fixed_length")
    if fixed is not None and (ids[:, fixed.length:] != 0).any():
        row = int(np.argwhere((ids[:, fixed.length:] != 0).any(1))[0][0])
        raise ValueError(f"Sequence {row} is longer than the model's sequence_length "
                         f"({fixed.length}); cut or filter the inputs.")


def _positionwise_result(logits):
    tokens = np.argmax(logits, -1).astype("int32")
    ended = np.cumsum(tokens == PAD_ID, axis=1) > 0  # a sequence ends at its first padding
    tokens = np.where(ended, PAD_ID, tokens)
    log_probs = logits - logits.max(-1, keepdims=True)
    log_probs = log_probs - np.log(np.exp(log_probs).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, tokens[..., None], -1)[..., 0]
    score = np.where(ended, 0.0, picked).sum(1)[:, None].astype("float32")
    lengths = (tokens != PAD_ID).sum(1)[:, None].astype("int32")
    return api.DecodeResult(tokens[:, None], score, score, None, lengths, None)


def _positionwise_decoder(model):
    entry = _CACHE.setdefault(model, {})
    if "positions" not in entry:
        z = keras.Input((model.get_layer("latent").output.shape[-1],), name="latent")
        x = model.get_layer("decoder_hidden")(z)
        x = model.get_layer("output_projection")(x)
        entry["positions"] = keras.Model(z, model.get_layer("positions")(x))
    return entry["positions"]


def decode_latent(model, codes, method="greedy", max_length=32, **kwargs):
    """Decode latent codes `(batch, latent_dim)` into sequences.

    Args:
        model: An autoencoder with a `latent` or `posterior` code.
        codes: NumPy `(batch, latent_dim)`.
        method: `"greedy"`, `"beam"` or `"sample"` (recurrent decoders).
        max_length: Maximum number of generated tokens, `</s>` included.
        **kwargs: Passed to `keras_s2s.decoding.decode_from` (seed, temperature, ...).

    Returns:
        A `keras_s2s.decoding.DecodeResult`.

    Example:

    >>> vae = keras_s2s.zoo.build("seq_vae_lstm", source_vocab_size=20, target_vocab_size=20,
    ...                           units=16, latent_dim=4)
    >>> decode_latent(vae, np.zeros((3, 4)), max_length=6).token_ids.shape[:2]
    (3, 1)
    """
    kind = _check(model)
    codes = np.asarray(codes, "float32")
    if codes.ndim != 2:
        raise ValueError(f"`codes` must be (batch, latent_dim); received shape {codes.shape}.")
    if not kind.has_decoder:
        return _positionwise_result(_positionwise_decoder(model).predict(codes, verbose=0))
    start = latent_start_model(model)
    if codes.shape[1] != start.input["latent"].shape[-1]:
        raise ValueError(f"The codes have {codes.shape[1]} dimensions; model '{model.name}' "
                         f"has a latent code of {start.input['latent'].shape[-1]}.")
    return api.decode_from(model, start, codes, method, max_length=max_length, **kwargs)


def reconstruct(model, token_ids, method="greedy", **kwargs):
    """Reconstruct sequences through the code (the posterior mean for a VAE).

    Args:
        model: An autoencoder from the zoo.
        token_ids: `(batch, length)` ids, a list of id lists, or one id list.
        method: Decoding method for the recurrent decoders (see `keras_s2s.decoding.decode`).
        **kwargs: Passed to `decode` (max_length, beam_width, ...).

    Returns:
        A `keras_s2s.decoding.DecodeResult`.

    Example:

    >>> ae = keras_s2s.zoo.build("seq_autoencoder_lstm", source_vocab_size=20,
    ...                          target_vocab_size=20, units=16)
    >>> reconstruct(ae, [[5, 6, 7]], max_length=6).token_ids.shape[:2]
    (1, 1)
    """
    kind = _check(model)
    ids = _ids(token_ids, model)
    if not kind.has_decoder:
        _check_length(model, ids)
        logits = model.predict({"encoder_token_ids": ids}, verbose=0)
        return _positionwise_result(logits)
    return api.decode(model, ids, method, **kwargs)


def sample(model, n, seed=None, method="greedy", max_length=32, **kwargs):
    """Draw `n` codes from the VAE's prior N(0, I) and decode them.

    Args:
        model: A sequence VAE (`seq_vae_*`).
        n: How many sequences.
        seed: Seed of the prior draws (and of the decoder's sampling with `method="sample"`).
        method: How to decode each code.
        max_length: Maximum number of generated tokens, `</s>` included.
        **kwargs: Passed to `decode_from`.

    Returns:
        A `keras_s2s.decoding.DecodeResult` with `n` rows.

    Example:

    >>> vae = keras_s2s.zoo.build("seq_vae_gru", source_vocab_size=20, target_vocab_size=20,
    ...                           units=16, latent_dim=4)
    >>> sample(vae, 3, seed=0, max_length=6).token_ids.shape[:2]
    (3, 1)
    """
    _check(model)
    if _layer(model, "posterior") is None:
        raise ValueError(f"Model '{model.name}' has no prior to sample from: only the sequence "
                         "VAEs (seq_vae_*) do. Use interpolate or decode_latent instead.")
    dim = model.get_layer("posterior").latent_dim
    codes = np.random.default_rng(seed).standard_normal((int(n), dim)).astype("float32")
    if method == "sample":
        kwargs.setdefault("seed", seed)
    return decode_latent(model, codes, method, max_length=max_length, **kwargs)


def interpolate(model, a, b, steps=5, method="greedy", max_length=32, **kwargs):
    """Decode the straight line between the codes of two sequences (Bowman et al.'s homotopy).

    Args:
        model: An autoencoder with a `latent` or `posterior` code.
        a, b: Two sequences of token ids.
        steps: Points on the line, both ends included (≥ 2).
        method, max_length, **kwargs: As `decode_latent`.

    Returns:
        `(codes (steps, latent_dim), DecodeResult with steps rows)`.

    Example:

    >>> vae = keras_s2s.zoo.build("seq_vae_lstm", source_vocab_size=20, target_vocab_size=20,
    ...                           units=16, latent_dim=4)
    >>> codes, result = interpolate(vae, [5, 6, 7], [8, 9], steps=4, max_length=6)
    >>> codes.shape
    (4, 4)
    """
    if int(steps) < 2:
        raise ValueError(f"`steps` must be at least 2 (both ends). Received: steps={steps}")
    ends = encode(model, [list(np.asarray(a).tolist()), list(np.asarray(b).tolist())])
    t = np.linspace(0.0, 1.0, int(steps), dtype="float32")[:, None]
    codes = (1.0 - t) * ends[0] + t * ends[1]
    return codes, decode_latent(model, codes, method, max_length=max_length, **kwargs)


def active_units(model, token_ids, threshold=0.01):
    """Active units (Burda et al., 2016): code dimensions whose mean varies across inputs.

    A unit `d` is active when `Var_x(E[z_d | x]) > threshold`. A VAE whose posterior has
    collapsed onto the prior has none.

    Args:
        model: An autoencoder (typically a VAE).
        token_ids: The sequences to measure over.
        threshold: The variance above which a unit counts as active.

    Returns:
        `(count, variances)`: the number of active units and the per-unit variances.

    Example:

    >>> vae = keras_s2s.zoo.build("seq_vae_lstm", source_vocab_size=20, target_vocab_size=20,
    ...                           units=16, latent_dim=4)
    >>> count, variances = active_units(vae, [[5, 6, 7], [8, 9]])
    >>> variances.shape
    (4,)
    """
    means = encode(model, token_ids)
    variances = means.var(axis=0)
    return int((variances > threshold).sum()), variances
