"""Language-model pipelines: `Task.lm_dataset` (kind "lm") and `Task.mlm_dataset` (kind "mlm")."""

import collections
import math

import numpy as np
import pytest

from keras_s2s.data import CharTokenizer, Example, Task
from keras_s2s.data.tokenizers import BOS_ID, EOS_ID, PAD_ID, UNK_ID


def _task(num=150, seed=0, **limits):
    """Random words; 1 to 3 targets per source, so the two sides hold different texts."""
    rng = np.random.default_rng(seed)
    letters, digits = list("abcdefgh"), list("0123456789")

    def word(alphabet, low, high):
        return "".join(rng.choice(alphabet, rng.integers(low, high + 1)))

    def examples(n):
        return [Example(word(letters, 1, 21), [word(digits, 1, 13) for _ in range(rng.integers(1, 4))])
                for _ in range(n)]

    return Task("toy", {"train": examples(num), "validation": examples(num // 3)},
                CharTokenizer(letters), CharTokenizer(digits), **limits)


def _rows(dataset):
    """Every real row of a pipeline, with the batch shapes it came in."""
    rows, shapes = [], []
    for inputs, labels in dataset:
        inputs = {k: v.numpy() for k, v in inputs.items()}
        labels = labels.numpy()
        assert all(v.dtype == np.int32 for v in inputs.values()) and labels.dtype == np.int32
        shapes.append(inputs["token_ids"].shape)
        for i in range(len(labels)):
            rows.append(({k: v[i] for k, v in inputs.items()}, labels[i]))
    return rows, shapes


def _texts(task, split, side):
    tokenizer = task.source_tokenizer if side == "source" else task.target_tokenizer
    if side == "source":
        texts = [e.source for e in task.splits[split]]
    else:
        texts = [t for e in task.splits[split] for t in e.targets]
    return [tuple(tokenizer.encode(t)) for t in texts]


@pytest.mark.parametrize("side", ["source", "target"])
@pytest.mark.parametrize("bucket", [True, False])
def test_lm_dataset_holds_every_text_once_shifted_by_one(side, bucket):
    task = _task()
    dataset = task.lm_dataset("train", batch_size=16, side=side, bucket=bucket)
    rows, shapes = _rows(dataset)
    assert len(shapes) == int(dataset.cardinality())
    assert all(s[0] == 16 for s in shapes)  # partial batches filled with empty rows
    if bucket:
        assert all(s[1] % 8 == 0 for s in shapes)
    else:
        assert len({s for s in shapes}) == 1
    seen = []
    for inputs, labels in rows:
        x = inputs["token_ids"]
        if not labels.any():  # a filler row: nothing in it
            assert not x.any()
            continue
        n = int((labels != PAD_ID).sum())
        assert labels[n - 1] == EOS_ID and not labels[n:].any() and not x[n:].any()
        assert x[0] == BOS_ID and (x[:n] != PAD_ID).all()
        np.testing.assert_array_equal(x[1:n], labels[:n - 1])
        seen.append(tuple(labels[:n - 1].tolist()))
    assert collections.Counter(seen) == collections.Counter(_texts(task, "train", side))
    assert len(seen) == (150 if side == "source" else sum(len(e.targets)
                                                           for e in task.splits["train"]))


def test_overlong_texts_are_counted_per_side_and_left_out():
    task = _task(max_source_length=12, max_target_length=9)
    expected = {side: sum(len(t) > limit for t in _texts(task, "train", side))
                for side, limit in (("source", 12), ("target", 9))}
    assert all(expected.values())
    for side in ("source", "target"):
        rows, _ = _rows(task.lm_dataset("train", batch_size=32, side=side, bucket=False))
        lengths = [int((labels != 0).sum()) - 1 for _, labels in rows if labels.any()]
        assert task.overlong[f"train/{side}"] == expected[side]
        assert len(lengths) == len(_texts(task, "train", side)) - expected[side]
        assert max(lengths) <= (12 if side == "source" else 9)


def test_bad_arguments_raise_clear_errors():
    task = _task(num=20)
    with pytest.raises(ValueError, match=r"side.*\('source', 'target'\).*'both'"):
        task.lm_dataset("train", side="both")
    with pytest.raises(ValueError, match="has no split 'dev'"):
        task.lm_dataset("dev")
    with pytest.raises(ValueError, match="batch_size"):
        task.lm_dataset("train", batch_size=0)
    with pytest.raises(ValueError, match=r"mask_rate.*\(0, 1\]"):
        task.mlm_dataset("train", mask_rate=0.0)
    with pytest.raises(ValueError, match="max_selections"):
        task.mlm_dataset("train", max_selections=0)


def test_mlm_dataset_masks_real_tokens_and_keeps_the_originals():
    task = _task(num=240)
    side, rate = "target", 0.3
    mask_id = task.target_tokenizer.vocabulary_size
    texts = _texts(task, "train", side)
    dataset = task.mlm_dataset("train", batch_size=16, side=side, mask_rate=rate)
    rows, shapes = _rows(dataset)
    slots = math.ceil(rate * max(len(t) for t in texts))
    assert len(shapes) == int(dataset.cardinality()) and all(s[0] == 16 for s in shapes)
    assert all(s[1] % 8 == 0 for s in shapes)
    replaced = collections.Counter()
    seen = []
    for inputs, labels in rows:
        x, positions = inputs["token_ids"], inputs["mask_positions"]
        assert positions.shape == labels.shape == (slots,)
        used = labels != PAD_ID
        if not (x != PAD_ID).any():  # filler row
            assert not used.any() and not positions.any()
            continue
        length = int((x != PAD_ID).sum())
        n = length - 2  # real tokens between <s> and </s>
        assert x[0] == BOS_ID and x[length - 1] == EOS_ID and not x[length:].any()
        assert used.sum() == math.ceil(rate * n)  # TF Text selects ceil(rate * n)
        assert not labels[used.sum():].any() and not positions[used.sum():].any()
        chosen = positions[used]
        assert len(set(chosen.tolist())) == len(chosen)
        assert ((chosen >= 1) & (chosen <= n)).all()  # never <s>, </s> or padding
        original = x.copy()
        original[chosen] = labels[used]
        assert not np.isin(original[1:length - 1], [PAD_ID, UNK_ID, BOS_ID, EOS_ID]).any()
        seen.append(tuple(original[1:length - 1].tolist()))
        for position, label in zip(chosen, labels[used]):
            kind = ("mask" if x[position] == mask_id else
                    "kept" if x[position] == label else "random")
            replaced[kind] += 1
            assert x[position] != PAD_ID
    assert collections.Counter(seen) == collections.Counter(texts)
    total = sum(replaced.values())
    assert total > 300
    # BERT's 80/10/10 (a random draw can also land on the original id: "kept")
    assert 0.72 < replaced["mask"] / total < 0.88, replaced
    assert 0.03 < replaced["random"] / total < 0.17, replaced


def test_mlm_masks_of_unshuffled_splits_depend_on_the_seed_only():
    task = _task(num=90)

    def masks(**kwargs):
        rows, _ = _rows(task.mlm_dataset("validation", batch_size=8, bucket=False, **kwargs))
        return np.stack([np.concatenate([i["token_ids"], i["mask_positions"], y])
                         for i, y in rows])

    dataset = task.mlm_dataset("validation", batch_size=8, bucket=False)
    first, again = (np.stack([x["token_ids"].numpy() for x, _ in dataset]) for _ in range(2))
    np.testing.assert_array_equal(first, again)  # the same masks every epoch
    np.testing.assert_array_equal(masks(), masks())  # and every pipeline built with that seed
    assert not np.array_equal(masks(), masks(seed=1))
    rows, _ = _rows(task.mlm_dataset("validation", batch_size=8, max_selections=1))
    assert all(y.shape == (1,) for _, y in rows)
