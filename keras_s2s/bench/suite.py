"""The benchmark suite behind `keras-s2s bench all`: training, decoding and caches in one run,
one JSON (the source of zoo/BENCHMARKS.md) and one plain-text table.

Its settings (`SUITE_SETTINGS`, `SUITE_TRAIN`) and goals live in `keras_s2s.bench.defaults`.
"""

import os
import platform
import resource
import time

import keras

from keras_s2s import zoo
from keras_s2s.bench.decode import bench_cache, bench_decode
from keras_s2s.bench.defaults import (BEAM_COST_GOAL, CACHE_GOAL, DECODE_GOAL, EFFICIENCY_GOAL,
                                      QUICK_ENTRIES, SUITE_SETTINGS, SUITE_TRAIN, VOCAB,
                                      with_text)
from keras_s2s.bench.train import bench_train


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or None where there is none (not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name")), None)
    except OSError:
        return None


def environment():
    """Where the numbers were measured: backend, versions, CPU count, machine, date, load."""
    import datetime

    env = {"backend": keras.backend.backend(), "keras": keras.__version__,
           "cpu_count": os.cpu_count(), "machine": platform.machine(),
           "processor": platform.processor(), "platform": platform.platform(),
           "python": platform.python_version(),
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "load_average": list(os.getloadavg()),  # 1, 5 and 15 minutes, at the start
           # the compiler's settings: `keras-s2s` sets LLVM level 1 on the CPU (cli/_xla.py)
           "xla_flags": os.environ.get("XLA_FLAGS", "")}
    env["cpu_model"] = cpu_model()
    try:
        import tensorflow as tf

        env["tensorflow"] = tf.__version__
    except ImportError:
        env["tensorflow"] = None
    return env


def suite_model(settings):
    """The model a decode or cache setting of `SUITE_SETTINGS` names: the entry built with its
    `model_kwargs` (seeded, `VOCAB`-token vocabularies), or None when it has none (the
    benchmark then builds the entry at its default size)."""
    kwargs = dict(settings.get("model_kwargs", {}))
    if not kwargs:
        return None
    keras.utils.set_random_seed(0)
    return zoo.build(settings["model_name"], source_vocab_size=VOCAB, target_vocab_size=VOCAB,
                     **kwargs)


def run_settings(what, settings):
    """Run `bench_decode` (`what="decode"`) or `bench_cache` (`"cache"`) with one of the
    dicts of `SUITE_SETTINGS` (e.g. `SUITE_SETTINGS["quick"]["cache"]`); returns its results."""
    if what not in ("decode", "cache"):
        raise ValueError(f"Unknown decoding benchmark {what!r}; expected decode or cache.")
    bench = bench_cache if what == "cache" else bench_decode
    return bench(model=suite_model(settings),
                 **{k: v for k, v in settings.items() if k != "model_kwargs"})


def run_suite(what="all", quick=False, models=None, command=None):
    """Run the benchmark suite: `"train"`, `"decode"`, `"cache"` or `"all"` of them.

    The result always has the same keys (a part that was not run is None), whether `quick`
    (2 entries and both baselines at a tiny size, tiny decoding settings: about a minute) or
    not (every seq2seq entry but those in `defaults.SKIPPED`, under ten minutes on a
    2-core CPU). The settings of each mode are in `keras_s2s.bench.defaults`.

    Returns:
        A dict: `command`, `environment`, `settings`, `train`, `decode`, `cache`, `goals` (each
        goal with its value and a pass boolean), `wall_seconds` and `cpu_seconds` (user and
        system time of the whole process, which other jobs on the machine do not inflate).

    Example:

    >>> results = run_suite("all", quick=True)
    >>> sorted(results)[:4]
    ['cache', 'command', 'cpu_seconds', 'decode']
    """
    if what not in ("train", "decode", "cache", "all"):
        raise ValueError(f"Unknown benchmark {what!r}; expected train, decode, cache or all.")
    start = time.perf_counter()
    mode = "quick" if quick else "full"
    train_settings = SUITE_TRAIN[mode]
    settings = {"mode": mode, "train": dict(train_settings), **SUITE_SETTINGS[mode]}
    results = {"command": command, "environment": environment(), "settings": settings,
               "train": None, "decode": None, "cache": None, "goals": []}
    if what in ("train", "all"):
        names = models or (QUICK_ENTRIES if quick else None)
        train = bench_train(names, train_settings)
        results["train"] = train
        results["goals"] += [{"section": "train", **r} for r in train["ratios"]]
        for row in train["efficiency"]["entries"]:
            if row["name"] == "luong_bilstm":
                results["goals"].append(_goal("train", "luong_bilstm share of the matmul peak",
                                              row["fraction_of_matmul"], EFFICIENCY_GOAL,
                                              unit="%"))
    if what in ("decode", "all"):
        decode = run_settings("decode", settings["decode"])
        results["decode"] = decode
        results["goals"].append(_goal("decode", "batched greedy / keras.io-style loop",
                                      decode["speedup_greedy_vs_tutorial"], DECODE_GOAL))
        results["goals"].append(_goal("decode", f"beam {decode['beam']['beam_width']} / greedy "
                                      "decoding time",
                                      decode["beam"]["cost_vs_greedy"], BEAM_COST_GOAL,
                                      at_most=True))
        if decode.get("trained"):  # hypotheses that end with </s>, as a trained model's
            trained = decode["trained"]
            results["goals"].append(_goal(
                "decode", f"beam {trained['beam']['beam_width']} / greedy, after "
                f"{trained['steps']} steps on the copy task", trained["beam"]["cost_vs_greedy"],
                BEAM_COST_GOAL, at_most=True))
    if what in ("cache", "all"):
        cache = run_settings("cache", settings["cache"])
        results["cache"] = cache
        results["goals"].append(_goal("cache", "cached / uncached greedy (encoder run once)",
                                      cache["speedup"], CACHE_GOAL))
    results["wall_seconds"] = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # the whole process, import included
    return results


def _goal(section, name, value, goal, at_most=False, unit="×"):
    """A goal row: `value` must reach `goal` (or stay at most `goal` with `at_most`)."""
    row = {"section": section, "name": name, "value": value, "goal": goal,
           "at_most": at_most, "unit": unit,
           "pass": bool(value <= goal if at_most else value >= goal)}
    return with_text(row)


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
                     f"{d['tutorial_loop']['tokens_per_second']:.1f} tokens/s; one source "
                     f"per call: {1000 * d['seconds_per_sequence']['greedy_batch1']:.0f} ms "
                     f"per sequence against the loop's "
                     f"{1000 * d['seconds_per_sequence']['tutorial_loop']:.0f} ms")
        if d.get("trained"):
            t = d["trained"]
            lines.append(f"after {t['steps']} steps on the copy task (greedy outputs of "
                         f"{t['mean_greedy_length']:.1f} tokens on average): greedy "
                         f"{t['greedy']['seconds']:.3f}s, beam-{t['beam']['beam_width']} "
                         f"{t['beam']['seconds']:.3f}s")
    if results["cache"]:
        c = results["cache"]
        lines.append(f"cached Transformer ({c['model']}): {c['cached']['seconds']:.3f}s vs "
                     f"uncached {c['uncached']['seconds']:.3f}s (encoder run once), "
                     f"{c['uncached_with_encoder']['seconds']:.3f}s (encoder re-run each step)")
    if results["goals"]:
        lines.append(f"\n{'goal':<52} {'value':>30} {'goal':>8}  pass")
        for g in results["goals"]:
            value, goal = g["value_text"], g["goal_text"]
            lines.append(f"{g['name']:<52} {value:>30} {goal:>8}  "
                         f"{'yes' if g['pass'] else 'NO'}")
    lines.append(f"\nwall time: {results['wall_seconds']:.0f}s (process CPU time "
                 f"{results['cpu_seconds']:.0f}s)")
    return "\n".join(lines)
