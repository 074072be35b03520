"""Built-in tasks, the tf.data pipeline, and the user's own files."""

import datetime
import time

import numpy as np
import pytest
from babel.dates import format_date

from keras_s2s.data import Example, from_parallel_text, from_tsv, list_tasks, load_task
from keras_s2s.data.task import Task, batch_shapes, bucket_widths
from keras_s2s.data.tokenizers import BOS_ID, EOS_ID, CharTokenizer


@pytest.fixture(scope="module")
def g2p():
    # CPU time, not wall time: the other pytest worker shares the 2 cores (wall time read
    # 5.1 s once under that load, for about 2.5 s of work)
    start = time.process_time()
    task = load_task("g2p")
    return task, time.process_time() - start


def test_g2p_split_is_deterministic_disjoint_and_reported(g2p):
    task, seconds = g2p
    assert seconds < 5.0, f"loading g2p took {seconds:.1f} s of CPU"
    again = load_task("g2p")
    words = {s: [e.source for e in task.splits[s]] for s in task.splits}
    assert words == {s: [e.source for e in again.splits[s]] for s in again.splits}
    train, val, test = (set(words[s]) for s in ("train", "validation", "test"))
    assert not (train & val) and not (train & test) and not (val & test)
    total = len(train) + len(val) + len(test)
    assert total > 100_000
    assert abs(len(train) / total - 0.9) < 0.01 and abs(len(test) / total - 0.05) < 0.01
    summary = task.summary()
    assert f"train: {len(train)} examples" in summary and "test:" in summary
    assert load_task("g2p", seed=1).splits["test"][0].source != task.splits["test"][0].source


def test_g2p_has_no_stress_letters_only_and_all_pronunciations(g2p):
    task, _ = g2p
    phonemes = set(task.target_tokenizer.vocabulary[4:])
    assert len(phonemes) == 39 and not any(ch.isdigit() for p in phonemes for ch in p)
    examples = {e.source: e for s in task.splits.values() for e in s}
    assert all(w.isalpha() and w.islower() and w.isascii() for w in examples)
    # every pronunciation, stress removed, in file order (cmudict: "read R EH1 D",
    # "read(2) R IY1 D", "hello HH AH0 L OW1", "hello(2) HH EH0 L OW1", "python P AY1 TH AA0 N")
    assert examples["read"].targets == ("R EH D", "R IY D")
    assert examples["hello"].targets == ("HH AH L OW", "HH EH L OW")
    assert examples["python"].targets == ("P AY TH AA N",)
    assert any(len(e.targets) > 1 for e in task.splits["test"])


def test_pipeline_places_bos_eos_pads_with_zero_and_loses_nothing():
    task = load_task("reverse", num_train=300, num_validation=50, num_test=50, max_length=20)
    for bucket in (True, False):
        count = batches = 0
        dataset = task.dataset("train", batch_size=16, bucket=bucket)
        for inputs, targets in dataset:
            batches += 1
            enc = inputs["encoder_token_ids"].numpy()
            dec = inputs["decoder_token_ids"].numpy()
            out = targets.numpy()
            assert enc.dtype == dec.dtype == out.dtype == np.int32
            assert len(enc) == 16  # partial batches are filled with empty rows
            real = (out != 0).any(1)
            assert np.all(enc[~real] == 0) and np.all(dec[~real] == 0)
            enc, dec, out = enc[real], dec[real], out[real]
            assert np.all(dec[:, 0] == BOS_ID)
            lengths = (out != 0).sum(1)
            assert np.all(out[np.arange(len(out)), lengths - 1] == EOS_ID)
            body = (out[:, :-1] != 0) & (out[:, :-1] != EOS_ID)  # y1..yn, shifted by one in dec
            np.testing.assert_array_equal(dec[:, 1:][body], out[:, :-1][body])
            assert np.all((dec != 0).sum(1) == lengths)
            for row in out:  # padding only after the real tokens
                n = (row != 0).sum()
                assert not row[n:].any()
            if bucket:
                assert enc.shape[1] % 8 == 0 and dec.shape[1] % 8 == 0
            count += int((out != 0).any(1).sum())
        assert count == 300
        assert batches == int(dataset.cardinality())


def test_pipeline_round_trips_the_text():
    task = load_task("reverse", num_train=40, num_validation=5, num_test=5)
    inputs, targets = next(iter(task.dataset("train", batch_size=40, shuffle=False, bucket=False)))
    sources = [task.source_tokenizer.decode(r) for r in inputs["encoder_token_ids"].numpy()]
    decoded = task.decode_target(targets.numpy())
    assert sources == [e.source for e in task.splits["train"]]
    assert decoded == [s[::-1] for s in sources]


def test_overlong_pairs_are_counted_and_reported(caplog):
    task = load_task("copy", num_train=200, num_validation=20, num_test=20, min_length=3,
                     max_length=12)
    task.max_source_length = 8
    expected = sum(len(e.source) > 8 for e in task.splits["train"])
    count = sum(int((t.numpy() != 0).any(1).sum()) for _, t in task.dataset("train", batch_size=32))
    assert task.overlong["train"] == expected > 0
    assert count == 200 - expected
    assert "exceed max_source_length=8" in caplog.text


