"""Train, evaluate and tabulate the translation recipes: writes `zoo/results/translation.json`,
the figure `zoo/figures/translation_length.png`, and (through `g2p_results.py render`) the
translation section of `zoo/RESULTS.md`.

    python scripts/translation_results.py train [STEM ...]     # keras-s2s train --recipe
    python scripts/translation_results.py evaluate [STEM ...]  # decoder on validation, test once
    python scripts/translation_results.py render               # figure and zoo/RESULTS.md
    python scripts/translation_results.py all [STEM ...]       # the three in order

STEM is a recipe in `zoo/recipes/translation/` (default: the five of the comparison, not
`sutskever_sampled`, which `sampled_softmax_results.py` measures). Each run keeps the epoch
with the best validation chrF. Then greedy and beam 5 decode the first 500 validation pairs;
the better by chrF decodes the test split, once. BLEU and chrF are sacrebleu's defaults on
detokenized text; BLEU by source length uses 10-word buckets of the test split.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import g2p_results  # noqa: E402
from results_io import load_json, save_json  # noqa: E402

ROOT = g2p_results.ROOT
RECIPES = os.path.join(ROOT, "zoo", "recipes", "translation")
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "translation.json")
FIGURE = os.path.join(ROOT, "zoo", "figures", "translation_length.png")
STEMS = ["vanilla_lstm", "sutskever", "luong_bilstm", "bahdanau_bilstm", "transformer_small"]
VALIDATION_EXAMPLES = 500
BUCKET = 10


def _recipe(stem):
    from keras_s2s.training.recipes import load_recipe

    return load_recipe(os.path.join(RECIPES, stem + ".toml"))


def train(stems, retrain=False):
    g2p_results.RECIPES = RECIPES  # the same subprocess loop as the G2P recipes
    g2p_results.train(stems, retrain=retrain)


def _bucket(words):
    low = (max(words, 1) - 1) // BUCKET * BUCKET + 1
    return f"{low}-{low + BUCKET - 1}"


def _scores(hypotheses, references):
    """Corpus BLEU and chrF; `references` holds reference streams, each one string per
    hypothesis (sacrebleu's layout)."""
    import sacrebleu

    return {"bleu": sacrebleu.corpus_bleu(hypotheses, references).score,
            "chrf": sacrebleu.corpus_chrf(hypotheses, references).score}


def evaluate(stems):
    from keras_s2s.data import load_task
    from keras_s2s.evaluation import evaluate as evaluate_split

    results = load_json(RESULTS_JSON, {"runs": {}})
    tasks = {}
    for stem in stems:
        recipe = _recipe(stem)
        run_dir = os.path.join(ROOT, recipe["out"])
        model, config = g2p_results.finished_run(stem, run_dir)
        if model is None:
            continue
        if stem in results["runs"] and results["runs"][stem].get("run_id") == config.get(
                "run_id"):
            print(f"[{stem}] the test split was decoded already for this run: kept")
            continue
        key = json.dumps(recipe["task_options"], sort_keys=True)
        if key not in tasks:
            tasks[key] = load_task(recipe["task"], **recipe["task_options"])
        task = tasks[key]
        beam = recipe["evaluation"].get("beam_width", 5)
        alpha = recipe["evaluation"].get("length_penalty", 0.0)
        options = {"greedy": ("greedy", {}),
                   f"beam{beam}": ("beam", {"beam_width": beam, "length_penalty": alpha})}
        validation = {}
        for label, (method, kwargs) in options.items():
            scores, _ = evaluate_split(model, task, "validation", method=method,
                                       max_examples=VALIDATION_EXAMPLES, verbose=0, **kwargs)
            validation[label] = {"bleu": scores["bleu"], "chrf": scores["chrf"]}
            print(f"[{stem}] validation {label}: BLEU {scores['bleu']:.2f} chrF "
                  f"{scores['chrf']:.2f}", flush=True)
        chosen = max(validation, key=lambda k: validation[k]["chrf"])
        method, kwargs = options[chosen]
        scores, details = evaluate_split(model, task, "test", method=method, verbose=0,
                                         **kwargs)
        buckets = {}
        for source, hypothesis, refs in zip(details["sources"], details["hypotheses"],
                                            details["references"]):
            entry = buckets.setdefault(_bucket(len(source.split())), ([], []))
            entry[0].append(hypothesis)
            entry[1].append(refs[0])
        whole = _scores(details["hypotheses"], [[r[0] for r in details["references"]]])
        if abs(whole["bleu"] - scores["bleu"]) > 0.01:  # the buckets' scoring, checked
            raise SystemExit(f"[{stem}] bucket scoring gives BLEU {whole['bleu']:.2f} on the "
                             f"whole test split, evaluate {scores['bleu']:.2f}")
        by_length = {name: {**_scores(h, [r]), "examples": len(h)}
                     for name, (h, r) in sorted(buckets.items(),
                                                key=lambda kv: int(kv[0].split("-")[0]))}
        timing_path = os.path.join(run_dir, "timing.json")
        timing = json.load(open(timing_path)) if os.path.exists(timing_path) else {}
        # a retrained recipe keeps every earlier test decode of its entry, shown in the table
        earlier = []
        if stem in results["runs"]:
            old = results["runs"][stem]
            earlier = old.get("earlier", []) + [{
                "test_bleu": old["test"]["bleu"], "test_chrf": old["test"]["chrf"],
                "decoder": old["decoder"], "epochs_run": old["epochs_run"],
                "train_seconds": old["train_seconds"],
                "max_minutes": old.get("max_minutes", 7)}]
        results["runs"][stem] = {
            "earlier": earlier,
            "max_minutes": recipe["training"].get("max_minutes"),
            "model": recipe["model"], "recipe": os.path.relpath(recipe["path"], ROOT),
            "description": recipe["description"], "parameters": config["parameters"],
            "train_seconds": config["results"]["seconds"],
            "epochs_run": config["results"].get("epochs_run"),
            "best_epoch": config["results"].get("best_epoch"),
            "run_id": config.get("run_id"), **timing,
            "validation": validation, "decoder": chosen,
            "test": {"bleu": scores["bleu"], "chrf": scores["chrf"],
                     "examples": len(details["hypotheses"]),
                     "empty": sum(not h.strip() for h in details["hypotheses"])},
            "test_by_source_words": by_length,
            "samples": [{"source": s, "output": h, "reference": r[0]} for s, h, r in
                        list(zip(details["sources"], details["hypotheses"],
                                 details["references"]))[:3]],
            "load_average": list(os.getloadavg()),
        }
        save_json(RESULTS_JSON, results)
        print(f"[{stem}] test ({chosen}): BLEU {scores['bleu']:.2f} chrF {scores['chrf']:.2f}",
              flush=True)


def figure():
    """BLEU against source length, one line per entry (the real-data version of Bahdanau et
    al.'s figure 2)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = load_json(RESULTS_JSON, {"runs": {}})["runs"]
    if not runs:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for stem, r in runs.items():
        names = list(r["test_by_source_words"])
        ax.plot(range(len(names)), [r["test_by_source_words"][n]["bleu"] for n in names], "o-",
                label=f"{r['model']} ({r['decoder']})")
    ax.set_xticks(range(len(names)), names)
    ax.set(xlabel="source words", ylabel="test BLEU",
           title="English to Spanish verses (training caps in RESULTS.md)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(FIGURE), exist_ok=True)
    fig.savefig(FIGURE, dpi=110)
    plt.close(fig)
    return FIGURE


def _span(runs):
    """'3' or '3 to 6': the range of epochs the runs trained."""
    epochs = sorted({r["epochs_run"] for r in runs.values()})
    return f"{epochs[0]}" if len(epochs) == 1 else f"{epochs[0]} to {epochs[-1]}"


def section():
    """The markdown lines of the translation section of zoo/RESULTS.md."""
    runs = load_json(RESULTS_JSON, {"runs": {}})["runs"]
    if not runs:
        return []
    buckets = sorted({b for r in runs.values() for b in r["test_by_source_words"]},
                     key=lambda b: int(b.split("-")[0]))
    lines = [
        "## Translation: English to Spanish verses",
        "",
        "The built-in `translation` task (the King James and Reina-Valera 1909 Bibles, split by "
        "chapter; verses of at most 30 source words; 4,000-piece WordPiece vocabularies per "
        "side; the recipes pin `repeats = \"keep\"`, the chapter split these rows were "
        "measured on, where 11 of the 1,184 test verses repeat a training source word for "
        "word, such as \"And the LORD spake unto Moses, saying,\": the task's default now "
        "moves such verses to training, and these rows have not been rerun on it), one recipe per entry in `zoo/recipes/translation/`, each with the training cap "
        "of its recipe on the 2-core CPU (the cap column; checked at the end of each epoch, so "
        "a run stops after the epoch that crosses it: the train min column) "
        "(`python scripts/translation_results.py all`). Each run "
        "keeps the epoch with the best validation chrF; greedy and beam 5 (GNMT length penalty "
        "1.0) then decode the first 500 validation pairs, and the better by chrF decodes the "
        "test split once. BLEU and chrF are sacrebleu's defaults on detokenized text. One run "
        f"each (seed 0), nothing else running: these compare the entries after {_span(runs)} "
        "epochs, early in training, not at convergence (seconds per epoch: "
        + ", ".join(f"`{r['model']}` {r['train_seconds'] / max(r['epochs_run'] or 1, 1):.0f}"
                    for r in runs.values())
        + "). A recipe retrained after its test split was decoded keeps that earlier result "
        "in the earlier column (test BLEU, decoder, epochs, cap). The longer caps were chosen "
        "after those earlier test numbers were seen (one epoch of `luong_bilstm`, three of "
        "`vanilla_lstm`, were too few on validation as well), and were not tuned further.",
        "",
        "| entry | recipe | parameters | cap min | epochs (best) | train min | val chrF greedy | "
        "val chrF beam 5 | decoder | test BLEU | test chrF | earlier | "
        + " | ".join(f"BLEU {b} words" for b in buckets) + " |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | "
        + " | ".join("---:" for _ in buckets) + " |",
    ]
    for stem in sorted(runs, key=lambda s: -runs[s]["test"]["bleu"]):
        r = runs[stem]
        val = r["validation"]
        beam = next(k for k in val if k != "greedy")
        cells = [f"{r['test_by_source_words'][b]['bleu']:.1f} "
                 f"({r['test_by_source_words'][b]['examples']})"
                 if b in r["test_by_source_words"] else "" for b in buckets]
        lines.append(
            f"| [`{r['model']}`]({r['model']}.md) | [`{stem}`](recipes/translation/{stem}.toml) "
            f"| {r['parameters']:,} | {r.get('max_minutes', 7)} | "
            f"{r['epochs_run']} ({r['best_epoch']}) | "
            f"{r['train_seconds'] / 60:.1f} | {val['greedy']['chrf']:.1f} | "
            f"{val[beam]['chrf']:.1f} | {r['decoder']} | {r['test']['bleu']:.1f} | "
            f"{r['test']['chrf']:.1f} | "
            + "; ".join(f"{e['test_bleu']:.1f} ({e['decoder']}, {e['epochs_run']} ep., cap "
                        f"{e['max_minutes']} min)" for e in r.get("earlier", []))
            + " | " + " | ".join(cells) + " |")
    lines += ["", "The bucket columns give the test BLEU of the verses with that many source "
              "words (the number of verses in brackets).", ""]
    missing = [stem for stem in STEMS if stem not in runs]
    if missing:
        lines += ["Recipes of the comparison not run yet: "
                  + ", ".join(f"[`{s}`](recipes/translation/{s}.toml)" for s in missing) + ".",
                  ""]
    if os.path.exists(FIGURE):
        lines += ["![BLEU against source length](figures/translation_length.png)", ""]
    return lines


def render():
    print(f"wrote {figure()}")
    g2p_results.render()


def main(argv=None):
    g2p_results.run_steps(__doc__.split("\n\n")[0], argv,
                          lambda names: g2p_results._stems(names, RECIPES) if names else STEMS,
                          train, evaluate, render)


if __name__ == "__main__":
    main()
