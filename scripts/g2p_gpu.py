"""Train and score a G2P recipe of `zoo/recipes/g2p_standard_gpu/` on a GPU machine that has JAX
but no TensorFlow (the H200 this project is sometimes lent), and record its row here.

    python scripts/g2p_gpu.py train STEM --out DIR   # there: KERAS_BACKEND=jax, writes DIR/row.json
    python scripts/g2p_gpu.py ensemble DIR DIR --out FILE.json  # there: the runs as one ensemble
    python scripts/g2p_gpu.py record DIR|FILE.json   # here: the row joins zoo/results/g2p_standard.json
    python scripts/g2p_gpu.py check DIR              # here: the returned weights, decoded on the CPU

`keras-s2s train --recipe` feeds models through `tf.data`, which that machine lacks, so `train`
runs the recipe's loop on padded NumPy arrays instead: the same model (`build_for_task`), loss,
optimizer and schedule (`compile_model`, `learning_rate_schedule`), seed and batch size; every
training pair is seen once an epoch, shuffled. It stops at the end of the first epoch past the
recipe's `max_minutes` (or at `epochs`). Every `--validate-every` epochs the first
`max_eval_examples` validation words are decoded greedily; the best of those epochs is kept, and
so are the last `keep_epochs` epochs' weights. Then, as `g2p_standard_results.py evaluate` does,
four candidates (best epoch and the average of the last epochs, each greedy and beam) are scored
on `--validation-words` validation words and the test words are decoded once, with the best.

`DIR` receives `row.json` (the results row, with the chosen candidate's outputs on the
validation words) and the chosen weights
(`weights.npz.part0`, `.part1`, ...: `get_weights()` in NumPy's format, in parts because the
device tool returns files of at most 16 MiB). `check`
joins the parts, loads them into the recipe's model under TensorFlow on this machine, and
compares its outputs on the first `--check-words` validation words with the device's.
"""

import argparse
import functools
import io
import json
import math
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = os.path.join(ROOT, "zoo", "recipes", "g2p_standard_gpu")
PART_BYTES = 15 * 2 ** 20


def _recipe(stem):
    from keras_s2s.training.recipes import load_recipe

    return load_recipe(os.path.join(RECIPES, f"{stem}.toml"))


def _stem(row):
    """The recipe stem of a device run's row."""
    return os.path.splitext(os.path.basename(row["recipe"]))[0]


def _arrays(task, split, limit=None):
    """Encoder ids, decoder inputs (`<s> y`) and targets (`y </s>`) of a split, padded."""
    import numpy as np

    from keras_s2s.constants import BOS_ID, EOS_ID

    sources, targets, overlong = task.encode_pairs(split)
    if overlong:
        raise SystemExit(f"g2p_gpu: error: {overlong} {split} pairs exceed the task's length "
                         "limits; this script trains on every pair")
    sources, targets = sources[:limit], targets[:limit]

    def pad(rows):
        out = np.zeros((len(rows), max(map(len, rows))), "int32")
        for i, row in enumerate(rows):
            out[i, :len(row)] = row
        return out

    x = {"encoder_token_ids": pad(sources), "decoder_token_ids": pad([[BOS_ID] + t for t in targets])}
    return x, pad([t + [EOS_ID] for t in targets])


def _device():
    import keras

    if keras.backend.backend() == "jax":
        import jax

        device = jax.devices()[0]
        return f"{device.device_kind} ({device.platform}, JAX {jax.__version__}, XLA)"
    return f"{os.cpu_count()}-core CPU ({keras.backend.backend()})"


