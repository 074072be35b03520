"""Phonetisaurus (a joint-sequence WFST, Novak et al. 2016) on our G2P splits, scored by our code.

    python scripts/peer_g2p.py [--split standard|default ...]   # writes zoo/results/peer_g2p.json
    python scripts/peer_g2p.py --outputs-only   # only keeps the test outputs (g2p_outputs.py)
    python scripts/g2p_results.py render                         # the tables in zoo/RESULTS.md

Phonetisaurus is a peer, never a dependency: the script installs `phonetisaurus==0.3.0` (its
wheel ships the binaries) into its own virtual environment (`--venv`, default
`runs/peer_g2p/venv`) from the package registries, and says so in one line when that fails.

For each split it writes the task's training pairs as a lexicon (`word<TAB>phonemes`, one line
per pronunciation; the validation words of `load_task("g2p", ...)` are left out, as our models
never train on them), trains with the standard recipe

    phonetisaurus-train --lexicon train.tsv --seq2_del --ngram_order 8

and decodes every test word once with `phonetisaurus-apply` (1-best). WER and PER come from
`keras_s2s.text_metrics.metric_function`, the same code that scores our models, against every
reference pronunciation. Wall and CPU seconds of training and decoding are recorded with the
machine's load average. One run per split (the recipe has no seed).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import g2p_outputs  # noqa: E402
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "peer_g2p.json")
VERSION = "0.3.0"
TRAIN_FLAGS = ["--seq2_del", "--ngram_order", "8"]


def install(venv):
    """The package's directory inside `venv`, installing it there first when missing."""
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    where = [python, "-c", "import os, phonetisaurus; "
             "print(os.path.dirname(phonetisaurus.__file__))"]
    found = subprocess.run(where, capture_output=True, text=True)
    if found.returncode != 0:
        pip = subprocess.run([python, "-m", "pip", "install", "-q",
                              f"phonetisaurus=={VERSION}"], capture_output=True, text=True)
        if pip.returncode != 0:
            sys.exit(f"peer_g2p: error: could not install phonetisaurus=={VERSION} into {venv} "
                     f"({(pip.stderr.strip().splitlines() or ['pip failed'])[-1]}); the "
                     "Phonetisaurus row needs it")
        found = subprocess.run(where, capture_output=True, text=True, check=True)
    return found.stdout.strip()


def _environment(package):
    """PATH and LD_LIBRARY_PATH pointing at the wheel's binaries and libraries."""
    machine = platform.machine()
    env = dict(os.environ)
    env["PATH"] = os.path.join(package, "bin", machine) + os.pathsep + env.get("PATH", "")
    env["LD_LIBRARY_PATH"] = (os.path.join(package, "lib", machine) + os.pathsep +
                              env.get("LD_LIBRARY_PATH", ""))
    return env


def _timed(command, env, cwd, **kwargs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"peer_g2p: error: {command[0]} failed: "
                 f"{(proc.stderr.strip().splitlines() or ['no message'])[-1]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return proc, wall, cpu


def run_split(split, package):
    from keras_s2s.data import load_task
    from keras_s2s.text_metrics import metric_function

    task = load_task("g2p", split=split)
    env = _environment(package)
    with tempfile.TemporaryDirectory() as work:
        lexicon = os.path.join(work, "train.tsv")
        with open(lexicon, "w", encoding="utf-8") as f:
            for example in task.splits["train"]:
                for target in example.targets:
                    f.write(f"{example.source}\t{target}\n")
        train = ["phonetisaurus-train", "--lexicon", lexicon, *TRAIN_FLAGS,
                 "--dir_prefix", os.path.join(work, "model"), "--model_prefix", "model"]
        print(f"[{split}] training on {len(task.splits['train']):,} words ...", flush=True)
        _, train_wall, train_cpu = _timed(train, env, work)
        model = os.path.join(work, "model", "model.fst")
        test = task.splits["test"]
        words = os.path.join(work, "words.txt")
        with open(words, "w", encoding="utf-8") as f:
            f.write("".join(e.source + "\n" for e in test))
        apply = ["phonetisaurus-apply", "--model", model, "--word_list", words]
        print(f"[{split}] decoding {len(test):,} test words ...", flush=True)
        proc, decode_wall, decode_cpu = _timed(apply, env, work)
    hypotheses = {}
    for line in proc.stdout.splitlines():
        word, _, phonemes = line.partition("\t")
        hypotheses.setdefault(word, " ".join(phonemes.split()))  # 1-best: the first line
    outputs = [hypotheses.get(e.source, "") for e in test]
    references = [list(e.targets) for e in test]
    scores = {name: metric_function(name, task)(outputs, references) for name in ("wer", "per")}
    g2p_outputs.save(split, g2p_outputs.PEER, outputs)  # for word-by-word comparisons
    return {
        "split": split, "task": task.description,
        "train_words": len(task.splits["train"]),
        "train_pronunciations": sum(len(e.targets) for e in task.splits["train"]),
        "test_words": len(test), "missing_outputs": sum(not o for o in outputs),
        "wer": scores["wer"], "per": scores["per"],
        "train_wall_seconds": train_wall, "train_cpu_seconds": train_cpu,
        "decode_wall_seconds": decode_wall, "decode_cpu_seconds": decode_cpu,
        "command": " ".join(["phonetisaurus-train --lexicon train.tsv", *TRAIN_FLAGS]),
        "version": VERSION, "load_average": os.getloadavg(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "date": time.strftime("%Y-%m-%d"),
        "samples": [{"word": e.source, "references": list(e.targets), "output": o}
                    for e, o in list(zip(test, outputs))[:5]],
    }


def load():
    if os.path.exists(RESULTS_JSON):
        with open(RESULTS_JSON) as f:
            return json.load(f)
    return {}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", action="append", choices=["standard", "default"],
                        help="which split (repeatable; default: both)")
    parser.add_argument("--venv", default=os.path.join(ROOT, "runs", "peer_g2p", "venv"))
    parser.add_argument("--outputs-only", action="store_true",
                        help="train and decode again only to keep the test outputs (for "
                             "word-by-word comparisons); a recorded row, measured on a quieter "
                             "machine, stays, and its WER and PER must come out the same")
    args = parser.parse_args(argv)
    package = install(args.venv)
    results = load()
    for split in args.split or ["standard", "default"]:
        row = run_split(split, package)
        if args.outputs_only and split in results:
            recorded = results[split]
            same = all(abs(row[k] - recorded[k]) < 1e-12 for k in ("wer", "per"))
            print(f"[{split}] outputs kept in {g2p_outputs.path(split, g2p_outputs.PEER)}; "
                  f"WER and PER {'equal' if same else 'DIFFER FROM'} the recorded row "
                  f"({100 * row['wer']:.2f}% / {100 * row['per']:.2f}% against "
                  f"{100 * recorded['wer']:.2f}% / {100 * recorded['per']:.2f}%)", flush=True)
            if not same:
                sys.exit(f"peer_g2p: error: the {split} run does not reproduce the recorded "
                         "row: run without --outputs-only to measure it again")
            continue
        print(f"[{split}] Phonetisaurus: WER {100 * row['wer']:.1f}%, PER "
              f"{100 * row['per']:.1f}%, trained in {row['train_wall_seconds'] / 60:.1f} min",
              flush=True)
        results[split] = row
        os.makedirs(os.path.dirname(RESULTS_JSON), exist_ok=True)
        with open(RESULTS_JSON, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
