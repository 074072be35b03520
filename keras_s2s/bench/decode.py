"""Decoding benchmarks behind `keras-s2s bench decode` and `keras-s2s bench cache`.

`bench_decode` times batched, compiled greedy and beam decoding of many sources against the
keras.io-tutorial way (one `predict` call per token, one source at a time), in one process.
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


def bench_decode(model_name=DECODE["model_name"], num_sources=DECODE["num_sources"],
                 tutorial_sources=DECODE["tutorial_sources"], vocab=DECODE["vocab"],
                 max_length=DECODE["max_length"], beam_width=DECODE["beam_width"],
                 batch_size=DECODE["batch_size"], model=None):
    """Time greedy and beam decoding against the per-token `predict` loop.

    Returns:
        A dict of measurements (tokens/s, ratios, settings, environment).
    """
    if model is None:
        keras.utils.set_random_seed(0)
        model = zoo.build(model_name, source_vocab_size=vocab, target_vocab_size=vocab)
    ids = _sources(num_sources, vocab)
    results = {"model": model.name, "parameters": model.count_params(),
               "num_sources": num_sources, "max_length": max_length, "batch_size": batch_size,
               "backend": keras.backend.backend(), "cpu_count": os.cpu_count(),
               "machine": platform.machine()}

    def timed(method, **kwargs):
        decode(model, ids[:batch_size], method, max_length=max_length, batch_size=batch_size,
               verbose=False, **kwargs)  # compile
        start = time.perf_counter()
        result = decode(model, ids, method, max_length=max_length, batch_size=batch_size,
                        verbose=False, **kwargs)
        seconds = time.perf_counter() - start
        tokens = int(result.lengths[:, 0].sum())
        return seconds, tokens

    seconds, tokens = timed("greedy")
    results["greedy"] = {"seconds": seconds, "tokens": tokens, "tokens_per_second": tokens / seconds}
    log.info("batched greedy: %d sources, %d tokens in %.2fs = %.0f tokens/s", num_sources,
             tokens, seconds, tokens / seconds)
    seconds, tokens = timed("beam", beam_width=beam_width)
    results["beam"] = {"beam_width": beam_width, "seconds": seconds, "tokens": tokens,
                       "tokens_per_second": tokens / seconds,
                       "cost_vs_greedy": seconds / results["greedy"]["seconds"]}
    log.info("batched beam (width %d): %.2fs = %.2fx greedy", beam_width, seconds,
             results["beam"]["cost_vs_greedy"])

    encoder_model, decoder_model = build_inference_models(model)
    start = time.perf_counter()
    tokens = _tutorial_greedy(encoder_model, decoder_model, ids[:tutorial_sources], max_length)
    seconds = time.perf_counter() - start
    results["tutorial_loop"] = {"sources": tutorial_sources, "seconds": seconds, "tokens": tokens,
                                "tokens_per_second": tokens / seconds}
    results["speedup_greedy_vs_tutorial"] = (results["greedy"]["tokens_per_second"]
                                             / results["tutorial_loop"]["tokens_per_second"])
    log.info("keras.io-style loop (predict per token, batch 1): %d sources, %d tokens in %.2fs "
             "= %.1f tokens/s", tutorial_sources, tokens, seconds, tokens / seconds)
    log.info("speed-up of batched compiled greedy: %.0fx", results["speedup_greedy_vs_tutorial"])
    return results


def uncached_greedy_fn(model, max_length, min_length=0):
    """A compiled greedy decode that re-runs the whole model over the whole output buffer at
    every step (what a decoder without key/value caches must do). The reference for
    `bench_cache`; `fn(source_ids)` returns `(batch, max_length)` tokens."""
    from keras import ops

    def run(source_ids, noise):
        batch = ops.shape(source_ids)[0]
        start = ops.full((batch, 1), BOS_ID, "int32")
        buffer = ops.concatenate([start, ops.zeros((batch, max_length), "int32")], axis=1)

        def body(t, buffer):
            logits = model({"encoder_token_ids": source_ids,
                            "decoder_token_ids": buffer[:, :max_length]}, training=False)
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

    Both decode `batch_size` sources for exactly `max_length` steps (`</s>` is forbidden until
    the last step, so that neither stops early) in one compiled loop each.

    Returns:
        A dict of measurements: seconds per decode (best of `repeats`), the speed-up, and
        whether both produced the same tokens.
    """
    if model is None:
        keras.utils.set_random_seed(0)
        model = zoo.build(model_name, source_vocab_size=vocab, target_vocab_size=vocab)
    ids = _sources(batch_size, vocab, min_len=max_length // 2, max_len=max_length // 2 + 8)
    min_length = max_length - 1

    def cached():
        return decode(model, ids, max_length=max_length, min_length=min_length,
                      batch_size=batch_size, verbose=False).token_ids[:, 0]

    uncached_fn = uncached_greedy_fn(model, max_length, min_length)

    def uncached():
        return keras.ops.convert_to_numpy(uncached_fn(ids))

    results = {"model": model.name, "parameters": model.count_params(),
               "batch_size": batch_size, "max_length": max_length,
               "backend": keras.backend.backend(), "cpu_count": os.cpu_count(),
               "machine": platform.machine()}
    outputs = {}
    for label, fn in (("cached", cached), ("uncached", uncached)):
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
    width = outputs["cached"].shape[1]
    results["identical_tokens"] = bool(np.array_equal(outputs["cached"],
                                                      outputs["uncached"][:, :width]))
    log.info("key/value caches: %.1fx faster; identical tokens: %s", results["speedup"],
             results["identical_tokens"])
    return results
