"""Training benchmarks behind `keras-s2s bench train`: throughput, baselines, efficiency, memory.

Every entry is built at one benchmark size (`FULL`, or `QUICK` for a smoke run: both are
`keras_s2s.bench.defaults.TRAIN_FULL` and `TRAIN_QUICK`), compiled with
`keras_s2s.training.recipe.compile_model` (`jit_compile=True`, the library's masked loss) and
trained with `train_on_batch` on one fixed synthetic batch: one warm-up call (which compiles),
then timed steps. The step time is the median of the timed steps, which shrugs off other
processes' bursts on a shared machine. Two plain-Keras encoder-decoders, built here the way a
user writes them by hand, are the baselines the zoo's recurrent entries are compared with. An
entry with a goal against a baseline alternates its timed steps with the baseline's (both
stay compiled in the process), and its ratio is taken from those paired steps.

Example:

>>> results = bench_train(["vanilla_lstm"], settings=QUICK)
>>> results["entries"][0]["target_tokens_per_second"] > 0
True
"""

import gc
import logging
import resource
import threading
import time

import keras
import numpy as np

from keras_s2s import kinds, zoo
from keras_s2s.bench.defaults import (ATTENTION_GOAL, BASELINES, EFFICIENCY_ENTRIES,
                                      RATIO_GOALS, SKIPPED, TRAIN_FULL, TRAIN_QUICK,
                                      with_text)
from keras_s2s.bench.flops import training_flops
from keras_s2s.constants import BOS_ID, EOS_ID, NUM_SPECIAL_TOKENS
from keras_s2s.training.recipe import compile_model

log = logging.getLogger("keras_s2s")

# the benchmark sizes (`FULL`, `QUICK`), entries and goals: see keras_s2s.bench.defaults
FULL, QUICK = TRAIN_FULL, TRAIN_QUICK


def default_entries():
    """The entries the full suite trains: those that decode sources from token ids (the kinds
    with `synthetic_inputs`; not the pointer kind, whose inputs are coordinates), all but
    those in `SKIPPED`."""
    probe = np.ones((1, 2), "int32")

    def timed(name):
        kind = kinds.get(zoo.get_spec(name).kind)
        return kind.decodes_sources and kind.synthetic_inputs(probe, probe) is not None

    return [n for n in zoo.list_models() if timed(n) and n not in SKIPPED]


def ratio_goals(names):
    """`(numerator, denominator, goal)` for the entries in `names` that have a goal."""
    goals = [g for g in RATIO_GOALS if g[0] in names]
    for name in names:
        arguments = _entry_arguments(name)
        if arguments.get("input_feeding") and name.split("_")[0] in ("luong", "bahdanau"):
            baseline = ("baseline_bilstm_attention" if arguments.get("bidirectional")
                        else "baseline_attention")
            goals.append((name, baseline, ATTENTION_GOAL))
    return goals


