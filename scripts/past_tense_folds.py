"""`past_tense` with today's defaults against the suffix rule, on folds of the training verbs.

    python scripts/past_tense_folds.py run [--folds 5] [--jobs 2] [--seed 0]
    python scripts/past_tense_folds.py average [--last 5]  # each fold's run averaged over
                                                   # its last epochs, on its held-out verbs
    python scripts/past_tense_folds.py summary     # print the pooled comparison from the JSON
    python scripts/past_tense_folds.py power       # what the 324 test verbs could show

The own-data table compares `luong_bilstm` with the suffix rule on `past_tense`'s 324 test
verbs, where the two are level (McNemar's exact test). 324 verbs can only show a large
difference. This script asks the same question with about 18 times as many verbs, without
reading the test split: the 5,821 training verbs are cut into `--folds` folds (by verb,
shuffled with `--seed`), and for each fold

- `keras-s2s train luong_bilstm` with every setting at its default (the width, the budget,
  the target order: what `train` chooses from the data) trains on the other folds, and picks
  its epoch on the task's validation verbs (323) as a user's run does;
- the suffix rule (`keras_s2s.baselines.SuffixRule`) is fitted on the same other folds;
- both predict the held-out fold's verbs (the model greedily, with the chosen epoch's
  weights: `keras-s2s decode RUN`), and each verb is right when the output is one of its
  past forms.

Every training verb is held out once, so the pooled comparison covers all of them:
McNemar's exact test on the verbs that exactly one of the two gets right
(`keras_s2s.significance.mcnemar_exact_p`). Results go to
`zoo/results/past_tense_folds.json` (each fold's record and the pooled counts); the runs to
`runs/past_tense_folds/`. One TensorFlow thread per run, `--jobs` runs side by side.

`power` asks how often a test split of the test split's size would show each system better
than the rule at 0.05, if on every verb it were alone right and the rule alone right at the
folds' rates (`keras_s2s.significance.mcnemar_power`), and how many verbs 80% would need.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import own_data_results  # noqa: E402
import past_tense_ablation  # noqa: E402
from results_io import load_json, save_json  # noqa: E402

ROOT = own_data_results.ROOT
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "past_tense_folds.json")
FOLDER = os.path.join(ROOT, "runs", "past_tense_folds")
MODEL = own_data_results.MODEL


def folds_of(pairs, k, seed):
    """`k` lists of `(source, references)`: `pairs` shuffled by `seed` and cut into `k`
    folds of sizes differing by at most one; every pair lands in exactly one fold.

    Example:

    >>> [len(f) for f in folds_of([(str(i), ("x",)) for i in range(11)], 3, 0)]
    [4, 4, 3]
    """
    import numpy as np

    if not isinstance(k, int) or k < 2 or k > len(pairs):
        raise ValueError(f"`--folds` must be between 2 and the {len(pairs)} training verbs. "
                         f"Received: {k!r}")
    order = np.random.default_rng(seed).permutation(len(pairs))
    return [[pairs[i] for i in order[j::k]] for j in range(k)]


def pooled(folds, a="model_right", b="rule_right"):
    """`(a right, b right, a alone right, b alone right, verbs, p)` over the fold records'
    held-out verbs: `keras_s2s.significance.paired_matches` of the two verdict lists `a` and
    `b` (each record lists its verbs' verdicts), pooled over the folds."""
    from keras_s2s.significance import paired_matches

    m = paired_matches(*([r for fold in folds for r in fold[key]] for key in (a, b)))
    return (m["both"] + m["a_only"], m["both"] + m["b_only"], m["a_only"], m["b_only"],
            m["examples"], m["p_value"])


def run_fold(index, held_out, rest, validation_path, seed, model=MODEL):
    """Train `model` on `rest`, score it (what `train` published) and the rule on `held_out`;
    returns the fold's record."""
    from keras_s2s.baselines import SuffixRule

    folder = os.path.join(FOLDER if model == MODEL else os.path.join(FOLDER, model),
                          f"fold_{index}")
    out, command, seconds = past_tense_ablation.train_on_pairs(
        model, folder, rest, validation_path, "--seed", str(seed))
    sources = [s for s, _ in held_out]
    outputs = past_tense_ablation._decode(out, sources, folder)
    rule = SuffixRule().fit([(s, r) for s, refs in rest for r in refs])
    predictions = rule.predict(sources)
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    return {
        "command": " ".join(["keras-s2s", *command[1:]]).replace(ROOT + "/", ""),
        "train_verbs": len(rest), "held_out_verbs": len(held_out),
        "chosen": {k: v.get("value") for k, v in config.get("chosen", {}).items()
                   if isinstance(v, dict)},
        "best_epoch": config.get("results", {}).get("best_epoch"),
        "train_seconds": seconds,
        "sources": sources,
        "model_right": [o in refs for o, (_, refs) in zip(outputs, held_out)],
        "rule_right": [p in refs for p, (_, refs) in zip(predictions, held_out)],
        "model_wrong": [[s, list(r), o] for (s, r), o in zip(held_out, outputs) if o not in r],
        "rule_wrong": [[s, list(r), p] for (s, r), p in zip(held_out, predictions)
                       if p not in r],
    }


def average(last):
    """Each fold's run averaged over its last `last` epochs (`keras-s2s average`), decoding its
    held-out verbs: recorded beside the chosen epoch's verdicts as `average_right`."""
    results = load_json(RESULTS_JSON, None)
    if not results or not results.get("folds"):
        raise SystemExit("past_tense_folds: no folds recorded yet; run `past_tense_folds.py "
                         "run` first")
    pairs = dict(past_tense_ablation._pairs(
        own_data_results.export(past_tense_ablation.TASK))["train"])
    for key, record in sorted(results["folds"].items()):
        folder = os.path.join(FOLDER, f"fold_{key}")
        averaged = os.path.join(folder, f"run-avg{last}")
        subprocess.run(own_data_results._cli("average", os.path.join(folder, "run"), "--last",
                                             str(last), "--out", averaged, "--overwrite"),
                       capture_output=True, text=True, check=True)
        outputs = past_tense_ablation._decode(averaged, record["sources"], folder)
        record["average_last"] = last
        record["average_right"] = [o in pairs[s] for s, o in zip(record["sources"], outputs)]
        save_json(RESULTS_JSON, results)
        print(f"fold {key}: the average of the last {last} epochs gets "
              f"{sum(record['average_right'])} of {len(outputs)} right", flush=True)
    print(summary(results))


def run(k, jobs, seed, model=MODEL):
    """The folds of `model` (`MODEL`, the own-data table's entry, by default); another entry's
    are recorded under `"models"`, on the same folds (`--seed`), beside the default's."""
    paths = own_data_results.export(past_tense_ablation.TASK)
    pairs = past_tense_ablation._pairs(paths)
    folds = folds_of(pairs["train"], k, seed)
    stored = load_json(RESULTS_JSON, {})
    results = stored if model == MODEL else {}
    results.update({"folds": {}, "k": k, "seed": seed,
                    "machine": {"cpus": os.cpu_count(), "jobs": jobs,
                                "date": datetime.date.today().isoformat(),
                                "load_average_start": os.getloadavg()[0]}})
    if model != MODEL:
        stored.setdefault("models", {})[model] = results
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(run_fold, i, fold,
                               [p for j, f in enumerate(folds) if j != i for p in f],
                               paths["validation"], seed, model): i
                   for i, fold in enumerate(folds)}
        for future in concurrent.futures.as_completed(futures):
            i = futures[future]
            record = future.result()
            results["folds"][str(i)] = record
            save_json(RESULTS_JSON, stored)
            print(f"fold {i}: model {sum(record['model_right'])}, rule "
                  f"{sum(record['rule_right'])} of {record['held_out_verbs']} right, "
                  f"{record['train_seconds'] / 60:.1f} min", flush=True)
    print(summary(results))


