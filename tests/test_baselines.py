"""Naive baselines (`keras_s2s.baselines`) and `keras-s2s baseline`: each baseline learns the
rule its design says it learns, on small hand-made or generated data, and nothing trains."""

import doctest
import json
import string

import numpy as np
import pytest

import keras_s2s
from keras_s2s import baselines, cli, data, evaluation, text_metrics
from keras_s2s.baselines import CharNGram, Copy, SuffixRule, WordLexicon, run_baselines

GERMAN_PLURALS = [
    ("Katze", "Katzen"), ("Tasche", "Taschen"), ("Blume", "Blumen"), ("Rose", "Rosen"),
    ("Schule", "Schulen"), ("Straße", "Straßen"), ("Hund", "Hunde"), ("Freund", "Freunde"),
    ("Tisch", "Tische"), ("Fisch", "Fische"), ("Zeitung", "Zeitungen"),
    ("Wohnung", "Wohnungen"), ("Auto", "Autos"), ("Kino", "Kinos"), ("Lehrer", "Lehrer"),
    ("Fenster", "Fenster"), ("Mutter", "Mütter"),
]
HELD_OUT = [("Lampe", "Lampen"), ("Mund", "Munde"), ("Rechnung", "Rechnungen"),
            ("Büro", "Büros"), ("Wiese", "Wiesen"), ("Maler", "Maler")]

TRANSLITERATION = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh",
                   "з": "z", "и": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
                   "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh",
                   "ц": "ts", "ч": "ch", "ш": "sh", "ы": "y", "ю": "yu", "я": "ya", "ь": ""}


def random_words(alphabet, n, seed, low=3, high=9):
    """n distinct random words, in the order drawn."""
    rng = np.random.default_rng(seed)
    words = {}
    while len(words) < n:
        words["".join(rng.choice(sorted(alphabet), rng.integers(low, high)))] = None
    return list(words)


def accuracy(hypotheses, golds):
    return float(np.mean([h == g for h, g in zip(hypotheses, golds)]))


# ---------------------------------------------------------------------------- suffix rule
def test_suffix_rule_inflects_held_out_words_by_the_rule():
    rule = SuffixRule().fit(GERMAN_PLURALS)
    assert rule.predict([s for s, _ in HELD_OUT]) == [t for _, t in HELD_OUT]
    # the rewrite is read off the longest common prefix
    assert SuffixRule.rewrite("Katze", "Katzen") == (0, "n")
    assert SuffixRule.rewrite("Mutter", "Mütter") == (5, "ütter")
    # "-e" words: 6 of "(0, 'n')"; the empty ending's most frequent rule is that one too
    assert rule.rules["e"] == (6, [(0, "n")])
    assert rule.predict(["Xy"]) == ["Xyn"]


def test_suffix_rule_min_count_and_inapplicable_rules():
    pairs = [("Vater", "Väter")] + [("Lehrer", "Lehrer")] * 2
    # "Vater" alone owns "ater"; with min_count=2 the shorter, shared ending "er" decides
    assert SuffixRule().fit(pairs).predict(["Kater"]) == ["Käter"]
    assert SuffixRule(min_count=2).fit(pairs).predict(["Kater"]) == ["Kater"]
    # a rule that strips more characters than the word has is skipped: the next one applies
    strip = SuffixRule().fit([("abcdef", "x"), ("abcdef", "x"), ("bb", "bbz")])
    assert strip.predict(["q"]) == ["qz"]
    with pytest.raises(ValueError, match="Call `fit"):
        SuffixRule().predict(["a"])
    with pytest.raises(ValueError, match="max_suffix_length"):
        SuffixRule(max_suffix_length=-1)


# ------------------------------------------------------------------------------------ copy
def test_copy_scores_everything_on_the_copy_task():
    task = data.load_task("copy", num_train=200, num_validation=20, num_test=50)
    assert baselines.default_baselines(task) == ["copy", "suffix_rule", "char_ngram"]
    scores = run_baselines(task, "test")
    assert list(scores) == ["copy", "suffix_rule", "char_ngram"]
    assert scores["copy"]["sequence_accuracy"] == 1.0 and scores["copy"]["cer"] == 0.0
    assert scores["copy"]["examples"] == 50
    # on reversal only palindromes survive a copy
    reverse = data.load_task("reverse", num_train=200, num_validation=20, num_test=50)
    sources, references = reverse.references("test")
    palindromes = np.mean([s == r[0] for s, r in zip(sources, references)])
    got = run_baselines(reverse, "test", names=["copy"])["copy"]["sequence_accuracy"]
    assert got == pytest.approx(palindromes) and got < 0.2
    assert Copy().fit([("a", "b")]).predict(["xyz"]) == ["xyz"]


