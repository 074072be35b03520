"""Decoding benchmarks behind `keras-s2s bench decode` and `keras-s2s bench cache`.

`bench_decode` times batched, compiled greedy and beam decoding of many sources against the
keras.io-tutorial way (one `predict` call per token, one source at a time), in one process,
untrained and again after a short training on a copy task.
`bench_cache` times a Transformer's cached greedy decoding against a compiled loop that re-runs
the whole model at every step. Their defaults are `keras_s2s.bench.defaults.DECODE` and `CACHE`.
"""

import logging
import os
import platform
import time

import keras
import numpy as np

from keras_s2s import zoo
from keras_s2s.bench.defaults import CACHE, DECODE
from keras_s2s.constants import BOS_ID, EOS_ID, NUM_SPECIAL_TOKENS
from keras_s2s.decoding import compile_decode, decode, log_softmax, mask_forbidden
from keras_s2s.inference import build_inference_models

log = logging.getLogger("keras_s2s")


def _sources(n, vocab, min_len=6, max_len=12, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, max_len), "int32")
    for i in range(n):
        length = rng.integers(min_len, max_len + 1)
        ids[i, :length] = rng.integers(NUM_SPECIAL_TOKENS, vocab, length)
    return ids


def _tutorial_greedy(encoder_model, decoder_model, ids, max_length):
    """The keras.io way: per source, one `predict` per token; returns the emitted tokens."""
    emitted = 0
    for row in ids:
        encoded = encoder_model.predict({"encoder_token_ids": row[None]}, verbose=0)
        state = {k: v for k, v in encoded.items() if k.startswith("state_")}
        constants = {k: v for k, v in encoded.items() if not k.startswith("state_")}
        token = np.array([[BOS_ID]], "int32")
        for _ in range(max_length):
            out = decoder_model.predict({"decoder_token_ids": token, **state, **constants},
                                        verbose=0)
            next_id = int(np.argmax(out["logits"][0]))
            emitted += 1
            state = {k: out[k] for k in state}
            token = np.array([[next_id]], "int32")
            if next_id == EOS_ID:
                break
    return emitted


def _copy_batch(rng, batch_size, vocab):
    """A batch of the copy task: sources of 6–12 random tokens, targets the same plus `</s>`."""
    ids = _sources(batch_size, vocab, seed=int(rng.integers(1 << 30)))
    lengths = (ids != 0).sum(1)
    targets = np.zeros((batch_size, ids.shape[1] + 1), "int32")
    targets[:, :-1] = ids
    targets[np.arange(batch_size), lengths] = EOS_ID
    decoder_ids = np.concatenate([np.full((batch_size, 1), BOS_ID, "int32"), targets[:, :-1]], 1)
    return {"encoder_token_ids": ids, "decoder_token_ids": decoder_ids}, targets


def train_copy(model, vocab, steps, batch_size=64, seed=0):
    """Train `model` for `steps` Adam steps on the copy task (`_copy_batch`), so that its
    hypotheses end with `</s>` as a trained model's do; returns the last step's loss."""
    from keras_s2s.training.recipe import compile_model

    compile_model(model)
    rng = np.random.default_rng(seed)
    loss = None
    for _ in range(steps):
        loss = model.train_on_batch(*_copy_batch(rng, batch_size, vocab))
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss
    return float(loss)


def _fastest(runs, repeats):
    """`{name: (fastest seconds, last result)}` of `runs` (`{name: fn}`), each called
    `repeats` times after one compiling call, round by round so that they meet the same load
    from other processes: on a shared machine a single timing moved by 2x or more."""
    results = {name: fn() for name, fn in runs.items()}  # compile
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: (min(times[name]), results[name]) for name in runs}