def examples_for_power(a_rate, b_rate, goal=0.8, step=100, limit=200_000):
    """About how many test examples McNemar's exact test needs to find A better with
    probability `goal`: a multiple of `step`, by doubling and then bisection (the power
    grows with the size but for small steps from the test's discreteness), or None past
    `limit`."""
    from keras_s2s.significance import mcnemar_power

    high = step
    while mcnemar_power(a_rate, b_rate, high) < goal:
        high *= 2
        if high > limit:
            return None
    low = high // 2 if high > step else 0
    while high - low > step:
        middle = (low + high) // 2 // step * step
        if mcnemar_power(a_rate, b_rate, middle) >= goal:
            high = middle
        else:
            low = middle
    return high


def power():
    """Store under "power" in the JSON, for the default's average and each other entry: the
    chance that `past_tense`'s test split shows it better than the rule, at the folds' rates."""
    from keras_s2s.data import load_task
    from keras_s2s.significance import ALPHA, mcnemar_power

    results = load_json(RESULTS_JSON, None)
    if not results or not results.get("folds"):
        raise SystemExit("no folds yet: run `python scripts/past_tense_folds.py run` first")
    test = len(load_task("past_tense").splits["test"])
    folds = [results["folds"][k] for k in sorted(results["folds"], key=int)]
    systems = {}
    if all("average_right" in f for f in folds):
        systems[f"{MODEL} (average)"] = pooled(folds, "average_right", "rule_right")
    for name, other in results.get("models", {}).items():
        if other.get("folds"):
            systems[name] = pooled([other["folds"][k] for k in sorted(other["folds"], key=int)])
    rows = {}
    for name, (_, _, alone, rule_alone, n, _) in systems.items():
        rows[name] = {"alone_rate": alone / n, "rule_alone_rate": rule_alone / n,
                      "test_power": mcnemar_power(alone / n, rule_alone / n, test),
                      "examples_for_80_percent": examples_for_power(alone / n, rule_alone / n)}
        print(f"{name}: {100 * rows[name]['test_power']:.1f}% power on {test} test verbs; 80% "
              f"needs {rows[name]['examples_for_80_percent']} verbs", flush=True)
    results["power"] = {"test_examples": test, "alpha": ALPHA, "systems": rows}
    save_json(RESULTS_JSON, results)


