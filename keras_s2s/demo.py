"""`keras-s2s demo`: the main job, small enough for a laptop CPU.

Trains the zoo's `luong_bilstm` on a generated sequence-reversal task with `model.fit`
(XLA-compiled), prints held-out accuracy and sample decodes, and writes TensorBoard logs.
"""

import logging

import keras
import numpy as np

from keras_s2s import losses, metrics, zoo

log = logging.getLogger("keras_s2s")

PAD, BOS, EOS, FIRST = 0, 2, 3, 4


def reversal_pairs(n, vocab_size=14, min_len=3, max_len=10, seed=0):
    """Random token sequences and their reversals, padded, with `<s>`/`</s>` on the target."""
    rng = np.random.default_rng(seed)
    src = np.zeros((n, max_len), "int32")
    dec = np.zeros((n, max_len + 1), "int32")
    tgt = np.zeros((n, max_len + 1), "int32")
    for k in range(n):
        length = rng.integers(min_len, max_len + 1)
        seq = rng.integers(FIRST, vocab_size, size=length)
        src[k, :length] = seq
        dec[k, 0], dec[k, 1:length + 1] = BOS, seq[::-1]
        tgt[k, :length], tgt[k, length] = seq[::-1], EOS
    return src, dec, tgt


def greedy(model, src, max_len):
    dec = np.full((len(src), 1), BOS, "int32")
    for _ in range(max_len):
        logits = model.predict({"encoder_token_ids": src, "decoder_token_ids": dec}, verbose=0)
        dec = np.concatenate([dec, logits[:, -1:].argmax(-1).astype("int32")], axis=1)
    return dec[:, 1:]


def run(logdir="logs/demo", epochs=8, seed=0, vocab_size=14):
    keras.utils.set_random_seed(seed)
    train = reversal_pairs(4096, vocab_size, seed=seed)
    test = reversal_pairs(256, vocab_size, seed=seed + 1)
    model = zoo.build("luong_bilstm", source_vocab_size=vocab_size,
                      target_vocab_size=vocab_size, embedding_dim=32, units=64)
    model.compile(optimizer=keras.optimizers.Adam(3e-3, clipnorm=1.0),
                  loss=losses.MaskedSparseCategoricalCrossentropy(label_smoothing=0.05),
                  metrics=[metrics.MaskedAccuracy()], jit_compile=True)
    model.summary(print_fn=log.info)
    model.fit({"encoder_token_ids": train[0], "decoder_token_ids": train[1]}, train[2],
              batch_size=64, epochs=epochs,
              validation_data=({"encoder_token_ids": test[0], "decoder_token_ids": test[1]},
                               test[2]),
              callbacks=[keras.callbacks.TensorBoard(logdir)], verbose=2)
    hyp = greedy(model, test[0], test[2].shape[1])
    real = test[2] != PAD
    token_acc = float((hyp == test[2])[real].mean())
    seq_acc = float(np.all((hyp == test[2]) | ~real, axis=1).mean())
    log.info("held-out greedy token accuracy %.3f, sequence accuracy %.3f", token_acc, seq_acc)
    for k in range(5):
        n = int((test[0][k] != PAD).sum())
        log.info("  source %s -> decoded %s", test[0][k, :n].tolist(), hyp[k, :n].tolist())
    log.info("TensorBoard logs in %s (tensorboard --logdir %s)", logdir, logdir)
    return {"token_accuracy": token_acc, "sequence_accuracy": seq_acc}