def _greedy_and_beam(model, ids, max_length, beam_width, batch_size, repeats):
    """`{"greedy": {...}, "beam": {...}, "greedy_beam_rows": {...}}`: seconds, tokens and
    tokens/s of each, paired.

    `"greedy_beam_rows"` is greedy decoding of every source `beam_width` times over, in
    batches of `batch_size * beam_width` rows: as many rows as a beam search steps the model
    on, but each copy encoded and attended over on its own, as if every hypothesis were a
    separate decode. Its `cost_vs_greedy` against the beam's shows what the beam saves by
    running the encoder once per source and sharing its memory across the hypotheses.
    """
    repeated = np.repeat(np.asarray(ids), beam_width, axis=0)
    runs = {"greedy": lambda: decode(model, ids, "greedy", max_length=max_length,
                                     batch_size=batch_size, verbose=False),
            "beam": lambda: decode(model, ids, "beam", max_length=max_length,
                                   batch_size=batch_size, beam_width=beam_width, verbose=False),
            "greedy_beam_rows": lambda: decode(model, repeated, "greedy", max_length=max_length,
                                               batch_size=batch_size * beam_width,
                                               verbose=False)}
    out = {}
    for method, (seconds, result) in _fastest(runs, repeats).items():
        tokens = int(result.lengths[:, 0].sum())
        out[method] = {"seconds": seconds, "tokens": tokens, "tokens_per_second": tokens / seconds}
    out["greedy_beam_rows"]["rows_per_source"] = beam_width
    out["beam"]["beam_width"] = beam_width
    for method in ("beam", "greedy_beam_rows"):
        out[method]["cost_vs_greedy"] = out[method]["seconds"] / out["greedy"]["seconds"]
    return out


def bench_decode(model_name=DECODE["model_name"], num_sources=DECODE["num_sources"],
                 tutorial_sources=DECODE["tutorial_sources"], vocab=DECODE["vocab"],
                 max_length=DECODE["max_length"], beam_width=DECODE["beam_width"],
                 batch_size=DECODE["batch_size"], repeats=DECODE["repeats"],
                 trained_steps=DECODE["trained_steps"], model=None):
    """Time greedy and beam decoding against the per-token `predict` loop.

    Batched greedy and beam search decode `num_sources` sources, `batch_size` at a time, with
    the untrained model: with random weights few hypotheses emit `</s>`, so nearly all run to
    `max_length` (the search's worst case). The keras.io-style loop decodes the first
    `tutorial_sources`, one at a time, and so does a compiled greedy decode with batch size 1
    (`greedy_batch1`), so that two ratios come out: `speedup_greedy_vs_tutorial` (tokens/s,
    batching included) and `speedup_greedy_batch1_vs_tutorial` (seconds per sequence at the
    loop's batch size). Then (`trained_steps` > 0) the model trains that many steps on a copy
    task (`train_copy`) and greedy and beam search decode the same sources again
    (`"trained"`): its hypotheses end with `</s>`, as a trained model's do. Greedy and beam
    search are timed `repeats` times each after compiling, alternating, and the fastest
    counts; so is greedy decoding of each source `beam_width` times over
    (`"greedy_beam_rows"`): the beam's number of rows, with nothing shared between them.

    Returns:
        A dict of measurements (tokens/s, seconds per sequence, ratios, settings, environment).

    Example:

    >>> results = bench_decode("luong_lstm", num_sources=8, tutorial_sources=1, max_length=5,
    ...                        batch_size=8, trained_steps=2)
    >>> results["speedup_greedy_batch1_vs_tutorial"] > 0
    True
    """
    if model is None:
        keras.utils.set_random_seed(0)
        model = zoo.build(model_name, source_vocab_size=vocab, target_vocab_size=vocab)
    ids = _sources(num_sources, vocab)
    results = {"model": model.name, "parameters": model.count_params(),
               "num_sources": num_sources, "max_length": max_length, "batch_size": batch_size,
               "repeats": repeats, "backend": keras.backend.backend(), "cpu_count": os.cpu_count(),
               "machine": platform.machine()}

    results.update(_greedy_and_beam(model, ids, max_length, beam_width, batch_size, repeats))
    log.info("batched greedy: %d sources, %d tokens in %.2fs = %.0f tokens/s", num_sources,
             results["greedy"]["tokens"], results["greedy"]["seconds"],
             results["greedy"]["tokens_per_second"])
    log.info("batched beam (width %d): %.2fs = %.2fx greedy (greedy on each source %d times, "
             "nothing shared: %.2fx)", beam_width, results["beam"]["seconds"],
             results["beam"]["cost_vs_greedy"], beam_width,
             results["greedy_beam_rows"]["cost_vs_greedy"])

    encoder_model, decoder_model = build_inference_models(model)
    start = time.perf_counter()
    tokens = _tutorial_greedy(encoder_model, decoder_model, ids[:tutorial_sources], max_length)
    seconds = time.perf_counter() - start
    results["tutorial_loop"] = {"sources": tutorial_sources, "seconds": seconds, "tokens": tokens,
                                "tokens_per_second": tokens / seconds}
    results["speedup_greedy_vs_tutorial"] = (results["greedy"]["tokens_per_second"]
                                             / results["tutorial_loop"]["tokens_per_second"])
    # the same sources at the loop's batch size (one at a time), so that the ratio is not
    # only batching: compiled greedy decoding of one source per call
    few = ids[:tutorial_sources]
    decode(model, few[:1], max_length=max_length, batch_size=1, verbose=False)  # compile
    start = time.perf_counter()
    tokens = sum(int(decode(model, row[None], max_length=max_length, batch_size=1,
                            verbose=False).lengths[0, 0]) for row in few)
    seconds = time.perf_counter() - start
    results["greedy_batch1"] = {"sources": tutorial_sources, "seconds": seconds,
                                "tokens": tokens, "tokens_per_second": tokens / seconds}
    per_sequence = {k: results[k]["seconds"] / n for k, n in
                    (("greedy", num_sources), ("greedy_batch1", tutorial_sources),
                     ("tutorial_loop", tutorial_sources))}
    results["seconds_per_sequence"] = per_sequence
    results["speedup_greedy_batch1_vs_tutorial"] = (per_sequence["tutorial_loop"]
                                                    / per_sequence["greedy_batch1"])
    log.info("keras.io-style loop (predict per token, batch 1): %d sources, %d tokens in %.2fs "
             "= %.1f tokens/s", tutorial_sources, tokens, seconds, tokens / seconds)
    log.info("speed-up of batched compiled greedy: %.0fx; one source per call, as the loop: "
             "%.1fx", results["speedup_greedy_vs_tutorial"],
             results["speedup_greedy_batch1_vs_tutorial"])
    if trained_steps:
        loss = train_copy(model, vocab, trained_steps)
        trained = _greedy_and_beam(model, ids, max_length, beam_width, batch_size, repeats)
        trained.update({"steps": trained_steps, "task": "copy", "loss": loss,
                        "mean_greedy_length": trained["greedy"]["tokens"] / num_sources})
        results["trained"] = trained
        log.info("after %d training steps on the copy task (loss %.3f, greedy outputs of %.1f "
                 "tokens on average): beam (width %d) %.2fx greedy", trained_steps, loss,
                 trained["mean_greedy_length"], beam_width, trained["beam"]["cost_vs_greedy"])
    return results


