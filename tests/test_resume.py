"""An interrupted `train` resumed with `resume=True` loses no completed epoch."""

import json
import os

import keras
import pytest

from keras_s2s.data import load_task
from keras_s2s.training import recipe


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt("simulated interruption after epoch 1")


def test_interrupted_run_resumes_to_the_same_epoch_count(tmp_path):
    task = load_task("copy", num_train=128, num_validation=16, num_test=16, max_length=5)
    out = str(tmp_path / "run")
    kwargs = dict(epochs=3, batch_size=32, model_kwargs={"units": 8, "embedding_dim": 8},
                  max_eval_examples=8, jit=False, verbose=0)  # XLA would only add compiles
    with pytest.raises(KeyboardInterrupt):
        recipe.train("luong_lstm", task, out, extra_callbacks=[_Interrupt()], **kwargs)
    work = os.path.join(tmp_path, ".run.training")  # the training's work directory
    assert os.path.isdir(os.path.join(work, "backup"))  # epoch 1 was backed up
    with pytest.raises(ValueError, match="--resume"):
        recipe.train("luong_lstm", task, out, **kwargs)
    config = recipe.train("luong_lstm", task, out, resume=True, **kwargs)
    # the resumed run only trains the epochs that were missing, and counts all three
    assert config["results"]["epochs_this_session"] == 2
    assert config["results"]["epochs_run"] == 3
    best = json.load(open(os.path.join(out, "best.json")))
    assert 1 <= best["epoch"] <= 3
    assert not os.path.exists(work)  # removed once the run was published
    model, _, _, _ = recipe.load_run(out)
    assert model.name == "luong_lstm"