def train(stem, out, validate_every, validation_words, decode_batch, limit=None,
          test_limit=None, minutes=None, continue_from=None, anneal_epochs=None, name=None):
    import keras
    import numpy as np

    from keras_s2s.data import load_task
    from keras_s2s.evaluation import evaluate_decoded
    from keras_s2s.training.recipe import build_for_task, compile_model, learning_rate_schedule

    start, cpu0 = time.perf_counter(), time.process_time()
    recipe = _recipe(stem)
    training = recipe["training"]
    os.makedirs(out, exist_ok=True)

    say = functools.partial(print, flush=True)

    say(f"[{stem}] device: {_device()}")
    keras.utils.set_random_seed(training.get("seed", 0))
    task = load_task(recipe["task"], **recipe["task_options"])
    x, y = _arrays(task, "train", limit)
    model = build_for_task(recipe["model"], task, **recipe["model_kwargs"])
    batch = training["batch_size"]
    steps_per_epoch = math.ceil(len(y) / batch)
    rate = learning_rate_schedule(training["learning_rate"], training.get("schedule", "constant"),
                                  total_steps=training["epochs"] * steps_per_epoch,
                                  warmup_steps=training.get("warmup_steps", 0))
    continued = None
    if continue_from:
        # a second stage: the earlier run's chosen weights, and the rate it had reached decayed
        # linearly to 0 over `anneal_epochs` (a fresh Adam: its moments are not returned)
        with open(os.path.join(continue_from, "row.json")) as f:
            earlier = json.load(f)
        model.set_weights(_read_weights(continue_from))
        start_rate = float(keras.ops.convert_to_numpy(rate(earlier["steps"]))) if callable(
            rate) else float(rate)
        rate = keras.optimizers.schedules.PolynomialDecay(
            start_rate, decay_steps=anneal_epochs * steps_per_epoch, end_learning_rate=0.0)
        continued = {"recipe": earlier["recipe"], "steps": earlier["steps"],
                     "epochs_run": earlier["epochs_run"], "chosen": earlier["chosen"],
                     "train_seconds": earlier["train_seconds"],
                     "process_cpu_seconds": earlier["process_cpu_seconds"],
                     "test": earlier["test"], "start_rate": start_rate,
                     "anneal_epochs": anneal_epochs}
        say(f"[{stem}] continuing {earlier['recipe']} after {earlier['steps']} steps "
            f"({earlier['chosen']}): rate {start_rate:.2e} to 0 over {anneal_epochs} epochs")
    compile_model(model, learning_rate=rate, label_smoothing=training.get("label_smoothing", 0.1),
                  clipnorm=training.get("clipnorm", 1.0), jit=True)
    say(f"[{stem}] {len(y):,} training pairs, {steps_per_epoch} steps an epoch, "
        f"{model.count_params():,} parameters; setup {time.perf_counter() - start:.0f} s")
    cap = 60 * (minutes if minutes is not None else training.get("max_minutes", 60))
    keep = training.get("keep_epochs", 5)
    eval_words = training.get("max_eval_examples", 1000)
    state = {"best": None, "best_wer": math.inf, "best_epoch": None, "last": []}
    history = []

    class Loop(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            number = epoch + 1
            loss = float(logs["loss"])
            if not math.isfinite(loss):
                raise SystemExit(f"g2p_gpu: error: the training loss is {loss} at epoch {number}")
            weights = [w.copy() for w in self.model.get_weights()]
            state["last"] = (state["last"] + [(number, weights)])[-keep:]
            row = {"epoch": number, "loss": loss, "seconds": time.perf_counter() - self.t0}
            done = row["seconds"] > cap or number == epochs
            if number % validate_every == 0 or done:
                scores, _ = evaluate_decoded(self.model, task, "validation", "greedy",
                                             max_examples=eval_words, batch_size=decode_batch,
                                             verbose=False)
                row["validation_wer"] = scores["wer"]
                if scores["wer"] < state["best_wer"]:
                    state.update(best=weights, best_wer=scores["wer"], best_epoch=number)
            history.append(row)
            say(f"[{stem}] epoch {number}: loss {loss:.4f}, {row['seconds']:.0f} s"
                + (f", validation WER {100 * row['validation_wer']:.2f}%"
                   if "validation_wer" in row else ""))
            if done:
                self.model.stop_training = True

    train_start = time.perf_counter()
    # a second stage ends when its rate reaches 0
    epochs = anneal_epochs if continue_from else training["epochs"]
    model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=True,
              callbacks=[Loop()], verbose=0)
    train_seconds = time.perf_counter() - train_start

    # the candidates, as g2p_standard_results.evaluate: best epoch and the last epochs' average
    import g2p_standard_results  # here: it sets TensorFlow as the default backend

    first, last = state["last"][0][0], state["last"][-1][0]
    averaged = build_for_task(recipe["model"], task, **recipe["model_kwargs"])
    averaged.set_weights([np.mean([w[i] for _, w in state["last"]], axis=0)
                          for i in range(len(state["best"]))])
    model.set_weights(state["best"])
    models = {"best epoch": model, f"average of epochs {first}-{last}": averaged}
    candidates = {f"{method}, {label}": (candidate, method, kwargs)
                  for label, candidate in models.items()
                  for method, kwargs in (("greedy", {}),
                                         ("beam", g2p_standard_results._beam(recipe)))}
    validation, chosen, test, outputs = g2p_standard_results._choose_and_test(
        stem, candidates, task, validation_words, decode_batch, test_limit)
    model = candidates[chosen][0]
    parts = _write_weights(out, model.get_weights())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    row = {"recipe": os.path.relpath(recipe["path"], ROOT), "model": recipe["model"],
           "description": recipe["description"], "parameters": model.count_params(),
           "train_seconds": train_seconds,
           "process_wall_seconds": time.perf_counter() - start,
           "process_cpu_seconds": usage.ru_utime + usage.ru_stime,
           "threads": None, "load_average_after": list(os.getloadavg()),
           "epochs_run": len(history), "best_epoch": state["best_epoch"],
           "history": history, "steps": len(history) * steps_per_epoch,
           "validation_words": validation_words, "validation": validation, "chosen": chosen,
           "test": test, "date": time.strftime("%Y-%m-%d"), "device": _device(),
           "trained_by": "scripts/g2p_gpu.py train (NumPy batches, no tf.data)",
           "weights_parts": parts, "validation_hypotheses": outputs}
    if continued:
        # the row's time is both stages'
        row.update(name=name, continued_from=continued,
                   train_seconds=train_seconds + continued["train_seconds"],
                   process_cpu_seconds=row["process_cpu_seconds"]
                   + continued["process_cpu_seconds"])
    with open(os.path.join(out, "row.json"), "w") as f:
        json.dump(row, f, indent=2)
    say(f"[{stem}] wrote {out}/row.json; {time.perf_counter() - start:.0f} s in all, "
        f"{time.process_time() - cpu0:.0f} CPU s")
    return row


