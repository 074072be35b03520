"""Registry-driven tests: every entry in `list_models()` is covered with no new test code."""

import functools

import keras
import numpy as np
import pytest

from keras_s2s import kinds, losses, metrics, zoo

SRC_VOCAB, TGT_VOCAB = 13, 11
ENTRIES = zoo.list_models()


def _tiny(name, **overrides):
    spec = zoo.get_spec(name)
    vocab = ({"source_vocab_size": SRC_VOCAB, "target_vocab_size": TGT_VOCAB}
             if spec.kind in ("seq2seq", "copy_seq2seq") else {"point_dim": 2} if spec.kind == "pointer"
             else {"vocab_size": TGT_VOCAB})
    return zoo.build(name, **vocab, **{**spec.tiny, "dropout": 0.0, **overrides})


def _batch(seed=0, batch=4, src_len=6, tgt_len=5, kind="seq2seq"):
    """Inputs and labels of one batch in the contract of `kind` (see docs/ARCHITECTURE.md)."""
    rng = np.random.default_rng(seed)
    # An LM sees no source: its rows are prefixes of one sequence, so that only where each
    # row ends is ambiguous and the batch can be overfit like a seq2seq batch.
    shared = rng.integers(4, TGT_VOCAB, tgt_len)
    src = np.zeros((batch, src_len), "int32")
    dec = np.zeros((batch, tgt_len), "int32")
    tgt = np.zeros((batch, tgt_len), "int32")
    for k in range(batch):
        n = rng.integers(2, src_len + 1)
        m = rng.integers(1, tgt_len)
        src[k, :n] = rng.integers(4, SRC_VOCAB, n)
        body = shared[:m] if kind == "lm" else rng.integers(4, TGT_VOCAB, m)
        dec[k, 0], dec[k, 1:m + 1] = 2, body
        tgt[k, :m], tgt[k, m] = body, 3
    if kind == "lm":
        return {"token_ids": dec}, tgt
    if kind == "mlm":
        return _mlm_batch(rng, dec, tgt)
    if kind == "pointer":  # point at the real inputs: slot 4 + j is input j
        return _pointer_batch(rng, src, dec, tgt)
    if kind == "positionwise":  # reconstruct the input itself, position by position
        ids = np.where(src != 0, src % (TGT_VOCAB - 4) + 4, 0).astype("int32")
        return {"encoder_token_ids": ids}, ids
    return {"encoder_token_ids": src, "decoder_token_ids": dec}, tgt


def _pointer_batch(rng, src, dec, tgt):
    """Points for the sources' positions; the targets point at real inputs (slots 4 + j)."""
    real = (src != 0).astype("int32")
    points = rng.random((*src.shape, 2)).astype("float32") * real[..., None]
    for k in range(len(src)):
        n = int(real[k].sum())
        body = tgt[k] > 3
        tgt[k, body] = 4 + rng.integers(0, n, int(body.sum()))
        dec[k, 1:] = np.where(dec[k, 1:] > 3, tgt[k, :-1], dec[k, 1:])
    return {"points": points, "point_mask": real, "decoder_token_ids": dec}, tgt


def _outputs(kind, x):
    """The size of the last axis of the logits: the slots of a pointer model, the target
    vocabulary and one id per source position for a copy model, else the target vocabulary."""
    if kind == "pointer":
        return 4 + x["points"].shape[1]
    return TGT_VOCAB + x["encoder_token_ids"].shape[1] if kind == "copy_seq2seq" else TGT_VOCAB


def _mlm_batch(rng, dec, tgt, slots=2):
    """`<s> y1..yn </s>` with up to `slots` real tokens replaced by the mask id (vocab - 1)."""
    tokens = np.pad(dec, ((0, 0), (0, 1)))
    positions = np.zeros((len(dec), slots), "int32")
    labels = np.zeros((len(dec), slots), "int32")
    for k in range(len(dec)):
        n = int((tgt[k] != 0).sum()) - 1  # real tokens after <s>
        tokens[k, n + 1] = 3
        chosen = rng.choice(np.arange(1, n + 1), size=min(slots, n), replace=False)
        positions[k, :len(chosen)], labels[k, :len(chosen)] = chosen, tokens[k, chosen]
        tokens[k, chosen] = TGT_VOCAB - 1
    return {"token_ids": tokens, "mask_positions": positions}, labels


def _more_padding(x):
    """The same batch with extra padding at the end of every token sequence."""
    extra = {"encoder_token_ids": 3, "decoder_token_ids": 2, "token_ids": 2, "points": 3,
             "point_mask": 3}
    return {k: np.pad(v, ((0, 0), (0, extra[k])) + ((0, 0),) * (v.ndim - 2))
            if k in extra else v for k, v in x.items()}


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _classes(config, found=None):
    """The (module-qualified) class names in a serialized Keras object, nested ones included."""
    found = set() if found is None else found
    if isinstance(config, dict):
        if isinstance(config.get("class_name"), str):
            found.add(f"{config.get('module') or ''}.{config['class_name']}")
        for value in config.values():
            _classes(value, found)
    elif isinstance(config, (list, tuple)):
        for value in config:
            _classes(value, found)
    return found


