"""Train and score the pointer-network recipes: writes `zoo/results/pointer.json` and the
pointer section of `zoo/RESULTS.md`.

    python scripts/pointer_results.py train [STEM ...]     # keras-s2s train --recipe, each
    python scripts/pointer_results.py evaluate [STEM ...]  # decoder chosen on validation, test once
    python scripts/pointer_results.py render               # zoo/RESULTS.md from the JSON

STEM is a recipe file name in `zoo/recipes/pointer/` without `.toml` (default: every recipe).
Each run keeps the epoch with the best validation exact match. `evaluate` then decodes the
validation split greedily and with beam 5 (with the task's constraint: no repeated point for
the hull, every city once for the TSP), keeps the decoder that scores better there (exact
match for the hull, the tour length for the TSP), and decodes the test split once with it.
The paper's figures are quoted beside ours (Vinyals, Fortunato and Jaitly, 2015, tables 1
and 2), for models trained on 1M examples.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import g2p_results  # noqa: E402
from results_io import load_json, save_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = os.path.join(ROOT, "zoo", "recipes", "pointer")
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "pointer.json")
# quoted from the paper (Ptr-Net rows; the hull's table 1, the TSP's table 2, n = 10)
PAPER = {"convex_hull": "Ptr-Net, n = 10 (1M training examples): accuracy 87.0%, area 99.8%",
         "tsp": "Ptr-Net, n = 10 (1M training examples): mean tour 2.88 against the optimal "
                "2.87 (1.003×)"}
# how a decoder is chosen on validation: (metric, higher is better)
SELECTION = {"convex_hull": ("hull_accuracy", True), "tsp": ("tour_length_ratio", False),
             "sort_numbers": ("sequence_accuracy", True)}
GOALS = {"convex_hull": "exact match ≥ 70%", "tsp": "within 5% of the optimal length, ≥ 95% "
                                                  "valid tours"}


def _stems(names):
    return g2p_results._stems(names, RECIPES)


def _load():
    return load_json(RESULTS_JSON, {"runs": {}})


def _save(results):
    save_json(RESULTS_JSON, results)


def _recipe(stem):
    from keras_s2s.training.recipes import load_recipe

    return load_recipe(os.path.join(RECIPES, f"{stem}.toml"))


def train(stems, retrain=False):
    for stem in stems:
        recipe = _recipe(stem)
        config = os.path.join(ROOT, recipe["out"], "config.json")
        if os.path.exists(config) and "results" in json.load(open(config)) and not retrain:
            print(f"[{stem}] trained already: kept (--retrain to train again)")
            continue
        command = ["keras-s2s", "train", "--recipe", recipe["path"]]
        if retrain:
            command.append("--overwrite")
        print(f"[{stem}] {' '.join(command)}", flush=True)
        subprocess.run(command, check=True, cwd=ROOT)


def evaluate(stems):
    from keras_s2s.data import load_task
    from keras_s2s.evaluation import evaluate as evaluate_split

    results = _load()
    for stem in stems:
        recipe = _recipe(stem)
        run_dir = os.path.join(ROOT, recipe["out"])
        model, config = g2p_results.finished_run(stem, run_dir)
        if model is None:
            continue
        task = load_task(recipe["task"], **recipe["task_options"])
        metric, higher = SELECTION[recipe["task"]]
        beam = {"beam_width": recipe["evaluation"].get("beam_width", 5)}
        validation = {}
        for decoder, method, kwargs in (("greedy", "greedy", {}), ("beam", "beam", beam)):
            scores, _ = evaluate_split(model, task, "validation", method, verbose=False,
                                       **kwargs)
            validation[decoder] = scores
            print(f"[{stem}] validation {decoder}: {metric} {scores[metric]:.4f}", flush=True)
        unconstrained = None
        if recipe["task"] == "tsp":  # the model alone: how many greedy tours are valid
            unconstrained, _ = evaluate_split(model, task, "validation", "greedy",
                                              verbose=False, constraint=None)
            print(f"[{stem}] validation greedy, no constraint: valid "
                  f"{unconstrained['valid_tours']:.3f}", flush=True)
        chosen = (max if higher else min)(validation, key=lambda d: validation[d][metric])
        method, kwargs = ("beam", beam) if chosen == "beam" else ("greedy", {})
        test, _ = evaluate_split(model, task, "test", method, verbose=False, **kwargs)
        print(f"[{stem}] test ({chosen}): " + ", ".join(
            f"{k} {v:.4f}" for k, v in test.items() if k in task.metrics), flush=True)
        results["runs"][stem] = {
            "task": recipe["task"], "task_options": recipe["task_options"],
            "model": recipe["model"], "recipe": os.path.relpath(recipe["path"], ROOT),
            "parameters": config["parameters"], "train_seconds": config["results"]["seconds"],
            "epochs_run": config["results"]["epochs_run"],
            "best_epoch": config["results"]["best_epoch"],
            "stopped_early": config["results"].get("stopped_early"),
            "selection_metric": metric, "validation": validation, "decoder": chosen,
            "decoder_settings": kwargs, "constraint": task.decode_options.get("constraint"),
            "validation_unconstrained": unconstrained,
            "test": test, "date": time.strftime("%Y-%m-%d"),
            "machine": "2-core CPU, one TensorFlow thread per run, two runs at a time"}
        _save(results)
    return results


def section():
    """The markdown lines of the pointer section of zoo/RESULTS.md (empty without results)."""
    runs = _load()["runs"]
    if not runs:
        return []
    lines = [
        "## Pointer networks: convex hull and TSP",
        "",
        "The pointer kind's recipes in `zoo/recipes/pointer/` (`python scripts/pointer_results.py "
        "train`, then `evaluate`; the Transformer's trained with 2 TensorFlow threads on an "
        "otherwise idle machine): 100,000 generated training examples with exact answers, the "
        "best epoch chosen on validation (the hull by exact match, the TSP by mean tour "
        "length), then greedy search or beam 5 chosen on validation the same way, and the "
        "test split "
        "(1,000 examples) decoded once. Decodes use the task's constraint: no point twice for "
        "the hull, every city exactly once for the TSP. One run each (seed 0), trained with "
        "one TensorFlow thread while another run shared the 2-core CPU.",
        "",
        "| task | model | parameters | train min (wall) | epochs (best) | decoder | test result "
        "| goal | the paper (quoted) |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    for stem, r in sorted(runs.items()):
        t = r["test"]
        if r["task"] == "convex_hull":
            result = (f"exact match {100 * t['hull_accuracy']:.1f}% (the same cycle, from any "
                      f"point; {100 * t['sequence_accuracy']:.1f}% as the literal sequence "
                      f"from the lowest index), area {100 * t['area_coverage']:.2f}%")
        elif r["task"] == "tsp":
            result = (f"mean tour {t['tour_length']:.3f} against the optimal "
                      f"{t['optimal_tour_length']:.3f} ({t['tour_length_ratio']:.3f}×), "
                      f"{100 * t['valid_tours']:.0f}% valid")
            free = r.get("validation_unconstrained")
            if free:
                result += (f"; without the constraint (greedy, validation) "
                           f"{100 * free['valid_tours']:.1f}% valid, "
                           f"{free['tour_length_ratio']:.3f}× over those")
        else:
            result = f"exact match {100 * t['sequence_accuracy']:.1f}%"
        lines.append(
            f"| `{r['task']}` n = {r['task_options'].get('n')} | `{r['model']}` | "
            f"{r['parameters']:,} | {r['train_seconds'] / 60:.1f} | "
            f"{r['epochs_run']} ({r['best_epoch']}) | {r['decoder']} | {result} | "
            f"{GOALS.get(r['task'], '')} | {PAPER.get(r['task'], '')} |")
    lines += ["", "The paper trained on 1M examples per task with a 256- or 512-unit LSTM; "
              "the recipes here train on 100,000 for at most 25 minutes of this CPU, which "
              "explains a gap to its figures. The hull's exact match counts the right vertices in "
              "counter-clockwise order from any starting point (`hull_exact_match`; the "
              "paper's text on this was not found, so the convention is ours): "
              "`pointer_transformer`'s encoder has no positions, so it cannot see which point "
              "has the lowest index and rarely starts there, which the literal-sequence figure "
              "shows. The TSP rows are valid by construction (the "
              "permutation constraint), so their share of valid tours says nothing about the "
              "model alone: the share of valid greedy tours without the constraint, on "
              "validation, says that.", ""]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("train", "evaluate", "render"))
    parser.add_argument("stems", nargs="*")
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "train":
        train(_stems(args.stems), args.retrain)
    elif args.command == "evaluate":
        evaluate(_stems(args.stems))
    g2p_results.render()
    return 0


if __name__ == "__main__":
    sys.exit(main())
