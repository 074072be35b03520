"""The "your own data" table: a default-settings model against naive baselines, per task.

    python scripts/own_data_results.py run [TASK ...] [--max-minutes 20]
    python scripts/own_data_results.py baselines [TASK ...]   # recompute only the baselines
    python scripts/own_data_results.py paired [TASK ...]  # each seed's test outputs against
                                                          # the best baseline, verb by verb
    python scripts/own_data_results.py render      # the section of zoo/RESULTS.md

Each task (default: past_tense, de_lemma, p2g, the shipped real word-level tasks) is
written to TSV files and used the way a user would use their own data, through the CLI:

    keras-s2s train luong_bilstm --train train.tsv --validation dev.tsv \\
        --multiple-references --out RUN
    keras-s2s evaluate RUN --test test.tsv --multiple-references --json metrics.json

(`--multiple-references`: a line may list several accepted targets, as `past_tense` does
for verbs with two past forms; the reader refuses extra columns without it.)

with every training setting left at its default (the width, the metric, the schedule and
the stopping point are chosen by `train`), except a time cap per run (`--max-minutes`), so
that three tasks fit in an hour of this 2-core CPU. The baselines (`keras_s2s.baselines`)
see the same training pairs and are scored on the same test file. The test split is decoded
once, by the model chosen on validation. Results go to `zoo/results/own_data.json`;
`scripts/g2p_results.py render` puts the table in `zoo/RESULTS.md`.
"""

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_io import load_json, save_json  # noqa: E402

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "own_data.json")
RUNS = os.path.join(ROOT, "runs", "own_data")
TASKS = ("past_tense", "de_lemma", "p2g", "translation")
SENTENCE_TASKS = ("translation",)
MODEL = "luong_bilstm"
# checkpoint averaging: the last this many kept epochs (`train` keeps 5 by default)
AVERAGE_LAST = 5
# How the data is read is a property of the data, not a training setting: the p2g sources
# are space-separated phonemes, so they are read as words.
TOKENIZERS = {"p2g": ("word", "char"), "translation": ("subword", "subword")}


def _tsv(path, examples):
    with open(path, "w", encoding="utf-8") as f:
        for e in examples:
            f.write("\t".join([e.source, *e.targets]) + "\n")


def export(name):
    """Write the task's splits as TSV files; returns their paths."""
    from keras_s2s.data import load_task
    from keras_s2s.data.translation import bible_splits

    if name == "translation":  # the same splits, without training two WordPiece vocabularies
        # the chapter split the published run was measured on (the task's default moves the
        # verses whose text recurs in another split to training)
        splits = bible_splits("en-es", seed=0, repeats="keep")[0]
    else:
        splits = load_task(name).splits
    folder = os.path.join(RUNS, name)
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for split in ("train", "validation", "test"):
        paths[split] = os.path.join(folder, f"{split}.tsv")
        _tsv(paths[split], splits[split])
    return paths


def _cli(*args):
    return [os.path.join(os.path.dirname(sys.executable), "keras-s2s"), *args]


def _baseline_task(name, paths):
    from keras_s2s.data import from_tsv

    source_tok, target_tok = TOKENIZERS.get(name, ("char", "char"))
    sentences = name in SENTENCE_TASKS
    # the baselines only normalise text with the tokenizers: word tokenizers, fast to build,
    # stand in for the subword ones of a sentence task
    return from_tsv(paths["train"], paths["validation"], paths["test"],
                    source_tokenizer="word" if sentences else source_tok,
                    target_tokenizer="word" if sentences else target_tok,
                    multiple_references=True)


def _exported_task(name):
    """The baselines' task of the TSV files `export` wrote for `name`."""
    folder = os.path.join(RUNS, name)
    return _baseline_task(name, {s: os.path.join(folder, f"{s}.tsv")
                                 for s in ("train", "validation", "test")})


def baselines_of(name, task=None):
    """The naive baselines of a task, fitted on its training pairs and scored on test."""
    from keras_s2s.baselines import run_baselines

    if task is None:
        task = _exported_task(name)
    return run_baselines(task, "test", names=["copy", "word_lexicon"]
                         if name in SENTENCE_TASKS else None)


# what a task's record keeps of each run that decoded the test split: its earlier runs, and
# the runs of its other seeds
RUN_KEYS = ("command", "model_metrics", "decoder", "epochs_run", "best_epoch", "max_minutes",
            "train_seconds", "chosen", "load_average")


