"""Sequence autoencoders, denoising autoencoders and sequence VAEs (Bowman et al., 2016).

An autoencoder is a seq2seq model whose target is its source: the same contract (inputs
`{"encoder_token_ids", "decoder_token_ids"}`, logits over the target vocabulary), the same
layer names, inference graphs and `decode` API. What is particular to each entry is the code
between encoder and decoder:

- `seq_autoencoder_*`: the encoder's final states are the code (`bridge` copies them), or with
  `latent_dim` a `latent` Dense bottleneck of that size (`bridge` projects it back);
- `denoising_autoencoder_lstm`: a `source_noise` layer (`SequenceNoise`: deletion, swap,
  masking) corrupts the encoder input in training only; the target stays clean;
- `seq_vae_*`: a `posterior` (`GaussianPosterior`) samples the code with the
  reparameterisation trick and adds the weighted KL term to the loss; `word_dropout`
  (`WordDropout`) replaces decoder inputs by `<unk>` in training, which keeps the decoder from
  ignoring the code (Bowman et al.). `keras_s2s.callbacks.KLAnnealing` drives the KL weight.
- `dense_autoencoder` (kind `"positionwise"`): the trivial option, an MLP over a fixed number
  of positions; it reads `{"encoder_token_ids"}` only and has no autoregressive decoder.

`keras_s2s.autoencoders` has `encode`, `reconstruct`, `sample`, `interpolate` and
`active_units` for all of them.
"""

import keras

from keras_s2s.layers import GaussianPosterior, SequenceNoise, StateBridge, WordDropout
from keras_s2s.layers.read_once_rnn import ReadOnceRNN
from keras_s2s.layers._checks import check_choice, check_positive_int, check_rate
from keras_s2s.zoo import _components as C
from keras_s2s.zoo.registry import register_model, register_variant

_TINY = {"embedding_dim": 8, "units": 8}
_TRAINING = {"optimizer": "adam", "learning_rate": 2e-3, "batch_size": 64, "clipnorm": 1.0,
             "label_smoothing": 0.0, "epochs": 20}
_BOWMAN = ("Bowman et al., 2016. Generating Sentences from a Continuous Space. CoNLL. "
           "arXiv:1511.06349")
_DAI = "Dai & Le, 2015. Semi-supervised Sequence Learning. NeurIPS. arXiv:1511.01432"
_VINCENT = ("Vincent et al., 2008. Extracting and Composing Robust Features with Denoising "
            "Autoencoders. ICML; token noise as in Lample et al., 2018. arXiv:1711.00043")


