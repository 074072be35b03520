"""Model kinds: one object per contract. A new kind needs no edits outside its own file."""

import ast
import os

import keras
import numpy as np
import pytest

from keras_s2s import kinds, zoo
from keras_s2s.cli import main
from keras_s2s.data import from_tsv
from keras_s2s.evaluation import evaluate
from keras_s2s.training import recipe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- no branches on kind names
def _kind_comparisons(path, names):
    """`(line, source)` of every comparison of a value with a kind's name (or a collection
    of them), and every use of a `*_KINDS` list, in a Python file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = []

    def names_kind(node):
        if isinstance(node, ast.Constant) and node.value in names:
            return True
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(names_kind(e) for e in node.elts)
        return isinstance(node, ast.Name) and node.id.endswith("_KINDS")

    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Compare) and any(
                names_kind(n) for n in [node.left, *node.comparators]):
            found.append((node.lineno, ast.get_source_segment(text, node)))
        elif isinstance(node, ast.Name) and node.id.endswith("_KINDS"):
            found.append((node.lineno, node.id))
    return found


def _package_files():
    for folder in ("keras_s2s", "scripts"):
        for base, _, files in os.walk(os.path.join(ROOT, folder)):
            if os.path.join("keras_s2s", "kinds") in base:
                continue  # the kinds themselves
            yield from (os.path.join(base, f) for f in files if f.endswith(".py"))


def test_no_code_outside_the_kinds_branches_on_a_kind_name():
    names = set(kinds.names())
    offences = [f"{os.path.relpath(path, ROOT)}:{line}: {source}"
                for path in _package_files() for line, source in _kind_comparisons(path, names)]
    assert not offences, "branches on kind names:\n" + "\n".join(offences)


def test_the_branch_finder_finds_branches(tmp_path):
    # the check above can fail: it sees each way of branching on a kind's name
    path = tmp_path / "bad.py"
    path.write_text('if kind == "lm":\n    pass\nok = spec.kind in ("seq2seq", "mlm")\n'
                    'x = LANGUAGE_MODEL_KINDS\nfine = side == "source"\n')
    found = _kind_comparisons(str(path), {"seq2seq", "lm", "mlm"})
    assert [line for line, _ in found] == [1, 3, 4]


# ---------------------------------------------------------------- the kind travels
def test_kind_travels_with_the_saved_model_and_old_files_still_load(tmp_path):
    # two kinds with the same inputs: only the carried kind tells them apart
    ids = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    logits = keras.layers.Embedding(9, 9)(ids)
    plain = keras.Model({"encoder_token_ids": ids}, logits, name="plain")
    assert kinds.of(plain).name == "positionwise"  # guessed from the inputs (old files)
    tagged = kinds.with_kind(plain, "seq2seq")  # a deliberately odd tag
    path = str(tmp_path / "m.keras")
    tagged.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded, kinds.KindModel) and reloaded.kind == "seq2seq"
    assert kinds.of(reloaded).name == "seq2seq"
    plain.save(str(tmp_path / "old.keras"))  # a file from before kinds travelled
    assert kinds.model_kind(keras.saving.load_model(str(tmp_path / "old.keras"))) == \
        "positionwise"


# ---------------------------------------------------------------- a toy kind, in this file only
LABELS = ("vowel", "consonant")


class Classify(kinds.Kind):
    """A token sequence to one label: the target text is the label."""

    name = "classify"
    summary = "token sequence to one label"
    inputs = (kinds.InputSpec("token_ids"),)

    def size_arguments(self, vocabulary_size):
        return {"vocab_size": vocabulary_size, "num_labels": vocabulary_size}

    def task_size_arguments(self, task, side):
        return {"vocab_size": task.source_tokenizer.vocabulary_size,
                "num_labels": task.target_tokenizer.vocabulary_size}

    def check_options(self, model_name, side=None, metric=None):
        return None, metric or "accuracy"

    def _arrays(self, task, split):
        sources, targets, _ = task.encode_pairs(split)
        width = max(len(s) for s in sources)
        x = np.zeros((len(sources), width), "int32")
        for i, row in enumerate(sources):
            x[i, :len(row)] = row
        return x, np.array([t[0] for t in targets], "int32")

    def dataset(self, task, split, batch_size, *, side=None, shuffle=None, seed=0, **kwargs):
        import tensorflow as tf

        x, y = self._arrays(task, split)
        return tf.data.Dataset.from_tensor_slices(({"token_ids": x}, y)).batch(batch_size)

    def batch_lengths(self, task, split, side=None):
        return [self._arrays(task, split)[0].shape[1]] * len(task.splits[split])

    def checkpoint(self, task, metric, *, save_best, state_path, max_examples=None,
                   log_dir=None):
        from keras_s2s.training.callbacks import BestCheckpoint

        return BestCheckpoint("masked_accuracy", save_best=save_best, state_path=state_path,
                              higher_is_better=True)

    def evaluate(self, model, task, split, *, max_examples=None, **kwargs):
        x, y = self._arrays(task, split)
        predicted = model.predict({"token_ids": x}, verbose=0).argmax(-1)
        return {"accuracy": float((predicted == y).mean()), "examples": len(y)}, {}


def toy_classifier(vocab_size, num_labels, *, units=16, name="toy_classifier"):
    """A bag-of-embeddings classifier (the toy kind's toy entry).

    Example:

    >>> model = toy_classifier(30, 10)
    """
    ids = keras.Input((None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocab_size, units, mask_zero=True)(ids)
    x = keras.layers.GlobalAveragePooling1D()(x)
    logits = keras.layers.Dense(num_labels, name="logits")(x)
    return keras.Model({"token_ids": ids}, logits, name=name)


@pytest.fixture
def toy_kind(monkeypatch):
    monkeypatch.setitem(kinds._REGISTRY, "classify", Classify())
    registry = zoo.registry._REGISTRY
    monkeypatch.setattr(zoo.registry, "_REGISTRY", dict(registry))
    zoo.register_model(toy_classifier, family="toy", kind="classify", tiny={"units": 8})
    yield


def _toy_files(tmp_path):
    # the label of a word: whether it has a vowel
    rng = np.random.default_rng(0)
    files = {}
    for split, n in (("train", 400), ("validation", 60)):
        rows = []
        for _ in range(n):
            word = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), rng.integers(2, 7)))
            rows.append(f"{word}\t{'vowel' if set(word) & set('aeiou') else 'consonant'}")
        files[split] = tmp_path / f"{split}.tsv"
        files[split].write_text("\n".join(rows) + "\n")
    return files


@pytest.mark.slow
def test_a_new_kind_trains_evaluates_and_lists_through_python_and_the_cli(
        toy_kind, tmp_path, capsys):
    files = _toy_files(tmp_path)
    task = from_tsv(str(files["train"]), str(files["validation"]), source_tokenizer="char",
                    target_tokenizer="word")
    model = recipe.build_for_task("toy_classifier", task)
    assert model.kind == "classify"
    recipe.compile_model(model, learning_rate=0.05, label_smoothing=0.0, jit=False)
    model.fit(kinds.get("classify").dataset(task, "train", 32), epochs=8, verbose=0)
    scores, _ = evaluate(model, task, "validation")
    assert scores["accuracy"] > 0.9  # the majority label is 0.6 of validation

    # the CLI: list, info, train, evaluate
    assert main(["list", "toy_*"]) == 0
    assert "toy_classifier  classify" in capsys.readouterr().out
    assert main(["info", "toy_classifier"]) == 0
    assert "classify (inputs: token_ids): token sequence to one label" in capsys.readouterr().out
    run = str(tmp_path / "run")
    assert main(["train", "toy_classifier", "--train", str(files["train"]), "--validation",
                 str(files["validation"]), "--source-tokenizer", "char", "--target-tokenizer",
                 "word", "--out", run, "--epochs", "6", "--learning-rate", "0.05",
                 "--label-smoothing", "0", "--no-jit"]) == 0
    capsys.readouterr()
    assert main(["evaluate", run, "--test", str(files["validation"]), "--json",
                 str(tmp_path / "scores.json")]) == 0
    import json

    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["kind"] == "classify" and scores["accuracy"] > 0.9


@pytest.mark.slow
def test_list_and_info_work_for_every_entry(capsys):
    # `keras-s2s list` with no pattern builds every entry of every kind at its default size
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in zoo.list_models():
        assert f"\n{name} " in out, name
        assert main(["info", name]) == 0
        info = capsys.readouterr().out
        kind = kinds.get(zoo.get_spec(name).kind)
        assert f"kind:     {kind.name} (inputs: " in info and f"): {kind.summary}\n" in info
    assert f"({len(zoo.list_models())} entries;" in out


def test_errors_are_one_line_unless_the_traceback_is_asked_for(capsys, monkeypatch, tmp_path):
    from keras_s2s import cli

    def broken(args):
        raise KeyError("an internal bug")

    monkeypatch.setattr(cli.list_info, "run_list", broken)
    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser(), broken))
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: KeyError" in err and "--traceback" in err
    with pytest.raises(KeyError, match="an internal bug"):
        main(["list", "--traceback"])
    monkeypatch.setenv("KERAS_S2S_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["list"])
    monkeypatch.delenv("KERAS_S2S_DEBUG")
    # a user's mistake stays one line too
    assert main(["decode", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such run directory" in err


def _with_func(parser, func):
    parser._subparsers._group_actions[0].choices["list"].set_defaults(func=func)
    return parser


def test_a_run_written_by_1782677_still_loads_and_decodes_the_same(capsys):
    # the fixture's model.keras predates KindModel: its kind comes from config.json and its
    # input names, and its decodes must equal what that version printed
    fixture = os.path.join(ROOT, "tests", "fixtures", "run_1782677")
    model, _, _, config = recipe.load_run(fixture)
    assert not isinstance(model, kinds.KindModel) and kinds.of(model).name == "seq2seq"
    assert main(["decode", fixture, "--input", os.path.join(fixture, "sources.txt"), "--beam",
                 "3", "--n-best", "2", "--no-jit"]) == 0
    got = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    with open(os.path.join(fixture, "decoded_at_1782677.txt")) as f:
        want = [line.split("\t") for line in f.read().splitlines()]
    assert [row[:3] for row in got] == [row[:3] for row in want]
    np.testing.assert_allclose([float(r[3]) for r in got], [float(r[3]) for r in want],
                               atol=2e-4)


@pytest.mark.slow
def test_positionwise_trains_evaluates_and_refuses_decode_through_the_cli(tmp_path, capsys):
    import json

    files = _toy_files(tmp_path)  # the words are the sources: the model reconstructs them
    run = str(tmp_path / "run")
    assert main(["train", "dense_autoencoder", "--train", str(files["train"]), "--validation",
                 str(files["validation"]), "--out", run, "--epochs", "15", "--learning-rate",
                 "0.003", "--schedule", "constant", "--batch-size", "16", "--no-jit"]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["kind"] == "positionwise"
    capsys.readouterr()
    assert main(["evaluate", run, "--test", str(files["validation"]), "--json",
                 str(tmp_path / "scores.json")]) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    # 26 letters: an untrained model gets about 1/30 of the tokens right
    assert scores["kind"] == "positionwise" and scores["token_accuracy"] > 0.3  # measured: 0.5
    capsys.readouterr()
    assert main(["decode", run, "--input", str(files["validation"])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no decoder" in err


def test_first_version_tables_still_exist_and_follow_the_registry():
    assert kinds.KIND_INPUTS["seq2seq"] == ("encoder_token_ids", "decoder_token_ids")
    assert kinds.KIND_INPUTS["mlm"] == ("token_ids", "mask_positions")
    assert kinds.LANGUAGE_MODEL_KINDS == ("lm", "mlm")


def test_attention_rows_read_as_the_output_for_right_to_left_targets():
    """A right-to-left target tokenizer's decoder emits the last piece first; the plot's rows
    and labels are turned back to reading order, `</s>` last (reference: indices by hand)."""
    import types

    from keras_s2s.constants import EOS_ID
    from keras_s2s.data.tokenizers import CharTokenizer

    kind = kinds.get("seq2seq")
    alignment = np.arange(8 * 3, dtype="float32").reshape(8, 3)  # one more row than emitted
    for reverse, order in ((True, [5, 4, 3, 2, 1, 0, 6]), (False, list(range(7)))):
        tokenizer = CharTokenizer(list("dehlpu"), reverse=reverse)
        task = types.SimpleNamespace(target_tokenizer=tokenizer)
        ids = list(tokenizer.encode("upheld")) + [EOS_ID]  # as the decoder emits them
        labels, rows = kind.attention_rows(task, np.array(ids), alignment)
        assert labels == list("upheld") + ["</s>"]
        np.testing.assert_array_equal(rows, alignment[order])
    # no `</s>` (the output ran to max_length): every row turns
    tokenizer = CharTokenizer(list("dehlpu"), reverse=True)
    labels, rows = kind.attention_rows(types.SimpleNamespace(target_tokenizer=tokenizer),
                                       tokenizer.encode("up"), alignment)
    assert labels == ["u", "p"]
    np.testing.assert_array_equal(rows, alignment[[1, 0]])