def power_sentence(results):
    """The RESULTS.md sentence on `power`'s record, or None before it ran."""
    record = results.get("power")
    if not record:
        return None

    def label(name):
        return f"`{name[:-len(' (average)')]}`'s average" if name.endswith(" (average)") \
            else f"`{name}`"

    parts = [f"{label(name)} {100 * row['test_power']:.0f}% (80% would need about "
             f"{row['examples_for_80_percent']:,} verbs)"
             for name, row in record["systems"].items()]
    return (f"What can {record['test_examples']} test verbs show? If each system and the rule "
            f"were alone right on a verb at the folds' rates, McNemar's exact test on a test "
            f"split this size would call the system better at {record['alpha']:g} in this "
            f"share of draws: {'; '.join(parts)} (`python scripts/past_tense_folds.py power`; "
            f"`keras_s2s.significance.mcnemar_power`, exact). A level result on the test split "
            f"is what a real difference of the folds' size mostly gives there")


def summary(results):
    from keras_s2s.significance import p_phrase

    folds = [results["folds"][k] for k in sorted(results["folds"], key=int)]
    model, rule, model_only, rule_only, n, p = pooled(folds)
    text = (f"{len(folds)} of {results['k']} folds, {n} held-out training verbs: the default "
            f"model, its epoch chosen on validation (what `train` published until 2026-12-05), "
            f"gets {model} right ({100 * model / n:.1f}%), the suffix rule {rule} "
            f"({100 * rule / n:.1f}%); only the model right on {model_only}, only the rule on "
            f"{rule_only} (McNemar's exact p {p_phrase(p)})")
    if folds and all("average_right" in f for f in folds):
        avg, _, avg_only, rule_only, _, p_rule = pooled(folds, "average_right", "rule_right")
        _, _, avg_alone, best_alone, _, p_best = pooled(folds, "average_right", "model_right")
        text += (f". The same runs averaged over their last {folds[0]['average_last']} epochs "
                 f"(`keras-s2s average`; what `train` publishes for a task this small since "
                 f"2026-12-05, `--final auto`) get {avg} right ({100 * avg / n:.1f}%): against the "
                 f"rule {avg_only} to {rule_only} (p {p_phrase(p_rule)}), against the chosen "
                 f"epoch {avg_alone} to {best_alone} (p {p_phrase(p_best)})")
    return text


