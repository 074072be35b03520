"""Write the word-level corpora of the `past_tense` and `de_lemma` tasks.

Neither source package is a dependency of keras-s2s: install them into a throwaway folder
and point this script at it (their data files are read directly; neither is imported):

    pip install --no-deps --target /tmp/wordsrc lemminflect==0.2.3 spacy-lookups-data==1.0.5
    python scripts/make_word_tasks.py --site /tmp/wordsrc

Outputs (UTF-8, gzip, one `source<TAB>target` pair a line, sorted, no header):

- `keras_s2s/data/corpora/past_tense.tsv.gz`: English verb lemma -> past tense (Penn `VBD`),
  from lemminflect 0.2.3's `resources/infl_lu.csv.gz` (MIT, Brad Jascob), whose inflection
  table is derived from the NIH SPECIALIST Lexicon (U.S. National Library of Medicine). Verb
  rows with a lowercase a-z lemma; every past form is a line (several lines for a lemma with
  several past forms). Forms with other characters (`baby-sat`, `fee'd`) are left out.
  Two corrections, both lemminflect's own: a `VBD` entry of `resources/infl_overrides.csv`
  that is not among the table's forms replaces them (`torpedo`: the table has `torpedoes`),
  and `be` -> `was`/`were` is added as lemminflect hard-codes it (`be` has no table row).
  A past form ending in "-ing" (a shifted column: `joyride`) is left out; a lemma left with
  no past form (`beware`) is dropped.
- `keras_s2s/data/corpora/de_lemma.tsv.gz`: German word form -> lemma, from
  spacy-lookups-data 1.0.5's `data/de_lemma_lookup.json.gz` (package MIT, ExplosionAI GmbH; the
  table is Michal Boleslav Měchura's German "Lemmatization Lists" list, Open Database
  License 1.0). Pairs whose form and lemma are made of letters only (a-z, A-Z, äöüÄÖÜß) are
  kept; identity pairs (form == lemma) are dropped only if they are more than half of those
  (they are not: about 0.2%). Lemmas are then drawn in a seeded random order (seed 0) and
  all forms of each drawn lemma are kept until about 80,000 pairs.
"""

import argparse
import csv
import gzip
import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT / "keras_s2s" / "data" / "corpora"
ENGLISH = re.compile(r"^[a-z]+$")
GERMAN = re.compile(r"^[a-zA-ZäöüÄÖÜß]+$")
DE_MAX_PAIRS = 80_000


def package_dir(name):
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"Package '{name}' not found; install it into a folder and pass --site FOLDER.")
    return Path(list(spec.submodule_search_locations)[0])


def past_tense_pairs(lemminflect):
    """`{lemma: [past, ...]}` from lemminflect's inflection table, with its own corrections."""
    overrides = {}
    with open(lemminflect / "resources" / "infl_overrides.csv", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                word, tag, form = line.split(",")
                if tag == "VBD":
                    overrides[word] = form
    pasts = {}
    with gzip.open(lemminflect / "resources" / "infl_lu.csv.gz", "rt", encoding="utf-8") as f:
        for row in csv.reader(f):
            lemma, category, *forms = row
            if category != "verb" or not ENGLISH.match(lemma):
                continue
            vbd = [p for p in (forms[0].split("/") if forms else []) if p]
            if lemma in overrides and overrides[lemma] not in vbd:
                vbd = [overrides[lemma]]
            vbd = [p for p in vbd if ENGLISH.match(p)
                   and not (p.endswith("ing") and not lemma.endswith("ing"))]
            if vbd:
                pasts[lemma] = list(dict.fromkeys(vbd))
    pasts["be"] = ["was", "were"]
    return pasts


def de_lemma_pairs(spacy_lookups_data, max_pairs=DE_MAX_PAIRS, seed=0):
    """`[(form, lemma), ...]`: letters-only pairs of whole lemmas, drawn in a seeded order."""
    path = spacy_lookups_data / "data" / "de_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        table = json.load(f)
    pairs = [(form, lemma) for form, lemma in table.items()
             if GERMAN.match(form) and GERMAN.match(lemma)]
    identity = sum(form == lemma for form, lemma in pairs)
    print(f"de: {len(table)} table entries, {len(pairs)} letters-only pairs, "
          f"{identity} identity pairs ({identity / len(pairs):.2%})")
    if identity > len(pairs) / 2:
        pairs = [(form, lemma) for form, lemma in pairs if form != lemma]
        print("de: identity pairs are more than half; dropped")
    forms = {}
    for form, lemma in pairs:
        forms.setdefault(lemma, []).append(form)
    lemmas = sorted(forms)
    chosen = []
    for i in np.random.default_rng(seed).permutation(len(lemmas)):
        if len(chosen) >= max_pairs:
            break
        chosen.extend((form, lemmas[i]) for form in forms[lemmas[i]])
    return sorted(chosen, key=lambda p: (p[1], p[0]))


def write(path, pairs, lemma_column):
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same pairs give the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9,
                                                   mtime=0, filename="") as gz:
        gz.write("".join(f"{s}\t{t}\n" for s, t in pairs).encode("utf-8"))
    lemmas = len({pair[lemma_column] for pair in pairs})
    print(f"{len(pairs)} pairs, {lemmas} lemmas -> {path} ({path.stat().st_size / 1e3:.0f} kB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="folder where lemminflect and "
                        "spacy-lookups-data were installed with pip --target")
    parser.add_argument("--out", type=Path, default=CORPORA)
    args = parser.parse_args()
    if args.site:
        sys.path.insert(0, str(args.site))
    pasts = past_tense_pairs(package_dir("lemminflect"))
    # Sorted by lemma; a lemma's past forms keep the table's order.
    write(args.out / "past_tense.tsv.gz",
          [(lemma, p) for lemma in sorted(pasts) for p in pasts[lemma]], lemma_column=0)
    write(args.out / "de_lemma.tsv.gz", de_lemma_pairs(package_dir("spacy_lookups_data")),
          lemma_column=1)


if __name__ == "__main__":
    main()
