"""Split hygiene of the translation task (`keras_s2s.data.translation.bible_splits`): every
verse lands in exactly one split or is counted as left out, whole chapters stay together, and no
English or Spanish sentence is in two splits."""

import collections

import pytest

from keras_s2s.data.translation import bible_splits, read_bible

SPLITS = ("train", "validation", "test")


def pairs(examples):
    return collections.Counter((e.source, e.targets[0]) for e in examples)


@pytest.mark.parametrize("max_words", [None, 30])
@pytest.mark.parametrize("repeats", ["train", "keep"])
def test_every_verse_comes_out_once_or_is_counted(max_words, repeats):
    rows = read_bible()
    assert len(rows) == 31084
    splits, left_out = bible_splits(max_words=max_words, repeats=repeats)
    expected = collections.Counter((r[3], r[4]) for r in rows
                                   if max_words is None or len(r[3].split()) <= max_words)
    out = sum((pairs(splits[s]) for s in SPLITS), collections.Counter())
    assert out == expected  # the same verses, each as often as in the corpus
    assert sum(len(splits[s]) for s in SPLITS) + left_out == len(rows)
    assert left_out == (0 if max_words is None else 9010)


@pytest.mark.parametrize("max_words", [None, 30])
def test_no_sentence_is_in_two_splits(max_words):
    splits, _ = bible_splits(max_words=max_words)
    for side in (lambda e: e.source, lambda e: e.targets[0]):
        texts = {s: {side(e) for e in splits[s]} for s in SPLITS}
        for i, a in enumerate(SPLITS):
            for b in SPLITS[i + 1:]:
                assert not texts[a] & texts[b], (a, b, sorted(texts[a] & texts[b])[:3])


def test_the_chapter_split_alone_shares_formulaic_verses():
    # why `repeats="train"` exists: chapters alone leave repeated verses in two splits
    splits, _ = bible_splits(repeats="keep")
    train = {e.source for e in splits["train"]}
    shared = [e.source for e in splits["test"] if e.source in train]
    assert len(shared) == 11
    assert "¶ And the LORD spake unto Moses, saying," in shared


def test_chapters_stay_whole_and_only_repeated_verses_move():
    rows = read_bible()
    occurrences = collections.Counter(r[3] for r in rows)
    chapter_of = {r[3]: (r[0], r[1]) for r in rows if occurrences[r[3]] == 1}
    keep, _ = bible_splits(repeats="keep")
    chapters = {s: {chapter_of[e.source] for e in keep[s] if e.source in chapter_of}
                for s in SPLITS}
    for i, a in enumerate(SPLITS):
        for b in SPLITS[i + 1:]:
            assert not chapters[a] & chapters[b]
    assert len(chapters["test"]) > 50 and len(chapters["validation"]) > 50
    moved, _ = bible_splits(repeats="train")
    for s in ("validation", "test"):
        gone = pairs(keep[s]) - pairs(moved[s])
        assert not pairs(moved[s]) - pairs(keep[s])  # evaluation splits only lose verses
        texts = collections.Counter(t for r in rows for t in (r[3], r[4]))
        for source, target in gone:  # ... and only verses whose text recurs in the corpus
            assert texts[source] > 1 or texts[target] > 1
    assert len(moved["train"]) - len(keep["train"]) == 34


def test_bad_repeats_is_refused():
    with pytest.raises(ValueError, match="'train' or 'keep'"):
        bible_splits(repeats="drop")