def sequence_autoencoder(source_vocab_size, target_vocab_size, *, embedding_dim=128, units=256,
                         num_layers=1, dropout=0.1, cell_type="lstm", code=None,
                         latent_dim=None, noise=False, deletion=0.1, swap=0.1, mask=0.1,
                         word_dropout=0.0, free_bits=0.0, seed=None, tie_embeddings=False,
                         name="sequence_autoencoder"):
    """The family builder: a recurrent sequence autoencoder, denoising autoencoder or VAE.

    The recurrent entries of this file are this builder with a few arguments fixed or given
    other defaults (`register_variant`); their docstrings take their `Args` from here.

    Args:
        source_vocab_size: Size of the input vocabulary, special tokens included.
        target_vocab_size: Size of the output vocabulary (the same as the input's for a
            plain autoencoder).
        embedding_dim: Size of the token embeddings.
        units: Size of the recurrent states.
        num_layers: Stacked recurrent layers in the encoder and the decoder.
        dropout: Input dropout of every recurrent layer and before the projection.
        cell_type: `"rnn"`, `"gru"`, `"lstm"`, `"peephole"` or `"cifg"`.
        code: `"states"` (the encoder's final states, copied into the decoder), `"latent"`
            (a `latent` tanh bottleneck of `latent_dim`, projected back to the decoder's
            initial states) or `"posterior"` (a Gaussian `posterior` of `latent_dim`, sampled
            in training, its mean at inference, with the KL term added to the loss); None:
            `"latent"` when `latent_dim` is given, else `"states"`.
        latent_dim: Size of the latent code, or None for the encoder's final states.
        noise: Corrupt the encoder's input in training only (a `source_noise` layer with
            `deletion`, `swap` and `mask`); the target stays clean.
        deletion: Probability of deleting each input token.
        swap: Probability of swapping each adjacent pair of input tokens.
        mask: Probability of replacing each input token by `<unk>`.
        word_dropout: Probability of replacing each decoder input token by `<unk>` in
            training (Bowman et al. use up to 0.5; 0 turns it off).
        free_bits: Free bits per latent dimension (Kingma et al., 2016): KL below this many
            nats per dimension is not penalised; 0 turns it off.
        seed: Seed of the training noise, the posterior sampling and the word dropout.
        tie_embeddings: Share the decoder embedding with the output projection.
        name: Name of the model.

    Returns:
        A functional `keras.Model`, see the zoo contract.

    Example:

    >>> model = sequence_autoencoder(30, 30, units=16, cell_type="gru", latent_dim=4)
    """
    C.check_common(source_vocab_size, target_vocab_size, embedding_dim, units, num_layers,
                   dropout)
    check_rate("word_dropout", word_dropout)
    code = code or ("latent" if latent_dim else "states")
    check_choice("code", code, ("states", "latent", "posterior"))
    if code != "states":
        check_positive_int("latent_dim", latent_dim)
    encoder_ids, decoder_ids = C.seq2seq_inputs()
    source = encoder_ids
    if noise:
        source = SequenceNoise(deletion=deletion, swap=swap, mask=mask, seed=seed,
                               name="source_noise")(source)
    _, states, _ = C.encode(source, source_vocab_size=source_vocab_size,
                            embedding_dim=embedding_dim, cell_type=cell_type, units=units,
                            num_layers=num_layers, bidirectional=False, residual=False,
                            dropout=dropout)
    cell = C.make_cell(cell_type, units, num_layers, dropout, name="decoder")
    sizes = C.flat_state_sizes(cell)
    if code == "states":
        initial = StateBridge(sizes, mode="copy", name="bridge")(states)
    else:
        h = states[0] if len(states) == 1 else keras.layers.Concatenate(name="code_input")(states)
        if code == "latent":
            z = keras.layers.Dense(latent_dim, activation="tanh", name="latent")(h)
        else:
            # the KL is weighed per target token, like the reconstruction loss
            z = GaussianPosterior(latent_dim, free_bits=free_bits, seed=seed,
                                  name="posterior")(h, decoder_ids)
        initial = StateBridge(sizes, mode="dense", name="bridge")([z])
    initial = C.pack_states(cell, initial)
    if word_dropout:
        decoder_ids_in = WordDropout(word_dropout, seed=seed, name="word_dropout")(decoder_ids)
    else:
        decoder_ids_in = decoder_ids
    embedding, y = C.decoder_embedding(decoder_ids_in, target_vocab_size, embedding_dim,
                                       tie_embeddings)
    outputs, *_ = ReadOnceRNN(cell, return_sequences=True, return_state=True,
                                   name="decoder")(y, initial_state=initial)
    logits = C.output_logits(outputs, target_vocab_size, dropout,
                             embedding if tie_embeddings else None, embedding_dim)
    return C.seq2seq_model(encoder_ids, decoder_ids, logits, name)


# the options that only some entries take; an entry that neither fixes nor re-defaults one
# does not take it
_EXTRAS = ("noise", "deletion", "swap", "mask", "word_dropout", "free_bits", "seed")


def _variant(name, cell_type, *, code, fixed=None, defaults=None, paper, tiny=_TINY,
             stochastic=False, doc):
    fixed = {"cell_type": cell_type, "code": code, **(fixed or {})}
    hide = tuple(k for k in _EXTRAS if k not in fixed and k not in (defaults or {}))
    return register_variant(sequence_autoencoder, name, fixed=fixed, defaults=defaults,
                            hide=hide, doc=doc, paper=paper, tiny=tiny, training=_TRAINING,
                            stochastic=stochastic)


_VAE = {"latent_dim": 32, "word_dropout": 0.25, "free_bits": 0.0, "seed": None}

seq_autoencoder_lstm = _variant("seq_autoencoder_lstm", "lstm", code=None, paper=_DAI, doc="""
    LSTM sequence autoencoder: the encoder's final (h, c), or a bottleneck, is the code.

    Example:

    >>> model = seq_autoencoder_lstm(30, 30, units=16, latent_dim=4)

    Reference:
        - Dai & Le, 2015. arXiv:1511.01432.
    """)

seq_autoencoder_gru = _variant("seq_autoencoder_gru", "gru", code=None, paper=_DAI,
                               tiny={**_TINY, "latent_dim": 4}, doc="""
    GRU sequence autoencoder: the encoder's final state, or a bottleneck, is the code.

    Example:

    >>> model = seq_autoencoder_gru(30, 30, units=16)

    Reference:
        - Dai & Le, 2015. arXiv:1511.01432.
    """)