def ensemble(directories, out, validation_words, decode_batch, test_limit=None,
             side_by_side=False):
    """Decode with the device runs of `directories` as one ensemble (`decode([m1, m2])`): greedy
    or beam chosen on validation, the test words decoded once; writes `out` (a JSON row)."""
    import g2p_standard_results  # here: it sets TensorFlow as the default backend

    start = time.perf_counter()
    models, members, rows, task = [], {}, [], None
    for directory in directories:
        with open(os.path.join(directory, "row.json")) as f:
            row = json.load(f)
        model, task, recipe = load_weights(directory, _stem(row), task)
        models.append(model)
        rows.append(row)
        # a second stage shares its recipe with its first: the row's name tells them apart
        members[row.get("name") or _stem(row)] = {k: row[k] for k in (
            "recipe", "model", "parameters", "train_seconds", "process_wall_seconds",
            "process_cpu_seconds", "threads", "epochs_run", "best_epoch", "chosen", "device")}
    name = " + ".join(sorted(members))
    beam = g2p_standard_results._beam(_recipe(_stem(rows[0])))
    candidates = {method: (models, method, kwargs)
                  for method, kwargs in (("greedy", {}), ("beam", beam))}
    validation, chosen, test, _ = g2p_standard_results._choose_and_test(
        name, candidates, task, validation_words, decode_batch, test_limit)
    print(f"[{name}] {time.perf_counter() - start:.0f} s", flush=True)
    wall, cpu = _ensemble_seconds(rows, side_by_side)
    row = {"name": name, "members": members, "validation_words": validation_words,
           "train_seconds": wall, "process_cpu_seconds": cpu,
           "validation": validation, "chosen": chosen, "test": test,
           "date": time.strftime("%Y-%m-%d"), "device": _device(),
           "member_weights": "each member's chosen candidate (its row's `chosen`)",
           "trained_side_by_side": side_by_side}
    with open(out, "w") as f:
        json.dump(row, f, indent=2)
    return row


def _ensemble_seconds(rows, side_by_side=False):
    """`(wall, cpu)` training seconds of an ensemble's member rows. A second stage's times
    include its first stage's, so a member that is another member's first stage (same recipe
    and steps) adds nothing; members trained side by side count the longest wall time."""
    firsts = {(r["continued_from"]["recipe"], r["continued_from"]["steps"])
              for r in rows if r.get("continued_from")}
    counted = [r for r in rows
               if r.get("continued_from") or (r["recipe"], r["steps"]) not in firsts]
    wall = (max if side_by_side else sum)(r["train_seconds"] for r in counted)
    return wall, sum(r["process_cpu_seconds"] for r in counted)


def record(path):
    """Put a device run's row (`DIR`) or an ensemble's (`FILE.json`) into
    `zoo/results/g2p_standard.json` and re-render RESULTS.md."""
    import g2p_results
    import g2p_standard_results
    from results_io import save_json

    results = g2p_standard_results._load()
    if path.endswith(".json"):
        with open(path) as f:
            row = json.load(f)
        results.setdefault("ensembles", {})[row.pop("name")] = row
    else:
        with open(os.path.join(path, "row.json")) as f:
            row = json.load(f)
        results["runs"][row.get("name") or _stem(row)] = {k: v for k, v in row.items()
                                 if k not in ("validation_hypotheses", "name")}
    save_json(g2p_standard_results.RESULTS_JSON, results)
    g2p_results.render()
    return row


