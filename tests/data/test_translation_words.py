"""The translation task's word tokenizers (`tokenizer="word"`): every training word, sorted by
falling frequency, as the sampled softmax's log-uniform sampler assumes."""

import collections
import re

import pytest

from keras_s2s.data import load_task


@pytest.fixture(scope="module")
def task():
    return load_task("translation", tokenizer="word")


def test_every_training_word_most_frequent_first(task):
    counts = collections.Counter(
        w for e in task.splits["train"] for t in e.targets for w in re.findall(r"\w+|[^\w\s]", t))
    vocabulary = task.target_tokenizer.vocabulary
    # every word, the special tokens (29,705 on the chapter split alone, repeats="keep")
    assert len(vocabulary) == len(counts) + 4 == 29708
    frequencies = [counts[w] for w in vocabulary[4:]]
    assert frequencies == sorted(frequencies, reverse=True)
    assert task.source_tokenizer.vocabulary_size == 12978
    assert "word tokenizers" in task.description
    assert "34 repeated verses moved to train" in task.description


def test_subword_is_the_default_and_unknown_tokenizers_are_refused():
    with pytest.raises(ValueError, match="'subword' or 'word'"):
        load_task("translation", tokenizer="chars")