denoising_autoencoder_lstm = _variant(
    "denoising_autoencoder_lstm", "lstm", code=None, fixed={"noise": True},
    defaults={"deletion": 0.1, "swap": 0.1, "mask": 0.1, "seed": None}, paper=_VINCENT,
    stochastic=True, doc="""
    LSTM autoencoder that reconstructs the clean sequence from a corrupted input.

    In training only, a `source_noise` layer deletes, swaps adjacent and masks (`<unk>`) the
    encoder's input tokens with the given probabilities; at inference it is the identity.

    Example:

    >>> model = denoising_autoencoder_lstm(30, 30, units=16, deletion=0.2, seed=1)

    Reference:
        - Vincent et al., 2008. ICML.
        - Lample et al., 2018. arXiv:1711.00043.
    """)

seq_vae_lstm = _variant("seq_vae_lstm", "lstm", code="posterior", defaults=_VAE, paper=_BOWMAN,
                        tiny={**_TINY, "latent_dim": 4}, stochastic=True, doc="""
    LSTM sequence VAE (Bowman et al., 2016): Gaussian code, KL term, word dropout.

    The encoder's final states parameterise a diagonal Gaussian posterior (`posterior`);
    its sample, projected by the `bridge`, starts the decoder. The KL divergence to N(0, I),
    times a KL weight that `keras_s2s.callbacks.KLAnnealing` anneals, is added to the loss.
    At inference the code is the posterior mean.

    Example:

    >>> model = seq_vae_lstm(30, 30, units=16, latent_dim=8, word_dropout=0.3)

    Reference:
        - Bowman et al., 2016. arXiv:1511.06349.
    """)

seq_vae_gru = _variant("seq_vae_gru", "gru", code="posterior", defaults=_VAE, paper=_BOWMAN,
                       tiny={**_TINY, "latent_dim": 4}, stochastic=True, doc="""
    GRU sequence VAE (Bowman et al., 2016): Gaussian code, KL term, word dropout.

    Example:

    >>> model = seq_vae_gru(30, 30, units=16, latent_dim=8)

    Reference:
        - Bowman et al., 2016. arXiv:1511.06349.
    """)


@register_model(tiny={"sequence_length": 8, "embedding_dim": 4, "hidden_dim": 16,
                      "latent_dim": 4}, training=_TRAINING, kind="positionwise",
                paper="Hinton & Salakhutdinov, 2006. Reducing the Dimensionality of Data with "
                      "Neural Networks. Science")
def dense_autoencoder(vocab_size, *, sequence_length=32, embedding_dim=32, hidden_dim=256,
                      latent_dim=32, dropout=0.1, name="dense_autoencoder"):
    """Vanilla dense autoencoder over fixed-length sequences: embed, flatten, MLP, per position.

    Inputs are `{"encoder_token_ids"}` (kind `"positionwise"`), padded in the model to
    `sequence_length` positions (`FixedLength`; real tokens past it are the caller's to cut,
    and `keras_s2s.autoencoders` checks); the output is logits `(batch, input_len, vocab_size)`,
    position by position, so the labels are the inputs themselves. No autoregressive
    decoder: `keras_s2s.autoencoders.reconstruct` takes the argmax at every position.

    Args:
        vocab_size: Size of the vocabulary, special tokens included.
        sequence_length: The fixed number of positions.
        embedding_dim: Size of the token embeddings.
        hidden_dim: Width of the hidden layers.
        latent_dim: Size of the `latent` code.
        dropout: Dropout on the hidden layers.
        name: Name of the model.

    Returns:
        A functional `keras.Model` `{"encoder_token_ids"} -> logits`.

    Example:

    >>> model = dense_autoencoder(30, sequence_length=16, latent_dim=8)

    Reference:
        - Hinton & Salakhutdinov, 2006. Science 313.
    """
    from keras_s2s.layers import FixedLength, MatchLength

    C.check_vocabularies(vocab_size=vocab_size)
    for key, value in [("sequence_length", sequence_length), ("embedding_dim", embedding_dim),
                       ("hidden_dim", hidden_dim), ("latent_dim", latent_dim)]:
        check_positive_int(key, value)
    check_rate("dropout", dropout)
    ids = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    fixed = FixedLength(sequence_length, name="fixed_length")(ids)
    x = keras.layers.Embedding(vocab_size, embedding_dim, name="encoder_embedding")(fixed)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(hidden_dim, activation="relu", name="encoder_hidden")(x)
    z = keras.layers.Dense(latent_dim, activation="tanh", name="latent")(x)
    x = keras.layers.Dense(hidden_dim, activation="relu", name="decoder_hidden")(z)
    if dropout:
        x = keras.layers.Dropout(dropout, name="hidden_dropout")(x)
    x = keras.layers.Dense(sequence_length * vocab_size, dtype="float32",
                           name="output_projection")(x)
    x = keras.layers.Reshape((sequence_length, vocab_size), name="positions")(x)
    x = MatchLength(name="match_length")(x, ids)
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model({"encoder_token_ids": ids}, logits, name=name)
