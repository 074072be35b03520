"""Copy against no copy: `copy_bilstm` and `luong_bilstm` at default settings (issue 23).

    python scripts/copy_results.py run [TASK ...] [--max-minutes 20]
    python scripts/copy_results.py unseen     # pointer_generator against luong_bilstm on
                                              # copy_templates (words never seen in training)
    python scripts/copy_results.py render     # (re)writes zoo/RESULTS.md, as g2p_results does

Each task (default: `past_tense`, a real character-level task whose outputs mostly copy the
input) is trained by both entries exactly as `scripts/own_data_results.py` trains a user's
TSV: `keras-s2s train MODEL --train train.tsv --validation dev.tsv --multiple-references
--out RUN --max-minutes M`, every other setting at its default (chosen by `train` from the
data). The two trainings run side by side, one TensorFlow thread each, so each has one of the
2 cores. For each, the decoder (greedy or beam 5, best epoch or the average of the last 5
epochs) is chosen on validation and the test split is decoded once. Results:
`zoo/results/copy.json`; the section of `zoo/RESULTS.md` comes from `section()`.

`unseen` trains `pointer_generator` (the extended vocabulary) and `luong_bilstm` on the
built-in `copy_templates` task through the CLI with default settings (`keras-s2s train MODEL
--task copy_templates --out RUN`; the checkpoint metric is the task's own,
`unseen_token_accuracy` on validation, whose fillers are disjoint from training's), side by
side, then scores the test split once, greedily (`keras-s2s evaluate RUN --json`).
"""

import argparse
import concurrent.futures
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# one thread per training: the two share the 2 cores evenly (the CLI subprocesses inherit it)
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import own_data_results  # noqa: E402
from results_io import save_json  # noqa: E402

ROOT = own_data_results.ROOT
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "copy.json")
RUNS = os.path.join(ROOT, "runs", "copy")
MODELS = ("luong_bilstm", "copy_bilstm")
TASKS = ("past_tense",)
UNSEEN_MODELS = ("pointer_generator", "luong_bilstm")


def _load():
    return own_data_results._load(RESULTS_JSON)


def run(name, max_minutes):
    """Train both entries on `name` side by side; returns `{model: record}`."""
    previous = _load()["runs"].get(name, {})
    paths = own_data_results.export(name)  # once: the two trainings read the same files
    with concurrent.futures.ThreadPoolExecutor(len(MODELS)) as pool:
        futures = {model: pool.submit(own_data_results.run, name, max_minutes, model=model,
                                      folder=os.path.join(RUNS, name, model),
                                      previous=previous.get(model, {}), paths=paths)
                   for model in MODELS}
        return {model: future.result() for model, future in futures.items()}


def section():
    """The markdown lines of the copy section of zoo/RESULTS.md (empty without results)."""
    results = _load()["runs"]
    if not results:
        return []
    lines = [
        "## Copying: the pointer-generator against the same model without it",
        "",
        "`copy_bilstm` is `luong_bilstm` with See et al.'s copy switch (docs/ARCHITECTURE.md, "
        "\"The copy mechanism\"). Both trained side by side through the CLI with every "
        "setting at its default (`python scripts/copy_results.py run`; one TensorFlow thread "
        "each on the 2-core CPU), the decoder chosen on validation, the test split decoded "
        "once per run. A task trained again after a change of defaults keeps the test "
        "results of its earlier runs (\"earlier runs\": accuracy, decoder, epochs, time "
        "cap); the first runs had the defaults before 2026-12-04 (plateau schedule, early "
        "stopping), and a task this small now trains a 7,680-step cosine budget (see above). "
        "The current rows were trained on 2026-12-05, left to right, just before `train` "
        "began to write `past_tense`'s targets right to left by default (`--target-order "
        "auto`, see the own-data table). "
        "One run each (seed 0): a point or so is within what another seed could move.",
        "",
        "| task | model | parameters | best baseline | baseline acc. / CER | val. acc. | "
        "test acc. | test CER | decoder | earlier runs | train min (wall) | epochs (best) | "
        "test words right minus the baseline's |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |",
    ]
    notes = []
    for name, by_model in results.items():
        for model, r in by_model.items():
            best, baseline = own_data_results.best_baseline(r)
            test = r["model_metrics"]["sequence_accuracy"]
            n = r["test_examples"]
            margin = round((test - baseline) * n)
            lines.append(
                f"| `{name}` | `{model}` | {r.get('parameters', 0):,} | `{best}` | "
                f"{100 * baseline:.1f} / {100 * r['baselines'][best]['cer']:.1f} | "
                f"{100 * r['validation_by_decoder'][r['decoder']]:.1f} | {100 * test:.1f} | "
                f"{100 * r['model_metrics']['cer']:.1f} | {r['decoder']} | "
                f"{own_data_results.earlier_runs(r)} | {r['train_seconds'] / 60:.1f} | "
                f"{r['epochs_run']} ({r['best_epoch']}) | "
                f"{margin:+d} of {n} |")
            if r["best_epoch"] == r["epochs_run"] and not r.get("stopped_early"):
                notes.append(f"`{model}` on `{name}` had its best validation epoch at the "
                             "last one: it stopped at the epoch limit while still improving.")
    lines += ["", "Validation accuracy is on the first 500 validation examples, with the "
              "chosen decoder. The last column counts test words: a margin of a few words "
              "is within what another seed could move, so one run cannot say that a model "
              "beats the rule. " + " ".join(notes), ""]
    return lines + g2p_sentence() + unseen_section()


