"""Write `keras_s2s/data/corpora/bible_kjv_rv1909.tsv.gz`: verse-aligned English-Spanish pairs.

Sources: the SWORD modules `engKJV2006eb` (King James Version, 1769 text) and
`spaRV1909eb` (Reina-Valera 1909), both marked "Copyright=PUBLIC DOMAIN,
DistributionLicense=Public Domain" in their `mods.d/*.conf`, from Debian's `sword-text-kjv`
and `sword-text-sparv` packages, read with Debian's `diatheke`:

    apt-get install diatheke sword-text-kjv sword-text-sparv
    python scripts/make_bible_corpus.py

Strong's numbers (`<H1234>`, `<G5547>`) are removed and whitespace is collapsed. Lines that
do not start a verse are headings (psalm titles, and one title that diatheke repeats
thousands of times), never verse text, and are left out. A verse is
kept only when both translations have non-empty text for the same book, chapter and verse.
Columns: book, chapter, verse, english, spanish (book is the SWORD English book name).
"""

import argparse
import gzip
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "keras_s2s" / "data" / "corpora" / "bible_kjv_rv1909.tsv.gz"
MODULES = {"english": "engKJV2006eb", "spanish": "spaRV1909eb"}
VERSE = re.compile(r"^\s*((?:[1-3] )?[A-Z][A-Za-z ]*?) (\d+):(\d+):\s?(.*)$")
STRONGS = re.compile(r"\s*<[HG]\d+[a-z]?>")


def read_module(module):
    """Returns {(book, chapter, verse): text} for one SWORD module."""
    text = subprocess.run(
        ["diatheke", "-b", module, "-f", "plain", "-k", "Genesis 1:1-Revelation 22:21"],
        check=True, capture_output=True, text=True).stdout
    verses = {}
    for line in text.splitlines():
        match = VERSE.match(line)
        if match:
            book, chapter, verse, rest = match.groups()
            verses[(book.strip(), int(chapter), int(verse))] = rest
    return {k: " ".join(STRONGS.sub("", v).split()) for k, v in verses.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    sides = {name: read_module(module) for name, module in MODULES.items()}
    keys = [k for k in sides["english"] if sides["english"][k] and sides["spanish"].get(k)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as f:
        for book, chapter, verse in keys:
            en, es = sides["english"][(book, chapter, verse)], sides["spanish"][(book, chapter, verse)]
            f.write(f"{book}\t{chapter}\t{verse}\t{en}\t{es}\n")
    print(f"{len(keys)} verse pairs -> {args.out}")


if __name__ == "__main__":
    main()
