"""Fault injection, inputs: what is not a regular file, endless or huge lines, binary garbage,
control characters, BOMs, extra columns, headers, duplicates, and `evaluate --json`.

The run is a copy of `tests/fixtures/run_1782677` (a tiny trained luong_lstm, target
vocabulary 12): it decodes in well under a second with `--no-jit`. TSV content goes through
`baseline`, which reads the files the way `train` does (`task_from_args`) without a model.
FIFOs and devices run in a subprocess under a timeout and an address-space limit, so a
broken guard fails the test instead of hanging or swapping.
"""

import json
import logging
import os
import resource
import shutil
import signal

import numpy as np
import pytest

from keras_s2s.data import files
from tests.faults._util import assert_one_line_error, run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "run_1782677")
GOOD = "".join(f"{w}\t{w[::-1]}\n" for w in ("abc", "hgfe", "dad", "bead", "cafe", "fed"))


def _limit_memory():
    # the checks come before TensorFlow is imported, so 2 GB of address space is plenty;
    # a reader that grew without bound would die here instead of eating the machine
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    run = root / "run"
    shutil.copytree(FIXTURE, run)
    fifo = root / "fifo"
    os.mkfifo(fifo)
    good = root / "good.tsv"
    good.write_text(GOOD)
    return {"root": root, "run": str(run), "fifo": str(fifo), "good": str(good)}


WORDS = ["abc", "hgfe", "dad", "bead", "cafe", "fed", "a", "hh"]


@pytest.fixture(scope="module")
def alone(env):
    """What the run prints for WORDS, decoded on their own (one batch, no sorting)."""
    proc = run_cli("decode", env["run"], "--no-jit", stdin="\n".join(WORDS) + "\n")
    assert proc.returncode == 0, proc.stderr
    return dict(zip(WORDS, proc.stdout.splitlines()))


def _write(env, name, content):
    path = env["root"] / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


# --------------------------------------------------------------------- not regular files
@pytest.mark.parametrize("argv, fragment", [
    (["train", "luong_lstm", "--train", "{fifo}", "--out", "{root}/o"], "{fifo} is a FIFO"),
    (["decode", "{run}", "--input", "{fifo}"], "{fifo} is a FIFO"),
    (["evaluate", "{run}", "--test", "{fifo}"], "{fifo} is a FIFO"),
    (["train", "luong_lstm", "--train", "/dev/zero", "--out", "{root}/o"],
     "/dev/zero is a device; give a regular file"),
    (["decode", "{run}", "--input", "/dev/zero"], "/dev/zero is a device; give a regular file"),
    (["baseline", "--train", "{good}", "--test", "/dev/zero"], "/dev/zero is a device"),
], ids=["train_fifo", "decode_fifo", "evaluate_fifo", "train_dev_zero", "decode_dev_zero",
        "baseline_dev_zero"])
def test_fifos_and_devices_are_refused_quickly(env, argv, fragment):
    values = {k: str(v) for k, v in env.items()}
    proc = run_cli(*[a.format(**values) for a in argv], process=True, timeout=30,
                   preexec_fn=_limit_memory)
    assert not proc.timed_out, f"{argv} hung"
    assert_one_line_error(proc, fragment.format(**values))


def test_decode_refuses_dev_zero_on_stdin(env):
    with open("/dev/zero", "rb") as zero:
        proc = run_cli("decode", env["run"], stdin=zero, process=True, timeout=30,
                       preexec_fn=_limit_memory)
    assert not proc.timed_out
    assert_one_line_error(proc, "<stdin> is a device")


