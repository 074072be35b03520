"""`export_saved_model` and `keras-s2s export`: SavedModels that serve strings, loaded in a
fresh process without keras_s2s or Keras, give `decode`'s texts and scores."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_s2s import zoo
from keras_s2s.data import Task
from keras_s2s.data.tokenizers import CharTokenizer, SubwordTokenizer, WordTokenizer
from keras_s2s.decoding import decode
from keras_s2s.export import MANIFEST, export_saved_model
from tests.test_cli import FAST, REVERSE, TINY, run_cli

SERVER = os.path.join(os.path.dirname(__file__), "..", "fixtures", "serve_saved_model.py")
SENTENCES = ["Hello, world!", "Don't stop: it's done.", 'He said "go" and left.',
             "L'homme qu'il a vu.", "Привет, мир!", "東京は「日本」の首都です。"]


def _tiny(name, source_vocab_size, target_vocab_size=None):
    """A tiny entry with a sharpened output layer, so that greedy and beam choices are not
    near-ties that XLA and the plain graph could break differently."""
    keras.utils.set_random_seed(0)
    spec = zoo.get_spec(name)
    sizes = ({"vocab_size": source_vocab_size} if spec.kind == "lm" else
             {"source_vocab_size": source_vocab_size, "target_vocab_size": target_vocab_size})
    model = zoo.build(name, **sizes, **{**spec.tiny, "dropout": 0.0})
    names = [layer.name for layer in model.layers]
    for name in ("output_projection", "logits"):
        if name in names and hasattr(model.get_layer(name), "kernel"):
            kernel = model.get_layer(name).kernel
            kernel.assign(kernel * 8.0)
            return model
    for weight in model.get_layer("decoder_embedding").weights:  # tied to the output
        if "embeddings" in weight.path and "position" not in weight.path:
            weight.assign(weight * 8.0)
            return model
    raise AssertionError(f"no output layer to sharpen among {names}")


def _serve(requests, tmp_path, text=False):
    """Run every export's `translate` in a fresh process that can't import keras_s2s (nor
    Keras, unless `text`: tensorflow_text, which subword exports need, imports it)."""
    path = tmp_path / f"requests{'_text' if text else ''}.json"
    path.write_text(json.dumps(requests))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run([sys.executable, SERVER, str(path)] + (["--text"] if text else []),
                          capture_output=True, text=True, env=env, timeout=600,
                          cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("export") / "run")
    run_cli("train", "luong_lstm", *REVERSE, *TINY, *FAST, "--epochs", "2", "--no-jit",
            "--out", out)  # a graph: XLA's compiles took 40 of this fixture's 50 s
    return out


def test_exports_serve_decodes_texts_and_scores_without_keras_s2s(trained_run, tmp_path):
    from keras_s2s.cli._common import load_run_dir

    cases, requests = {}, {}
    # 1-2. the trained char run, greedy and 2-best beam with a length penalty, by the CLI
    greedy, beam = str(tmp_path / "greedy"), str(tmp_path / "beam")
    run_cli("export", trained_run, "--out", greedy, "--max-length", "20")
    run_cli("export", trained_run, "--out", beam, "--beam", "3", "--n-best", "2",
            "--length-penalty", "0.6", "--max-length", "20")
    model, task, _ = load_run_dir(trained_run)
    sources = ["abcde", "jihgf", "aaab", "cab", "bcdefghij"]
    cases[greedy] = (decode(model, sources, task=task, max_length=20), sources)
    cases[beam] = (decode(model, sources, "beam", task=task, beam_width=3,
                          num_return_sequences=2, length_penalty=0.6, max_length=20), sources)
    # 2b. greedy with --min-length: no </s> before six letters, as `decode`'s min_length
    longer = str(tmp_path / "longer")
    run_cli("export", trained_run, "--out", longer, "--max-length", "20", "--min-length", "6")
    cases[longer] = (decode(model, sources, task=task, max_length=20, min_length=6), sources)
    assert all(len(text) >= 6 for [text] in cases[longer][0].texts)
    assert cases[longer][0].texts != cases[greedy][0].texts
    # 3. a Transformer between word vocabularies, beam search and per-source limits
    words = WordTokenizer.build(SENTENCES)
    transformer = _tiny("transformer_tiny", words.vocabulary_size, words.vocabulary_size)
    word_task = Task("words", {}, words, words)
    path = str(tmp_path / "transformer")
    export_saved_model(transformer, words, words, path, beam_width=2, max_length=12,
                       max_length_a=1.0, max_length_b=2)
    cases[path] = (decode(transformer, SENTENCES, "beam", task=word_task, beam_width=2,
                          max_length=12, max_length_a=1.0, max_length_b=2), SENTENCES)
    # 3b. the same model and search, its target tokenizer right to left (`reverse`): the
    # graph turns each output back as `decode` does, here into the words in reverse order
    backwards = str(tmp_path / "backwards")
    export_saved_model(transformer, words, words.reversed(), backwards, beam_width=2,
                       max_length=12, max_length_a=1.0, max_length_b=2)
    cases[backwards] = (decode(transformer, SENTENCES, "beam",
                               task=Task("rtl", {}, words, words.reversed()), beam_width=2,
                               max_length=12, max_length_a=1.0, max_length_b=2), SENTENCES)
    assert cases[backwards][0].texts != cases[path][0].texts
    # 4. a language model continuing character prompts
    chars = CharTokenizer.build(["hello world", "low"])
    lm = _tiny("lstm_lm", chars.vocabulary_size)
    path = str(tmp_path / "lm")
    export_saved_model(lm, chars, chars, path, max_length=10)
    prompts = ["he", "w", "low"]
    cases[path] = (decode(lm, prompts, task=Task("lm", {}, chars, chars), max_length=10),
                   prompts)
    # 5. subword (WordPiece) source and target, an attention model
    pieces = SubwordTokenizer.build(SENTENCES * 10, max_vocabulary_size=120)
    attention = _tiny("luong_bilstm", pieces.vocabulary_size, pieces.vocabulary_size)
    subword = str(tmp_path / "subword")
    export_saved_model(attention, pieces, pieces, subword, max_length=10)
    cases[subword] = (decode(attention, SENTENCES, task=Task("sub", {}, pieces, pieces),
                             max_length=10), SENTENCES)

    served = _serve({path: inputs for path, (_, inputs) in cases.items() if path != subword},
                    tmp_path)
    served.update(_serve({subword: SENTENCES}, tmp_path, text=True))
    for path, (expected, _) in cases.items():
        got = served[path]
        assert got["text"] == expected.texts, path
        assert got["signature_text"] == expected.texts, path  # serving_default is translate
        np.testing.assert_allclose(got["score"], expected.scores, rtol=0, atol=2e-4,
                                   err_msg=path)
    assert any(text.strip() for rows in served[beam]["text"] for text in rows)
    assert len(served[beam]["text"][0]) == 2
    assert json.load(open(os.path.join(beam, MANIFEST)))["num_return_sequences"] == 2
    assert json.load(open(os.path.join(longer, MANIFEST)))["min_length"] == 6


def test_kinds_that_cannot_be_served_are_refused_with_the_reason(tmp_path):
    chars = CharTokenizer(list("abc"))
    pointer = zoo.build("pointer_lstm", **zoo.get_spec("pointer_lstm").tiny)
    with pytest.raises(ValueError, match="own search"):
        export_saved_model(pointer, chars, chars, str(tmp_path / "p"))
    mlm = zoo.build("bert_mlm", vocab_size=8, **zoo.get_spec("bert_mlm").tiny)
    with pytest.raises(ValueError, match="no decoder"):
        export_saved_model(mlm, chars, chars, str(tmp_path / "m"))
    assert not os.listdir(tmp_path)


def test_export_flags_fail_in_one_line_and_write_nothing(trained_run, tmp_path, capsys):
    from keras_s2s import cli

    out = str(tmp_path / "served")
    os.makedirs(out)
    assert cli.main(["export", trained_run, "--out", out]) == 2  # exists
    assert cli.main(["export", trained_run, "--out", str(tmp_path / "x"), "--n-best", "2"]) == 2
    assert cli.main(["export", trained_run, "--out", str(tmp_path / "x"), "--beam", "2",
                     "--n-best", "3"]) == 2
    assert cli.main(["export", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 2
    assert cli.main(["export", trained_run, "--out", str(tmp_path / "x"), "--max-length", "5",
                     "--min-length", "5"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 5, lines
    assert "--min-length 5 leaves no room for </s> within --max-length 5" in lines[4]
    assert "exists; pass --overwrite" in lines[0]
    assert "add --beam N" in lines[1] and "more than the beam holds" in lines[2]
    assert "no such run directory" in lines[3]
    assert os.listdir(tmp_path) == ["served"] and not os.listdir(out)  # nothing written


def test_a_failed_export_leaves_nothing_and_overwrite_replaces(trained_run, tmp_path,
                                                                monkeypatch):
    from keras_s2s import export as package

    out = tmp_path / "served"
    run_cli("export", trained_run, "--out", str(out), "--max-length", "8")
    first = json.load(open(out / MANIFEST))

    def broken(model, source, target, path, **options):
        os.makedirs(path)
        open(os.path.join(path, "saved_model.pb"), "w").close()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(package, "export_saved_model", broken)
    proc = run_cli("export", trained_run, "--out", str(out), "--overwrite", check=False)
    assert proc.returncode != 0 and "No space left on device" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["served"]  # no half-written export beside it
    assert json.load(open(out / MANIFEST)) == first  # the old export is intact
    monkeypatch.undo()
    run_cli("export", trained_run, "--out", str(out), "--overwrite", "--beam", "2")
    assert json.load(open(out / MANIFEST))["beam_width"] == 2
    assert sorted(os.listdir(tmp_path)) == ["served"]


def test_the_readme_serving_example_runs_with_tensorflow_alone(trained_run, tmp_path):
    """The Python block of the README's "Deploying" paragraph, run as written against an
    export at its path (`served/g2p`), in a process where keras_s2s and Keras can't be
    imported."""
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md"),
                  encoding="utf-8").read()
    paragraph = readme[readme.index("**Deploying.**"):]
    block = paragraph[paragraph.index("```python\n") + 10:]
    block = block[:block.index("```")]
    assert 'tf.saved_model.load("served/g2p")' in block
    (tmp_path / "served").mkdir()
    run_cli("export", trained_run, "--out", str(tmp_path / "served" / "g2p"))
    script = ("import sys\nfor name in ('keras_s2s', 'keras_hub', 'keras'):\n"
              "    sys.modules[name] = None\n" + block)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=300, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = proc.stdout.strip()
    assert printed.startswith("[[b'") and printed.count("]") >= 4, printed  # 2 rows of texts
