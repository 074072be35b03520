"""The callbacks decode without re-tracing between epochs and feed `logs`."""

import keras
import numpy as np

from keras_s2s import zoo
from keras_s2s.data import load_task
from keras_s2s.decoding import api
from keras_s2s.training import AttentionImages, DecodeEvaluation, SampleDecodes
from keras_s2s.training.recipe import compile_model


def test_callbacks_trace_once_and_add_the_metric_to_logs(tmp_path):
    task = load_task("reverse", num_train=64, num_validation=8, num_test=8, max_length=5)
    keras.utils.set_random_seed(0)
    model = zoo.build("luong_lstm", source_vocab_size=task.source_tokenizer.vocabulary_size,
                      target_vocab_size=task.target_tokenizer.vocabulary_size, units=8,
                      embedding_dim=8)
    compile_model(model, jit=False)  # what is checked is the decodes, not the training step
    evaluation = DecodeEvaluation(task, metric="cer", save_best=str(tmp_path / "best.keras"))
    samples = SampleDecodes(task, str(tmp_path / "logs"), num_examples=2)
    images = AttentionImages(task, str(tmp_path / "logs"), num_examples=2,
                             sources=["abcd", "dcba"])
    assert images.sources == ["abcd", "dcba"]
    callbacks = [evaluation, samples, images]
    dataset = task.dataset("train", batch_size=32)
    model.fit(dataset, epochs=1, verbose=0, callbacks=callbacks)

    def tracing_counts():
        if keras.backend.backend() != "tensorflow":
            return None
        return {key: fn.experimental_get_tracing_count()
                for key, fn in api._CACHE[model].items() if key != "graphs"}

    after_first_epoch = tracing_counts()
    history = model.fit(dataset, epochs=3, initial_epoch=1, verbose=0, callbacks=callbacks)
    assert tracing_counts() == after_first_epoch  # later epochs reuse the compiled decodes
    assert len(history.history["val_cer"]) == 2
    assert [e for e, _ in evaluation.history] == [1, 2, 3]
    assert (tmp_path / "best.keras").exists()
    assert samples.last_table.count("\n") == 3  # header, rule, two rows
    best = min(v for _, v in evaluation.history)
    assert np.isclose(evaluation.best, best)


def test_callbacks_reject_bad_sources_and_metrics():
    import pytest

    task = load_task("copy", num_train=16, num_validation=4, num_test=4)
    with pytest.raises(ValueError, match="sources"):
        SampleDecodes(task, "logs", sources="abc")
    with pytest.raises(ValueError, match="Unknown metric"):
        DecodeEvaluation(task, metric="rouge")


import pytest  # noqa: E402


@pytest.mark.parametrize("name", ["bahdanau_monotonic_gru", "luong_local_m_bilstm",
                                  "location_bilstm"])
def test_attention_images_of_stateful_attention_reach_tensorboard(name, tmp_path):
    """Monotonic and local-m attention keep a state of their own in the decoder; their
    alignments still come out of the step graphs and are drawn."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    task = load_task("reverse", num_train=16, num_validation=4, num_test=4, max_length=5)
    model = zoo.build(name, source_vocab_size=task.source_tokenizer.vocabulary_size,
                      target_vocab_size=task.target_tokenizer.vocabulary_size,
                      **zoo.get_spec(name).tiny)
    images = AttentionImages(task, str(tmp_path / "logs"), num_examples=2, max_length=6)
    images.set_model(model)
    images.on_epoch_end(0)
    events = EventAccumulator(str(tmp_path / "logs" / "samples"),
                              size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    tags = events.Tags()["tensors"] + events.Tags()["images"]
    attention = [t for t in tags if t.startswith("attention/")]
    assert len(attention) == 2, tags
