"""Train and score the G2P recipes of the standard CMUdict split (`zoo/recipes/g2p_standard/`):
writes `zoo/results/g2p_standard.json`; `scripts/g2p_results.py render` puts the rows in the
"standard split" table of `zoo/RESULTS.md`.

    python scripts/g2p_standard_results.py train [STEM ...]     # keras-s2s train --recipe
    python scripts/g2p_standard_results.py evaluate [STEM ...]  # chosen on validation, test once
    python scripts/g2p_standard_results.py ensemble STEM STEM [...]  # decode([m1, m2, ...])

`train` runs each recipe in a subprocess (`--threads` TensorFlow threads, 2 by default;
`--jobs N` recipes at a time, 1 by default) and records its wall and CPU time. `evaluate`
scores four candidates on the validation split (`--validation-words` words, 2,000 by
default): the best epoch and the average of the last 5 kept epochs (`keras-s2s average`),
each with greedy search and beam 5; the one with the lowest validation WER decodes the
12,000 test words once. `ensemble` decodes with the best-epoch
models of two or more trained recipes as one ensemble (`decode([m1, m2, ...])`: the mean of
their per-step log-probabilities inside the compiled loop), chooses greedy or beam 5 on the
same validation words and decodes the test words once; its row joins the same table.
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
import g2p_outputs  # noqa: E402
import g2p_results  # noqa: E402
from results_io import load_json, save_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = os.path.join(ROOT, "zoo", "recipes", "g2p_standard")
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "g2p_standard.json")
AVERAGE_LAST = 5


def _recipe(stem):
    from keras_s2s.training.recipes import load_recipe

    return load_recipe(os.path.join(RECIPES, f"{stem}.toml"))


def _load():
    return load_json(RESULTS_JSON, {"runs": {}})


def train(stems, threads, retrain=False, jobs=1):
    """Train each recipe in a `keras-s2s train` subprocess with `threads` TensorFlow threads,
    `jobs` of them at a time, and write each run's `timing.json` (its own process's wall and
    CPU time, from `os.wait4`). A recurrent step barely uses a second thread, so two recipes
    side by side with `--threads 1 --jobs 2` take about the time of one (docs/PERFORMANCE.md)."""
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": str(threads),
           "TF_NUM_INTEROP_THREADS": str(threads)}
    queue = []
    for stem in stems:
        recipe = _recipe(stem)
        run_dir = os.path.join(ROOT, recipe["out"])
        config = os.path.join(run_dir, "config.json")
        if os.path.exists(config) and "results" in json.load(open(config)) and not retrain:
            print(f"[{stem}] trained already: kept (--retrain to train again)")
            continue
        command = [os.path.join(os.path.dirname(sys.executable), "keras-s2s"), "train",
                   "--recipe", os.path.relpath(recipe["path"], ROOT)]
        if retrain:
            command.append("--overwrite")
        queue.append((stem, command, run_dir))
    running, failed = {}, []
    while queue or running:
        while queue and len(running) < max(1, jobs):
            stem, command, run_dir = queue.pop(0)
            print(f"[{stem}] {' '.join(command[1:])}", flush=True)
            process = subprocess.Popen(command, cwd=ROOT, env=env)
            beside = {other for other, *_ in running.values()}
            for other, _, _, _, others in running.values():
                others.add(stem)
            # the Popen is kept so that its collector never reaps the child before wait4
            running[process.pid] = (stem, run_dir, time.perf_counter(), process, beside)
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        stem, run_dir, start, process, beside = running.pop(pid)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            failed.append(stem)
            continue
        timing = {"process_wall_seconds": time.perf_counter() - start,
                  "process_cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "load_average_after": os.getloadavg(), "threads": threads,
                  "side_by_side_with": sorted(beside)}
        with open(os.path.join(run_dir, "timing.json"), "w") as f:
            json.dump(timing, f, indent=2)
    if failed:
        sys.exit(f"training failed: {', '.join(failed)}")


def _beam(recipe):
    """The beam-search arguments of a recipe's `[evaluation]` table."""
    return {"beam_width": recipe["evaluation"].get("beam_width", 5),
            "length_penalty": recipe["evaluation"].get("length_penalty", 0.0)}


