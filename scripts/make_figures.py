"""Reproduce three classic seq2seq findings in miniature: PNGs and `figures.json` in `zoo/figures/`.

1. `bahdanau_fig2.png`: Bahdanau et al. 2015, figure 2. Accuracy against source length on
   `copy` for RNNencdec (`vanilla_gru`, no attention) and RNNsearch (`bahdanau_gru`, the
   paper's model), and for a bidirectional LSTM with Luong-ordered additive attention
   (`luong_concat_bilstm`); same sizes, same training.
2. `sutskever_reversal.png`: Sutskever et al. 2014. A 2-layer `sutskever` LSTM reading the
   source reversed or not: validation learning curves and test accuracy against length.
3. `luong_scores.png`: Luong et al. 2015. `luong_lstm` with the dot, general and concat scores,
   each with and without input feeding, on a CMUdict G2P subset: test PER and WER.

Every model is built, trained and scored through the public API: one fixed seed per model, the
same budget for the models a figure compares, the epoch kept by a validation metric, and the
reported numbers from the test split. `figures.json` holds, per figure, the PNG name, a title,
a caption written from the measured numbers, the command, and the plotted numbers.

    python scripts/make_figures.py            # all three: 15.4 min wall, 11.9 CPU min, on a
                                              # shared 2-core machine (TensorFlow, CPU)
    python scripts/make_figures.py --quick    # a ~1-minute smoke run into a temporary folder
    python scripts/make_figures.py --only luong_scores
    python scripts/make_figures.py --captions-only   # rewrite captions from figures.json
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIGURES_DIR = os.path.join(ROOT, "zoo", "figures")
COMMAND = "python scripts/make_figures.py"
SEED = 0
FIGURES = ("bahdanau_fig2", "sutskever_reversal", "luong_scores")

# Defaults (about 20 CPU minutes in all on 2 cores); --quick shrinks everything.
SETTINGS = {
    "bahdanau_fig2": dict(
        task=dict(name="copy", min_length=5, max_length=50, num_train=6000,
                  num_validation=300, num_test=1000),
        models={"RNNencdec (vanilla_gru, no attention)": ("vanilla_gru", {}),
                "RNNsearch (bahdanau_gru)": ("bahdanau_gru", {}),
                "Luong order (luong_concat_bilstm)": ("luong_concat_bilstm", {})},
        model=dict(embedding_dim=32, units=64, dropout=0.0),
        epochs=10, batch_size=64, learning_rate=3e-3, bucket_edges=list(range(5, 50, 5)) + [51]),
    "sutskever_reversal": dict(
        task=dict(name="copy", min_length=5, max_length=20, num_train=4000,
                  num_validation=300, num_test=600),
        models={"reversed source": ("sutskever", {"reverse_source": True}),
                "source in order": ("sutskever", {"reverse_source": False})},
        model=dict(embedding_dim=32, units=64, num_layers=2, dropout=0.0),
        epochs=10, batch_size=64, learning_rate=3e-3, bucket_edges=[5, 8, 11, 14, 17, 21]),
    "luong_scores": dict(
        task=dict(name="g2p", max_train_words=8000),
        models={f"{score}, {'input feeding' if feed else 'no input feeding'}":
                ("luong_lstm", {"score": score, "input_feeding": feed})
                for score in ("dot", "general", "concat") for feed in (True, False)},
        model=dict(embedding_dim=32, units=64, dropout=0.1),
        epochs=8, batch_size=64, learning_rate=3e-3, validation_examples=500,
        test_examples=None),
}
QUICK = {
    "bahdanau_fig2": dict(
        task=dict(name="copy", min_length=3, max_length=10, num_train=256, num_validation=40,
                  num_test=80),
        model=dict(embedding_dim=8, units=8, dropout=0.0), epochs=1,
        bucket_edges=[3, 6, 9, 12]),
    "sutskever_reversal": dict(
        task=dict(name="copy", min_length=3, max_length=8, num_train=256, num_validation=40,
                  num_test=80),
        model=dict(embedding_dim=8, units=8, num_layers=2, dropout=0.0), epochs=2,
        bucket_edges=[3, 6, 9]),
    "luong_scores": dict(
        task=dict(name="g2p", max_train_words=256), model=dict(embedding_dim=8, units=8),
        epochs=1, validation_examples=40, test_examples=80),
}


# ---------------------------------------------------------------------------- pure helpers
def by_length(lengths, hits, totals, edges):
    """Group examples by length and return each group's rate `sum(hits) / sum(totals)`.

    Args:
        lengths: Length of each example.
        hits: What each example got right (1/0 for a whole sequence, or a token count).
        totals: What each example could get right (1 per sequence, or its token count).
        edges: Increasing bucket edges; bucket `i` holds lengths in `[edges[i], edges[i+1])`.
            Lengths outside `[edges[0], edges[-1])` are left out.

    Returns:
        One dict per bucket: `{"lengths": [lo, hi], "examples": n, "value": rate}`, where `hi`
        is the last length inside the bucket and `value` is None for an empty bucket.

    Example:

    >>> by_length([3, 4, 7], [1, 0, 1], [1, 1, 1], [3, 5, 8])
    [{'lengths': [3, 4], 'examples': 2, 'value': 0.5}, {'lengths': [5, 7], 'examples': 1, 'value': 1.0}]
    """
    lengths, hits, totals = (np.asarray(a) for a in (lengths, hits, totals))
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (lengths >= lo) & (lengths < hi)
        total = float(totals[inside].sum())
        out.append({"lengths": [int(lo), int(hi) - 1], "examples": int(inside.sum()),
                    "value": float(hits[inside].sum()) / total if total else None})
    return out


def teacher_forced(model, arrays, batch_size=256):
    """Score a seq2seq model with teacher forcing on padded arrays (see `split_arrays`).

    A sequence counts as right when the most probable token is right at every position given
    the correct tokens before it; exactly then does greedy decoding output that sequence.

    Returns:
        `(sequence_right, right, real)`: per example, whether the whole sequence is right; and
        two bool arrays `(examples, positions)`: whether the most probable token is right at
        each target position, and whether the position holds a real token (`</s>` included).
    """
    inputs, labels = arrays
    predicted = []
    for start in range(0, len(labels), batch_size):
        batch = {k: v[start:start + batch_size] for k, v in inputs.items()}
        predicted.append(np.argmax(np.asarray(model.predict_on_batch(batch)), axis=-1))
    predicted = np.concatenate(predicted)
    real = labels != 0
    right = (predicted == labels) & real
    return (right | ~real).all(axis=1), right, real


def split_arrays(task, split):
    """A split as padded NumPy arrays `({"encoder_token_ids", "decoder_token_ids"}, labels)`,
    in the split's order (one row per pair), from the task's own unbucketed pipeline."""
    inputs, labels = {"encoder_token_ids": [], "decoder_token_ids": []}, []
    for x, y in task.dataset(split, batch_size=256, bucket=False, shuffle=False).as_numpy_iterator():
        keep = y.any(axis=1)  # not the all-padding filler rows
        for key in inputs:
            inputs[key].append(x[key][keep])
        labels.append(y[keep])
    return {k: np.concatenate(v) for k, v in inputs.items()}, np.concatenate(labels)


def source_lengths(arrays):
    """Source length of each row of `split_arrays` output, in tokens."""
    return (arrays[0]["encoder_token_ids"] != 0).sum(axis=1)


# ---------------------------------------------------------------------------- training
def train(name, kwargs, task, settings, validate, *, jit, eager):
    """Build a zoo entry under the fixed seed, train it, keep the best validation epoch.

    `validate(model)` returns `(score, values)`: the score selects the epoch (higher is
    better) and `values` is recorded for the learning curve. The model comes back with the
    weights of its best epoch.

    Returns:
        `(model, history, best_epoch, seconds)`; `history` is one `values` dict per epoch.
    """
    import keras

    from keras_s2s.training import recipe

    keras.utils.set_random_seed(SEED)
    model = recipe.build_for_task(name, task, **settings["model"], **kwargs)
    recipe.compile_model(model, learning_rate=settings["learning_rate"], jit=jit)
    model.run_eagerly = eager
    history, best = [], {"score": -np.inf}

    def on_epoch_end(epoch, logs=None):
        score, values = validate(model)
        history.append(values)
        if score > best["score"]:
            best.update(score=score, epoch=epoch + 1, weights=model.get_weights())

    start = time.perf_counter()
    model.fit(task.dataset("train", batch_size=settings["batch_size"], seed=SEED),
              epochs=settings["epochs"], verbose=0, shuffle=False,
              callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)])
    model.set_weights(best["weights"])
    return model, history, best["epoch"], time.perf_counter() - start


def load(spec):
    from keras_s2s.data import load_task

    options = dict(spec)
    return load_task(options.pop("name"), seed=SEED, **options)


def length_experiment(settings, *, jit, eager, log):
    """Train each model of a figure on a synthetic task; validation sequence accuracy selects
    the epoch; test accuracy (sequence and token, teacher-forced) by source length."""
    task = load(settings["task"])
    validation, test = split_arrays(task, "validation"), split_arrays(task, "test")
    lengths = source_lengths(test)
    edges = settings["bucket_edges"]
    results = {}
    for label, (name, kwargs) in settings["models"].items():
        def validate(model):
            seq, right, real = teacher_forced(model, validation)
            values = {"sequence_accuracy": float(seq.mean()),
                      "token_accuracy": float(right.sum() / real.sum())}
            return values["sequence_accuracy"] + 1e-3 * values["token_accuracy"], values

        model, history, best_epoch, seconds = train(name, kwargs, task, settings, validate,
                                                    jit=jit, eager=eager)
        seq, right, real = teacher_forced(model, test)
        tok, n = right.sum(axis=1), real.sum(axis=1)
        results[label] = {
            "model": name, "kwargs": kwargs, "parameters": int(model.count_params()),
            "best_epoch": best_epoch, "train_seconds": round(seconds, 1),
            "validation": history,
            "test": {"sequence_accuracy": float(seq.mean()),
                     "token_accuracy": float(tok.sum() / n.sum()),
                     "sequence_accuracy_by_length": by_length(lengths, seq, np.ones_like(n), edges),
                     "token_accuracy_by_length": by_length(lengths, tok, n, edges),
                     "token_accuracy_by_position": [
                         float(h / t) if t else None
                         for h, t in zip(right.sum(axis=0), real.sum(axis=0))]}}
        log(f"  {label:<30} {model.count_params():>7,} params, best epoch {best_epoch}, "
            f"{seconds:.0f}s; test sequence accuracy {seq.mean():.3f}, "
            f"token accuracy {tok.sum() / n.sum():.3f}")
    return {"models": results, "test_examples": int(len(lengths))}


def scores_experiment(settings, *, jit, eager, log):
    """The six Luong variants on G2P: validation PER (greedy) selects the epoch; test PER and
    WER (greedy, against all CMUdict pronunciations)."""
    from keras_s2s.evaluation import evaluate

    task = load(settings["task"])
    results = {}
    for label, (name, kwargs) in settings["models"].items():
        def validate(model):
            scores, _ = evaluate(model, task, "validation", metrics=["per", "wer"],
                                 max_examples=settings["validation_examples"], verbose=False,
                                 jit=jit)
            return -scores["per"], {"per": scores["per"], "wer": scores["wer"]}

        model, history, best_epoch, seconds = train(name, kwargs, task, settings, validate,
                                                    jit=jit, eager=eager)
        scores, _ = evaluate(model, task, "test", metrics=["per", "wer"],
                             max_examples=settings["test_examples"], verbose=False, jit=jit)
        results[label] = {
            "model": name, "kwargs": kwargs, "parameters": int(model.count_params()),
            "best_epoch": best_epoch, "train_seconds": round(seconds, 1), "validation": history,
            "test": {"per": scores["per"], "wer": scores["wer"]}}
        log(f"  {label:<30} {model.count_params():>7,} params, best epoch {best_epoch}, "
            f"{seconds:.0f}s; test PER {scores['per']:.3f}, WER {scores['wer']:.3f}")
    return {"models": results, "test_examples": int(scores["examples"]),
            "train_words": len(task.splits["train"])}


# ---------------------------------------------------------------------------- plots
def _figure(width, height, panels):
    """A matplotlib figure on its own Agg canvas (the global backend is never touched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig, [fig.add_subplot(1, panels, i + 1) for i in range(panels)]


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, format="png")