def uncached_greedy_fn(model, max_length, min_length=0, reuse_encoder=False):
    """A compiled greedy decode without key/value caches: at every step it re-runs the decoder
    over the whole output buffer. The reference for `bench_cache`; `fn(source_ids)` returns
    `(batch, max_length)` tokens.

    With `reuse_encoder=False` each step calls the whole model, so the encoder runs again too;
    with `reuse_encoder=True` the encoder runs once and each step re-runs only the decoder
    stack and the output layers, so that the difference from cached decoding is the caches.
    """
    from keras import ops

    from keras_s2s.inference import _project

    if reuse_encoder:
        encoder = keras.Model(model.get_layer("encoder_token_ids").output,
                              [model.get_layer("encoder").output,
                               model.get_layer("source_mask").output])
        decoder = model.get_layer("decoder")
        embedding = model.get_layer("decoder_embedding")

    def run(source_ids, noise):
        batch = ops.shape(source_ids)[0]
        start = ops.full((batch, 1), BOS_ID, "int32")
        buffer = ops.concatenate([start, ops.zeros((batch, max_length), "int32")], axis=1)
        if reuse_encoder:
            memory, mask = encoder(source_ids, training=False)  # once, outside the loop

        def logits_of(prefix):  # (batch, max_length) -> (batch, max_length, vocab)
            if not reuse_encoder:
                return model({"encoder_token_ids": source_ids, "decoder_token_ids": prefix},
                             training=False)
            outputs = decoder(embedding(prefix), memory, memory_mask=mask, training=False)
            return _project(model, outputs)

        def body(t, buffer):
            logits = logits_of(buffer[:, :max_length])
            step = ops.squeeze(ops.slice(logits, [0, t, 0], [batch, 1, ops.shape(logits)[2]]), 1)
            scores = mask_forbidden(log_softmax(step), t, min_length, EOS_ID)
            chosen = ops.cast(ops.argmax(scores, axis=-1), "int32")
            return t + 1, ops.slice_update(buffer, [0, t + 1], ops.expand_dims(chosen, 1))

        _, buffer = ops.while_loop(lambda t, b: t < max_length, body,
                                   (ops.convert_to_tensor(0, "int32"), buffer))
        return buffer[:, 1:]

    compiled = compile_decode(run, True, model)
    return lambda ids: compiled(keras.ops.convert_to_tensor(ids), keras.ops.zeros((1,)))


