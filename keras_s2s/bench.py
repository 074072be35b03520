"""Benchmarks behind `keras-s2s bench`: measured, repeatable numbers, never part of the tests.

`bench_decode` times batched, compiled greedy and beam decoding of many sources against the
keras.io-tutorial way (one `predict` call per token, one source at a time), in one process.
"""

import logging
import os
import platform
import resource
import time

import keras
import numpy as np

from keras_s2s import zoo
from keras_s2s.decoding import decode
from keras_s2s.constants import BOS_ID, EOS_ID, NUM_SPECIAL_TOKENS
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


def uncached_greedy_fn(model, max_length, min_length=0):
    """A compiled greedy decode that re-runs the whole model over the whole output buffer at
    every step (what a decoder without key/value caches must do). The reference for
    `bench_cache`; `fn(source_ids)` returns `(batch, max_length)` tokens."""
    from keras import ops

    from keras_s2s.decoding._common import log_softmax, mask_forbidden
    from keras_s2s.decoding.api import _compile

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

    compiled = _compile(run, True, model)
    return lambda ids: compiled(keras.ops.convert_to_tensor(ids), keras.ops.zeros((1,)))


def bench_cache(model_name="transformer_small", batch_size=32, max_length=64, vocab=64,
                repeats=3, model=None):
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


# ---------------------------------------------------------------------------- the suite
DECODE_GOAL, CACHE_GOAL = 50.0, 5.0
SUITE_SETTINGS = {
    "full": {"decode": {"model_name": "luong_bilstm", "num_sources": 256, "tutorial_sources": 4,
                        "max_length": 30, "beam_width": 5, "batch_size": 256},
             "cache": {"model_name": "transformer_small", "batch_size": 32, "max_length": 64,
                       "repeats": 2}},
    "quick": {"decode": {"model_name": "luong_lstm", "num_sources": 32, "tutorial_sources": 1,
                         "max_length": 10, "beam_width": 5, "batch_size": 32,
                         "model_kwargs": {"units": 32, "embedding_dim": 16}},
              "cache": {"model_name": "transformer_tiny", "batch_size": 8, "max_length": 16,
                        "repeats": 1,
                        "model_kwargs": {"hidden_dim": 32, "intermediate_dim": 64,
                                         "num_encoder_layers": 1, "num_decoder_layers": 1}}},
}