def _choose_and_test(name, candidates, task, validation_words, batch_size=64, test_limit=None,
                     keep=None):
    """Score each candidate (key -> (model or list of models, method, decode kwargs)) on the
    first `validation_words` validation words, decode the test words (the first `test_limit`,
    all by default) once with the one of lowest validation WER (the first of equals), and
    return (validation, chosen, test, the chosen candidate's validation outputs). `keep`, a
    split name, keeps the test outputs for word-by-word comparisons (`g2p_outputs.save`)."""
    from keras_s2s.evaluation import evaluate_decoded

    validation, outputs = {}, {}
    for key, (models, method, kwargs) in candidates.items():
        scores, details = evaluate_decoded(models, task, "validation", method,
                                           max_examples=validation_words,
                                           batch_size=batch_size, verbose=False, **kwargs)
        validation[key] = {"wer": scores["wer"], "per": scores["per"]}
        outputs[key] = details["hypotheses"]
        print(f"[{name}] validation {key}: WER {100 * scores['wer']:.2f}% "
              f"PER {100 * scores['per']:.2f}%", flush=True)
    chosen = min(validation, key=lambda k: validation[k]["wer"])
    models, method, kwargs = candidates[chosen]
    test, details = evaluate_decoded(models, task, "test", method, max_examples=test_limit,
                                     batch_size=batch_size, verbose=False, **kwargs)
    if keep:
        g2p_outputs.save(keep, name, details["hypotheses"])
    print(f"[{name}] test ({chosen}): WER {100 * test['wer']:.2f}% "
          f"PER {100 * test['per']:.2f}% ({test['examples']} words)", flush=True)
    return (validation, chosen, {k: test[k] for k in ("wer", "per", "examples")},
            outputs[chosen])


def evaluate(stems, validation_words):
    from keras_s2s.data import load_task
    from keras_s2s.training.averaging import average_run, kept_epochs
    from keras_s2s.training.recipe import load_run

    results = _load()
    for stem in stems:
        model, member = _member(stem)
        if model is None:
            continue
        recipe = _recipe(stem)
        run_dir = os.path.join(ROOT, recipe["out"])
        task = load_task(recipe["task"], **recipe["task_options"])
        models = {"best epoch": model}
        kept = len(kept_epochs(os.path.join(run_dir, "epochs")))
        if kept >= 2:
            last = min(AVERAGE_LAST, kept)
            averaged, epochs = average_run(run_dir, last, out_dir=f"{run_dir}-avg",
                                           overwrite=True)
            models[f"average of epochs {epochs[0]}-{epochs[-1]}"] = load_run(averaged)[0]
        candidates = {f"{method}, {label}": (candidate, method, kwargs)
                      for label, candidate in models.items()
                      for method, kwargs in (("greedy", {}), ("beam", _beam(recipe)))}
        validation, chosen, test, _ = _choose_and_test(
            stem, candidates, task, validation_words,
            keep=g2p_outputs.split_of(recipe))
        results["runs"][stem] = {
            **member, "description": recipe["description"],
            "validation_words": validation_words, "validation": validation,
            "chosen": chosen, "test": test,
            "date": time.strftime("%Y-%m-%d"), "device": "2-core CPU (no GPU)"}
        save_json(RESULTS_JSON, results)
    return results


def _member(stem):
    """A trained recipe's best-epoch model and what its row records, or (None, None)."""
    recipe = _recipe(stem)
    run_dir = os.path.join(ROOT, recipe["out"])
    model, config = g2p_results.finished_run(stem, run_dir)
    if model is None:
        return None, None
    timing_path = os.path.join(run_dir, "timing.json")
    timing = json.load(open(timing_path)) if os.path.exists(timing_path) else {}
    return model, {"recipe": os.path.relpath(recipe["path"], ROOT), "model": recipe["model"],
                   "parameters": config["parameters"],
                   "train_seconds": config["results"]["seconds"],
                   "process_wall_seconds": timing.get("process_wall_seconds"),
                   "process_cpu_seconds": timing.get("process_cpu_seconds"),
                   "threads": timing.get("threads"),
                   "side_by_side_with": timing.get("side_by_side_with", []),
                   # what else shared the CPU, said in words (timing.json, written by hand)
                   **({"shared": timing["shared"]} if timing.get("shared") else {}),
                   "load_average_after": timing.get("load_average_after"),
                   "epochs_run": config["results"]["epochs_run"],
                   "best_epoch": config["results"]["best_epoch"],
                   **_teachers_of(config)}


