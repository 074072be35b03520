"""Time XLA training and compiled decoding on whatever accelerator Keras sees.

Usage: KERAS_BACKEND=jax python scripts/gpu_check.py --out results.json [--quick]

Trains `luong_bilstm` and `transformer_small` (default sizes) on generated reversal batches
with `model.fit(jit_compile=True)` and reports target tokens/s at two batch sizes, then runs
`keras_s2s.bench.bench_decode` and `bench_cache` (cached vs uncached Transformer decoding).
`--only rnn|transformer` runs one part. The numbers in docs/PERFORMANCE.md come from it.
"""

import argparse
import json
import logging
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_s2s import bench, losses, metrics, zoo  # noqa: E402
from keras_s2s.demo import reversal_pairs  # noqa: E402


def train_throughput(batch_size, steps, vocab=64, max_len=12, model_name="luong_bilstm"):
    keras.utils.set_random_seed(0)
    src, dec, tgt = reversal_pairs(batch_size * steps, vocab_size=vocab, min_len=max_len,
                                   max_len=max_len, seed=0)
    model = zoo.build(model_name, source_vocab_size=vocab, target_vocab_size=vocab)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  loss=losses.MaskedSparseCategoricalCrossentropy(label_smoothing=0.1),
                  metrics=[metrics.MaskedAccuracy()], jit_compile=True)
    x = {"encoder_token_ids": src, "decoder_token_ids": dec}
    start = time.perf_counter()
    model.fit(x, tgt, batch_size=batch_size, epochs=1, steps_per_epoch=2, verbose=0)
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    history = model.fit(x, tgt, batch_size=batch_size, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    tokens = int((tgt != 0).sum())
    return {"model": model_name, "batch_size": batch_size, "steps": steps, "first_fit_seconds": compile_seconds,
            "seconds": seconds, "target_tokens_per_second": tokens / seconds,
            "final_loss": float(history.history["loss"][-1])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="gpu_check.json")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["rnn", "transformer"], help="one part only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    info = {"backend": keras.backend.backend(), "machine": platform.machine()}
    if keras.backend.backend() == "jax":
        import jax

        info["devices"] = [str(d) for d in jax.devices()]
    print(info, flush=True)
    steps = 5 if args.quick else 50
    if args.only != "transformer":
        info["train"] = [train_throughput(b, steps) for b in ((16,) if args.quick else (64, 256))]
        for row in info["train"]:
            print("train", row, flush=True)
        info["decode"] = bench.bench_decode(num_sources=32 if args.quick else 1024,
                                            tutorial_sources=2 if args.quick else 4,
                                            batch_size=32 if args.quick else 256)
        print("decode", info["decode"], flush=True)
    if args.only != "rnn":
        info["transformer_train"] = [
            train_throughput(b, steps, model_name="transformer_small")
            for b in ((16,) if args.quick else (64, 256))]
        for row in info["transformer_train"]:
            print("transformer train", row, flush=True)
        info["transformer_cache"] = bench.bench_cache(batch_size=4 if args.quick else 32,
                                                      max_length=16 if args.quick else 64)
        print("transformer cache", info["transformer_cache"], flush=True)
    with open(args.out, "w") as f:
        json.dump(info, f, indent=2)


if __name__ == "__main__":
    main()
