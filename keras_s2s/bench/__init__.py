"""Benchmarks behind `keras-s2s bench`: measured, repeatable numbers, never part of the tests.

- `decode`: `bench_decode` (batched compiled greedy and beam against the keras.io-style loop)
  and `bench_cache` (a Transformer's cached greedy against re-running the whole model);
- `train`: `bench_train` (training throughput of zoo entries against plain-Keras baselines,
  FLOP efficiency, memory);
- `flops`: analytic FLOP counts of a training step (pure Python);
- `suite`: `run_suite` and `format_suite`, the three together (`keras-s2s bench all`);
- `defaults`: every default size and setting of the above, in one place (pure Python).

The names below load their module on first use (PEP 562), so `keras_s2s.bench.defaults` and
`keras_s2s.bench.flops` can be read without loading Keras.
"""

import importlib

_EXPORTS = {
    "bench_decode": "decode", "bench_cache": "decode", "uncached_greedy_fn": "decode",
    "bench_train": "train", "build_baseline": "train", "synthetic_batch": "train",
    "training_flops": "flops",
    "run_suite": "suite", "format_suite": "suite", "environment": "suite",
    "suite_model": "suite", "run_settings": "suite",
    "SUITE_SETTINGS": "defaults", "DECODE_GOAL": "defaults", "CACHE_GOAL": "defaults", "BEAM_COST_GOAL": "defaults",
    "EFFICIENCY_GOAL": "defaults",
}
_SUBMODULES = ("decode", "defaults", "flops", "suite", "train")

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"keras_s2s.bench.{name}")
    elif name in _EXPORTS:
        module = getattr(importlib.import_module(f"keras_s2s.bench.{_EXPORTS[name]}"), name)
    else:
        raise AttributeError(f"module 'keras_s2s.bench' has no attribute '{name}'")
    globals()[name] = module
    return module


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS) + list(_SUBMODULES))