def load_weights(directory, stem, task=None):
    """The recipe's model, built for its task here (loaded unless given), with the device
    run's weights; returns `(model, task, recipe)`."""
    from keras_s2s.data import load_task
    from keras_s2s.training.recipe import build_for_task

    recipe = _recipe(stem)
    task = task or load_task(recipe["task"], **recipe["task_options"])
    model = build_for_task(recipe["model"], task, **recipe["model_kwargs"])
    model.set_weights(_read_weights(directory))
    return model, task, recipe


def _write_weights(directory, weights):
    """Write a list of arrays (a model's `get_weights()`: save_weights would add the
    optimizer's, three times the bytes) as `weights.npz.part*` of at most `PART_BYTES` each;
    returns the number of parts."""
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, *weights)
    data = buffer.getvalue()
    parts = math.ceil(len(data) / PART_BYTES)
    for i in range(parts):
        with open(os.path.join(directory, f"weights.npz.part{i}"), "wb") as f:
            f.write(data[i * PART_BYTES:(i + 1) * PART_BYTES])
    return parts


def _read_weights(directory):
    """The weights a device run left in `directory` (its `weights.npz.part*`), as a list."""
    import numpy as np

    parts = sorted((p for p in os.listdir(directory) if p.startswith("weights.npz.part")),
                   key=lambda p: int(p.rsplit("part", 1)[1]))
    if not parts:
        raise SystemExit(f"g2p_gpu: error: no weights.npz.part* in {directory}")
    data = b"".join(open(os.path.join(directory, part), "rb").read() for part in parts)
    with np.load(io.BytesIO(data)) as arrays:
        return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


def check(directory, words):
    """Decode the first `words` validation words with the returned weights on this machine and
    count the outputs equal to the device's."""
    from keras_s2s.evaluation import evaluate_decoded

    with open(os.path.join(directory, "row.json")) as f:
        row = json.load(f)
    import g2p_standard_results

    stem = _stem(row)
    model, task, recipe = load_weights(directory, stem)
    method = row["chosen"].split(", ", 1)[0]
    kwargs = g2p_standard_results._beam(recipe) if method == "beam" else {}
    _, details = evaluate_decoded(model, task, "validation", method, max_examples=words,
                                  verbose=False, **kwargs)
    same = sum(a == b for a, b in zip(details["hypotheses"], row["validation_hypotheses"][:words]))
    print(f"[{stem}] {same} of {words} validation outputs here ({_device()}) equal the "
          f"device's ({row['device']})")
    return same


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("train", "ensemble", "record", "check"))
    parser.add_argument("target", nargs="+",
                        help="train: a recipe stem; ensemble: two or more device runs' DIRs; "
                             "record: a DIR or an ensemble's JSON; check: a DIR")
    parser.add_argument("--out", help="train: the folder for the row and weights; ensemble: "
                                      "the JSON file of its row")
    parser.add_argument("--validate-every", type=int, default=5)
    parser.add_argument("--validation-words", type=int, default=2000)
    parser.add_argument("--decode-batch", type=int, default=1000)
    parser.add_argument("--check-words", type=int, default=300)
    parser.add_argument("--limit", type=int, help="smoke runs: the first N training pairs")
    parser.add_argument("--test-limit", type=int, help="smoke runs: the first N test words")
    parser.add_argument("--minutes", type=float, help="smoke runs: the time cap, not the recipe's")
    parser.add_argument("--side-by-side", action="store_true",
                        help="ensemble: the members trained at the same time (their row's wall "
                             "time is the longest member's, not the sum)")
    parser.add_argument("--continue-from", metavar="DIR",
                        help="train: start from a device run's weights (a second stage)")
    parser.add_argument("--anneal-epochs", type=int, default=30,
                        help="with --continue-from: epochs over which the rate falls to 0")
    parser.add_argument("--name", help="with --continue-from: the row's name")
    args = parser.parse_args(argv)
    if args.continue_from and not args.name:
        parser.error("--continue-from needs --name (the second stage's row name)")
    if args.command in ("train", "ensemble"):
        os.environ.setdefault("KERAS_BACKEND", "jax")
        if not args.out:
            parser.error(f"{args.command} needs --out")
        if args.command == "train":
            train(args.target[0], args.out, args.validate_every, args.validation_words,
                  args.decode_batch, args.limit, args.test_limit, args.minutes,
                  args.continue_from, args.anneal_epochs, args.name)
        else:
            ensemble(args.target, args.out, args.validation_words, args.decode_batch,
                     args.test_limit, args.side_by_side)
    else:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        if args.command == "record":
            record(args.target[0])
        else:
            check(args.target[0], args.check_words)
    return 0


if __name__ == "__main__":
    sys.exit(main())