@functools.lru_cache(maxsize=None)
def _entry_info(name):
    """The classes of the tiny build of entry `name` (see `_classes`) and its weight count."""
    model = _tiny(name)
    return frozenset(_classes(keras.saving.serialize_keras_object(model))), model.count_params()


def _entry_classes(name):
    """The classes of the tiny build of entry `name` (see `_classes`)."""
    return _entry_info(name)[0]


def _own_classes(name):
    """The classes of ours and of keras-hub in entry `name` (see `_xla_entries`)."""
    return {c for c in _entry_classes(name) if c.startswith(("keras_s2s.", "keras_hub."))}


@functools.lru_cache(maxsize=1)
def _xla_entries():
    """The entries whose training step the per-entry test compiles with XLA: a small set of
    entries that together bring every class of ours or of keras-hub (a layer, an initialiser,
    the model class). Keras' own classes (a GRU instead of an LSTM, an initialiser) don't
    count: Keras tests them under XLA. The others run the same checks as a TensorFlow graph
    (`jit_compile=False`): their every class of ours is compiled by XLA in some entry here,
    and an XLA compile costs ~3-15 s more per entry than a graph on this CPU.

    The set is chosen greedily: entries holding a class that few entries hold come first
    (an entry that alone holds a class is always chosen), the smaller of two equally rare
    ones first, and an entry is chosen when it brings a class not yet covered. A new entry
    with a new layer gets XLA by itself."""
    holders = {}
    for name in ENTRIES:
        for c in _own_classes(name):
            holders[c] = holders.get(c, 0) + 1
    order = sorted(ENTRIES, key=lambda n: (min(holders[c] for c in _own_classes(n)),
                                           _entry_info(n)[1], n))
    covered, chosen = set(), set()
    for name in order:
        classes = _own_classes(name)
        if not classes <= covered:
            chosen.add(name)
            covered |= classes
    return frozenset(chosen)


def _jit(name):
    """XLA for `_xla_entries` on TensorFlow, and always on JAX: JAX has no graph mode between
    eager and XLA, and its eager steps re-trace every scan (luong_bilstm: 217 s for 40 steps
    against 2.3 s under XLA on this CPU)."""
    return keras.backend.backend() == "jax" or name in _xla_entries()


# Entries whose tiny build holds exactly the classes of another entry's (the same layers, only
# other arguments): `make test` trains the other one, `make test-all` both (test-extended here,
# and every entry in test-jax-all); their forward passes and decoding are checked against
# keras-hub's own models in tests/zoo/test_presets.py. The claim is checked below, so it can't
# go stale. (This keeps make test within its 25 minutes.)
SAME_CLASSES_AS = {"marian_base": "transformer_tiny", "bart_small": "transformer_small",
                   "gpt2_lm": "transformer_lm", "roberta_mlm": "bert_mlm"}


def test_entries_left_to_test_all_have_the_classes_of_one_that_is_not():
    for name, other in SAME_CLASSES_AS.items():
        assert other not in SAME_CLASSES_AS and _entry_classes(name) == _entry_classes(other)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.extended)
                                  if n in SAME_CLASSES_AS else n for n in ENTRIES])
def test_entry_trains_saves_and_ignores_padding(name, tmp_path):
    model = _tiny(name)
    assert model.name == name
    kind = zoo.get_spec(name).kind
    x, y = _batch(kind=kind)
    logits = model(x)
    assert tuple(logits.shape) == (*y.shape, _outputs(kind, x))
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"

    # Padding invariance: more source or target padding leaves real positions unchanged.
    real = y != 0
    padded = _np(model(_more_padding(x)))[:, :y.shape[1], :logits.shape[-1]]
    np.testing.assert_allclose(padded[real], _np(logits)[real], atol=1e-5)

    # .keras round trip in safe mode gives identical outputs.
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_np(reloaded(x)), _np(logits), atol=1e-6)
    # the kind travels in the file, not guessed from the input names
    assert reloaded.kind == zoo.get_spec(name).kind and kinds.of(reloaded).name == reloaded.kind

    # One compiled step (XLA where `_jit` says, else a graph): its loss equals the
    # eager loss (for entries whose training draws no noise beyond dropout, here off), and
    # every weight moves.
    loss_fn = losses.MaskedSparseCategoricalCrossentropy()
    eager_loss = float(_np(loss_fn(y, logits))) + sum(float(_np(v)) for v in model.losses)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss=loss_fn,
                  metrics=[metrics.MaskedAccuracy()], jit_compile=_jit(name))
    before = [_np(w).copy() for w in model.trainable_weights]
    first = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(first["loss"])
    if not zoo.get_spec(name).stochastic:
        np.testing.assert_allclose(first["loss"], eager_loss, rtol=1e-4, atol=1e-4)
    for w, b in zip(model.trainable_weights, before):
        assert np.abs(_np(w) - b).max() > 0, f"{name}: weight {w.path} got no gradient"

    # Overfitting one small batch drives the loss down.
    for _ in range(40):
        last = model.train_on_batch(x, y, return_dict=True)
    assert last["loss"] < 0.5 * first["loss"], (first, last)