def _centres(buckets):
    return [(b["lengths"][0] + b["lengths"][1]) / 2 for b in buckets]


def _values(buckets):
    return [np.nan if b["value"] is None else b["value"] for b in buckets]


def plot_length(numbers, title, path, curves=False):
    """Accuracy against source length (and, with `curves`, validation learning curves)."""
    fig, axes = _figure(16 if curves else 11, 4.2, 3 if curves else 2)
    models = numbers["models"]
    if curves:
        ax = axes[0]
        for i, (label, r) in enumerate(models.items()):
            epochs = range(1, len(r["validation"]) + 1)
            ax.plot(epochs, [v["token_accuracy"] for v in r["validation"]], marker="o",
                    color=f"C{i}", label=f"{label}: token accuracy")
            ax.plot(epochs, [v["sequence_accuracy"] for v in r["validation"]], marker="s",
                    color=f"C{i}", linestyle="--", label=f"{label}: sequence accuracy")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy (teacher-forced)")
        ax.set_title("learning curves")
        panels = [(axes[1], "sequence_accuracy_by_length", "o-", "test sequence accuracy")]
        ax = axes[2]
        for label, r in models.items():
            accuracy = r["test"]["token_accuracy_by_position"]
            ax.plot(range(1, len(accuracy) + 1), [np.nan if a is None else a for a in accuracy],
                    marker="o", markersize=3, label=label)
        ax.set_xlabel("output position t (</s> included)")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("test token accuracy at t (teacher-forced)")
    else:
        panels = [(axes[0], "sequence_accuracy_by_length", "o-", "test sequence accuracy"),
                  (axes[1], "token_accuracy_by_length", "o-", "test token accuracy (teacher-forced)")]
    for ax, key, style, ylabel in panels:
        for label, r in models.items():
            buckets = r["test"][key]
            ax.plot(_centres(buckets), _values(buckets), style, label=label)
        ax.set_xlabel("source length (tokens, bucket centres)")
        ax.set_ylabel(ylabel)
    for ax in axes:
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