def g2p_sentence():
    """Copy against no copy on CMUdict G2P (the equal-budget recipes of `zoo/recipes/g2p/`),
    from `zoo/results/g2p.json`; empty until both are measured."""
    path = os.path.join(ROOT, "zoo", "results", "g2p.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        runs = json.load(f)["runs"]
    if not {"copy_bilstm", "luong_bilstm"} <= set(runs):
        return []
    copy, plain = runs["copy_bilstm"], runs["luong_bilstm"]
    return [f"On CMUdict G2P, where no letter is a phoneme (the copy map sends every letter "
            f"to `<unk>`, so copying can only move mass onto `<unk>`), the equal-budget "
            f"recipes (`zoo/recipes/g2p/copy_bilstm.toml` and `luong_bilstm.toml`, the same "
            f"settings; `python scripts/g2p_results.py train copy_bilstm`, then `evaluate`) "
            f"give test WER {100 * copy['beam']['wer']:.1f}% (beam 5) for `copy_bilstm` "
            f"against {100 * plain['beam']['wer']:.1f}% for `luong_bilstm` (PER "
            f"{100 * copy['beam']['per']:.1f}% against {100 * plain['beam']['per']:.1f}%). "
            "One run each, trained in different sessions: whether the difference comes from "
            "the gate (one more input-dependent scaling of the output) or from the seed and "
            "the machine is not tested; copying itself cannot help here.", ""]


def _unseen_one(model):
    import subprocess

    run = os.path.join(RUNS, "copy_templates", model)
    subprocess.run(["keras-s2s", "train", model, "--task", "copy_templates", "--out", run,
                    "--overwrite"], check=True, cwd=ROOT)
    scores = os.path.join(RUNS, "copy_templates", f"{model}.test.json")
    subprocess.run(["keras-s2s", "evaluate", run, "--json", scores], check=True, cwd=ROOT)
    with open(os.path.join(run, "config.json")) as f:
        config = json.load(f)
    with open(scores) as f:
        test = json.load(f)
    return {"parameters": config["parameters"], "train_seconds": config["results"]["seconds"],
            "epochs_run": config["results"]["epochs_run"],
            "best_epoch": config["results"]["best_epoch"],
            "validation_metric": config["training"]["metric"],
            "validation_value": config["results"][f"best_val_{config['training']['metric']}"],
            "model_kwargs": config.get("model_kwargs"), "test": test,
            "date": __import__("time").strftime("%Y-%m-%d")}


def unseen():
    """Train and score both entries on copy_templates; returns `{model: record}`."""
    with concurrent.futures.ThreadPoolExecutor(len(UNSEEN_MODELS)) as pool:
        futures = {m: pool.submit(_unseen_one, m) for m in UNSEEN_MODELS}
        return {m: f.result() for m, f in futures.items()}


def unseen_section():
    """The markdown lines of the unseen-words table (empty without results)."""
    records = _load().get("unseen")
    if not records:
        return []
    lines = ["### Words never seen in training: the extended vocabulary", "",
             "`copy_templates` (the test split's names and numbers never occur in training, "
             "and the vocabularies hold only the templates' own words), both entries trained "
             "through the CLI with default settings as they were before 2026-12-04 (plateau "
             "schedule, early stopping; this 5,000-pair task is now given a 7,680-step cosine "
             "budget) (`python scripts/copy_results.py unseen`: "
             "`keras-s2s train MODEL --task copy_templates`, best epoch by validation "
             "`unseen_token_accuracy`, then `keras-s2s evaluate` on the test split, greedy), "
             "side by side with one TensorFlow thread each. One run each (seed 0).", "",
             "| model | parameters | unseen words right (test) | exact match (test) | "
             "train min (wall) | epochs (best) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for model, r in records.items():
        t = r["test"]
        lines.append(f"| `{model}` | {r['parameters']:,} | "
                     f"{100 * t['unseen_token_accuracy']:.1f}% | "
                     f"{100 * t['sequence_accuracy']:.1f}% | {r['train_seconds'] / 60:.1f} | "
                     f"{r['epochs_run']} ({r['best_epoch']}) |")
    lines += ["", "`luong_bilstm` can only write `<unk>` for a word outside its vocabulary; "
              "references are scored with their words kept, so `<unk>` is never right.", ""]
    return lines


def _parameters(run_dir):
    with open(os.path.join(run_dir, "config.json")) as f:
        return json.load(f)["parameters"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("run", "unseen", "render"))
    parser.add_argument("tasks", nargs="*", default=list(TASKS))
    parser.add_argument("--max-minutes", type=float, default=20)
    args = parser.parse_args(argv)
    if args.command == "unseen":
        results = _load()
        results["unseen"] = unseen()
        save_json(RESULTS_JSON, results, indent=1, sort_keys=False)
    if args.command == "run":
        results = _load()
        for name in args.tasks:
            records = run(name, args.max_minutes)
            for model, record in records.items():
                record["parameters"] = _parameters(os.path.join(RUNS, name, model, "run"))
            results["runs"][name] = records
            save_json(RESULTS_JSON, results, indent=1, sort_keys=False)
            print(f"wrote {os.path.relpath(RESULTS_JSON, ROOT)}")
    import g2p_results

    g2p_results.render()
    return 0


if __name__ == "__main__":
    sys.exit(main())
