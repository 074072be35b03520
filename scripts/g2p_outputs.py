"""The G2P test outputs that the results scripts keep, one file per system, so that two
systems can be compared word by word later without decoding the test words again.

    zoo/results/g2p_test_outputs/<split>/<name>.txt.gz   # one output per test word, in order

`scripts/g2p_standard_results.py` (`evaluate`, `ensemble`) and `scripts/g2p_results.py
evaluate` write them at their one test decode, `scripts/peer_g2p.py` writes Phonetisaurus's
(`phonetisaurus`); `paired` reads two of them and runs McNemar's exact test on the words that
exactly one of the two gets right (`keras_s2s.significance.paired_exact_match`, every
reference counts).

Example:

    save("standard", "location_bilstm_wide", hypotheses)
    result = paired("standard", "location_bilstm_wide", "phonetisaurus", task)

From the command line, two kept systems compared (the result is also stored in
zoo/results/g2p_paired.json):

    python scripts/g2p_outputs.py paired standard location_bilstm_256_distilled \
        location_bilstm_256_seed1
"""

import argparse
import gzip
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(ROOT, "zoo", "results", "g2p_test_outputs")
PEER = "phonetisaurus"
PAIRED_JSON = os.path.join(ROOT, "zoo", "results", "g2p_paired.json")  # `paired` from the CLI


def split_of(recipe):
    """The CMUdict split a G2P recipe trains on: its task option `split`, else "default"."""
    return recipe.get("task_options", {}).get("split", "default")


def path(split, name):
    """The file of system `name`'s test outputs on `split`."""
    return os.path.join(FOLDER, split, f"{name.replace(' + ', '+')}.txt.gz")


def save(split, name, hypotheses):
    """Write one output per test word (whole or not at all: a temporary file, then a rename).
    gzip's header gets no time stamp, so the same outputs give the same bytes."""
    target = path(split, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if any("\n" in h for h in hypotheses):
        raise ValueError(f"`{name}`: an output holds a line break, so one line per word fails")
    partial = f"{target}.partial"
    with open(partial, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write("".join(h + "\n" for h in hypotheses).encode("utf-8"))
    os.replace(partial, target)


def kept(split, name):
    """Whether system `name`'s test outputs on `split` were kept (no file is read)."""
    return os.path.exists(path(split, name))


def load(split, name):
    """System `name`'s test outputs on `split`, or None when none were kept."""
    if not kept(split, name):
        return None
    with gzip.open(path(split, name), "rt", encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


def paired(split, name_a, name_b, task):
    """`paired_exact_match` of two kept systems on `task`'s test words, or None when either's
    outputs are missing; a file whose length is not the test split's is an error."""
    from keras_s2s.significance import paired_exact_match

    outputs = [load(split, name) for name in (name_a, name_b)]
    if None in outputs:
        return None
    test = task.splits["test"]
    for name, rows in zip((name_a, name_b), outputs):
        if len(rows) != len(test):
            raise ValueError(f"{path(split, name)} holds {len(rows)} outputs for "
                             f"{len(test)} test words: decode the test split again")
    return paired_exact_match(*outputs, [list(e.targets) for e in test])


def main(argv=None):
    """`paired SPLIT A B`: McNemar's exact test of two kept systems, printed and stored."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("paired",))
    parser.add_argument("split", choices=("default", "standard"))
    parser.add_argument("a")
    parser.add_argument("b")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from results_io import load_json, save_json

    from keras_s2s.data import load_task

    task = load_task("g2p", **({"split": "standard"} if args.split == "standard" else {}))
    result = paired(args.split, args.a, args.b, task)
    if result is None:
        missing = [n for n in (args.a, args.b) if not kept(args.split, n)]
        raise SystemExit(f"g2p_outputs: error: no kept test outputs for {missing} on the "
                         f"{args.split} split ({FOLDER})")
    results = load_json(PAIRED_JSON, {})
    results[f"{args.split}: {args.a} vs {args.b}"] = result
    save_json(PAIRED_JSON, results)
    print(f"{args.a} right where {args.b} is wrong: {result['a_only']:,}; the other way: "
          f"{result['b_only']:,}; p = {result['p_value']:.3g} (McNemar's exact test, "
          f"{result['examples']:,} test words)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