def best_baseline(record):
    """`(name, accuracy)` of a task record's most accurate baseline."""
    accuracy = {k: v["sequence_accuracy"] for k, v in record["baselines"].items()}
    best = max(accuracy, key=accuracy.get)
    return best, accuracy[best]


def paired_with_baseline(name, record, folder=None):
    """Each seed's test outputs against the task's best baseline, example by example
    (`keras_s2s.significance.paired_exact_match`: McNemar's exact test); reads the outputs
    each run wrote (`test_outputs.txt`) and refits the baseline, decoding nothing.

    `folder`: where seed 0's run wrote its files, the other seeds' in its `seed_N` (default
    `runs/own_data/NAME`, today's defaults of `luong_bilstm`).

    Returns:
        `{"baseline": name, "seeds": {seed: paired result}}`; None for a sentence task.
    """
    from keras_s2s.baselines import _normalize, run_baselines
    from keras_s2s.significance import paired_exact_match

    if name in SENTENCE_TASKS:
        return None
    folder = folder or os.path.join(RUNS, name)
    task = _exported_task(name)
    best, _ = best_baseline(record)
    _, outputs = run_baselines(task, "test", names=[best], return_hypotheses=True)
    _, references = task.references("test")
    references = [[_normalize(task.target_tokenizer, r) for r in refs] for refs in references]
    runs = {"0": (record, folder), **{seed: (r, os.path.join(folder, f"seed_{seed}"))
                                      for seed, r in (record.get("seeds") or {}).items()}}
    paired = {}
    for seed, (seed_record, seed_folder) in runs.items():
        with open(os.path.join(seed_folder, "test_outputs.txt"), encoding="utf-8") as f:
            decoded = f.read().split("\n")[:-1]
        result = paired_exact_match(decoded, outputs[best], references)
        recorded = seed_record["model_metrics"]["sequence_accuracy"]
        if abs(result["accuracy_a"] - recorded) > 1e-9:  # the outputs are not that run's
            raise ValueError(f"{seed_folder}/test_outputs.txt scores {result['accuracy_a']:.4f}"
                             f", its record {recorded:.4f}: the files are from another run")
        paired[seed] = result
    return {"baseline": best, "seeds": paired}


def beats(record, model, baseline):
    """The "beats baseline" cell: by the paired test of seed 0 where the record has one
    (`paired`), so that a lead of a verb or two reads as the tie it is; else by accuracy."""
    from keras_s2s.significance import p_phrase

    paired = (record.get("paired") or {}).get("seeds", {}).get("0")
    if paired is None:
        return "yes" if model > baseline else "**no**"
    p = p_phrase(paired["p_value"])
    if not paired["significant"]:
        return f"**level** (p {p})"
    return f"yes (p {p})" if paired["a_only"] > paired["b_only"] else f"**no** (p {p})"


def paired_sentence(name, record):
    """The example-by-example comparison of a task's seeds with its best baseline."""
    from keras_s2s.significance import p_phrase

    paired = record.get("paired")
    if not paired:
        return None
    best, n = paired["baseline"], record["test_examples"]
    each = "; ".join(
        f"seed {seed}: the model alone right on {r['a_only']}, `{best}` alone on "
        f"{r['b_only']}, p {p_phrase(r['p_value'])}" for seed, r in paired["seeds"].items())
    better = {seed: "the model" if r["a_only"] > r["b_only"] else f"`{best}`"
              for seed, r in paired["seeds"].items() if r["significant"]}
    if not better:
        verdict = (f"no seed's difference is significant at 0.05: on these {n} test "
                   "examples the two cannot be told apart")
    else:
        verdict = "; ".join(f"seed {seed}: {who} is better (p < 0.05)"
                            for seed, who in better.items())
        if len(better) < len(paired["seeds"]):
            verdict += "; the other seeds' differences are not significant"
    return (f"`{name}` against `{best}`, example by example (`python "
            f"scripts/own_data_results.py paired {name}`; McNemar's exact test on the test "
            f"examples that exactly one of the two gets right, `keras_s2s.significance`): "
            f"{each}. {verdict[0].upper() + verdict[1:]}.")


