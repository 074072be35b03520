"""Models must learn real sentences: a short fit drives the loss well below the unigram entropy.

The data are 2,000 real verse pairs of the shipped English-Spanish corpus (`translation`,
verses of at most 20 words, 1,000-piece WordPiece vocabularies). The unigram entropy of the
targets is what a decoder that ignores its inputs and its history can reach; before the
embedding initialisation was fixed, `luong_bilstm` stayed there (docs/ARCHITECTURE.md,
"Initialisation"). The verses are a seeded sample of the whole Bible.
"""

import collections
import math

import keras
import pytest

from keras_s2s.data import load_task
from keras_s2s.data.tokenizers import EOS_ID
from keras_s2s.data.translation import read_bible
from keras_s2s.training.recipe import build_for_task, compile_model

# name -> (model kwargs, learning rate, epochs, XLA). The Transformer trains as a TensorFlow
# graph: on this 2-core CPU its XLA step was 2.2x slower (21.8 s against 9.7 s an epoch) and
# its compile 10 s longer; the recurrent model is faster under XLA (13.0 s against 21.0 s).
MODELS = {
    "luong_bilstm": ({"units": 64, "embedding_dim": 64}, 5e-3, 2, True),
    "transformer_small": ({"hidden_dim": 64, "num_heads": 2, "intermediate_dim": 128,
                           "num_encoder_layers": 1, "num_decoder_layers": 1}, 2e-3, 2, False),
    # the modern families, in `make test-all` (extended: beyond make test's budget). Measured
    # here (seed 0): bart_small 5.66, 5.13; t5_small at 5e-3 5.93, 5.37, 5.15 (0.20 below the
    # entropy after 2 epochs, so it trains 3; at 2e-3 it was 6.22, 5.63 after 2)
    "bart_small": ({"hidden_dim": 64, "num_heads": 2, "intermediate_dim": 128,
                    "num_encoder_layers": 2, "num_decoder_layers": 2}, 2e-3, 2, False),
    "t5_small": ({"hidden_dim": 64, "num_heads": 2, "intermediate_dim": 128, "num_layers": 2},
                 5e-3, 3, False),
}
EXTENDED_MODELS = {"bart_small", "t5_small"}
# Nats below the unigram entropy after the last epoch, and the least fall in that epoch.
# Measured on these data (seed 0, 2-core CPU shared with another job), luong_bilstm at 5e-3:
# 5.60, 5.00, 4.61 with N(0, 1) embeddings (0.57 below the entropy of 5.57 after the 2
# epochs this test trains, still falling by 0.6 an epoch) and 5.74, 5.61, 5.56 with Keras'
# default uniform(±0.05) (0.04 above after 2 epochs), which this test rejects.
# transformer_small at 2e-3: 5.66, 5.15 (0.42 below after 2 epochs) with 2+2 blocks; with the
# 1+1 blocks this test trains (36 s alone; the 2+2 test took 113 s in a clean-clone make test
# beside the other worker), 5.64, 5.03.
# On verses of up to 30 words (this test's data before; 15% longer padded batches) the
# margins were smaller: 0.30 and 0.03 below after 4 epochs; `python scripts/init_collapse.py`
# records that comparison at 2e-3.
MARGIN = 0.3
LAST_FALL = 0.05


@pytest.fixture(scope="module")
def task():
    return load_task("translation", max_words=20, max_train_examples=2000,
                     vocabulary_size=1000)


def unigram_entropy(task):
    """Entropy (nats) of the training targets' token distribution, `</s>` included."""
    _, targets, _ = task.encode_pairs("train")
    counts = collections.Counter(t for row in targets for t in row + [EOS_ID])
    total = sum(counts.values())
    return -sum(c / total * math.log(c / total) for c in counts.values())


def test_the_data_are_real_sentences(task):
    sources, references = task.references("train")
    assert len(sources) == 2000
    books = {}
    for book, _, _, english, spanish in read_bible():
        books.setdefault((english, spanish), book)
    # real verse pairs, sampled from many books, at most 30 source words
    assert all((s, r[0]) in books for s, r in zip(sources, references))
    assert len({books[(s, r[0])] for s, r in zip(sources, references)}) > 40
    assert max(len(s.split()) for s in sources) <= 20
    assert 4.5 < unigram_entropy(task) < 6.5


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.extended)
                                  if n in EXTENDED_MODELS else n for n in sorted(MODELS)])
def test_short_fit_goes_well_below_the_unigram_entropy(task, name):
    kwargs, learning_rate, epochs, jit = MODELS[name]
    keras.utils.set_random_seed(0)
    model = build_for_task(name, task, **kwargs)
    compile_model(model, learning_rate=learning_rate, label_smoothing=0.0, jit=jit)
    # one padded shape: one compile
    history = model.fit(task.dataset("train", batch_size=32, bucket=False), epochs=epochs,
                        verbose=0)
    entropy = unigram_entropy(task)
    losses = history.history["loss"]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < entropy - MARGIN, (name, losses, entropy)
    assert losses[-2] - losses[-1] > LAST_FALL, (name, losses)  # still learning, no plateau


def test_attention_weights_get_a_usable_gradient_at_the_start(task):
    """The mechanism of the collapse: Luong's score weights must get gradients far above
    Adam's epsilon (1e-7) from the first step; with Keras' default embedding initialisation
    they got ~1e-9 per element, and the attention never left uniform."""
    import numpy as np
    import tensorflow as tf

    from keras_s2s.losses import MaskedSparseCategoricalCrossentropy

    keras.utils.set_random_seed(0)
    model = build_for_task("luong_bilstm", task, units=64, embedding_dim=64)
    inputs, targets = next(iter(task.dataset("train", batch_size=32, bucket=False)))
    with tf.GradientTape() as tape:
        loss = MaskedSparseCategoricalCrossentropy()(targets, model(inputs, training=True))
    kernel = model.get_layer("decoder").attention.memory_kernel
    (gradient,) = tape.gradient(loss, [kernel])
    rms = float(np.sqrt(np.mean(np.square(gradient.numpy()))))
    assert rms > 1e-6, rms