def bench_cache(model_name=CACHE["model_name"], batch_size=CACHE["batch_size"],
                max_length=CACHE["max_length"], vocab=CACHE["vocab"], repeats=CACHE["repeats"],
                model=None):
    """Time cached (incremental) against uncached greedy decoding of a Transformer.

    Each decodes `batch_size` sources for exactly `max_length` steps (`</s>` is forbidden until
    the last step, so that none stops early) in one compiled loop:

    - `cached`: `decode`, with self-attention key/value caches and cross-attention caches;
    - `uncached`: the encoder runs once, and every step re-runs the decoder stack over the
      whole output buffer; `speedup` is its time over `cached`, the gain of the caches alone;
    - `uncached_with_encoder`: every step re-runs the whole model, encoder included (the first
      version of this benchmark); `speedup_with_encoder_rerun` mixes the caches' gain with
      that of not re-running the encoder.

    Returns:
        A dict of measurements: seconds per decode (best of `repeats`), the two speed-ups, and
        whether all three produced the same tokens.

    Example:

    >>> results = bench_cache("transformer_tiny", batch_size=4, max_length=8, repeats=1)
    >>> results["identical_tokens"]
    True
    """
    if model is None:
        keras.utils.set_random_seed(0)
        model = zoo.build(model_name, source_vocab_size=vocab, target_vocab_size=vocab)
    ids = _sources(batch_size, vocab, min_len=max_length // 2, max_len=max_length // 2 + 8)
    min_length = max_length - 1

    def cached():
        return decode(model, ids, max_length=max_length, min_length=min_length,
                      batch_size=batch_size, verbose=False).token_ids[:, 0]

    def uncached_by(reuse_encoder):
        fn = uncached_greedy_fn(model, max_length, min_length, reuse_encoder=reuse_encoder)
        return lambda: keras.ops.convert_to_numpy(fn(ids))

    results = {"model": model.name, "parameters": model.count_params(),
               "batch_size": batch_size, "max_length": max_length,
               "backend": keras.backend.backend(), "cpu_count": os.cpu_count(),
               "machine": platform.machine()}
    outputs = {}
    for label, fn in (("cached", cached), ("uncached", uncached_by(True)),
                      ("uncached_with_encoder", uncached_by(False))):
        outputs[label] = fn()  # compile
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        results[label] = {"seconds": min(times),
                          "tokens_per_second": batch_size * max_length / min(times)}
        log.info("%s greedy: %d x %d tokens in %.3fs", label, batch_size, max_length, min(times))
    results["speedup"] = results["uncached"]["seconds"] / results["cached"]["seconds"]
    results["speedup_with_encoder_rerun"] = (results["uncached_with_encoder"]["seconds"]
                                             / results["cached"]["seconds"])
    width = outputs["cached"].shape[1]
    results["identical_tokens"] = bool(all(
        np.array_equal(outputs["cached"], outputs[k][:, :width])
        for k in ("uncached", "uncached_with_encoder")))
    log.info("key/value caches: %.1fx faster than re-running the decoder (%.1fx with the "
             "encoder re-run too); identical tokens: %s", results["speedup"],
             results["speedup_with_encoder_rerun"], results["identical_tokens"])
    return results
