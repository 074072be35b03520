"""Train, evaluate and tabulate the zoo's G2P recipes: writes `zoo/results/g2p.json` and
`zoo/RESULTS.md`.

    python scripts/g2p_results.py train [STEM ...]     # keras-s2s train --recipe, per recipe
    python scripts/g2p_results.py evaluate [STEM ...]  # test PER/WER, greedy and beam
    python scripts/g2p_results.py render               # zoo/RESULTS.md from the JSON
    python scripts/g2p_results.py all [STEM ...]       # the three in order

STEM is a recipe file name in `zoo/recipes/g2p/` without `.toml` (default: every recipe).
Training runs in a subprocess per recipe, one at a time; a run whose `config.json` already
holds results is kept unless `--retrain`. The best epoch of each run is chosen on the
validation split (the recipe's `metric`); the test split is only decoded here.
"""

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import g2p_outputs  # noqa: E402
from results_io import load_json, save_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = os.path.join(ROOT, "zoo", "recipes", "g2p")
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "g2p.json")
RESULTS_MD = os.path.join(ROOT, "zoo", "RESULTS.md")
FIGURES_JSON = os.path.join(ROOT, "zoo", "figures", "figures.json")
REFERENCES = [
    ("Phonetisaurus (WFST), Novak et al. 2016", None, 33.9),
    ("g2p-seq2seq Transformer (CMU Sphinx)", None, 31.0),
]
GOAL_WER = 0.30
GOAL_MINUTES = 45


def _stems(names, folder=RECIPES):
    """The recipe stems of `folder` that `names` asks for (all of them when empty)."""
    available = sorted(os.path.splitext(os.path.basename(p))[0]
                       for p in glob.glob(os.path.join(folder, "*.toml")))
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise SystemExit(f"unknown recipe(s) {unknown}; available: {available}")
    return list(names) or available


def _load():
    return load_json(RESULTS_JSON, {"task": "g2p", "runs": {}})


def _save(results):
    save_json(RESULTS_JSON, results)


def _recipe(stem):
    from keras_s2s.training.recipes import load_recipe

    return load_recipe(os.path.join(RECIPES, stem + ".toml"))


def train(stems, retrain=False):
    for stem in stems:
        recipe = _recipe(stem)
        config_path = os.path.join(ROOT, recipe["out"], "config.json")
        if not retrain and os.path.exists(config_path):
            with open(config_path) as f:
                if "results" in json.load(f):
                    print(f"[{stem}] trained already ({recipe['out']}); --retrain to redo")
                    continue
        command = [os.path.join(os.path.dirname(sys.executable), "keras-s2s"), "train",
                   "--recipe", os.path.relpath(recipe["path"], ROOT)]
        if retrain and os.path.exists(config_path):
            command.append("--overwrite")  # the old run stays until the new one's first epoch
        print(f"[{stem}] {' '.join(command[1:])}", flush=True)
        start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, cwd=ROOT, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        timing = {"process_wall_seconds": time.perf_counter() - start,
                  "process_cpu_seconds": (after.ru_utime - before.ru_utime
                                          + after.ru_stime - before.ru_stime),
                  "load_average_after": os.getloadavg()}
        with open(os.path.join(ROOT, recipe["out"], "timing.json"), "w") as f:
            json.dump(timing, f, indent=2)
        print(f"[{stem}] {timing['process_wall_seconds']:.0f}s wall, "
              f"{timing['process_cpu_seconds']:.0f}s CPU", flush=True)


def finished_run(stem, run_dir):
    """`(model, config)` of a recipe's finished run, or `(None, None)` (said in one line)."""
    from keras_s2s.training.recipe import load_run

    if not os.path.exists(os.path.join(run_dir, "config.json")):
        print(f"[{stem}] not trained yet: skipped")
        return None, None
    model, _, _, config = load_run(run_dir)
    if "results" not in config:
        print(f"[{stem}] training did not finish: skipped")
        return None, None
    return model, config