def plot_scores(numbers, title, path):
    """Test PER and WER bars for the six Luong variants, and validation PER curves."""
    fig, (bars, curves) = _figure(12, 4.4, 2)
    models = numbers["models"]
    labels = list(models)
    x = np.arange(len(labels))
    for offset, key, name in ((-0.2, "per", "PER"), (0.2, "wer", "WER")):
        values = [models[k]["test"][key] for k in labels]
        rects = bars.bar(x + offset, values, width=0.4, label=f"test {name}")
        bars.bar_label(rects, fmt="%.3f", fontsize=7)
    short = [k.replace(", no input feeding", "\nno feeding").replace(", input feeding", "\nfeeding")
             for k in labels]
    bars.set_xticks(x, labels=short, fontsize=8)
    bars.set_ylabel("error rate (lower is better)")
    bars.set_title("test split, greedy decoding")
    bars.legend(fontsize=8)
    for i, label in enumerate(labels):
        history = models[label]["validation"]
        curves.plot(range(1, len(history) + 1), [h["per"] for h in history], marker="o",
                    color=f"C{i // 2}", linestyle="--" if "no input" in label else "-",
                    label=label)
    curves.xaxis.get_major_locator().set_params(integer=True)
    curves.set_xlabel("epoch")
    curves.set_ylabel("validation PER (greedy)")
    curves.set_title("learning curves")
    curves.grid(alpha=0.3)
    curves.legend(fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


# ---------------------------------------------------------------------------- captions
def _pct(v):
    return "n/a" if v is None else f"{100 * v:.0f}%"


def _bucket_phrase(buckets, i):
    b = buckets[i]
    return f"{_pct(b['value'])} at lengths {b['lengths'][0]}–{b['lengths'][1]}"


def _nonempty(buckets):
    return [i for i, b in enumerate(buckets) if b["examples"]]


def caption_bahdanau(numbers, s):
    t, m = s["task"], s["model"]
    (plain_label, plain), *attentive = numbers["models"].items()
    pb = plain["test"]["sequence_accuracy_by_length"]
    idx = _nonempty(pb)
    first, last = idx[0], idx[-1]
    described = [f"`{plain['model']}` (RNNencdec: no attention, {plain['parameters']:,} "
                 "parameters)"]
    described += [f"`{r['model']}` ({label.split(' (')[0]}, {r['parameters']:,} parameters)"
                  for label, r in attentive]
    setup = (f"{', '.join(described[:-1])} and {described[-1]}, all with "
             f"embedding_dim={m['embedding_dim']}, units={m['units']}, dropout "
             f"{m['dropout']}, trained identically on the `copy` task ({t['num_train']:,} random "
             f"strings of {t['min_length']}–{t['max_length']} symbols from 10 letters) for "
             f"{s['epochs']} epochs (Adam {s['learning_rate']:g}, batch {s['batch_size']}, "
             f"label smoothing 0.1, seed {SEED}); the epoch with the best validation sequence "
             f"accuracy ({t['num_validation']} strings) is kept. Scored on "
             f"{numbers['test_examples']:,} test strings, grouped by source length: sequence "
             "accuracy under teacher forcing (equal to greedy exact match) and token accuracy "
             "under teacher forcing. RNNsearch is the paper's decoder: the previous state "
             "queries the memory, the context enters the GRU with the previous token, and a "
             "maxout reads the new state, the token and the context; the Luong-ordered model "
             "queries with the new state and feeds its attentional vector to the next step.")
    shows = (f" Without attention, sequence accuracy goes from {_bucket_phrase(pb, first)} to "
             f"{_bucket_phrase(pb, last)} (overall {_pct(plain['test']['sequence_accuracy'])})")
    reproduced = True
    for label, r in attentive:
        ab = r["test"]["sequence_accuracy_by_length"]
        shows += (f"; `{r['model']}` is at {_bucket_phrase(ab, first)} and "
                  f"{_bucket_phrase(ab, last)} (overall {_pct(r['test']['sequence_accuracy'])})")
        reproduced = reproduced and (ab[last]["value"] or 0) >= (pb[last]["value"] or 0) + 0.3
    shows += "."
    reproduced = reproduced and (pb[first]["value"] or 0) - (pb[last]["value"] or 0) >= 0.3
    verdict = (" The finding reproduces: the fixed-vector model degrades with length and the "
               "attention models hold up (one run, one seed per model)." if reproduced else
               " By the criterion used here (the model without attention falling by at least "
               "30 points from the shortest to the longest bucket and each attention model at "
               "least 30 points above it there) the finding does not reproduce at this size "
               "(one run, one seed per model).")
    return "Bahdanau et al. 2015, figure 2 in miniature. " + setup + shows + verdict


def caption_sutskever(numbers, s):
    t, m = s["task"], s["model"]
    (rev_label, rev), (fwd_label, fwd) = numbers["models"].items()
    setup = (f"`sutskever` (num_layers={m['num_layers']}, embedding_dim={m['embedding_dim']}, "
             f"units={m['units']}, dropout {m['dropout']}, no attention, {rev['parameters']:,} "
             f"parameters) with reverse_source=True vs False, trained identically on `copy` "
             f"({t['num_train']:,} strings of {t['min_length']}–{t['max_length']} symbols) for "
             f"{s['epochs']} epochs (Adam {s['learning_rate']:g}, batch {s['batch_size']}, label "
             f"smoothing 0.1, seed {SEED}). Left: validation token and sequence accuracy (teacher-forced, "
             f"{t['num_validation']} strings) after each epoch. Middle and right, at the epoch "
             f"with the best validation sequence accuracy: test sequence accuracy "
             f"({numbers['test_examples']} strings) by source length, and test token accuracy "
             "(teacher-forced) by output position.")
    rt, ft = rev["test"], fwd["test"]
    rv, fv = rev["validation"], fwd["validation"]
    shows = (f" Test sequence accuracy: reversed {_pct(rt['sequence_accuracy'])} vs in order "
             f"{_pct(ft['sequence_accuracy'])}; test token accuracy {_pct(rt['token_accuracy'])} "
             f"vs {_pct(ft['token_accuracy'])}. Validation token accuracy after epoch 1: "
             f"{_pct(rv[0]['token_accuracy'])} vs {_pct(fv[0]['token_accuracy'])}; after the last "
             f"epoch: {_pct(rv[-1]['token_accuracy'])} vs {_pct(fv[-1]['token_accuracy'])}.")

    def mean(values):
        values = [v for v in values if v is not None]
        return sum(values) / len(values) if values else None

    rp, fp = rt["token_accuracy_by_position"], ft["token_accuracy_by_position"]
    shows += (f" Test token accuracy averaged over output positions 1–5: {_pct(mean(rp[:5]))} vs "
              f"{_pct(mean(fp[:5]))}; over positions 11 and later: {_pct(mean(rp[10:]))} vs "
              f"{_pct(mean(fp[10:]))}.")
    better = rt["sequence_accuracy"] > ft["sequence_accuracy"] and rt["token_accuracy"] > ft["token_accuracy"]
    ahead = sum(r["token_accuracy"] > f["token_accuracy"] for r, f in zip(rv, fv))
    gap = 100 * (rt["sequence_accuracy"] - ft["sequence_accuracy"])
    verdict = (f" The direction of the finding reproduces: the reversed model is ahead on "
               f"validation token accuracy after {ahead} of {len(rv)} epochs and better on test "
               f"({gap:+.0f} points of sequence accuracy). This is one run with one seed per "
               "model, so the size of the gap is not a measured effect." if better else
               " The finding does not reproduce here: the reversed model is not better on the "
               f"test split (ahead on validation token accuracy after {ahead} of {len(rv)} "
               "epochs; one seed per model).")
    return "Sutskever et al. 2014, source reversal. " + setup + shows + verdict


def caption_luong(numbers, s):
    m = s["model"]
    models = numbers["models"]
    ranked = sorted(models, key=lambda k: models[k]["test"]["per"])
    per = {k: models[k]["test"]["per"] for k in models}
    spread = per[ranked[-1]] - per[ranked[0]]
    setup = (f"`luong_lstm` (embedding_dim={m['embedding_dim']}, units={m['units']}, dropout "
             f"{m['dropout']}) with the dot, general and concat scores, each with and without "
             f"input feeding: six models trained identically on {numbers['train_words']:,} "
             f"CMUdict training words (`load_task('g2p', max_train_words="
             f"{s['task']['max_train_words']})`) for {s['epochs']} epochs (Adam "
             f"{s['learning_rate']:g}, batch {s['batch_size']}, label smoothing 0.1, seed "
             f"{SEED}); the epoch with the lowest greedy PER on the first "
             f"{s['validation_examples']} validation words is kept. Bars: greedy PER and WER "
             f"(no pronunciation matched) on {numbers['test_examples']:,} test words; right: "
             "validation PER per epoch.")
    params = [models[k]["parameters"] for k in models]
    setup += f" Parameters: {min(params):,}–{max(params):,}."
    last = sum(models[k]["best_epoch"] == s["epochs"] for k in models)
    if last:
        setup += (f" {last} of the 6 models had their best validation PER at the last epoch, so"
                  " they were still improving when the budget ran out.")
    listing = "; ".join(f"{k} {100 * per[k]:.1f}% PER / {100 * models[k]['test']['wer']:.1f}% WER"
                        for k in ranked)
    feeding = {score: per[f"{score}, no input feeding"] - per[f"{score}, input feeding"]
               for score in ("dot", "general", "concat")}
    feed_text = ", ".join(f"{score} {100 * d:+.1f}" for score, d in feeding.items())
    shows = (f" Test, best first: {listing}. Spread between best and worst: {100 * spread:.1f} "
             f"PER points. PER without minus with input feeding (points): {feed_text}.")
    best = {score: min(per[f"{score}, input feeding"], per[f"{score}, no input feeding"])
            for score in ("dot", "general", "concat")}
    gap = 100 * (best["dot"] - best["general"])

    def scores(test):
        names = [score for score, d in feeding.items() if test(100 * d)]
        return ", ".join(names) if names else "none"

    verdict = (" Luong et al. found general better than dot, and input feeding helpful. Here the"
               f" best general variant is {abs(gap):.1f} PER points {'better' if gap > 0 else 'worse'}"
               f" than the best dot variant; input feeding lowers PER by a point or more for"
               f" {scores(lambda d: d >= 1)}, raises it by a point or more for"
               f" {scores(lambda d: d <= -1)}, and changes it by less than a point for"
               f" {scores(lambda d: abs(d) < 1)}. These are single runs (one seed) of small"
               " models: differences of a point or two are within what another seed could"
               " change.")
    return "Luong et al. 2015, attention scores and input feeding. " + setup + shows + verdict


FIGURE_INFO = {
    "bahdanau_fig2": ("Accuracy against source length, with and without attention",
                      caption_bahdanau),
    "sutskever_reversal": ("Reversing the source of a no-attention LSTM", caption_sutskever),
    "luong_scores": ("Luong attention: dot, general, concat, with and without input feeding",
                     caption_luong),
}


# ---------------------------------------------------------------------------- main
def make(figure, settings, out_dir, *, jit, eager, log):
    """Run one figure's experiment, draw its PNG, and return its `figures.json` entry."""
    start = time.perf_counter()
    title, caption = FIGURE_INFO[figure]
    path = os.path.join(out_dir, f"{figure}.png")
    if figure == "luong_scores":
        numbers = scores_experiment(settings, jit=jit, eager=eager, log=log)
        plot_scores(numbers, title, path)
    else:
        numbers = length_experiment(settings, jit=jit, eager=eager, log=log)
        plot_length(numbers, title, path, curves=figure == "sutskever_reversal")
    numbers["seconds"] = round(time.perf_counter() - start, 1)
    settings = _jsonable(settings)
    try:
        text = caption(numbers, settings)
    except Exception as error:  # keep the numbers; `--captions-only` rewrites the caption
        text = f"(caption not written: {error!r})"
        log(f"  {text}")
    return {"png": f"{figure}.png", "title": title, "caption": text, "command": COMMAND,
            "settings": settings, "numbers": numbers}


def _jsonable(settings):
    return json.loads(json.dumps(settings, default=str))


def settings_for(figure, quick):
    settings = {**SETTINGS[figure]}
    if quick:
        for key, value in QUICK[figure].items():
            settings[key] = {**settings[key], **value} if key == "model" else value
    return settings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny data and models, one or two epochs (a smoke test)")
    parser.add_argument("--out", help=f"output folder (default {FIGURES_DIR}; a temporary "
                        "folder with --quick)")
    parser.add_argument("--only", nargs="+", choices=FIGURES, help="make only these figures")
    parser.add_argument("--captions-only", action="store_true",
                        help="rewrite the captions in figures.json from its numbers")
    args = parser.parse_args(argv)
    out_dir = args.out or (tempfile.mkdtemp(prefix="figures_") if args.quick else FIGURES_DIR)
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, "figures.json")
    entries = {}
    if os.path.exists(json_path):
        with open(json_path, encoding="utf-8") as f:
            entries = json.load(f)

    def log(message):
        print(message, flush=True)

    if args.captions_only:
        for figure, entry in entries.items():
            entry["caption"] = FIGURE_INFO[figure][1](entry["numbers"], entry["settings"])
    else:
        import keras_s2s  # noqa: F401  (after the backend is set)

        for figure in args.only or FIGURES:
            log(f"{figure}:")
            # XLA compiles cost more than they save at this size; --quick also runs eagerly
            entries[figure] = make(figure, settings_for(figure, args.quick), out_dir,
                                   jit=False, eager=args.quick, log=log)
            log(f"  wrote {os.path.join(out_dir, entries[figure]['png'])} "
                f"({entries[figure]['numbers']['seconds']:.0f}s)")
    entries = {k: entries[k] for k in FIGURES if k in entries}
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(entries, f, indent=1, ensure_ascii=False)
        f.write("\n")
    for figure, entry in entries.items():
        log(f"\n{figure}: {entry['caption']}")
    log(f"\nwrote {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