def _teachers_of(config):
    """What a distilled run's row records of its teachers: their recipes' stems and the
    seconds their pass over the training words took (nothing for a run without teachers)."""
    teachers = config["training"].get("teachers")
    if not teachers:
        return {}
    by_out = {os.path.normpath(_recipe(stem)["out"]): stem
              for stem in g2p_results._stems([], RECIPES)}
    stems = []
    for teacher in teachers:
        run = os.path.normpath(os.path.relpath(os.path.join(ROOT, teacher["run"]), ROOT))
        if run not in by_out:
            raise SystemExit(f"g2p_standard_results: error: teacher {teacher['run']} is no "
                             f"recipe's run in {RECIPES}")
        stems.append(by_out[run])
    return {"teachers": stems, "teacher_seconds": config["training"]["teacher_seconds"]}


def ensemble(stems, validation_words):
    """Decode with the best-epoch models of `stems` as one ensemble: greedy or beam chosen on
    validation, the test words decoded once; stored under `ensembles` in the results."""
    from keras_s2s.data import load_task

    if len(stems) < 2:
        raise SystemExit("g2p_standard_results: error: an ensemble needs two or more recipes "
                         "(ensemble STEM STEM ...)")
    models, members = [], {}
    for stem in stems:
        model, member = _member(stem)
        if model is None:
            raise SystemExit(f"g2p_standard_results: error: `{stem}` has no finished run: "
                             f"train it first (train {stem})")
        models.append(model)
        member.pop("load_average_after")
        members[stem] = member
    recipe = _recipe(stems[0])
    task = load_task(recipe["task"], **recipe["task_options"])
    name = " + ".join(sorted(stems))  # one row per set of members, in any order
    candidates = {method: (models, method, kwargs)
                  for method, kwargs in (("greedy", {}), ("beam", _beam(recipe)))}
    validation, chosen, test, _ = _choose_and_test(
        name, candidates, task, validation_words,
        keep=g2p_outputs.split_of(recipe))
    results = _load()
    # members that trained together (`train --jobs`) took the longest one's wall time
    together = all(set(stems) - {stem} <= set(members[stem]["side_by_side_with"])
                   for stem in stems)
    results.setdefault("ensembles", {})[name] = {
        "members": members, "validation_words": validation_words, "validation": validation,
        "chosen": chosen, "test": test, "trained_side_by_side": together,
        "date": time.strftime("%Y-%m-%d"), "device": "2-core CPU (no GPU)"}
    save_json(RESULTS_JSON, results)
    return results


def grouped_wall_seconds(members):
    """The wall time of an ensemble's members (stem -> run record): the members that trained
    side by side (`train --jobs`, their `side_by_side_with`) form a group that took its
    longest member's time, and the groups, one after the other, add up. A chain (a beside b,
    b beside c, but a not beside c: three recipes, two jobs) has no start times to go by, so
    its members add up, as members trained apart do: an overestimate, never an under-."""
    groups = []
    for stem, member in members.items():
        group = {stem} | (set(member.get("side_by_side_with") or ()) & set(members))
        for other in [g for g in groups if g & group]:
            groups.remove(other)
            group |= other
        groups.append(group)

    def together(group):
        return all(group - {stem} <= set(members[stem].get("side_by_side_with") or ())
                   for stem in group)

    return sum((max if together(group) else sum)(members[stem]["train_seconds"]
                                                  for stem in group) for group in groups)


def validation_wer(entry):
    """The validation WER of a recorded run's or ensemble's best candidate."""
    return min(v["wer"] for v in entry["validation"].values())


def best_by_validation(entries):
    """The name of the run or ensemble (of `entries`) whose best candidate has the lowest
    validation WER (the first by name of equals)."""
    return min(sorted(entries), key=lambda k: validation_wer(entries[k]))