@pytest.mark.parametrize("name", ["luong_bilstm",
                                  pytest.param("stacked_lstm", marks=pytest.mark.extended)])
def test_mixed_precision_trains_without_nan(name):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = _tiny(name)
        x, y = _batch()
        assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
        model.compile(optimizer="adam", loss=losses.MaskedSparseCategoricalCrossentropy(0.1),
                      jit_compile=True)
        history = model.fit(x, y, epochs=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_tied_embeddings_share_the_decoder_embedding():
    model = _tiny("luong_lstm", tie_embeddings=True, embedding_dim=6)
    names = [layer.name for layer in model.layers]
    assert "output_projection" not in names and "output_bottleneck" in names
    x, _ = _batch()
    assert tuple(model(x).shape) == (4, 5, TGT_VOCAB)
    n_untied = _tiny("luong_lstm", embedding_dim=6).count_params()
    assert model.count_params() < n_untied


def test_sutskever_reverses_the_source_inside_the_model():
    model = _tiny("sutskever")
    reversal = model.get_layer("source_reversal")
    x, _ = _batch()
    reversed_ids = _np(reversal(x["encoder_token_ids"]))
    for row, rev in zip(x["encoder_token_ids"], reversed_ids):
        n = int((row != 0).sum())
        assert rev[:n].tolist() == row[:n][::-1].tolist() and not rev[n:].any()
    assert "source_reversal" not in [layer.name for layer in _tiny("sutskever", reverse_source=False).layers]


@pytest.mark.parametrize("name", ["luong_bilstm", "bahdanau_gru", "vanilla_lstm"])
def test_stable_layer_names(name):
    names = {layer.name for layer in _tiny(name).layers}
    assert {"encoder_embedding", "encoder", "bridge", "decoder_embedding",
            "decoder", "output_projection", "logits"} <= names
    # only attention models read the source mask
    assert ("source_mask" in names) == (zoo.get_spec(name).family == "attention_seq2seq")


# Both train as TensorFlow graphs: XLA's compile of the Transformer's step alone took ~20 s of
# the 34 s its XLA fit took on this CPU (24 s as a graph), and luong_bilstm's fit took 6.9 s as
# a graph against 9.6 s under XLA (one thread, as in `make test`); the per-entry tests cover
# their XLA steps.
@pytest.mark.parametrize("name, kwargs, learning_rate, epochs, goal, jit", [
    ("luong_bilstm", {"embedding_dim": 24, "units": 32}, 5e-3, 6, 0.95, False),
    pytest.param("transformer_tiny", {"hidden_dim": 64, "num_heads": 4, "intermediate_dim": 128,
                                      "normalize_first": True, "max_length": 32}, 2e-3, 5, 0.9,
                 False, marks=pytest.mark.extended),  # 54 s; make test fits transformer_small
])                                                     # on real data (test_learning_real_data)
def test_entry_learns_reversal(name, kwargs, learning_rate, epochs, goal, jit):
    from keras_s2s.demo import reversal_pairs

    keras.utils.set_random_seed(0)
    train = reversal_pairs(2048, vocab_size=12, max_len=8, seed=0)
    test = reversal_pairs(256, vocab_size=12, max_len=8, seed=1)
    model = zoo.build(name, source_vocab_size=12, target_vocab_size=12, dropout=0.0, **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  loss=losses.MaskedSparseCategoricalCrossentropy(),
                  metrics=[metrics.MaskedAccuracy()],
                  jit_compile=jit or keras.backend.backend() == "jax")  # see `_jit`
    model.fit({"encoder_token_ids": train[0], "decoder_token_ids": train[1]}, train[2],
              batch_size=64, epochs=epochs, verbose=0)
    result = model.evaluate({"encoder_token_ids": test[0], "decoder_token_ids": test[1]},
                            test[2], verbose=0, return_dict=True)
    assert result["masked_accuracy"] >= goal, result


def test_every_class_of_every_entry_is_trained_under_xla():
    """The per-entry test's XLA selection covers the classes of ours and keras-hub's of all
    entries, and is not all of them (else the selection saved nothing)."""
    xla = _xla_entries()
    covered = set().union(*(_own_classes(name) for name in xla))
    for name in ENTRIES:
        assert _own_classes(name) <= covered, (name, _own_classes(name) - covered)
    assert 0 < len(xla) < len(ENTRIES)
    # nested layers are seen: a cell inside keras.layers.RNN, an attention inside a decoder
    assert "keras_s2s.layers.recurrent.PeepholeLSTMCell" in _entry_classes("peephole_lstm")
    assert any(c.endswith("MonotonicAttention")
               for c in _entry_classes("luong_monotonic_bilstm"))