@pytest.mark.parametrize("make", ["dir", "fifo", "dev"])
def test_python_readers_refuse_what_is_not_a_regular_file(env, make):
    path = {"dir": str(env["root"]), "fifo": env["fifo"], "dev": "/dev/zero"}[make]
    what = {"dir": "is a directory", "fifo": "is a FIFO", "dev": "is a device"}[make]

    def hung(signum, frame):
        raise TimeoutError(f"reading {path} hung")

    previous = signal.signal(signal.SIGALRM, hung)  # a broken guard fails, not hangs
    signal.alarm(10)
    try:
        with pytest.raises(ValueError, match=what):
            files.read_tsv(path)
        with pytest.raises(ValueError, match=what):
            files.from_tsv(env["good"], test_path=path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------- decode's input lines
@pytest.mark.parametrize("stdin, fragments", [
    (b"abc\n\xff\xfe\x00garbage\n", ["<stdin>:2: not valid UTF-8", "pass --on-error skip"]),
    (b"abc\n" + b"a" * 100_000 + b"\n", ["<stdin>:2: line longer than 10,000 characters"]),
    (b"abc\nab\x00c\n", ["<stdin>:2: control character U+0000"]),
    (b"abc\n\x1b[31mred\n", ["<stdin>:2: control character U+001B"]),
    (b"abc\n\ndad\n", ["<stdin>:2: empty line", "--on-error skip"]),
], ids=["binary_garbage", "long_line", "nul", "escape", "empty_line"])
def test_decode_stdin_lines_are_checked(env, stdin, fragments):
    proc = run_cli("decode", env["run"], "--no-jit", stdin=stdin)
    assert_one_line_error(proc, *fragments)


def test_decode_input_file_gives_the_same_error_as_stdin(env):
    path = _write(env, "garbage.txt", b"abc\n\xff\xfe\x00garbage\n")
    proc = run_cli("decode", env["run"], "--no-jit", "--input", path)
    assert_one_line_error(proc, f"{path}:2: not valid UTF-8")


def test_decode_max_line_length_flag(env):
    proc = run_cli("decode", env["run"], "--no-jit", "--max-line-length", "3",
                   stdin="abc\nhgfe\n")
    assert_one_line_error(proc, "<stdin>:2: line longer than 3 characters")


def test_decode_skips_bad_lines_and_keeps_outputs_aligned(env, alone, caplog):
    stdin = b"abc\n" + b"a" * 50_000 + b"\nhg\xfffe\nhgfe\n"
    with caplog.at_level(logging.WARNING, logger="keras_s2s"):
        proc = run_cli("decode", env["run"], "--no-jit", "--on-error", "skip", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")[:-1]
    assert lines == [alone["abc"], "", "", alone["hgfe"]]
    assert "skipped 2 input line(s) (2, 3)" in caplog.text


def test_decode_names_inputs_with_pieces_the_vocabulary_lacks(env, alone, caplog):
    # the fixture's source vocabulary is the letters a-h: x, y, z and the euro sign are unknown
    with caplog.at_level(logging.WARNING, logger="keras_s2s"):
        proc = run_cli("decode", env["run"], "--no-jit", stdin="abc\nxyzx€\nhgfe\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0::2] == [alone["abc"], alone["hgfe"]]
    assert ("1 of 3 input line(s) hold pieces the source vocabulary lacks, which the model "
            "reads as <unk> (line 2: 'x', 'y', 'z', '€')") in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="keras_s2s"):
        proc = run_cli("decode", env["run"], "--no-jit", stdin="\n".join(WORDS) + "\n")
    assert proc.returncode == 0 and "vocabulary lacks" not in caplog.text


def test_decode_keeps_input_order_with_mixed_lengths(env, alone):
    # one long line among short ones: the outputs come back in input order, equal to
    # decoding the short lines on their own
    stdin = "\n".join(WORDS * 80 + ["abcdefgh" * 40]) + "\n"  # 11 batches: sorted
    proc = run_cli("decode", env["run"], "--no-jit", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:640] == [alone[w] for w in WORDS] * 80 and len(lines) == 641


def test_decode_api_sorts_by_length_and_restores_order():
    import keras

    import keras_s2s
    from keras_s2s.decoding.api import _length_groups, decode, to_ids

    keras.utils.set_random_seed(0)
    model = keras_s2s.zoo.build("luong_lstm", source_vocab_size=20, target_vocab_size=20,
                                units=8, embedding_dim=8)
    rng = np.random.default_rng(0)
    rows = [list(rng.integers(4, 20, size=rng.integers(1, 8))) for _ in range(160)]
    rows[37] = list(rng.integers(4, 20, size=100))
    groups = _length_groups(to_ids(rows, 20), 16)
    assert [w for _, w in groups] == [16, 100] and 37 in groups[1][0]  # the long row's batch
    for method, kwargs in (("beam", {"beam_width": 3, "num_return_sequences": 2}),):
        sorted_ = decode(model, rows, method, max_length=8, jit=False, batch_size=16, **kwargs)
        one_batch = decode(model, rows, method, max_length=8, jit=False, batch_size=160,
                           **kwargs)  # one batch at the full width: the order as given
        np.testing.assert_array_equal(sorted_.token_ids, one_batch.token_ids)
        np.testing.assert_allclose(sorted_.scores, one_batch.scores, atol=1e-5)


# --------------------------------------------------------------------- TSV hygiene (CLI)
@pytest.mark.parametrize("content, fragments", [
    ("abc\tcba\nab\x00c\tcba\n", ["train.tsv:2: control character U+0000",
                                  "pass --on-error skip"]),
    ("abc\tcba\nabc\tcba\tbca\n", ["train.tsv:2: 3 columns", "pass --multiple-references"]),
    ("abc\tcba\n" + "a" * 20_000 + "\tb\n", ["train.tsv:2: line longer than 10,000"]),
    (b"abc\tcba\n\xc3\x28\tx\n", ["train.tsv:2: not valid UTF-8"]),
    ("abc\tcba\nno tab\n", ["train.tsv:2: no tab"]),
    ("abc\tcba\ncarriage\rreturn\tx\n", ["train.tsv:2: control character U+000D"]),
], ids=["nul", "third_column", "long_line", "bad_utf8", "no_tab", "inner_carriage_return"])
def test_tsv_problems_name_file_line_and_flag(env, content, fragments):
    train = _write(env, "train.tsv", content)
    proc = run_cli("baseline", "--train", train, "--test", env["good"])
    assert_one_line_error(proc, *fragments)


def test_tsv_problems_are_skipped_and_counted_with_on_error_skip(env):
    train = _write(env, "train.tsv", GOOD + "ab\x00c\tcba\nabc\tcba\tbca\n")
    out = str(env["root"] / "baseline.json")
    proc = run_cli("baseline", "--train", train, "--test", env["good"], "--on-error", "skip",
                   "--json", out)
    assert proc.returncode == 0, proc.stderr
    report = json.load(open(out))
    assert report["skipped"]["train"] == 2
    assert report["data_report"]["files"]["train"]["skipped"] == 2


@pytest.mark.parametrize("train, validation, fragments", [
    ("", None, ["The training data (", "train.tsv: 0 line(s), 0 skipped) holds no usable",
                "'source<TAB>target' lines"]),
    ("abc\t\n", None, ["train.tsv: 1 line(s), 1 skipped) holds no usable"]),
    ("abc\tcba\n", None, ["holds one example, too few to hold out a validation example",
                          "--validation"]),
    (GOOD, "", ["The validation data (", "validation.tsv: 0 line(s)"]),
], ids=["empty_train", "all_skipped", "one_example", "empty_validation"])
def test_too_little_data_names_the_file_and_the_fix(env, train, validation, fragments):
    args = ["--train", _write(env, "train.tsv", train), "--test", env["good"],
            "--on-error", "skip"]
    if validation is not None:
        args += ["--validation", _write(env, "validation.tsv", validation)]
    assert_one_line_error(run_cli("baseline", *args), *fragments)


def test_multiple_references_flag_reads_a_third_column(env):
    train = _write(env, "train.tsv", GOOD + "abc\tcba\tbca\n")
    proc = run_cli("baseline", "--train", train, "--test", env["good"], "--multiple-references")
    assert proc.returncode == 0, proc.stderr


def test_bom_is_dropped_and_header_skipped_with_a_warning(env, caplog):
    path = _write(env, "bom.tsv", "\ufeffSource\tTarget\n\ufeffabc\tcba\nabc\tcba\n" + GOOD)
    # the BOM at the start of the file goes; one inside the data is a character like others
    with caplog.at_level(logging.WARNING, logger="keras_s2s"):
        report = {}
        examples, skipped = files.read_tsv(path, report=report)
    assert skipped == 0 and all("\ufeff" not in e.source for e in examples[1:])
    assert examples[0].source == "\ufeffabc"
    assert report["header_line"] == 1 and report["lines"] == 9
    assert "bom.tsv:1: skipped a header line" in caplog.text
    task = files.from_tsv(_write(env, "bom2.tsv", "\ufeffabc\tcba\n" + GOOD))
    vocabulary = task.source_tokenizer.vocabulary_size
    assert vocabulary == files.from_tsv(_write(env, "nobom.tsv", "abc\tcba\n" + GOOD)
                                        ).source_tokenizer.vocabulary_size


def test_duplicates_and_train_overlap_are_reported(env, caplog):
    train = _write(env, "dup_train.tsv", GOOD + "abc\tcba\nabc\tcba\n")
    test = _write(env, "dup_test.tsv", "abc\tcba\nzz\tzz\nhgfe\tefgh\n")
    with caplog.at_level(logging.WARNING, logger="keras_s2s"):
        task = files.from_tsv(train, train, test)
    report = task.data_report
    assert report["files"]["train"]["duplicates"] == 2
    assert report["in_train"] == {"validation": 8, "test": 2}
    assert "dup_train.tsv: 2 exact duplicate example(s)" in caplog.text
    assert "2 of 3 test example(s) are also in the training data" in caplog.text


# --------------------------------------------------------------------- evaluate --json
def test_evaluate_json_holds_skips_and_data_report(env):
    test = _write(env, "eval.tsv", GOOD + "bad\x00\tx\nabc\tcba\n")
    out = str(env["root"] / "scores.json")
    proc = run_cli("evaluate", env["run"], "--test", test, "--on-error", "skip", "--json", out,
                   "--no-jit")
    assert proc.returncode == 0, proc.stderr
    scores = json.load(open(out))
    assert scores["skipped"] == {"test": 1} and scores["examples"] == 7
    assert scores["data_report"]["files"]["test"]["duplicates"] == 1
    assert scores["sources_with_unknown_pieces"] == 0  # GOOD's letters are all a-h
    assert [p for p in os.listdir(env["root"]) if p.endswith(".tmp")] == []


def test_evaluate_counts_sources_with_pieces_the_vocabulary_lacks(env, caplog):
    test = _write(env, "unknown.tsv", "abc\tcba\nxyzx\tx\nfed\tdef\n")
    out = str(env["root"] / "unknown.json")
    with caplog.at_level(logging.WARNING, logger="keras_s2s"):
        proc = run_cli("evaluate", env["run"], "--test", test, "--json", out, "--no-jit")
    assert proc.returncode == 0, proc.stderr
    assert json.load(open(out))["sources_with_unknown_pieces"] == 1
    assert "1 of 3 sources hold pieces the source vocabulary lacks" in caplog.text
    assert "(example 2: 'x', 'y', 'z')" in caplog.text


def test_evaluate_json_is_written_atomically(env, monkeypatch):
    out = env["root"] / "atomic.json"
    out.write_text('{"old": true}')
    import json as json_module

    def broken_dump(data, f, **kwargs):
        f.write('{"half": ')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json_module, "dump", broken_dump)
    proc = run_cli("evaluate", env["run"], "--test", env["good"], "--json", str(out),
                   "--no-jit")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert json.loads(out.read_text()) == {"old": True}  # the old file is intact
    assert [p for p in os.listdir(env["root"]) if p.endswith(".tmp")] == []