def model_summary(results, model):
    """The sentence on entry `model`'s folds (`run --model`): what its runs published against
    the rule and against the default entry's average on the same folds, or None."""
    from keras_s2s.significance import p_phrase

    other = results.get("models", {}).get(model)
    if not other or not other.get("folds"):
        return None
    keys = sorted(other["folds"], key=int)
    folds = [other["folds"][k] for k in keys]
    right, rule, alone, rule_alone, n, p = pooled(folds)
    text = (f"`keras-s2s train {model}` with every default on the same folds ({len(folds)} of "
            f"{other['k']}, seed {other['seed']}; what it published, the average of its last "
            f"epochs) gets {right} of {n} held-out verbs right ({100 * right / n:.1f}%): "
            f"against the rule {alone} to {rule_alone} (McNemar's exact p {p_phrase(p)})")
    base = [results["folds"].get(k) for k in keys]
    if all(b is not None and "average_right" in b and b["sources"] == f["sources"]
           for b, f in zip(base, folds)):
        mixed = [{"a": f["model_right"], "b": b["average_right"]} for f, b in zip(folds, base)]
        _, _, a_only, b_only, _, p_base = pooled(mixed, "a", "b")
        text += (f", against `{MODEL}`'s average {a_only} to {b_only} (p {p_phrase(p_base)})")
    seconds = sum(f["train_seconds"] for f in folds)
    return text + (f"; {other['machine']['jobs']} runs side by side "
                   f"({other['machine']['date']}), {seconds / 60:.0f} minutes of training")


def paragraph():
    """The RESULTS.md lines on the folds (for `past_tense_ablation.section`), or [] before the
    first run."""
    results = load_json(RESULTS_JSON, None)
    if not results or not results.get("folds"):
        return []
    folds = [results["folds"][k] for k in sorted(results["folds"], key=int)]
    seconds = sum(f["train_seconds"] for f in folds)
    machine = results["machine"]
    return [
        "",
        "The same question on far more verbs, without the test split (`python "
        "scripts/past_tense_folds.py run`, then `average`): the training verbs cut into "
        f"{results['k']} folds (by verb, seed {results['seed']}); for each fold `keras-s2s "
        "train luong_bilstm` with every default trains on the other folds (its epoch chosen on "
        "the validation verbs) and the suffix rule is fitted on them, and both predict the "
        f"held-out fold (the model greedily). {summary(results)}. One run per fold (seed "
        f"{results['seed']}), {machine['jobs']} side by side on the {machine['cpus']}-CPU "
        f"machine ({machine['date']}), {seconds / 60:.0f} minutes of training in all.",
    ] + [line for text in (*(model_summary(results, m) for m in results.get("models", {})),
                           power_sentence(results))
         if text for line in ("", f"{text}.")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default=MODEL,
                   help=f"the entry to train with every default (default: {MODEL}); another "
                        "is recorded beside it, on the same folds")
    p = sub.add_parser("average")
    p.add_argument("--last", type=int, default=5)
    sub.add_parser("summary")
    sub.add_parser("power")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.folds, args.jobs, args.seed, args.model)
    elif args.command == "average":
        average(args.last)
    elif args.command == "power":
        power()
    else:
        print(summary(load_json(RESULTS_JSON, {"folds": {}, "k": 0})))


if __name__ == "__main__":
    main()
