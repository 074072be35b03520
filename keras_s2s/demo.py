"""`keras-s2s demo` (what `make demo` runs): the main job in a few minutes of CPU.

Trains the zoo's `location_bilstm` (`luong_bilstm` with location-sensitive attention: 37.6%
test WER against 41.2% in the equal-budget G2P table of zoo/RESULTS.md, at these settings but
4 epochs) on the default `g2p` task (CMUdict; a subset of the training words, sized for a
2-core CPU) with `model.fit(jit_compile=True)`, logs scalars, attention images and sample
decodes to TensorBoard, then prints test PER/WER with greedy and beam search, a table of
sample words, and writes an attention PNG.
"""

import json
import logging
import os

import numpy as np

from keras_s2s import kinds
from keras_s2s.constants import BOS_ID, EOS_ID, NUM_SPECIAL_TOKENS
from keras_s2s.data import load_task
from keras_s2s.data.g2p import read_cmudict
from keras_s2s.decoding import decode
from keras_s2s.evaluation import evaluate
from keras_s2s.plots import plot_attention
from keras_s2s.training import recipe
from keras_s2s.training.rundir import RunDirectory

log = logging.getLogger("keras_s2s")

MODEL = "location_bilstm"
MODEL_KWARGS = {"embedding_dim": 64, "units": 128, "dropout": 0.1}
SAMPLE_WORDS = ["keras", "tensor", "sequence", "attention", "pronunciation", "zebra"]


def reversal_pairs(n, vocab_size=14, min_len=3, max_len=10, seed=0):
    """Random token sequences and their reversals as arrays (used by tests and benchmarks).

    Returns:
        `(source_ids, decoder_input_ids, target_ids)`, int32, padded with 0; the decoder input
        starts with `<s>` (2) and the target ends with `</s>` (3).
    """
    rng = np.random.default_rng(seed)
    src = np.zeros((n, max_len), "int32")
    dec = np.zeros((n, max_len + 1), "int32")
    tgt = np.zeros((n, max_len + 1), "int32")
    for k in range(n):
        length = rng.integers(min_len, max_len + 1)
        seq = rng.integers(NUM_SPECIAL_TOKENS, vocab_size, size=length)
        src[k, :length] = seq
        dec[k, 0], dec[k, 1:length + 1] = BOS_ID, seq[::-1]
        tgt[k, :length], tgt[k, length] = seq[::-1], EOS_ID
    return src, dec, tgt


#: marks the runs the demo writes, so that `make demo` may replace its own earlier run
WRITTEN_BY = "keras-s2s demo"


def _replaces_only_a_demo(out):
    """Whether every run found at `out` (published, or an interrupted training) is the demo's
    own: then the demo may overwrite it. Anything else is left to `train`'s refusal."""
    run = RunDirectory(out)
    found = [os.path.join(d, "config.json") for d in (run.path, run.work)
             if os.path.exists(os.path.join(d, "config.json"))]
    if not found:
        return os.path.isdir(run.work)  # a demo training stopped before writing its config
    for path in found:
        try:
            with open(path, encoding="utf-8") as f:
                task = json.load(f).get("task", {})
        except (OSError, ValueError, AttributeError):
            return False
        if not isinstance(task, dict) or task.get("written_by") != WRITTEN_BY:
            return False
    return True


def run(logdir="logs/demo", out="runs/demo", epochs=5, seed=0, max_train_words=40000):
    task = load_task("g2p", seed=0, max_train_words=max_train_words)
    log.info(task.summary())
    config = recipe.train(MODEL, task, out, epochs=epochs, batch_size=64,
                          learning_rate=3e-3, label_smoothing=0.1, model_kwargs=MODEL_KWARGS,
                          seed=seed, log_dir=logdir, metric="per", max_eval_examples=500,
                          task_spec={"name": "g2p", "options": {"max_train_words": max_train_words},
                                     "written_by": WRITTEN_BY},
                          overwrite=_replaces_only_a_demo(out), verbose=2)
    model, _, _, _ = recipe.load_run(out)  # the best epoch by validation PER
    rows = {}
    for method, kwargs in (("greedy", {}), ("beam", {"beam_width": 5})):
        scores, _ = evaluate(model, task, "test", method, verbose=False, **kwargs)
        rows[method] = scores
    print()
    print(f"{MODEL} on CMUdict G2P ({len(task.splits['train'])} training words, "
          f"{config['results']['epochs_run']} epochs, {config['results']['seconds']:.0f}s of "
          f"training, {config['parameters']:,} parameters)")
    print(f"{'test split':<14} {'PER':>7} {'WER':>7}  ({rows['greedy']['examples']} words)")
    for method, scores in rows.items():
        label = "greedy" if method == "greedy" else "beam (5)"
        print(f"{label:<14} {100 * scores['per']:>6.1f}% {100 * scores['wer']:>6.1f}%")
    print()
    result = decode(model, SAMPLE_WORDS, "beam", beam_width=5, task=task,
                    return_alignments=True, verbose=False)
    entries = read_cmudict()
    print(f"{'word':<15} {'predicted (beam 5)':<32} CMUdict")
    for word, texts in zip(SAMPLE_WORDS, result.texts):
        reference = " / ".join(entries.get(word, ("(not in CMUdict)",)))
        print(f"{word:<15} {texts[0]:<32} {reference}")
    png = os.path.join(logdir, "attention_pronunciation.png")
    os.makedirs(logdir, exist_ok=True)
    i = SAMPLE_WORDS.index("pronunciation")
    n = result.lengths[i, 0]
    labels, weights = kinds.get("seq2seq").attention_rows(task, result.token_ids[i, 0, :n],
                                                          result.alignments[i, 0])
    plot_attention(weights, list("pronunciation"), labels, title="pronunciation", path=png)
    print()
    print(f"model and tokenizers: {out}/  (echo word | keras-s2s decode {out} --beam 5)")
    print(f"attention plot:       {png}")
    print(f"TensorBoard:          tensorboard --logdir {logdir}   "
          "(then open http://localhost:6006)")
    return rows
