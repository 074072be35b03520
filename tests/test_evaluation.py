import keras
import numpy as np
import pytest

from keras_s2s import text_metrics, zoo
from keras_s2s.data import load_task
from keras_s2s.decoding import decode
from keras_s2s.evaluation import evaluate, metric_function
from keras_s2s.training.recipe import compile_model


@pytest.fixture(scope="module")
def g2p_small():
    return load_task("g2p", max_train_words=3000)


def _model(task, **kwargs):
    keras.utils.set_random_seed(0)
    return zoo.build("luong_bilstm", source_vocab_size=task.source_tokenizer.vocabulary_size,
                     target_vocab_size=task.target_tokenizer.vocabulary_size,
                     **{"embedding_dim": 16, "units": 16, **kwargs})


def test_evaluate_scores_match_the_metric_functions(g2p_small):
    model = _model(g2p_small)
    scores, details = evaluate(model, g2p_small, "validation", max_examples=30, max_length=12)
    assert scores["examples"] == 30 and set(g2p_small.metrics) <= set(scores)
    hyps, refs = details["hypotheses"], details["references"]
    assert scores["wer"] == pytest.approx(text_metrics.sequence_error_rate(hyps, refs))
    assert scores["per"] == pytest.approx(text_metrics.per(hyps, refs))
    assert all(len(r) >= 1 for r in refs)
    assert metric_function("wer", g2p_small) is text_metrics.sequence_error_rate
    with pytest.raises(ValueError, match="Unknown metric"):
        metric_function("rouge")


def test_decode_accepts_strings_with_a_task(g2p_small):
    model = _model(g2p_small)
    result = decode(model, ["keras", "tensor"], "beam", beam_width=3, num_return_sequences=2,
                    task=g2p_small, max_length=10)
    assert len(result.texts) == 2 and len(result.texts[0]) == 2
    assert result.texts[0][0] == g2p_small.decode_target(result.token_ids[0, 0])
    assert all(p in g2p_small.target_tokenizer.vocabulary
               for text in result.texts[0] for p in text.split())


@pytest.mark.slow
def test_luong_bilstm_learns_g2p_in_a_few_minutes():
    """A sanity check on real data (not the benchmark): PER well below 50%."""
    task = load_task("g2p", max_train_words=12000)
    model = _model(task, embedding_dim=48, units=96)
    compile_model(model, learning_rate=3e-3, label_smoothing=0.1)
    # one padded shape instead of length buckets: a single XLA compile (most of this test's
    # time was compiling one train step per bucket)
    model.fit(task.dataset("train", batch_size=64, bucket=False), epochs=3, verbose=0)
    scores, _ = evaluate(model, task, "validation", max_examples=300, verbose=False)
    print("g2p sanity:", scores)
    assert scores["per"] < 0.35, scores