def earlier_test_runs(previous):
    """The `"earlier_runs"` of a task trained again: a rerun (new defaults, a longer time cap)
    decodes the test split again, and every earlier test decode stays on record with the
    settings that produced it, the earlier defaults' other seeds (`run --seeds`) included."""
    runs = list(previous.get("earlier_runs") or [])
    if previous.get("model_metrics") and "decoder" in previous:
        runs.append({key: previous.get(key) for key in RUN_KEYS})
    return runs + [{**seed_run, "seed": int(seed)}
                   for seed, seed_run in (previous.get("seeds") or {}).items()]


def _earlier_run(e):
    seed = f", seed {e['seed']}" if "seed" in e else ""
    return (f"{100 * e['model_metrics']['sequence_accuracy']:.1f} ({e['decoder']}, "
            f"{e['epochs_run']} ep., cap {e['max_minutes']:g} min{seed})")


def earlier_runs(record):
    """The earlier test results of a task's record, as the results tables print them."""
    return "; ".join(_earlier_run(e) for e in record.get("earlier_runs") or [])


def run(name, max_minutes, model=MODEL, folder=None, previous=None, paths=None, seed=0):
    """Train `model` on task `name` with default settings, choose the decoder on validation,
    decode the test split once; returns the task's record.

    `folder` (default `runs/own_data/NAME`) holds the run and its files; `previous` is the
    task's earlier record (default: the one in `zoo/results/own_data.json`), whose test
    decodes stay on record. `paths`: the task's TSV files, when already exported (`export`).
    `seed`: of the training (`keras-s2s train --seed`; 0 is its default)."""
    paths = paths or export(name)
    folder = folder or os.path.join(RUNS, name)
    os.makedirs(folder, exist_ok=True)
    source_tok, target_tok = TOKENIZERS.get(name, ("char", "char"))
    sentences = name in SENTENCE_TASKS
    task = _baseline_task(name, paths)
    start = time.perf_counter()
    baselines = baselines_of(name, task)
    baseline_seconds = time.perf_counter() - start
    out = os.path.join(folder, "run")
    train = _cli("train", model, "--train", paths["train"], "--validation",
                 paths["validation"], "--source-tokenizer", source_tok, "--target-tokenizer",
                 target_tok, "--multiple-references", "--out", out,
                 *(["--seed", str(seed)] if seed else []), "--max-minutes", str(max_minutes))
    timing = _timing(name, out, folder)
    if timing is not None:
        print(f"[{name}] trained already ({out}); delete it to retrain", flush=True)
    else:
        print(" ".join(train[1:]), flush=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(train, check=True, cwd=ROOT)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        timing = {"wall": time.perf_counter() - start,
                  "cpu": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
                  "load_average": os.getloadavg()}
        with open(os.path.join(folder, "timing.json"), "w") as f:
            json.dump(timing, f)
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    train[-1] = f"{config['training'].get('max_minutes') or max_minutes:g}"  # as it was run
    metric = config["training"]["metric"]
    # the model: the best epoch, or the average of the last kept epochs (`keras-s2s average`;
    # runs trained before checkpoint averaging kept none); the decoder: greedy or beam 5.
    # Whichever pair scores best on (the first 500 examples of) the validation split is the
    # one that decodes the test split (ties: the earlier in this order). A run that
    # published the average itself (`train --final`, a small task's default since
    # 2026-12-05) has no best-epoch model to offer: only its decoder is chosen
    final = config["results"].get("final", {})
    if final.get("weights") == "average":
        candidates = {f"average of last {len(final['epochs'])}": out}
    else:
        candidates = {"best epoch": out}
    kept = len(os.listdir(os.path.join(out, "epochs"))) if os.path.isdir(
        os.path.join(out, "epochs")) else 0
    if kept >= 2 and "best epoch" in candidates:
        last = min(AVERAGE_LAST, kept)
        averaged = f"{out}-avg"
        subprocess.run(_cli("average", out, "--last", str(last), "--out", averaged,
                            "--overwrite"), check=True, cwd=ROOT, capture_output=True)
        candidates[f"average of last {last}"] = averaged
    validation, options = {}, {}
    for model_label, path_of_model in candidates.items():
        for label, flags in (("greedy", []), ("beam5", ["--beam", "5"])):
            key = label if model_label == "best epoch" else f"{label}, {model_label}"
            options[key] = (path_of_model, flags)
            path = os.path.join(folder, f"validation_{key.replace(' ', '_')}.json")
            subprocess.run(_cli("evaluate", path_of_model, "--test", paths["validation"],
                                "--multiple-references", "--json", path, "--max-examples",
                                "500", *flags),
                           check=True, cwd=ROOT, capture_output=True)
            with open(path) as f:
                validation[key] = json.load(f)[metric]
    method = max(validation, key=validation.get)  # the first of equal values
    chosen_model, flags = options[method]
    metrics_path = os.path.join(folder, "test_metrics.json")
    evaluate = _cli("evaluate", chosen_model, "--test", paths["test"], "--multiple-references",
                    "--json", metrics_path, *flags)
    print(" ".join(evaluate[1:]), flush=True)
    subprocess.run(evaluate, check=True, cwd=ROOT)
    with open(metrics_path) as f:
        metrics = json.load(f)
    # what a user reads: the outputs of the test sources, and how many are empty
    sources_path = os.path.join(folder, "test_sources.txt")
    with open(sources_path, "w", encoding="utf-8") as f:
        f.write("".join(e.source + "\n" for e in task.splits["test"]))
    with open(sources_path, encoding="utf-8") as f:
        decoded = subprocess.run(_cli("decode", chosen_model, *flags), stdin=f, check=True,
                                 cwd=ROOT, capture_output=True, text=True).stdout.split("\n")[:-1]
    with open(os.path.join(folder, "test_outputs.txt"), "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in decoded))
    empty = sum(not line.strip() for line in decoded)
    if previous is None:
        previous = _load()["runs"].get(name, {})
    # an earlier version of this script decoded the test split greedily, before the decoder
    # was chosen on validation: that first test decode is kept and shown, not hidden
    earlier = previous.get("earlier_greedy_test") or (
        previous.get("model_metrics") if "decoder" not in previous else None)
    return {
        "earlier_greedy_test": earlier,
        "earlier_runs": earlier_test_runs(previous),
        "task": name, "model": model, "train_pairs": len(task.pairs("train")),
        "test_examples": len(task.splits["test"]),
        "command": " ".join(["keras-s2s"] + train[1:]).replace(ROOT + "/", ""),
        "baselines": baselines, "baseline_seconds": baseline_seconds,
        "model_metrics": metrics, "decoder": method, "validation_by_decoder": validation,
        "train_seconds": config["results"]["seconds"], "process_wall_seconds": timing["wall"],
        "process_cpu_seconds": timing["cpu"], "load_average": timing["load_average"],
        "date": datetime.date.today().isoformat(),
        "epochs_run": config["results"]["epochs_run"],
        "best_epoch": config["results"]["best_epoch"],
        "stopped_early": config["results"].get("stopped_early"),
        "stopped_by_time": config["results"].get("stopped_by_time"),
        "chosen": config.get("chosen"), "model_kwargs": config["model_kwargs"],
        "metric": metric, "max_minutes": config["training"].get("max_minutes", max_minutes),
        "empty_outputs": empty,
        "decoded_outputs": len(decoded),
        "accuracy_by_length": None if sentences else by_length(
            task.splits["test"], decoded, tokens=source_tok == "word"),
        "samples": [{"source": e.source, "reference": e.targets[0], "output": o}
                    for e, o in list(zip(task.splits["test"], decoded))[:5]],
    }


def seeds_sentence(name, record):
    """A task's runs of today's defaults with other seeds (`run --seeds`), in one sentence."""
    best, baseline = best_baseline(record)
    n = record["test_examples"]
    runs = {"0": record, **record["seeds"]}
    scores = {seed: r["model_metrics"]["sequence_accuracy"] for seed, r in runs.items()}
    mean = sum(scores.values()) / len(scores)
    margin = round((mean - baseline) * n, 1)
    verdict = (f"{abs(margin):.1f} of {n} test words {'ahead' if margin > 0 else 'behind'} "
               "on average" if margin else f"as many of the {n} test words right on average")
    each = ", ".join(f"seed {seed} {100 * s:.1f}% ({runs[seed]['decoder']})"
                     for seed, s in scores.items())
    return (f"`{name}` with today's defaults and other seeds (`python "
            f"scripts/own_data_results.py run {name} --seeds ...`; each seed's test split "
            f"decoded once, with the decoder chosen on its validation): {each}. Mean "
            f"{100 * mean:.1f}% over {len(scores)} seeds against `{best}`'s "
            f"{100 * baseline:.1f}%: {verdict}, seeds from "
            f"{100 * min(scores.values()):.1f}% to {100 * max(scores.values()):.1f}%.")


def run_other_model(name, model, max_minutes, seeds=()):
    """Another entry than `MODEL` with every default on task `name`, seed 0 and `seeds`, each
    run's test split decoded once with the decoder chosen on its validation (`run`); returns
    the record kept under the task's `"models"`, with its paired test against the best
    baseline. Its runs go to `runs/own_data/NAME/MODEL` (`seed_N` inside)."""
    folder = os.path.join(RUNS, name, model)
    paths = export(name)
    first = run(name, max_minutes, model=model, folder=folder, previous={}, paths=paths)
    keys = RUN_KEYS + ("validation_by_decoder", "date", "test_examples", "baselines", "model")
    record = {key: first[key] for key in keys}
    record["seeds"] = {}
    for seed in seeds:
        again = run(name, max_minutes, model=model, folder=os.path.join(folder, f"seed_{seed}"),
                    previous={}, paths=paths, seed=seed)
        record["seeds"][str(seed)] = {key: again[key] for key in keys}
    record["paired"] = paired_with_baseline(name, record, folder)
    return record


def other_model_sentence(name, model, record):
    """A task's runs of another entry with every default (`run --model`), in one sentence."""
    from keras_s2s.significance import p_phrase

    best, baseline = best_baseline(record)
    runs = {"0": record, **record.get("seeds", {})}
    scores = {seed: r["model_metrics"]["sequence_accuracy"] for seed, r in runs.items()}
    mean = sum(scores.values()) / len(scores)
    each = ", ".join(f"seed {seed} {100 * v:.1f}% ({runs[seed]['decoder']})"
                     for seed, v in scores.items())
    paired = (record.get("paired") or {}).get("seeds", {})
    tests = "; ".join(f"seed {seed}: {r['a_only']} against {r['b_only']} "
                      f"(p {p_phrase(r['p_value'])})" for seed, r in paired.items())
    return (f"`{model}` on `{name}` with every default (`python scripts/own_data_results.py "
            f"run {name} --model {model} --seeds ...`; each seed's test split decoded once, "
            f"with the decoder chosen on its validation): {each}; mean {100 * mean:.1f}% over "
            f"{len(scores)} seeds against `{best}`'s {100 * baseline:.1f}%. Test examples only "
            f"it gets right against those only `{best}` gets right (McNemar's exact test): "
            f"{tests}.")


def by_length(examples, outputs, edges=(5, 10, 15, 20, 25), tokens=False):
    """Exact-match accuracy of the outputs by source length in characters (or tokens).

    Returns `[{"lengths": "10-14", "examples": n, "accuracy": a}, ...]` for non-empty buckets.
    """
    buckets = {}
    for example, output in zip(examples, outputs):
        n = len(example.source.split()) if tokens else len(example.source)
        index = sum(n >= e for e in edges)
        low = ([0] + list(edges))[index]
        label = f"{low}+" if index == len(edges) else f"{low}-{edges[index] - 1}"
        right, total = buckets.get((index, label), (0, 0))
        buckets[(index, label)] = (right + (output in example.targets), total + 1)
    return [{"lengths": label, "examples": total, "accuracy": right / total}
            for (_, label), (right, total) in sorted(buckets.items())]


def _timing(name, out, folder=None):
    """The recorded training time of a finished run, or None when it must be trained."""
    folder = folder or os.path.join(RUNS, name)
    config = os.path.join(out, "config.json")
    if not os.path.exists(config):
        return None
    with open(config) as f:
        if "results" not in json.load(f):
            return None
    path = os.path.join(folder, "timing.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    # recorded by an earlier version of this script, in its own folder only
    previous = _load()["runs"].get(name) if folder == os.path.join(RUNS, name) else None
    if previous:
        return {"wall": previous["process_wall_seconds"], "cpu": previous["process_cpu_seconds"],
                "load_average": previous["load_average"]}
    return None


def _load(path=RESULTS_JSON):
    """The results file at `path` (this script's by default), or an empty one."""
    return load_json(path, {"runs": {}})


def section():
    """The markdown lines of the "your own data" section (empty without results)."""
    results = _load()["runs"]
    if not results:
        return []
    lines = [
        "## Your own data: default settings against naive baselines",
        "",
        "Each shipped real word-level task, written to TSV files and trained through the CLI "
        "as a user would (`python scripts/own_data_results.py run`): `keras-s2s train "
        f"{MODEL} --train train.tsv --validation dev.tsv --out RUN --max-minutes M` (with "
        "`--multiple-references` since the reader became strict about extra columns: "
        "`past_tense` lists two past forms for some verbs), every "
        "other setting at its default (width, validation metric, warm-up and plateau "
        "schedule, early stopping: chosen by `train` from the data; since 2026-12-04 a "
        "small task, 30 epochs under 7,680 steps, as `past_tense` is, trains 7,680 steps on "
        "a cosine decay instead, every epoch; since 2026-12-05 character pairs whose "
        "changed targets share their beginnings, as `past_tense` and `de_lemma` do, are "
        "written right to left, `--target-order auto`; and since then a small task's run "
        "publishes the average of its last 5 epochs, `--final auto`, not its best "
        "validation epoch). The baselines "
        "(`keras-s2s baseline`) fit the same training pairs. Scores are on the test split, "
        "decoded by the epoch chosen on validation, with greedy search or beam 5, whichever "
        "scored better on the first 500 validation examples (runs trained since checkpoint "
        "averaging also try the average of the last 5 epochs, `keras-s2s average RUN --last "
        "5`, on validation: the decoder column says when it was chosen; a run that "
        "published the average itself offers only it); accuracy is exact "
        "match against any "
        "reference, CER the character error rate. One run each (seed 0), on the 2-core CPU "
        "(other jobs running: the load average is in the JSON). Rows were trained in "
        "different sessions, on machines of different speed: a time cap is wall time on its "
        "own machine (the date of each task's current run is in the JSON). Every test decode made so far "
        "is shown, not only the last: the first version of this script decoded the test "
        "split greedily with no decoder selection (\"greedy (first)\"), and a task "
        "retrained after a change of defaults or of the time cap keeps its earlier result "
        "in \"earlier runs\" (accuracy, decoder, epochs, time cap). Those later changes "
        "were made after the earlier test numbers were seen, and were checked on "
        "validation (the averaged weights on held-out training pairs: `past_tense`'s "
        "folds and small samples of `de_lemma` and `p2g`, sections below). \"Beats baseline\" is McNemar's exact test of seed 0's test outputs "
        "against the best baseline's, example by example (`own_data_results.py paired`): "
        "\"level\" when the test set cannot tell the two apart at 0.05.",
        "",
        "| task | train pairs | best baseline | baseline acc. | model acc. | decoder | "
        "greedy (first) | earlier runs | model CER | train min (wall) | epochs (best) | "
        "stopped by | beats baseline |",
        "| --- | ---: | --- | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for name, r in results.items():
        if name in SENTENCE_TASKS:
            continue
        best, baseline = best_baseline(r)
        model = r["model_metrics"]["sequence_accuracy"]
        stopped = ("patience" if r["stopped_early"] else
                   f"time cap ({r['max_minutes']:g} min)" if r["stopped_by_time"] else "epochs")
        first = r.get("earlier_greedy_test")
        first = f"{100 * first['sequence_accuracy']:.1f}" if first else ""
        earlier = earlier_runs(r)
        lines.append(
            f"| `{name}` | {r['train_pairs']:,} | `{best}` | {100 * baseline:.1f} | "
            f"{100 * model:.1f} | {r.get('decoder', 'greedy')} | {first} | {earlier} | "
            f"{100 * r['model_metrics']['cer']:.1f} | "
            f"{r['train_seconds'] / 60:.1f} | {r['epochs_run']} ({r['best_epoch']}) | "
            f"{stopped} | {beats(r, model, baseline)} |")
    seeds = [seeds_sentence(name, r) for name, r in results.items() if r.get("seeds")]
    if seeds:
        lines += [""] + seeds
    paired = [p for p in (paired_sentence(name, r) for name, r in results.items()) if p]
    for sentence in paired:
        lines += ["", sentence]
    for name, r in results.items():
        for model, record in (r.get("models") or {}).items():
            lines += ["", other_model_sentence(name, model, record)]
    lines += ["", "Every baseline's scores are in `zoo/results/own_data.json`. Model accuracy "
              "by source length (characters or phonemes; examples in brackets):", ""]
    for name, r in results.items():
        if r.get("accuracy_by_length"):
            lines.append(f"- `{name}`: " + ", ".join(
                f"{b['lengths']}: {100 * b['accuracy']:.0f}% ({b['examples']})"
                for b in r["accuracy_by_length"]))
    lines.append("")
    for name in SENTENCE_TASKS:
        if name not in results:
            continue
        r = results[name]
        m = r["model_metrics"]
        first = r.get("earlier_greedy_test")
        first = (f"BLEU {first['bleu']:.1f}, chrF {first['chrf']:.1f}" if first
                 else "not run")
        baselines = ", ".join(f"`{k}` BLEU {v['bleu']:.1f} / chrF {v['chrf']:.1f}"
                              for k, v in r["baselines"].items())
        best = max(r["baselines"], key=lambda k: r["baselines"][k]["bleu"])
        verdict = ("beats" if m["bleu"] > r["baselines"][best]["bleu"] else
                   "**loses to**")
        earlier = "; ".join(
            f"BLEU {e['model_metrics']['bleu']:.1f} / chrF {e['model_metrics']['chrf']:.1f} "
            f"({e['decoder']}, {e['epochs_run']} ep., cap {e['max_minutes']:g} min)"
            for e in r.get("earlier_runs") or [])
        lines += [
            f"Sentences (`{name}`, English to Spanish verses, {r['train_pairs']:,} training "
            "pairs, subword tokenizers, the same command, time cap "
            f"{r['max_minutes']:g} min): after "
            f"{r['train_seconds'] / 60:.1f} minutes of training ({r['epochs_run']} epoch(s), "
            f"best {r['best_epoch']}), test BLEU {m['bleu']:.1f} and chrF {m['chrf']:.1f} "
            f"({r.get('decoder', 'greedy')}, chosen on validation chrF; the first greedy "
            f"decode: {first}"
            + (f"; earlier runs: {earlier}" if earlier else "")
            + f"); {r['empty_outputs']} of {r['decoded_outputs']} outputs "
            f"empty. Baselines: {baselines}. By BLEU the model {verdict} the best baseline, "
            f"`{best}`.",
            ""]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=["run", "baselines", "paired", "render"])
    parser.add_argument("tasks", nargs="*")
    parser.add_argument("--max-minutes", type=float, default=20.0)
    parser.add_argument("--seeds", type=int, nargs="*", default=[],
                        help="run: train today's defaults again with these seeds (not 0), "
                        "beside each task's seed-0 record")
    parser.add_argument("--model", default=MODEL,
                        help=f"run: another entry than {MODEL}, with every default, seed 0 "
                        "and --seeds, recorded under the task's \"models\"")
    args = parser.parse_args(argv)
    if args.step == "run" and args.model != MODEL:
        results = _load()
        for name in args.tasks or TASKS:
            results["runs"][name].setdefault("models", {})[args.model] = run_other_model(
                name, args.model, args.max_minutes, args.seeds)
            save_json(RESULTS_JSON, results)
    elif args.step == "run" and args.seeds:
        # the same defaults with other seeds, beside the task's record: each trains in its own
        # folder and decodes the test split once, with the decoder chosen on validation
        results = _load()
        for name in args.tasks or TASKS:
            for seed in args.seeds:
                record = run(name, args.max_minutes, folder=os.path.join(
                    RUNS, name, f"seed_{seed}"), previous={}, seed=seed)
                results["runs"][name].setdefault("seeds", {})[str(seed)] = {
                    key: record[key] for key in RUN_KEYS + ("validation_by_decoder", "date")}
                save_json(RESULTS_JSON, results)
    elif args.step == "run":
        results = _load()
        for name in args.tasks or TASKS:
            results["runs"][name] = run(name, args.max_minutes)
            save_json(RESULTS_JSON, results)
    if args.step in ("run", "paired"):  # from the outputs the runs wrote: nothing decoded
        results = _load()
        for name in args.tasks or (TASKS if args.step == "run" else list(results["runs"])):
            paired = paired_with_baseline(name, results["runs"][name])
            if paired is not None:
                results["runs"][name]["paired"] = paired
        save_json(RESULTS_JSON, results)
    if args.step == "baselines":  # the test split is not decoded again
        results = _load()
        for name in args.tasks or list(results["runs"]):
            results["runs"][name]["baselines"] = baselines_of(name)
        save_json(RESULTS_JSON, results)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import g2p_results

    g2p_results.render()


if __name__ == "__main__":
    main()
