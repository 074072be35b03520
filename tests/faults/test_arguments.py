"""Fault injection, arguments: every bad or ineffective flag gets one line, before TensorFlow.

Most cases run in process (`cli.main`); the checks they hit come before any run directory
is read, so an empty directory stands in for a run. The timing cases start a real process.
"""

import errno
import os
import shutil
import time

import pytest

from tests.faults._util import assert_one_line_error, run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "run_1782677")  # target vocabulary: 12


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("arguments")
    tsv = root / "data.tsv"
    tsv.write_text("abc\tcba\nde\ted\n")
    (root / "dir").mkdir()
    (root / "not_a_run").mkdir()
    run = root / "run"
    shutil.copytree(FIXTURE, run)
    return {"tsv": str(tsv), "dir": str(root / "dir"), "empty_run": str(root / "not_a_run"),
            "run": str(run), "root": str(root)}


# (name, argv with {placeholders}, fragments of the one line)
CASES = [
    ("learning_rate_nan", ["train", "luong_lstm", "--task", "copy", "--out", "{root}/o",
                           "--learning-rate", "nan"], ["--learning-rate", "finite positive"]),
    ("learning_rate_inf", ["train", "luong_lstm", "--task", "copy", "--out", "{root}/o",
                           "--learning-rate", "inf"], ["--learning-rate", "finite positive"]),
    ("max_minutes_minus_inf", ["train", "luong_lstm", "--task", "copy", "--out", "{root}/o",
                               "--max-minutes=-inf"], ["--max-minutes", "finite positive"]),
    ("epochs_negative", ["train", "luong_lstm", "--task", "copy", "--out", "{root}/o",
                         "--epochs", "-1"], ["--epochs", "must be a positive number"]),
    ("length_penalty_nan", ["decode", "{empty_run}", "--beam", "2", "--length-penalty", "nan"],
     ["--length-penalty", "finite number"]),
    ("coverage_penalty_inf", ["decode", "{empty_run}", "--beam", "2", "--coverage-penalty",
                              "inf"], ["--coverage-penalty", "finite number"]),
    ("top_p_nan", ["decode", "{empty_run}", "--sample", "--top-p", "nan"], ["--top-p", "finite"]),
    ("top_p_above_one", ["decode", "{empty_run}", "--sample", "--top-p", "1.5"],
     ["--top-p", "(0, 1]"]),
    ("temperature_inf", ["decode", "{empty_run}", "--sample", "--temperature", "inf"],
     ["--temperature", "finite positive"]),
    ("evaluate_length_penalty_nan", ["evaluate", "{empty_run}", "--beam", "2",
                                     "--length-penalty", "nan"], ["--length-penalty", "finite"]),
    ("sample_with_beam", ["decode", "{empty_run}", "--sample", "--beam", "5"],
     ["--sample and --beam exclude each other"]),
    ("top_p_without_sample", ["decode", "{empty_run}", "--top-p", "0.9"],
     ["--top-p applies to sampling only", "--sample"]),
    ("top_k_without_sample", ["decode", "{empty_run}", "--beam", "3", "--top-k", "5"],
     ["--top-k applies to sampling only"]),
    ("temperature_without_sample", ["decode", "{empty_run}", "--temperature", "0.7"],
     ["--temperature applies to sampling only"]),
    ("seed_without_sample", ["decode", "{empty_run}", "--seed", "1"],
     ["--seed applies to sampling only"]),
    ("length_penalty_without_beam", ["decode", "{empty_run}", "--length-penalty", "0.6"],
     ["--length-penalty applies to beam search only", "--beam N"]),
    ("coverage_penalty_without_beam", ["decode", "{empty_run}", "--sample",
                                       "--coverage-penalty", "0.2"],
     ["--coverage-penalty applies to beam search only"]),
    ("n_best_with_greedy", ["decode", "{empty_run}", "--n-best", "3"],
     ["greedy search gives one output", "--n-best 3"]),
    ("n_best_over_beam", ["decode", "{empty_run}", "--beam", "2", "--n-best", "3"],
     ["--n-best 3 is more than the beam holds"]),
    ("beam_over_cap", ["decode", "{empty_run}", "--beam", "10000"],
     ["--beam 10000 is over the limit of 256"]),
    ("beam_over_vocabulary", ["decode", "{run}", "--beam", "13", "--no-jit"],
     ["--beam 13 is wider than the target vocabulary (12 tokens)"]),
    ("evaluate_beam_over_cap", ["evaluate", "{empty_run}", "--beam", "1000"],
     ["--beam 1000 is over the limit of 256"]),
    ("evaluate_length_penalty_without_beam", ["evaluate", "{empty_run}", "--length-penalty",
                                              "0.5"], ["--length-penalty applies to beam"]),
    ("evaluate_test_with_task", ["evaluate", "{empty_run}", "--test", "{tsv}", "--task", "copy"],
     ["--test gives the data; drop --task"]),
    ("evaluate_test_with_split", ["evaluate", "{empty_run}", "--test", "{tsv}", "--split",
                                  "validation"], ["drop --split validation"]),
    ("task_with_train", ["train", "luong_lstm", "--task", "copy", "--train", "{tsv}", "--out",
                         "{root}/o"], ["--task and --train both name the data"]),
    ("task_option_with_train", ["train", "luong_lstm", "--train", "{tsv}", "--task-option",
                                "max_length=5", "--out", "{root}/o"],
     ["--task-option applies to a built-in --task"]),
    ("baseline_test_without_train", ["baseline", "--task", "copy", "--test", "{tsv}"],
     ["--test needs --train"]),
    ("multiple_references_without_files", ["baseline", "--task", "copy",
                                           "--multiple-references"],
     ["--multiple-references reads TSV files"]),
    ("decode_input_directory", ["decode", "{empty_run}", "--input", "{dir}"],
     ["{dir} is a directory; give a regular file"]),
    ("evaluate_test_directory", ["evaluate", "{empty_run}", "--test", "{dir}"],
     ["{dir} is a directory; give a regular file"]),
    ("evaluate_json_directory", ["evaluate", "{empty_run}", "--json", "{dir}"],
     ["--json {dir} is a directory; give a file name"]),
    ("evaluate_json_missing_directory", ["evaluate", "{empty_run}", "--json",
                                         "{root}/no/such/scores.json"], ["no such directory"]),
    ("train_train_directory", ["train", "luong_lstm", "--train", "{dir}", "--out", "{root}/o"],
     ["{dir} is a directory; give a regular file"]),
    ("train_validation_directory", ["train", "luong_lstm", "--train", "{tsv}", "--validation",
                                    "{dir}", "--out", "{root}/o"], ["{dir} is a directory"]),
    ("baseline_train_directory", ["baseline", "--train", "{dir}", "--test", "{tsv}"],
     ["{dir} is a directory; give a regular file"]),
    ("baseline_json_directory", ["baseline", "--train", "{tsv}", "--test", "{tsv}", "--json",
                                 "{dir}"], ["--json {dir} is a directory"]),
    ("decode_missing_run", ["decode", "{root}/missing_run", "--input", "{tsv}"],
     ["no such run directory"]),
    # /proc: a directory where no file can be created, even by root
    ("evaluate_json_unwritable", ["evaluate", "{empty_run}", "--json", "/proc/scores.json"],
     ["--json: cannot write in /proc", "choose a writable directory"]),
    ("export_out_unwritable", ["export", "{empty_run}", "--out", "/proc/served"],
     ["--out: cannot write in /proc", "choose a writable directory"]),
    ("decode_attention_unwritable", ["decode", "{empty_run}", "--attention", "/proc/a.png"],
     ["--attention: cannot write in /proc"]),
    # checked before minutes of measuring, not after
    ("bench_json_missing_directory", ["bench", "all", "--json", "{root}/no/such/bench.json"],
     ["--json {root}/no/such/bench.json: no such directory"]),
]