def synthetic_batch(batch_size, source_length, target_length, vocab, seed=0):
    """Random token sequences with ragged lengths (3/4 of the width to the full width).

    Returns:
        `(source_ids, decoder_input_ids, target_ids)`, int32, padded with 0; the decoder input
        starts with `<s>` (2) and the target ends with `</s>` (3).
    """
    if vocab < 5:
        raise ValueError(f"The benchmark vocabulary must hold the 4 special tokens and one more; "
                         f"received vocab={vocab}.")
    rng = np.random.default_rng(seed)
    src = np.zeros((batch_size, source_length), "int32")
    dec = np.zeros((batch_size, target_length), "int32")
    tgt = np.zeros((batch_size, target_length), "int32")
    for k in range(batch_size):
        n = rng.integers(max(1, source_length * 3 // 4), source_length + 1)
        src[k, :n] = rng.integers(NUM_SPECIAL_TOKENS, vocab, n)
        m = rng.integers(max(2, target_length * 3 // 4), target_length + 1)
        y = rng.integers(NUM_SPECIAL_TOKENS, vocab, m - 1)
        dec[k, 0], dec[k, 1:m] = BOS_ID, y
        tgt[k, :m - 1], tgt[k, m - 1] = y, EOS_ID
    return src, dec, tgt


def model_kwargs(name, settings):
    """The hyperparameters of an entry at the benchmark size (dropout off, ≤ max_layers)."""
    defaults = zoo.get_spec(name).defaults
    kwargs = {"dropout": 0.0} if "dropout" in defaults else {}
    if "hidden_dim" in defaults:
        kwargs.update(hidden_dim=settings["hidden_dim"],
                      intermediate_dim=settings["intermediate_dim"])
        for key in ("num_layers", "num_encoder_layers", "num_decoder_layers"):
            if key in defaults:
                kwargs[key] = min(defaults[key], settings["max_layers"] + 1)
    else:
        kwargs.update(units=settings["units"], embedding_dim=settings["embedding_dim"])
        if "num_layers" in defaults:
            kwargs["num_layers"] = min(defaults["num_layers"], settings["max_layers"])
    return kwargs


def build_baseline(name, vocab, units, embedding_dim):
    """A plain-Keras encoder-decoder, as written by hand: `baseline_lstm`,
    `baseline_attention` (`keras.layers.Attention` after the decoder LSTM, Luong-style
    without input feeding: `tanh(W [context; h])`, then the vocabulary projection) or
    `baseline_bilstm_attention` (the same over a bidirectional encoder, as `luong_bilstm`
    without input feeding: a dense bridge from the two directions' states, Luong's general
    score through keys `memory W`).

    Example:

    >>> model = build_baseline("baseline_attention", vocab=32, units=16, embedding_dim=8)
    """
    if name not in BASELINES:
        raise ValueError(f"Unknown baseline {name!r}; expected one of {BASELINES}.")
    layers = keras.layers
    encoder_ids = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    decoder_ids = keras.Input((None,), dtype="int32", name="decoder_token_ids")
    x = layers.Embedding(vocab, embedding_dim, mask_zero=True)(encoder_ids)
    keys = None
    if name == "baseline_bilstm_attention":
        memory, *states = layers.Bidirectional(
            layers.LSTM(units, return_sequences=True, return_state=True))(x)
        bridged = layers.Dense(2 * units, activation="tanh")(layers.Concatenate()(states))
        h, c = bridged[:, :units], bridged[:, units:]
        keys = layers.Dense(units, use_bias=False)(memory)
    else:
        memory, h, c = layers.LSTM(units, return_sequences=True, return_state=True)(x)
    y = layers.Embedding(vocab, embedding_dim)(decoder_ids)
    y = layers.LSTM(units, return_sequences=True)(y, initial_state=[h, c])
    if name != "baseline_lstm":
        context = layers.Attention()([y, memory] if keys is None else [y, memory, keys])
        y = layers.Dense(units, activation="tanh", use_bias=False)(
            layers.Concatenate()([context, y]))
    logits = layers.Dense(vocab)(y)
    return keras.Model({"encoder_token_ids": encoder_ids, "decoder_token_ids": decoder_ids},
                       logits, name=name)


def rss_mib():
    """The resident memory of this process now, in MiB (peak so far where /proc is absent)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mib()


def peak_rss_mib():
    """The peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler:
    """Sample `rss_mib()` in a thread while the `with` block runs; `.peak` is the maximum."""

    def __init__(self, interval=0.02):
        self.interval, self.peak = interval, rss_mib()
        self._stop = threading.Event()

    def _run(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_mib())

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


def _timed_step(model, x, y):
    start = time.perf_counter()
    loss = model.train_on_batch(x, y)
    return time.perf_counter() - start, loss


def time_training(model, x, y, settings, partner=None):
    """Warm up (compile), then time `train_on_batch` steps; returns a dict of measurements.

    `step_seconds` is the median step, `best_step_seconds` the fastest. With
    `partner=(model, x, y)` (an already compiled baseline), its steps alternate with the
    model's, so that both meet the same load from other processes; the partner's fastest step
    is returned as `paired_baseline_best_step_seconds`.
    """
    start = time.perf_counter()
    model.train_on_batch(x, y)
    compile_seconds = time.perf_counter() - start
    times, partner_times = [], []
    with RssSampler() as sampler:
        begin = time.perf_counter()
        while len(times) < settings["max_steps"] and (
                len(times) < settings["min_steps"]
                or time.perf_counter() - begin < settings["min_seconds"]):
            seconds, loss = _timed_step(model, x, y)
            times.append(seconds)
            if partner is not None:
                partner_times.append(_timed_step(*partner)[0])
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss
    tokens = int((y != 0).sum())
    step = float(np.median(times))
    return {"compile_seconds": compile_seconds, "seconds": float(sum(times)), "steps": len(times),
            "step_seconds": step, "target_tokens_per_step": tokens,
            "target_tokens_per_second": tokens / step, "loss": float(loss),
            "best_step_seconds": float(min(times)), "peak_rss_mib": sampler.peak,
            "paired_baseline_best_step_seconds": float(min(partner_times)) if partner_times
            else None}


def bench_entry(name, settings, data, partner=None):
    """Build, compile and time one entry or baseline at the benchmark size.

    Returns:
        `(row, (model, x, y))`: the measurements and what `time_training` needs as a partner.
    """
    gc.collect()  # free the previous entry before measuring memory
    rss_before = rss_mib()
    keras.utils.set_random_seed(0)
    vocab = settings["vocab"]
    src, dec, tgt = data
    if name in BASELINES:
        kwargs = {"units": settings["units"], "embedding_dim": settings["embedding_dim"]}
        kind, family = kinds.get("seq2seq"), "plain keras"
        model = build_baseline(name, vocab, **kwargs)
    else:
        spec = zoo.get_spec(name)
        kind = kinds.get(spec.kind)
        if kind.synthetic_inputs(src, dec) is None:
            raise ValueError(f"`bench train` times entries that read token ids and decode; "
                             f"'{name}' is a {spec.kind} model.")
        kwargs, family = model_kwargs(name, settings), spec.family
        model = zoo.build(name, **kind.size_arguments(vocab), **kwargs)
    compile_model(model)
    x = kind.synthetic_inputs(src, dec)
    row = {"name": name, "kind": kind.name, "family": family, "baseline": name in BASELINES,
           "model_kwargs": kwargs, "parameters": model.count_params()}
    row.update(time_training(model, x, tgt, settings, partner))
    row["rss_increase_mib"] = row["peak_rss_mib"] - rss_before
    flops = None if not kind.decodes_sources else training_flops(name, *src.shape, tgt.shape[1], vocab,
                                                     **{**_entry_arguments(name), **kwargs})
    row["flops_per_step"] = flops
    row["achieved_flops_per_second"] = flops / row["best_step_seconds"] if flops else None
    return row, (model, x, tgt)


def _entry_arguments(name):
    """An entry's builder arguments: its defaults, and the arguments its variant fixes
    (`register_variant(fixed=...)`, e.g. `bidirectional`, which `defaults` leaves out)."""
    if name in BASELINES:
        return {}
    spec = zoo.get_spec(name)
    fixed = getattr(spec.builder, "variant_of", (None, {}))[1]
    return {**{k: v for k, v in spec.defaults.items() if k != "name"}, **fixed}


class MatmulPeak:
    """The FLOP/s of a compiled float32 `size`³ matmul via keras.ops, best of all `sample()`s.

    Sampled after every entry, so that the peak is the machine's when other jobs left it
    alone, not whatever the load was at one moment.
    """

    def __init__(self, size=1024):
        from keras import ops

        self.size, self.seconds, self.samples = size, float("inf"), 0
        fn = lambda a, b: ops.sum(ops.matmul(a, b))  # noqa: E731
        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            fn = tf.function(fn, jit_compile=True)
        elif backend == "jax":
            import jax

            fn = jax.jit(fn)
        self._fn = fn
        self._a = keras.random.normal((size, size), seed=1)
        self._b = keras.random.normal((size, size), seed=2)
        ops.convert_to_numpy(fn(self._a, self._b))  # compile

    def sample(self, repeats=3):
        for _ in range(repeats):
            start = time.perf_counter()
            keras.ops.convert_to_numpy(self._fn(self._a, self._b))
            self.seconds = min(self.seconds, time.perf_counter() - start)
            self.samples += 1
        return self

    def result(self):
        flops = 2 * self.size ** 3
        return {"size": self.size, "seconds": self.seconds, "samples": self.samples,
                "flops": flops, "flops_per_second": flops / self.seconds}


def bench_train(names=None, settings=None):
    """Time training of zoo entries and the two baselines; compute ratios and efficiency.

    Args:
        names: Entries to time (default: `default_entries()`); the baselines always run.
        settings: `FULL` (default) or `QUICK`, or a dict with the same keys.

    Returns:
        A dict: `settings`, `entries` (one row each, baselines first), `skipped`, `ratios`,
        `efficiency` and `memory`.
    """
    settings = dict(settings or FULL)
    names = list(names or default_entries())
    for name in names:
        zoo.get_spec(name)  # raises on an unknown name before anything is timed
    data = synthetic_batch(settings["batch_size"], settings["source_length"],
                           settings["target_length"], settings["vocab"])
    goals = ratio_goals(names)
    partner_of = {num: den for num, den, _ in goals}
    rows, partners = {}, {}
    peak = MatmulPeak(settings["matmul_size"]).sample()
    for name in list(BASELINES) + [n for n in names if n not in BASELINES]:
        partner = partners.get(partner_of.get(name))
        rows[name], compiled = bench_entry(name, settings, data, partner)
        if name in BASELINES:
            partners[name] = compiled
        del compiled
        peak.sample()
        r = rows[name]
        log.info("%-28s %9.0f target tokens/s  (%.1f ms/step, compile %.1fs, %.0f MiB)", name,
                 r["target_tokens_per_second"], 1000 * r["step_seconds"], r["compile_seconds"],
                 r["peak_rss_mib"])
    ratios = []
    for num, den, goal in goals:
        # fastest steps of the entry and of the baseline, whose steps alternated with its own:
        # other processes only ever add time, so the fastest step is the least disturbed
        # and the ratio of the two standalone medians (each entry's own timed steps)
        row = rows[num]
        value = row["paired_baseline_best_step_seconds"] / row["best_step_seconds"]
        standalone = rows[den]["step_seconds"] / row["step_seconds"]
        ratios.append(with_text({"name": f"{num} / {den}", "numerator": num, "denominator": den,
                       "value": value, "standalone_value": standalone, "goal": goal,
                       "pass": bool(value >= goal and standalone >= goal),
                       "best_step_seconds": row["best_step_seconds"],
                       "baseline_best_step_seconds": row["paired_baseline_best_step_seconds"],
                       "step_seconds": row["step_seconds"],
                       "baseline_step_seconds": rows[den]["step_seconds"]}))
    matmul = peak.result()
    efficiency = [{"name": n, "flops_per_step": rows[n]["flops_per_step"],
                   "best_step_seconds": rows[n]["best_step_seconds"],
                   "achieved_flops_per_second": rows[n]["achieved_flops_per_second"],
                   "fraction_of_matmul": rows[n]["achieved_flops_per_second"]
                   / matmul["flops_per_second"]}
                  for n in rows if rows[n]["flops_per_step"]]
    memory = {"entries": {n: {"peak_rss_mib": r["peak_rss_mib"],
                              "rss_increase_mib": r["rss_increase_mib"]} for n, r in rows.items()},
              "process_peak_rss_mib": peak_rss_mib()}
    return {"settings": settings, "entries": list(rows.values()),
            "skipped": {n: r for n, r in SKIPPED.items() if n not in names},
            "efficiency_entries": [n for n in EFFICIENCY_ENTRIES if n in rows],
            "ratios": ratios, "efficiency": {"matmul": matmul, "entries": efficiency},
            "memory": memory}