# ------------------------------------------------------------------------------ char n-gram
def test_char_ngram_learns_a_substitution_cipher():
    rng = np.random.default_rng(0)
    letters = list(string.ascii_lowercase)
    cipher = dict(zip(letters, rng.permutation(letters)))
    words = random_words(letters, 500, seed=1)
    encode = lambda w: "".join(cipher[c] for c in w)  # noqa: E731
    model = CharNGram().fit([(w, encode(w)) for w in words[:300]])
    assert model.alignment_used == "em"  # different letters at the same places
    assert accuracy(model.predict(words[300:]), [encode(w) for w in words[300:]]) == 1.0


def test_char_ngram_learns_a_one_to_many_transliteration():
    words = random_words(TRANSLITERATION, 700, seed=2)
    latin = lambda w: "".join(TRANSLITERATION[c] for c in w)  # noqa: E731
    model = CharNGram().fit([(w, latin(w)) for w in words[:500]])
    assert model.alignment_used == "em"
    assert model.predict(["щука"]) == ["uka"]  # "щ" never seen in training: dropped
    assert accuracy(model.predict(words[500:]), [latin(w) for w in words[500:]]) == 1.0


def test_char_ngram_levenshtein_alignment_on_shared_letters():
    umlauts = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
    words = random_words("abdeklmnorstuäöüß", 600, seed=3)
    fold = lambda w: "".join(umlauts.get(c, c) for c in w)  # noqa: E731
    model = CharNGram().fit([(w, fold(w)) for w in words[:400]])
    assert model.alignment_used == "levenshtein"
    assert accuracy(model.predict(words[400:]), [fold(w) for w in words[400:]]) == 1.0
    assert model.predict(["zäh"]) == ["zaeh"]  # unseen letters are copied
    plurals = CharNGram().fit(GERMAN_PLURALS)
    assert plurals.predict(["Lampe", "Rechnung"]) == ["Lampen", "Rechnungen"]


def test_char_ngram_on_tokens():
    """Letters to space-separated phoneme tokens, one letter giving two (x -> K S)."""
    phones = {"a": "AE", "b": "B", "k": "K", "s": "S", "t": "T", "x": "K S", "o": "AA"}
    words = random_words(phones, 300, seed=4)
    say = lambda w: " ".join(phones[c] for c in w)  # noqa: E731
    model = CharNGram(source_units="char", target_units="word").fit(
        [(w, say(w)) for w in words[:200]])
    assert accuracy(model.predict(words[200:]), [say(w) for w in words[200:]]) == 1.0
    task = data.Task("toy_g2p", {"train": [data.Example(w, (say(w),)) for w in words[:200]],
                                 "test": [data.Example(w, (say(w),)) for w in words[200:]]},
                     data.CharTokenizer.build(words), data.WordTokenizer.build(
                         [say(w) for w in words]), metrics=("sequence_accuracy", "per"))
    assert baselines.default_baselines(task) == ["copy", "char_ngram"]
    scores = run_baselines(task)
    assert scores["char_ngram"]["sequence_accuracy"] == 1.0 and scores["char_ngram"]["per"] == 0
    assert scores["copy"]["sequence_accuracy"] == 0.0


def test_char_ngram_uses_context():
    """"c" reads K before a, o, u and S before e, i: only the window tells them apart."""
    def spell(w):
        return "".join(("s" if i + 1 < len(w) and w[i + 1] in "ei" else "k") if c == "c" else c
                       for i, c in enumerate(w))
    words = random_words("aceioutr", 600, seed=5)
    pairs = [(w, spell(w)) for w in words[:400]]
    test = [w for w in words[400:] if "c" in w]
    golds = [spell(w) for w in test]
    assert accuracy(CharNGram(context=1).fit(pairs).predict(test), golds) == 1.0
    assert accuracy(CharNGram(context=0).fit(pairs).predict(test), golds) < 0.8


def test_char_ngram_on_word_tokens_with_a_large_vocabulary():
    """1,500 words: EM indexes the (unit, chunk) keys that occur, and the wide windows are
    tuple keys (their int encoding would overflow int64)."""
    rng = np.random.default_rng(7)
    lexicon = {f"w{i}": f"t{i}" for i in range(1500)}

    def sentence():
        source = " ".join(rng.choice(list(lexicon), rng.integers(3, 9)))
        return source, " ".join(lexicon[w] for w in source.split())

    pairs, test = [sentence() for _ in range(3000)], [sentence() for _ in range(100)]
    model = CharNGram(source_units="word", target_units="word").fit(pairs)
    assert model.alignment_used == "em"
    assert [encoded for encoded, _ in model.tables] == [False] * 3 + [True] * 4
    assert model.predict([s for s, _ in test]) == [t for _, t in test]


