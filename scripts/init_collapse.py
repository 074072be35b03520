"""Why sentence translation collapsed: the embedding initialisation, measured both ways.

    python scripts/init_collapse.py        # writes zoo/results/init_collapse.json

`luong_bilstm` (width 64) is fitted for 4 epochs on a seeded sample of 2,000 verse pairs of
`load_task("translation", max_words=30)` (1,000-piece vocabularies; the regression test in
`tests/test_learning_real_data.py` now uses verses of at most 20 words; batch 32,
Adam 2e-3, no label smoothing) twice: with the zoo's N(0, 1) token embeddings and with Keras'
default uniform(±0.05). For each it records the training loss per epoch, the target unigram
entropy, and the RMS gradient of the attention's score weights (`memory_kernel`) on the
first batch at initialisation, against Adam's epsilon (1e-7). One seed (0).
"""

import collections
import json
import math
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "zoo", "results", "init_collapse.json")


def measure(task, initializer, epochs=4):
    import tensorflow as tf

    from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
    from keras_s2s.training.recipe import build_for_task, compile_model
    from keras_s2s.zoo import _components

    original = _components.embedding_initializer
    if initializer == "keras_default_uniform_0.05":
        _components.embedding_initializer = (
            lambda *a, **k: keras.initializers.RandomUniform(-0.05, 0.05))
    try:
        keras.utils.set_random_seed(0)
        model = build_for_task("luong_bilstm", task, units=64, embedding_dim=64)
    finally:
        _components.embedding_initializer = original
    inputs, targets = next(iter(task.dataset("train", batch_size=32, bucket=False)))
    with tf.GradientTape() as tape:
        loss = MaskedSparseCategoricalCrossentropy()(targets, model(inputs, training=True))
    kernel = model.get_layer("decoder").attention.memory_kernel
    (gradient,) = tape.gradient(loss, [kernel])
    compile_model(model, learning_rate=2e-3, label_smoothing=0.0, jit=True)
    start = time.perf_counter()
    history = model.fit(task.dataset("train", batch_size=32, bucket=False), epochs=epochs,
                        verbose=2)
    return {"initializer": initializer,
            "attention_gradient_rms": float(np.sqrt(np.mean(np.square(gradient.numpy())))),
            "train_loss": [float(v) for v in history.history["loss"]],
            "seconds": time.perf_counter() - start}


def main():
    from keras_s2s.data import load_task
    from keras_s2s.data.tokenizers import EOS_ID

    task = load_task("translation", max_words=30, max_train_examples=2000,
                     vocabulary_size=1000)
    _, targets, _ = task.encode_pairs("train")
    counts = collections.Counter(t for row in targets for t in row + [EOS_ID])
    total = sum(counts.values())
    entropy = -sum(c / total * math.log(c / total) for c in counts.values())
    runs = [measure(task, name) for name in ("normal_1.0", "keras_default_uniform_0.05")]
    result = {"task": ("translation max_words=30, a seeded sample of 2000 training pairs, "
                       "vocabulary 1000"),
              "model": "luong_bilstm units=64 embedding_dim=64", "batch_size": 32,
              "learning_rate": 2e-3, "unigram_entropy": entropy, "adam_epsilon": 1e-7,
              "runs": runs, "load_average": os.getloadavg(), "seed": 0}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(result, f, indent=2)
    for run in runs:
        print(f"{run['initializer']:28s} grad rms {run['attention_gradient_rms']:.2e}  "
              f"loss {', '.join(f'{v:.2f}' for v in run['train_loss'])}  "
              f"(unigram entropy {entropy:.2f})")


if __name__ == "__main__":
    main()