def evaluate(stems):
    from keras_s2s.data import load_task
    from keras_s2s.evaluation import evaluate as evaluate_split

    results = _load()
    tasks = {}
    for stem in stems:
        recipe = _recipe(stem)
        run_dir = os.path.join(ROOT, recipe["out"])
        model, config = finished_run(stem, run_dir)
        if model is None:
            continue
        key = json.dumps(recipe["task_options"], sort_keys=True)
        if key not in tasks:
            tasks[key] = load_task(recipe["task"], **recipe["task_options"])
        task = tasks[key]
        evaluation = recipe["evaluation"]
        split = evaluation.get("split", "test")
        timing_path = os.path.join(run_dir, "timing.json")
        timing = json.load(open(timing_path)) if os.path.exists(timing_path) else {}
        row = {"model": recipe["model"], "recipe": os.path.relpath(recipe["path"], ROOT),
               "description": recipe["description"], "parameters": config["parameters"],
               "train_seconds": config["results"]["seconds"],
               "process_cpu_seconds": timing.get("process_cpu_seconds"),
               "epochs": config["results"]["epochs_run"],
               "best_epoch": config["results"]["best_epoch"],
               "training_words": len(set(e.source for e in task.splits["train"][
                   :recipe["training"].get("max_train_examples")])),
               "validation_metric": config["training"]["metric"],
               "validation_value": config["results"][f"best_val_{config['training']['metric']}"],
               "max_eval_examples": config["training"]["max_eval_examples"], "split": split}
        beam = {k: v for k, v in evaluation.items() if k != "split"}
        beam.setdefault("beam_width", 5)
        for method, kwargs in (("greedy", {}), ("beam", beam)):
            scores, details = evaluate_split(model, task, split, method, verbose=False,
                                             **kwargs)
            if split == "test":  # kept for word-by-word comparisons
                g2p_outputs.save(g2p_outputs.split_of(recipe), f"{stem}.{method}",
                                 details["hypotheses"])
            row[method] = {k: scores[k] for k in ("per", "wer", "sequence_accuracy", "seconds")}
            row[method]["settings"] = kwargs
            print(f"[{stem}] {split} {method}: PER {100 * scores['per']:.2f}% "
                  f"WER {100 * scores['wer']:.2f}% ({scores['examples']} words)", flush=True)
        row["test_words"] = scores["examples"]
        results["runs"][stem] = row
        _save(results)
    return results


def _pct(x):
    return f"{100 * x:.1f}"


# Published results on the standard (PRONALSYL, "g014b2b") split, quoted from the split's
# README (../shared/data/g2p_cmudict_pronalsyl/README.md): (system, PER %, WER %, source)
STANDARD_PUBLISHED = [
    ("Phonetisaurus joint n-gram", None, 24.4, "g2p-seq2seq README"),
    ("LSTM 2x512", None, 24.2, "g2p-seq2seq README"),
    ("Transformer 2x256", None, 20.2, "g2p-seq2seq README"),
    ("Transformer 3x256", None, "20.6-20.9", "g2p-seq2seq README"),
    ("Sun et al. 2019, token-level ensemble distillation", 4.6, 19.9, "the paper"),
]


