"""Benchmarks behind `keras-s2s bench`: measured, repeatable numbers, never part of the tests.

`bench_decode` times batched, compiled greedy and beam decoding of many sources against the
keras.io-tutorial way (one `predict` call per token, one source at a time), in one process.
"""

import logging
import os
import platform
import time

import keras
import numpy as np

from keras_s2s import zoo
from keras_s2s.decoding import decode
from keras_s2s.decoding._common import BOS_ID, EOS_ID
from keras_s2s.inference import build_inference_models

log = logging.getLogger("keras_s2s")


def _sources(n, vocab, min_len=6, max_len=12, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, max_len), "int32")
    for i in range(n):
        length = rng.integers(min_len, max_len + 1)
        ids[i, :length] = rng.integers(4, vocab, length)
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


def bench_decode(model_name="luong_bilstm", num_sources=256, tutorial_sources=16, vocab=64,
                 max_length=30, beam_width=5, batch_size=256, model=None):
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