@pytest.mark.parametrize("name, argv, fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_arguments_give_one_line(paths, name, argv, fragments):
    proc = run_cli(*[a.format(**paths) for a in argv])
    assert_one_line_error(proc, *[f.format(**paths) for f in fragments])


def test_checks_come_before_tensorflow(paths, monkeypatch):
    # in process: a failing check must return before the TensorFlow import is even tried
    from keras_s2s import cli

    calls = []
    monkeypatch.setattr(cli, "quiet_import_tensorflow", lambda: calls.append(1))
    proc = run_cli("decode", paths["empty_run"], "--sample", "--beam", "5")
    assert_one_line_error(proc, "exclude each other")
    proc = run_cli("train", "luong_lstm", "--train", paths["dir"], "--out", paths["root"])
    assert_one_line_error(proc, "is a directory")
    assert calls == []


@pytest.mark.parametrize("code, strerror", [(errno.ENOSPC, "No space left on device"),
                                             (errno.EROFS, "Read-only file system")])
def test_storage_errors_give_one_line_not_an_internal_error(monkeypatch, code, strerror):
    # a full or read-only disk met anywhere in a command is the user's to fix
    from keras_s2s.cli import list_info

    def fail(args):
        raise OSError(code, strerror, "/data/out.json")

    monkeypatch.setattr(list_info, "run_list", fail)
    line = assert_one_line_error(run_cli("list"), f"could not access /data/out.json: {strerror}",
                                 "free some space")
    assert "internal error" not in line


# each in a fresh process: the whole command, Python start-up included, returns quickly
# because nothing imports TensorFlow before the arguments are checked (measured: 0.3-0.5 s)
@pytest.mark.parametrize("argv, code, fragment", [
    (["train", "--epochs", "-1"], 2, "must be a positive number"),
    (["decode", "--beam", "0"], 2, "must be a positive number"),
    (["list", "--help"], 0, None),
], ids=["train_epochs", "decode_beam", "list_help"])
def test_argument_errors_return_in_under_a_second(argv, code, fragment):
    start = time.perf_counter()
    proc = run_cli(*argv, process=True, timeout=30)
    seconds = time.perf_counter() - start
    assert proc.returncode == code, proc.stderr
    if fragment:
        assert_one_line_error(proc, fragment, code=code)
    assert seconds < 3.0, f"{argv} took {seconds:.1f}s"  # the goal is 1 s; 3 s of margin