def standard_split_section():
    """The "standard split" table: the measured peer rows (`scripts/peer_g2p.py`), our rows
    (none trained yet) and the published rows, quoted."""
    path = os.path.join(ROOT, "zoo", "results", "peer_g2p.json")
    peer = {}
    if os.path.exists(path):
        with open(path) as f:
            peer = json.load(f)
    lines = [
        "## G2P on the standard CMUdict split, and Phonetisaurus on both splits",
        "",
        "`load_task(\"g2p\", split=\"standard\")` is the literature's split (PRONALSYL / "
        "Phonetisaurus \"g014b2b\": 106,837 training and 12,000 test words; 5% of the "
        "training words, seeded, held out for validation). Phonetisaurus 0.3.0 is measured by "
        "`python scripts/peer_g2p.py` (its standard recipe, `phonetisaurus-train --seq2_del "
        "--ngram_order 8`, on the same training pairs as our models; every test word decoded "
        "once, 1-best; WER and PER by our scorer against every reference). Published rows "
        "are quoted, not measured here. Rows marked NVIDIA H200 were trained on a GPU machine "
        "lent to one session (JAX, no TensorFlow there) by `scripts/g2p_gpu.py` "
        "(`scripts/g2p_gpu_device.sh` runs `transformer_gpu` and `transformer_gpu_wide` side by "
        "side on the one GPU, so each had part of it); their CPU column is that host's process "
        "CPU time, and their weights, decoded here under TensorFlow on the CPU, gave the same "
        "outputs on 500 of 500 validation words (`scripts/g2p_gpu.py check`). The other rows "
        "ran on this 2-core CPU.",
        "",
        "| system | split | PER | WER | train min (wall) | CPU min | how |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for split in ("standard", "default"):
        if split in peer:
            r = peer[split]
            lines.append(
                f"| Phonetisaurus {r['version']} | {split} | {_pct(r['per'])} | "
                f"{_pct(r['wer'])} | {r['train_wall_seconds'] / 60:.1f} | "
                f"{r['train_cpu_seconds'] / 60:.1f} | measured ({r['date']}, load average "
                f"{r['load_average'][0]:.1f}) |")
    import g2p_standard_results

    recorded = g2p_standard_results._load()
    lines += g2p_standard_results.rows(recorded)
    for name, per, wer, source in STANDARD_PUBLISHED:
        lines.append(f"| {name} | standard | {'' if per is None else per} | {wer} | | | "
                     f"quoted ({source}) |")
    standard = recorded["runs"]
    if standard:
        stem = g2p_standard_results.best_by_validation(standard)
        best = standard[stem]
        met = best["test"]["wer"] <= 0.21 and best["test"]["per"] <= 0.05
        which = ("Our row chosen on validation" if len(standard) == 1 else
                 f"Our best row by validation WER (`{stem}`)")
        best_wer = g2p_standard_results.validation_wer(best)
        tied = [k for k in sorted(standard) if k != stem and
                g2p_standard_results.validation_wer(standard[k]) == best_wer]
        if tied:
            which = (f"Our best row by validation WER (`{stem}`, tied at {_pct(best_wer)}% "
                     f"with {', '.join(f'`{k}`' for k in tied)}; the first by name is shown)")
        status = (f"{which} reaches {_pct(best['test']['wer'])}% WER and "
                  f"{_pct(best['test']['per'])}% PER on the test words: the goal (test WER ≤ "
                  "21% and PER ≤ 5.0% for one model, ≤ 20% for an ensemble or an averaged "
                  f"model) is {'met' if met else 'not met'}.")
        ensembles = recorded.get("ensembles", {})
        if ensembles:
            name = g2p_standard_results.best_by_validation(ensembles)
            wer = ensembles[name]["test"]["wer"]
            status += (f" The ensemble {'chosen' if len(ensembles) == 1 else 'best'} on "
                       f"validation (`{name}`) reaches {_pct(wer)}% WER and "
                       f"{_pct(ensembles[name]['test']['per'])}% PER: the ensemble goal "
                       f"(≤ 20% WER) is {'met' if wer <= 0.20 else 'not met'}.")
        if "standard" in peer:
            theirs = peer["standard"]["wer"]
            status += (f" `{stem}` is {_pct(abs(best['test']['wer'] - theirs))} points "
                       f"{'behind' if best['test']['wer'] > theirs else 'ahead of'} "
                       f"Phonetisaurus ({_pct(theirs)}%) on this split.")
            cpu = {k: r for k, r in standard.items() if r.get("threads")}
            if cpu and stem not in cpu:
                best_cpu = g2p_standard_results.best_by_validation(cpu)
                wer = cpu[best_cpu]["test"]["wer"]
                status += (f" The best 2-core CPU row by validation (`{best_cpu}`, "
                           f"{_pct(wer)}%) is {_pct(abs(wer - theirs))} points "
                           f"{'behind' if wer > theirs else 'ahead of'} Phonetisaurus.")
            cpu_ensembles = {k: r for k, r in ensembles.items() if "member_weights" not in r
                             and all(m.get("threads") for m in r["members"].values())}
            if cpu_ensembles:
                name = g2p_standard_results.best_by_validation(cpu_ensembles)
                wer = cpu_ensembles[name]["test"]["wer"]
                status += (f" The best 2-core CPU ensemble by validation (`{name}`, "
                           f"{_pct(wer)}%) is {_pct(abs(wer - theirs))} points "
                           f"{'behind' if wer > theirs else 'ahead of'} Phonetisaurus.")
        status += word_by_word("standard", sorted(standard) + sorted(ensembles))
    else:
        status = ("No keras_s2s recipe has been trained on the standard split yet, so this "
                  "table has no row of ours: the goal (test WER ≤ 21% and PER ≤ 5.0% for one "
                  "model, ≤ 20% for an ensemble or an averaged model) is open.")
    lines += ["", status]
    runs = _load()["runs"]
    if runs and "default" in peer:
        best = min(runs, key=lambda s: runs[s]["validation_value"])  # chosen on validation
        ours, theirs = runs[best]["beam"]["wer"], peer["default"]["wer"]
        lines[-1] += (
            f" On the default split, the recipe chosen on validation (`{best}`, "
            f"{_pct(ours)}% WER with beam 5, {runs[best]['train_seconds'] / 60:.0f} minutes) is "
            f"{_pct(abs(ours - theirs))} points {'behind' if ours > theirs else 'ahead of'} "
            f"Phonetisaurus ({_pct(theirs)}%, {peer['default']['train_wall_seconds'] / 60:.0f} "
            "minutes)")
        lines[-1] += ": a defect to fix, not a row to hide." if ours > theirs else "."
        lines[-1] += word_by_word("default", [f"{s}.beam" for s in sorted(runs)])
    return lines + [""]


def word_by_word(split, names):
    """A sentence comparing each of `names` (systems whose test outputs on `split` were kept,
    `g2p_outputs`) with Phonetisaurus's kept outputs, word by word; "" when none can be."""
    from keras_s2s.data import load_task
    from keras_s2s.significance import p_phrase

    if not g2p_outputs.kept(split, g2p_outputs.PEER):
        return ""
    task, parts = None, []
    for name in names:
        if not g2p_outputs.kept(split, name):
            continue
        task = task or load_task("g2p", split=split)
        r = g2p_outputs.paired(split, name, g2p_outputs.PEER, task)
        label = f"`{name[:-len('.beam')]}` (beam 5)" if name.endswith(".beam") else f"`{name}`"
        parts.append(f"{label} {r['a_only']:,} against {r['b_only']:,} (p "
                     f"{p_phrase(r['p_value'])})")
    if not parts:
        return ""
    return (f" Word by word against Phonetisaurus on the same {len(task.splits['test']):,} "
            f"test words (test words only ours gets right against those only Phonetisaurus "
            f"gets right, McNemar's exact test on the outputs kept at the one test decode, "
            f"`scripts/g2p_outputs.py`): {'; '.join(parts)}.")


def render():
    results = _load()
    runs = results["runs"]
    lines = [
        "# Measured results",
        "",
        "<!-- generated by scripts/g2p_results.py and scripts/make_figures.py; do not edit by "
        "hand -->",
        "",
        "Every number on this page came from these commands, on a 2-core CPU (no GPU), except "
        "the G2P rows marked NVIDIA H200, which `scripts/g2p_gpu.py` trained on a lent GPU "
        "machine:",
        "",
        "```",
        "python scripts/g2p_results.py all      # trains each zoo/recipes/g2p/*.toml, then "
        "decodes the test split",
        "python scripts/make_figures.py         # the paper-finding figures below",
        "python scripts/own_data_results.py run # the your-own-data table",
        "python scripts/own_data_results.py run past_tense --seeds 1 2  # its other seeds",
        "python scripts/past_tense_ablation.py run  # past_tense settings, validation only",
        "python scripts/copy_results.py run     # copy against no copy",
        "python scripts/pointer_results.py evaluate  # the pointer networks",
        "python scripts/sampled_softmax_results.py run  # full against sampled softmax",
        "python scripts/translation_results.py all  # the translation recipes",
        "```",
        "",
        "## Grapheme-to-phoneme (CMUdict, no stress marks)",
        "",
        "The built-in `g2p` task: CMUdict's words split 90/5/5 at random by word (seed 0), stress "
        "marks removed, letters-only words, every listed pronunciation kept as a reference. "
        "PER is the phoneme edit distance to the closest reference over the reference length; "
        "WER is the share of words whose output matches no reference. Each run keeps the epoch "
        "with the best validation WER (greedy, on the first validation words); the test split "
        "is decoded once, afterwards. Training time is the wall time of `model.fit` "
        "(validation decoding included) on this machine's 2 cores.",
        "",
        "| entry | recipe | budget | parameters | train min (wall) | CPU min | val WER | "
        "PER greedy | WER greedy | PER beam 5 | WER beam 5 |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    order = sorted(runs, key=lambda s: runs[s]["beam"]["wer"])
    for stem in order:
        r = runs[stem]
        cpu = f"{r['process_cpu_seconds'] / 60:.1f}" if r.get("process_cpu_seconds") else ""
        lines.append(
            f"| [`{r['model']}`]({r['model']}.md) | [`{stem}`](recipes/g2p/{stem}.toml) | "
            f"{r['description'].split(': ', 1)[-1]} | {r['parameters']:,} | "
            f"{r['train_seconds'] / 60:.1f} | "
            f"{cpu} | "
            f"{_pct(r['validation_value'])} | "
            f"{_pct(r['greedy']['per'])} | {_pct(r['greedy']['wer'])} | "
            f"{_pct(r['beam']['per'])} | {_pct(r['beam']['wer'])} |")
    for name, per, wer in REFERENCES:
        lines.append(f"| {name} (published; its own split) | | | | | | | | | "
                     f"{'' if per is None else per} | {wer} |")
    lines.append("")
    if runs:
        best = min(runs, key=lambda s: runs[s]["validation_value"])  # chosen on validation
        r = runs[best]
        reached = r["beam"]["wer"] <= GOAL_WER and r["train_seconds"] <= GOAL_MINUTES * 60
        lines += [
            f"Best entry, chosen on validation WER: `{r['model']}` with the recipe `{best}`, "
            f"{_pct(r['beam']['wer'])}% test WER (beam 5) and "
            f"{_pct(r['greedy']['wer'])}% (greedy) on {r['test_words']:,} test words, after "
            f"{r['train_seconds'] / 60:.1f} minutes of training. The goal is WER ≤ "
            f"{100 * GOAL_WER:.0f}% within {GOAL_MINUTES} minutes: "
            f"{'reached' if reached else 'not reached'}.",
            "",
            "The published figures use their own CMUdict splits, so they are points of "
            "reference, not a same-split comparison. `luong_bilstm_full` was timed while other "
            "jobs shared the 2 cores (load average 5-7), which inflates its wall time; the other "
            "runs had the machine to themselves. The CPU column is the training process's CPU "
            "time, which load inflates far less. Each row is one training run (seed 0): "
            "differences of a point or so between rows are within what another seed could "
            "move. These rows were measured before the recurrent entries' embeddings were "
            "initialised N(0, 1) (see docs/ARCHITECTURE.md, \"Initialisation\"); retraining a "
            "recipe now trains a differently initialised model.",
            "",
        ]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    lines += standard_split_section()
    import own_data_results

    lines += own_data_results.section()
    import past_tense_ablation

    lines += past_tense_ablation.section()
    import small_task_final

    lines += small_task_final.section()
    import copy_results

    lines += copy_results.section()
    import pointer_results

    lines += pointer_results.section()
    import translation_results

    lines += translation_results.section()
    import sampled_softmax_results

    lines += sampled_softmax_results.results_section()
    if os.path.exists(FIGURES_JSON):
        with open(FIGURES_JSON) as f:
            figures = json.load(f)
        lines += ["## Paper findings reproduced", ""]
        for name, fig in figures.items():
            png = "figures/" + os.path.basename(fig["png"])  # zoo/figures/, next to RESULTS.md
            lines += [f"### {fig['title']}", "", f"![{fig['title']}]({png})", "",
                      fig["caption"], ""]
    with open(RESULTS_MD, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    print(f"wrote {os.path.relpath(RESULTS_MD, ROOT)}")


def run_steps(description, argv, stems, train, evaluate, render):
    """The command line of a results script: `train|evaluate|render|all [STEM ...]
    [--retrain]`; `stems(names)` checks and completes the asked-for recipe stems."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("step", choices=["train", "evaluate", "render", "all"])
    parser.add_argument("stems", nargs="*")
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args(argv)
    chosen = stems(args.stems)
    if args.step in ("train", "all"):
        train(chosen, retrain=args.retrain)
    if args.step in ("evaluate", "all"):
        evaluate(chosen)
    if args.step in ("render", "all"):
        render()


def main(argv=None):
    run_steps(__doc__.split("\n\n")[0], argv, _stems, train, evaluate, render)


if __name__ == "__main__":
    main()