def rows(recorded=None):
    """The "standard split" table's rows of ours, as markdown table lines (from `recorded`,
    the loaded results, or the results file)."""
    recorded = _load() if recorded is None else recorded
    lines = []
    for stem, r in sorted(recorded["runs"].items()):
        cpu = r.get("process_cpu_seconds")
        recipe = r["recipe"].removeprefix("zoo/")  # a link from zoo/RESULTS.md
        if r.get("continued_from"):
            first = r["continued_from"]
            epochs = (f"{first['epochs_run']} epochs, then {r['epochs_run']} with the rate "
                      f"annealed to 0 (`scripts/g2p_gpu.py train --continue-from`), best "
                      f"{r['best_epoch']}")
        else:
            epochs = f"{r['epochs_run']} epochs, best {r['best_epoch']}"
        where = (f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}"
                 + "".join(f", trained beside `{other}`"
                           for other in r.get("side_by_side_with", []))
                 if r.get("threads") else f"{r['device']}, `scripts/g2p_gpu.py`")
        if r.get("shared"):
            where += f", {r['shared']}"
        train = r["train_seconds"]
        if r.get("teachers"):  # a distilled model costs its teachers' training too
            train, cpu, told = _with_teachers(r, recorded["runs"])
            where += told
        lines.append(
            f"| `{r['model']}` ([`{stem}`]({recipe})), "
            f"{r['chosen']} | standard | {g2p_results._pct(r['test']['per'])} | "
            f"{g2p_results._pct(r['test']['wer'])} | {train / 60:.1f} | "
            f"{'' if cpu is None else f'{cpu / 60:.1f}'} | measured ({r['date']}, "
            f"{epochs}; {where}; decoder chosen on {r['validation_words']:,} validation "
            "words; one run) |")
    for name, r in sorted(recorded.get("ensembles", {}).items()):
        members = r["members"].values()
        # members trained one after the other add up; side by side (one GPU, or CPU
        # jobs), the longest of each group that trained together
        train = r.get("train_seconds") or (
            max(m["train_seconds"] for m in members) if r.get("trained_side_by_side")
            else grouped_wall_seconds(r["members"]))
        cpus = [m.get("process_cpu_seconds") for m in members]
        cpu = ("" if None in cpus else
               f"{(r.get('process_cpu_seconds') or sum(cpus)) / 60:.1f}")
        epochs = ", ".join(f"{m['epochs_run']} (best {m['best_epoch']})" for m in members)
        # a GPU ensemble (scripts/g2p_gpu.py) decodes each member's chosen candidate
        gpu = "member_weights" in r
        weights = "each member's chosen weights" if gpu else "best epochs"
        trained = {m["device"] for m in members if m.get("device")} - {r["device"]}
        where = (f"; {r['device']}, `scripts/g2p_gpu.py`" if gpu and not trained else
                 f"; trained on {', '.join(sorted(trained))}, decoded on {r['device']} by "
                 "`scripts/g2p_gpu.py ensemble`" if gpu else "")
        if r.get("trained_side_by_side"):
            where += ", trained side by side"
        lines.append(
            f"| ensemble of " + " + ".join(
                f"[`{stem}`]({m['recipe'].removeprefix('zoo/')})"
                for stem, m in r["members"].items())
            + f" ({weights}), {r['chosen']} | standard | {g2p_results._pct(r['test']['per'])}"
            f" | {g2p_results._pct(r['test']['wer'])} | {train / 60:.1f} | {cpu} | measured "
            f"({r['date']}, epochs {epochs}{where}; decoder chosen on "
            f"{r['validation_words']:,} validation words; one run of each) |")
    return lines


def _with_teachers(r, runs):
    """A distilled row's wall and CPU seconds, its teachers' training and their pass over the
    training words included, and the words that say so."""
    missing = [t for t in r["teachers"] if t not in runs]
    if missing:
        raise SystemExit(f"g2p_standard_results: error: the teachers {missing} have no row: "
                         "evaluate them first")
    teachers = {t: runs[t] for t in r["teachers"]}
    own = r["train_seconds"] + r["teacher_seconds"]
    theirs = grouped_wall_seconds(teachers)
    cpus = [m.get("process_cpu_seconds") for m in teachers.values()]
    cpu = (None if None in cpus or r.get("process_cpu_seconds") is None
           else r["process_cpu_seconds"] + sum(cpus))
    told = ("; distilled from " + ("the ensemble of " if len(teachers) > 1 else "")
            + " + ".join(f"`{t}`" for t in teachers)
            + f": the time columns include their {theirs / 60:.1f} min of training and "
            f"their {r['teacher_seconds'] / 60:.1f} min reading the training words")
    return own + theirs, cpu, told


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("train", "evaluate", "ensemble"))
    parser.add_argument("stems", nargs="*")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1, help="recipes trained at once (train)")
    parser.add_argument("--validation-words", type=int, default=2000)
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args(argv)
    stems = g2p_results._stems(args.stems, RECIPES)  # all recipes when none is named
    if args.command == "ensemble":
        ensemble(stems, args.validation_words)
        g2p_results.render()
    elif args.command == "train":
        train(stems, args.threads, args.retrain, args.jobs)
    else:
        evaluate(stems, args.validation_words)
        g2p_results.render()
    return 0


if __name__ == "__main__":
    sys.exit(main())