def environment():
    """Where the numbers were measured: backend, versions, CPU count, machine, date."""
    import datetime

    env = {"backend": keras.backend.backend(), "keras": keras.__version__,
           "cpu_count": os.cpu_count(), "machine": platform.machine(),
           "processor": platform.processor(), "platform": platform.platform(),
           "python": platform.python_version(),
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    try:
        with open("/proc/cpuinfo") as f:
            env["cpu_model"] = next((line.split(":", 1)[1].strip() for line in f
                                     if line.startswith("model name")), None)
    except OSError:
        env["cpu_model"] = None
    try:
        import tensorflow as tf

        env["tensorflow"] = tf.__version__
    except ImportError:
        env["tensorflow"] = None
    return env


def _suite_model(settings):
    kwargs = dict(settings.get("model_kwargs", {}))
    if not kwargs:
        return None
    keras.utils.set_random_seed(0)
    return zoo.build(settings["model_name"], source_vocab_size=64, target_vocab_size=64, **kwargs)


def run_suite(what="all", quick=False, models=None, command=None):
    """Run the benchmark suite: `"train"`, `"decode"`, `"cache"` or `"all"` of them.

    The result always has the same keys (a part that was not run is None), whether `quick`
    (2 entries and both baselines at a tiny size, tiny decoding settings: about a minute) or
    not (every seq2seq entry but those in `bench_train.SKIPPED`, under ten minutes on a
    2-core CPU).

    Returns:
        A dict: `command`, `environment`, `settings`, `train`, `decode`, `cache`, `goals` (each
        goal with its value and a pass boolean), `wall_seconds` and `cpu_seconds` (user and
        system time of the whole process, which other jobs on the machine do not inflate).

    Example:

    >>> results = run_suite("all", quick=True)
    >>> sorted(results)[:4]
    ['cache', 'command', 'cpu_seconds', 'decode']
    """
    from keras_s2s import bench_train

    if what not in ("train", "decode", "cache", "all"):
        raise ValueError(f"Unknown benchmark {what!r}; expected train, decode, cache or all.")
    start = time.perf_counter()
    mode = "quick" if quick else "full"
    train_settings = bench_train.QUICK if quick else bench_train.FULL
    settings = {"mode": mode, "train": dict(train_settings), **SUITE_SETTINGS[mode]}
    results = {"command": command, "environment": environment(), "settings": settings,
               "train": None, "decode": None, "cache": None, "goals": []}
    if what in ("train", "all"):
        names = models or (bench_train.QUICK_ENTRIES if quick else None)
        train = bench_train.bench_train(names, train_settings)
        results["train"] = train
        results["goals"] += [{"section": "train", **r} for r in train["ratios"]]
    if what in ("decode", "all"):
        s = {k: v for k, v in settings["decode"].items() if k != "model_kwargs"}
        decode = bench_decode(model=_suite_model(settings["decode"]), **s)
        results["decode"] = decode
        results["goals"].append(_goal("decode", "batched greedy / keras.io-style loop",
                                      decode["speedup_greedy_vs_tutorial"], DECODE_GOAL))
    if what in ("cache", "all"):
        s = {k: v for k, v in settings["cache"].items() if k != "model_kwargs"}
        cache = bench_cache(model=_suite_model(settings["cache"]), **s)
        results["cache"] = cache
        results["goals"].append(_goal("cache", "cached / uncached Transformer greedy",
                                      cache["speedup"], CACHE_GOAL))
    results["wall_seconds"] = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # the whole process, import included
    return results


def _goal(section, name, value, goal):
    return {"section": section, "name": name, "value": value, "goal": goal,
            "pass": bool(value >= goal)}


def format_suite(results):
    """The suite's results as a readable plain-text table."""
    lines = []
    env = results["environment"]
    lines.append(f"keras_s2s benchmarks ({results['settings']['mode']}): {env['backend']}, "
                 f"{env['cpu_count']} CPUs, {env['machine']}, {env['date']}")
    train = results["train"]
    if train:
        s = train["settings"]
        lines.append(f"\ntraining: batch {s['batch_size']}, lengths {s['source_length']}/"
                     f"{s['target_length']}, vocab {s['vocab']}, jit_compile=True")
        lines.append(f"{'entry':<28} {'tokens/s':>10} {'ms/step':>8} {'compile s':>9} "
                     f"{'GFLOP/step':>10} {'RSS MiB':>8}")
        for r in train["entries"]:
            flops = f"{r['flops_per_step'] / 1e9:.2f}" if r["flops_per_step"] else "-"
            lines.append(f"{r['name']:<28} {r['target_tokens_per_second']:>10.0f} "
                         f"{1000 * r['step_seconds']:>8.1f} {r['compile_seconds']:>9.1f} "
                         f"{flops:>10} {r['peak_rss_mib']:>8.0f}")
        for name, reason in train["skipped"].items():
            lines.append(f"{name:<28} skipped: {reason}")
        matmul = train["efficiency"]["matmul"]
        lines.append(f"\nefficiency (vs a {matmul['size']}³ float32 matmul at "
                     f"{matmul['flops_per_second'] / 1e9:.1f} GFLOP/s)")
        for e in train["efficiency"]["entries"]:
            if e["name"] in train["efficiency_entries"]:
                lines.append(f"{e['name']:<28} {e['achieved_flops_per_second'] / 1e9:>8.2f} "
                             f"GFLOP/s = {100 * e['fraction_of_matmul']:.1f}%")
        lines.append(f"process peak RSS: {train['memory']['process_peak_rss_mib']:.0f} MiB")
    if results["decode"]:
        d = results["decode"]
        lines.append(f"\ndecoding ({d['model']}): greedy {d['greedy']['tokens_per_second']:.0f} "
                     f"tokens/s, beam-{d['beam']['beam_width']} "
                     f"{d['beam']['tokens_per_second']:.0f} tokens/s, keras.io-style loop "
                     f"{d['tutorial_loop']['tokens_per_second']:.1f} tokens/s")
    if results["cache"]:
        c = results["cache"]
        lines.append(f"cached Transformer ({c['model']}): {c['cached']['seconds']:.3f}s vs "
                     f"uncached {c['uncached']['seconds']:.3f}s")
    if results["goals"]:
        lines.append(f"\n{'goal':<48} {'value':>7} {'goal':>6}  pass")
        for g in results["goals"]:
            lines.append(f"{g['name']:<48} {g['value']:>7.2f} {g['goal']:>6.2f}  "
                         f"{'yes' if g['pass'] else 'NO'}")
    lines.append(f"\nwall time: {results['wall_seconds']:.0f}s (process CPU time "
                 f"{results['cpu_seconds']:.0f}s)")
    return "\n".join(lines)