@pytest.mark.parametrize("name", ["copy", "reverse", "sort", "addition", "dates", "numbers"])
def test_generated_tasks_are_correct_and_deterministic(name):
    small = dict(num_train=50, num_validation=10, num_test=10)
    task = load_task(name, **small)
    again = load_task(name, **small)
    assert task.splits == again.splits
    sources = [e.source for s in task.splits.values() for e in s]
    assert len(set(sources)) == len(sources)  # no source in two splits
    for e in task.splits["train"]:
        target = e.targets[0]
        if name == "copy":
            assert target == e.source
        elif name == "reverse":
            assert target == e.source[::-1]
        elif name == "sort":
            assert target == "".join(sorted(e.source))
        elif name == "addition":
            a, b = e.source.split("+")
            assert int(target) == int(a) + int(b)
        elif name == "dates":
            # the ISO target is a real date, and formatting that date in one of the task's
            # locales and formats gives back the source: year, month and day all agree
            date = datetime.date.fromisoformat(target)
            assert target == date.isoformat()
            assert e.source in {format_date(date, format=f, locale=locale)
                                for locale in ("en_US", "fr_FR", "de_DE", "es_ES")
                                for f in ("full", "long", "medium", "short")}, (e.source, target)
        elif name == "numbers":
            from num2words import num2words
            assert target == num2words(int(e.source))
    ids = task.encode_source([e.source for e in task.splits["test"]])
    assert ids.shape[0] == 10 and ids.dtype == np.int32


def test_load_task_errors():
    assert "g2p" in list_tasks()
    with pytest.raises(ValueError, match="Did you mean 'reverse'"):
        load_task("revers")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['digits'\]"):
        load_task("addition", digits=3)


def _write(path, content):
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def test_tsv_loads_multiple_references_and_holds_out_validation(tmp_path):
    lines = "".join(f"w{i}\tt{i}\tu{i}\n" for i in range(40))
    task = from_tsv(_write(tmp_path / "train.tsv", lines), source_tokenizer="word",
                    target_tokenizer="word", multiple_references=True)
    assert len(task.splits["train"]) + len(task.splits["validation"]) == 40
    assert len(task.splits["validation"]) == 2
    assert task.splits["train"][0].targets[1].startswith("u")


@pytest.mark.parametrize("content, message", [
    ("good\tline\nno tab here\n", ":2: no tab"),
    ("good\tline\n\tmissing source\n", ":2: empty source"),
    ("good\tline\nsource\t\n", ":2: empty target"),
    ("good\tline\n\n", ":2: empty line"),
    (b"good\tline\nbad \xff\tbytes\n", ":2: not valid UTF-8"),
])
def test_malformed_tsv_lines_name_file_and_line(tmp_path, content, message):
    # a second good line after the bad one: one example alone is too few to hold one out
    content += b"more\tlines\n" if isinstance(content, bytes) else "more\tlines\n"
    path = _write(tmp_path / "data.tsv", content)
    with pytest.raises(ValueError, match=f"data.tsv{message}"):
        from_tsv(path)
    task = from_tsv(path, on_error="skip")
    assert task.skipped["train"] == 1
    assert len(task.splits["train"]) + len(task.splits["validation"]) == 2


def test_parallel_text_checks_alignment_and_empty_lines(tmp_path):
    src = _write(tmp_path / "a.txt", "hello world\nhow are you\n")
    tgt = _write(tmp_path / "b.txt", "hallo welt\nwie geht es\n")
    task = from_parallel_text(src, tgt, validation=(src, tgt))
    assert task.splits["train"][1] == Example("how are you", ("wie geht es",))
    short = _write(tmp_path / "c.txt", "eins\n")
    with pytest.raises(ValueError, match="line-aligned"):
        from_parallel_text(src, short)
    holes = _write(tmp_path / "d.txt", "hallo\n\n")
    with pytest.raises(ValueError, match=r"d.txt:2: empty target line"):
        from_parallel_text(src, holes)


def test_long_varied_lengths_share_few_batch_shapes():
    # lengths 3..120: 8-wide buckets would give 15 shapes (and, padding each side to its own
    # multiple of 8, up to 15 x 15 source/target combinations); the cap is 6 shapes
    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcdef"), n)) for n in rng.integers(3, 121, 400)]
    task = Task("long", {"train": [Example(w, w[: max(1, len(w) // 3)]) for w in words]},
                CharTokenizer.build(words), CharTokenizer.build(words))
    dataset = task.dataset("train", batch_size=16, max_buckets=6)
    shapes, rows = set(), 0
    for inputs, targets in dataset:
        enc, dec = inputs["encoder_token_ids"].numpy(), inputs["decoder_token_ids"].numpy()
        assert enc.shape == dec.shape == targets.shape  # both sides padded to the bucket
        longest = max((enc != 0).sum(1).max(), (targets.numpy() != 0).sum(1).max())
        assert longest <= enc.shape[1]
        shapes.add(enc.shape)
        rows += int((targets.numpy() != 0).any(1).sum())
    assert rows == 400
    assert len(shapes) <= 6
    lengths = [max(len(w), len(w) // 3 + 1) for w in words]
    assert sorted(shapes) == batch_shapes(lengths, 16, max_buckets=6)
    assert bucket_widths(120, 8, 6) == [8, 16, 24, 48, 72, 120]
    assert all(w % 8 == 0 for w in bucket_widths(1000))
    # one bucket: every batch padded to the longest (crashed with an IndexError before)
    assert bucket_widths(120, 8, 1) == [120] and bucket_widths(5, 8, 1) == [8]
    assert bucket_widths(120, 8, 2) == [8, 120]