def test_most_frequent_int_and_tuple_keys_agree():
    rng = np.random.default_rng(8)
    windows, codes = rng.integers(-1, 5, (300, 3)), rng.integers(0, 4, 300)
    (encoded, by_int), (tupled, by_tuple) = (baselines._most_frequent(windows, codes, 7),
                                             baselines._most_frequent(windows, codes, 2 ** 40))
    assert encoded and not tupled
    decoded = {tuple(int(d) - 2 for d in np.base_repr(key, 7).zfill(3)): code
               for key, code in by_int.items()}
    assert decoded == by_tuple
    for window, code in by_tuple.items():  # the most frequent code, the smallest on ties
        counts = np.bincount(codes[(windows == window).all(axis=1)], minlength=4)
        assert code == int(np.argmax(counts))


# ----------------------------------------------------------------------------- word lexicon
def test_word_lexicon_learns_a_word_for_word_dictionary():
    lexicon = {"the": "le", "cat": "chat", "dog": "chien", "sees": "voit", "eats": "mange",
               "small": "petit", "big": "grand", "bird": "oiseau", "fish": "poisson",
               "often": "souvent"}
    rng = np.random.default_rng(6)
    words = sorted(lexicon)

    def sentence():
        source = " ".join(rng.choice(words, rng.integers(2, 7)))
        return source, " ".join(lexicon[w] for w in source.split())

    pairs = [sentence() for _ in range(300)]
    model = WordLexicon().fit(pairs)
    assert model.lexicon == lexicon
    test = [sentence() for _ in range(50)]
    assert model.predict([s for s, _ in test]) == [t for _, t in test]
    assert model.predict(["the cat sees Rex ."]) == ["le chat voit Rex ."]
    task = data.Task("toy_mt", {"train": [data.Example(s, (t,)) for s, t in pairs],
                                "test": [data.Example(s, (t,)) for s, t in test]},
                     data.WordTokenizer.build([s for s, _ in pairs]),
                     data.WordTokenizer.build([t for _, t in pairs]),
                     metrics=("bleu", "sequence_accuracy"))
    assert baselines.default_baselines(task) == ["copy", "word_lexicon"]
    scores = run_baselines(task)
    assert scores["word_lexicon"]["bleu"] == pytest.approx(100.0)
    assert scores["copy"]["bleu"] < 5


# ------------------------------------------------------------------------------ scoring
def test_scores_match_evaluation_metrics_and_normalization():
    for task_name in ("g2p", "tsv"):
        task = data.Task(task_name, {}, data.CharTokenizer([]), data.CharTokenizer([]))
        for metric in evaluation.METRICS:
            assert (text_metrics.metric_function(metric, task)
                    is evaluation.metric_function(metric, task)), (task_name, metric)
    # hypotheses and references go through the target tokenizer, as a decode does: the
    # copied "Hi,you!" and the reference "Hi , you!" are both "Hi, you!"
    pairs = [("hi you", "Hi, you!"), ("go", "Go!")]
    task = data.Task("punct", {"train": [data.Example(s, (t,)) for s, t in pairs],
                               "test": [data.Example("Hi,you!", ("Hi , you!", "Go"))]},
                     data.WordTokenizer.build([s for s, _ in pairs]),
                     data.WordTokenizer.build([t for _, t in pairs]),
                     metrics=("sequence_accuracy", "wer"))
    assert (baselines._normalize(task.target_tokenizer, "Hi , you!")
            == evaluation.normalize_reference(task, "Hi , you!") == "Hi, you!")
    scores = run_baselines(task, names=["copy"])["copy"]
    assert scores["sequence_accuracy"] == 1.0 and scores["wer"] == 0.0
    scores = run_baselines(task, names=["copy"], metrics=["cer"])["copy"]
    assert list(scores) == ["cer", "examples", "seconds"]
    with pytest.raises(ValueError, match="Unknown baseline 'nope'"):
        run_baselines(task, names=["nope"])
    assert run_baselines(task, names=["copy"], max_examples=1)["copy"]["examples"] == 1


