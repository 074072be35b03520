import types

import keras
import numpy as np
import pytest

from keras_s2s import evaluation, text_metrics, zoo
from keras_s2s.data import load_task
from keras_s2s.data.tokenizers import EOS_ID
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


def _levenshtein(a, b):
    """Edit distance (insertions, deletions, substitutions cost 1) by the full NumPy table."""
    table = np.zeros((len(a) + 1, len(b) + 1), int)
    table[:, 0], table[0, :] = np.arange(len(a) + 1), np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i, j] = min(table[i - 1, j] + 1, table[i, j - 1] + 1,
                              table[i - 1, j - 1] + (a[i - 1] != b[j - 1]))
    return int(table[-1, -1])


def _known_hypotheses(references):
    """Per example, from its last reference: exact, last phoneme dropped, or first phoneme
    replaced by another (one edit, unless another reference is as close). Words with several
    pronunciations take turns being exact and dropping a phoneme, so that matching a second
    reference, and the tie between two references, are both exercised."""
    hypotheses, multiple = [], 0
    for i, refs in enumerate(references):
        phonemes, kind = refs[-1].split(), i % 3
        if len(refs) > 1:
            kind, multiple = multiple % 2, multiple + 1
        if kind == 1:
            phonemes = phonemes[:-1]
        elif kind == 2:
            phonemes = ["ZH" if phonemes[0] != "ZH" else "AA"] + phonemes[1:]
        hypotheses.append(" ".join(phonemes))
    return hypotheses


def test_evaluate_scores_a_known_decode_like_an_independent_count(g2p_small, monkeypatch):
    """`evaluate` with a decode whose outputs are fixed: its hypotheses, references and scores
    are checked against values computed here, not with the library's metric functions."""
    sources, references = g2p_small.references("validation")
    sources, references = sources[:30], references[:30]
    assert sum(len(refs) > 1 for refs in references) >= 2
    hypotheses = _known_hypotheses(references)
    tokenizer = g2p_small.target_tokenizer
    width = max(len(tokenizer.encode(h)) for h in hypotheses) + 1
    fixed = np.zeros((30, 1, width), "int32")
    for row, text in enumerate(hypotheses):
        ids = tokenizer.encode(text) + [EOS_ID]
        fixed[row, 0, :len(ids)] = ids
    calls = []

    def fixed_decode(model, inputs, method="greedy", task=None, **kwargs):
        # evaluate hands decode the source strings and the task, whose tokenizers encode
        # them and write the outputs (as `decode` does: `writer.decode` of each row)
        calls.append((list(inputs), task))
        return types.SimpleNamespace(
            token_ids=fixed[:len(inputs)], log_probs=np.zeros((len(inputs), 1), "float32"),
            texts=[[tokenizer.decode(row[0])] for row in fixed[:len(inputs)]])

    monkeypatch.setattr(evaluation, "decode", fixed_decode)
    scores, details = evaluate(_model(g2p_small), g2p_small, "validation", max_examples=30,
                               max_length=12, verbose=False)
    assert len(calls) == 1
    assert calls[0][0] == list(sources) and calls[0][1] is g2p_small
    assert details["sources"] == sources
    assert details["hypotheses"] == hypotheses
    assert details["references"] == references  # phoneme strings are already normalized
    assert scores["examples"] == 30 and set(g2p_small.metrics) <= set(scores)

    exact = [h in refs for h, refs in zip(hypotheses, references)]
    errors = length = 0
    for h, refs in zip(hypotheses, references):  # closest reference; ties go to the shorter
        e, n = min((_levenshtein(h.split(), r.split()), len(r.split())) for r in refs)
        errors, length = errors + e, length + n
    assert 11 <= sum(exact) < 30 and 0 < errors <= 19  # the rows built above
    assert any(h in refs[1:] and h not in refs[:1] for h, refs in zip(hypotheses, references))
    assert scores["sequence_accuracy"] == pytest.approx(sum(exact) / 30)
    assert scores["wer"] == pytest.approx(1 - sum(exact) / 30)  # g2p's WER: words wrong
    assert scores["per"] == pytest.approx(errors / length)

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
@pytest.mark.extended  # 54 s; make test fits luong_bilstm on real sentences instead
def test_luong_bilstm_learns_g2p_in_a_few_minutes():
    """A sanity check on real data (not the benchmark): PER well below 50% after one epoch.

    Measured (seed 0, idle CPU): PER 0.196 after one epoch, 0.176 after two, 0.160 after
    three; an untrained model's PER is about 1. It stays under XLA: with one TensorFlow thread,
    as in `make test`, the XLA fit took 22.5 s against 26.8 s as a graph."""
    task = load_task("g2p", max_train_words=12000)
    model = _model(task, embedding_dim=48, units=96)
    compile_model(model, learning_rate=3e-3, label_smoothing=0.1)
    # one padded shape instead of length buckets: a single XLA compile (most of this test's
    # time was compiling one train step per bucket)
    model.fit(task.dataset("train", batch_size=64, bucket=False), epochs=1, verbose=0)
    scores, _ = evaluate(model, task, "validation", max_examples=300, verbose=False)
    print("g2p sanity:", scores)
    assert scores["per"] < 0.3, scores
