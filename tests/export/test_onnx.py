"""ONNX export (`keras_s2s.export.onnx`): greedy decoding over `encoder.onnx` and `step.onnx`
with NumPy and onnxruntime alone, in a process that can't import keras_s2s, Keras or
TensorFlow (`tests/fixtures/onnx_greedy.py`), gives `decode`'s tokens; a recurrent and a
Transformer LM's step graphs give the Keras step graphs' outputs; the kinds that can't be
exported say why.

tf2onnx and onnxruntime are not dependencies: `make test-onnx` (part of `make test-all`)
installs them; elsewhere this module is skipped.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

pytest.importorskip("tf2onnx", reason="ONNX export tests: pip install tf2onnx (make test-onnx)")
ort = pytest.importorskip("onnxruntime", reason="pip install onnxruntime (make test-onnx)")

from keras_s2s.decoding import decode  # noqa: E402
from keras_s2s.export.onnx import export_onnx  # noqa: E402
from keras_s2s.inference import build_inference_models, max_decode_length  # noqa: E402
from tests.zoo.test_models import _batch, _tiny  # noqa: E402

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                reason="ONNX export converts TensorFlow graphs")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _random_input(rng, spec, cache_length):
    """A random value for one step-graph input: a token, a Transformer's position (int32
    `state_0`, within its cache), or a float state or cache (`cache_length` for its free
    axis)."""
    shape = (3, *[cache_length if d is None else d for d in spec.shape[1:]])
    if spec.name == "decoder_token_ids":
        return rng.integers(4, 11, shape).astype("int32")
    if "int" in str(spec.dtype):
        return np.full(shape, 2, "int32")
    return rng.normal(size=shape).astype("float32")


@pytest.mark.parametrize("name", ["luong_bilstm", "bahdanau_lstm", "vanilla_gru",
                                  "transformer_small"])
def test_numpy_onnxruntime_greedy_loop_gives_decodes_tokens(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = _tiny(name)
    source = _batch()[0]["encoder_token_ids"]
    manifest = export_onnx(model, str(tmp_path / "onnx"))
    assert manifest["step"]["outputs"][:2] in (["alignments", "logits"], ["logits", "state_0"])
    assert all("previous_" + s in manifest["step"]["inputs"] for s in manifest["states"])
    (tmp_path / "ids.json").write_text(json.dumps(source.tolist()))
    done = subprocess.run([sys.executable, os.path.join(REPO, "tests", "fixtures",
                                                        "onnx_greedy.py"),
                           str(tmp_path / "onnx"), str(tmp_path / "ids.json"), "7"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    got = np.array(json.loads(done.stdout))
    want = np.asarray(decode(model, source, max_length=7, verbose=False).token_ids)[:, 0]
    np.testing.assert_array_equal(got[:, :want.shape[1]], want)
    assert (got[:, want.shape[1]:] == 0).all()


@pytest.mark.parametrize("name", ["lstm_lm", "transformer_lm"])
def test_language_model_step_graph_matches_keras(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = _tiny(name)
    manifest = export_onnx(model, str(tmp_path))
    _, step = build_inference_models(model)
    rng = np.random.default_rng(0)
    feed = {i.name: _random_input(rng, i, max_decode_length(model) or 1) for i in step.inputs}
    want = {k: keras.ops.convert_to_numpy(v) for k, v in step(feed).items()}
    session = ort.InferenceSession(str(tmp_path / manifest["files"]["step"]))
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(None, {("previous_" + k if k.startswith("state_") else k): v
                                             for k, v in feed.items()})))
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-5, err_msg=key)


@pytest.mark.parametrize("name, reason", [("pointer_lstm", "own search in Python"),
                                          ("bert_mlm", "no decoder")])
def test_kinds_that_cannot_be_exported_say_why(name, reason, tmp_path):
    with pytest.raises(ValueError, match=reason):
        export_onnx(_tiny(name), str(tmp_path))
    assert not os.listdir(tmp_path)


def test_cli_exports_a_run_as_onnx_and_refuses_search_flags(tmp_path, capsys):
    from keras_s2s import cli

    run = os.path.join(REPO, "tests", "fixtures", "run_1782677")  # a trained luong_lstm
    out = tmp_path / "onnx"
    assert cli.main(["export", run, "--out", str(out), "--format", "onnx", "--beam", "4"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--beam" in error[0] and "drop it" in error[0]
    assert cli.main(["export", run, "--out", str(out), "--format", "onnx", "--min-length",
                     "1"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--min-length" in error[0] and "drop it" in error[0]
    assert not out.exists()
    assert cli.main(["export", run, "--out", str(out), "--format", "onnx"]) == 0
    assert sorted(os.listdir(out)) == ["encoder.onnx", "keras_s2s_onnx.json", "step.onnx"]
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []  # no work directory
    manifest = json.loads((out / "keras_s2s_onnx.json").read_text())
    assert manifest["model"] == "luong_lstm" and manifest["states"]
    assert manifest["target_order"] == "left-to-right"