def test_docstrings_and_examples():
    result = doctest.testmod(baselines, extraglobs={"keras_s2s": keras_s2s},
                             optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 12
    for name in baselines.__all__:
        obj = getattr(baselines, name)
        if callable(obj):
            assert obj.__doc__ and "Example:" in obj.__doc__, name


# ----------------------------------------------------------------------------- command line
def write_tsv(path, pairs):
    path.write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")
    return str(path)


def test_cli_baseline_prints_every_baseline(tmp_path, capsys):
    train = write_tsv(tmp_path / "train.tsv", GERMAN_PLURALS)
    dev = write_tsv(tmp_path / "dev.tsv", HELD_OUT[:2])
    test = write_tsv(tmp_path / "test.tsv", HELD_OUT)
    out = str(tmp_path / "scores.json")
    assert cli.main(["baseline", "--train", train, "--validation", dev, "--test", test,
                     "--json", out]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"task tsv: baselines fit on {len(GERMAN_PLURALS)} training")
    assert lines[1].split() == ["name", "bleu", "chrf", "sequence_accuracy", "cer", "seconds"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:5]}
    assert list(rows) == ["copy", "suffix_rule", "char_ngram"]
    assert float(rows["suffix_rule"][2]) == 1.0  # sequence_accuracy column
    scores = json.load(open(out))
    assert scores["examples"] == len(HELD_OUT) and list(scores["baselines"]) == list(rows)
    assert scores["baselines"]["suffix_rule"]["cer"] == 0.0 and "model" not in scores

    sentences = [("the cat", "le chat"), ("the dog", "le chien"), ("a dog", "un chien")]
    train = write_tsv(tmp_path / "s_train.tsv", sentences)
    test = write_tsv(tmp_path / "s_test.tsv", [("a cat", "un chat")])
    assert cli.main(["baseline", "--train", train, "--validation", train, "--test", test,
                     "--source-tokenizer", "word", "--target-tokenizer", "word",
                     "--baselines", "word_lexicon,copy"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[2:4]] == ["word_lexicon", "copy"]
    assert float(lines[2].split()[3]) == 1.0  # "un chat"


def test_cli_baseline_errors_are_one_line(tmp_path, capsys):
    train = write_tsv(tmp_path / "train.tsv", GERMAN_PLURALS)
    missing = str(tmp_path / "missing.tsv")
    for argv, message in [
        (["--train", train, "--test", missing], f"no such file: {missing}"),
        (["--train", train], "task tsv has no test examples (give --test FILE.tsv)"),
        (["--train", train, "--test", train, "--baselines", "copy,magic"],
         "unknown baseline(s) magic"),
        (["--run", str(tmp_path / "no_run")], "no such run directory"),
        ([], "give --train FILE.tsv --test FILE.tsv, --task NAME, or --run DIR"),
    ]:
        assert cli.main(["baseline", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("keras-s2s baseline: error: "), err
        assert message in err, err


def test_phoneme_tokens_to_letters_get_the_transducer_not_the_word_lexicon():
    from keras_s2s.data import Example, Task
    from keras_s2s.data.tokenizers import CharTokenizer, WordTokenizer

    task = Task("p2g", {"train": [Example("K AE T", "cat")]}, WordTokenizer(["K", "AE", "T"]),
                CharTokenizer(list("act")))
    assert baselines.default_baselines(task) == ["copy", "char_ngram"]


def test_sentence_baselines_get_a_paired_bootstrap_of_bleu_and_chrf(tmp_path):
    """`baseline --run` on sentences: the bootstrap's whole-set scores are corpus_bleu's,
    chrf's and cer's of the two systems; a character task gets CER only (BLEU and chrF say
    nothing about single words)."""
    from keras_s2s.cli.baseline import _bootstrap

    sentences = [("the cat", "le chat"), ("the dog", "le chien"), ("a dog", "un chien"),
                 ("a cat", "un chat")]
    train = write_tsv(tmp_path / "train.tsv", sentences)
    task = data.from_tsv(train, train, train, source_tokenizer="word",
                         target_tokenizer="word")
    references = [["le chat"], ["le chien"], ["un chien"], ["un chat"]]
    details = {"hypotheses": ["le chat", "le chien", "un chat", "un chat"],
               "references": references}
    outputs = {"copy": ["the cat", "the dog", "a dog", "a cat"]}
    result = _bootstrap(task, details, outputs, ["copy"])
    assert set(result["copy"]) == {"bleu", "chrf", "cer", "per"} & set(task.metrics)
    for metric, function in (("bleu", text_metrics.corpus_bleu), ("chrf", text_metrics.chrf),
                             ("cer", text_metrics.cer)):
        if metric in result["copy"]:
            r = result["copy"][metric]
            assert r["score_a"] == pytest.approx(function(details["hypotheses"], references))
            assert r["score_b"] == pytest.approx(function(outputs["copy"], references))
            assert r["low"] <= r["difference"] <= r["high"] and r["samples"] == 1000
    words = data.from_tsv(write_tsv(tmp_path / "w.tsv", GERMAN_PLURALS),
                          write_tsv(tmp_path / "w2.tsv", HELD_OUT),
                          write_tsv(tmp_path / "w3.tsv", HELD_OUT))
    result = _bootstrap(words, {"hypotheses": ["x"] * 6, "references": [["y"]] * 6},
                        {"copy": ["y"] * 6}, ["copy"])
    assert set(result["copy"]) == {"cer"} & set(words.metrics)
    if "cer" in result["copy"]:  # the model wrong everywhere, the copy right: CER 1 against 0
        r = result["copy"]["cer"]
        assert (r["score_a"], r["score_b"], r["significant"]) == (1.0, 0.0, True)
