"""Fault injection on run directories: full disks, two trainings at once, kills during a write,
damaged files, NaN training and crafted model files.

Each case checks the exit status, the one-line message, and that a good run which was there
before is byte-for-byte the same afterwards (and still decodes the same)."""

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

from keras_s2s.data import load_task
from keras_s2s.training import recipe, rundir
from tests.faults._util import assert_one_line_error, run_cli

TASK = ["--task", "reverse", "--task-option", "num_train=64", "--task-option",
        "num_validation=16", "--task-option", "num_test=16", "--task-option", "max_length=5"]
TINY = ["--units", "8", "--embedding-dim", "8", "--batch-size", "16", "--max-eval-examples",
        "8", "--no-jit"]
TRAIN = ["train", "luong_lstm", *TASK, *TINY, "--epochs", "1"]
API = dict(epochs=2, batch_size=16, model_kwargs={"units": 8, "embedding_dim": 8},
           max_eval_examples=8, jit=False, verbose=0)


def _task():
    return load_task("reverse", num_train=64, num_validation=16, num_test=16, max_length=5)


def checksums(path):
    """sha256 of every file under `path` (relative names), or None when it doesn't exist."""
    if not os.path.exists(path):
        return None
    sums = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                sums[os.path.relpath(full, path)] = hashlib.sha256(f.read()).hexdigest()
    return sums


def decode(run, text="abc\n"):
    return run_cli("decode", run, "--no-jit", stdin=text)


FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "fixtures", "run_1782677")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A finished tiny run (a copy of the recorded fixture run), its checksums and its decode
    of "abc"."""
    out = str(tmp_path_factory.mktemp("good") / "run")
    shutil.copytree(FIXTURE, out)
    decoded = decode(out)
    assert decoded.returncode == 0, decoded.stderr
    return out, checksums(out), decoded.stdout


@pytest.fixture
def run(good, tmp_path):
    """A copy of the good run in a fresh directory: `(path, checksums, decode output)`."""
    path = str(tmp_path / "run")
    shutil.copytree(good[0], path)
    return path, good[1], good[2]


def assert_intact(run):
    path, sums, decoded = run
    assert checksums(path) == sums
    assert decode(path).stdout == decoded


@contextlib.contextmanager
def tmpfs(path, size):
    """Mount a tmpfs of `size` at `path` (root only: skipped where mount is not permitted)."""
    os.makedirs(path, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                          capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"mount is not permitted here: {proc.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], capture_output=True)


def fill(path):
    """Fill the file system of `path` up to the last byte; returns the filler's path."""
    filler = os.path.join(path, "filler")
    with open(filler, "wb") as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 65536)
                f.flush()
    with contextlib.suppress(OSError), open(filler, "ab") as f:  # the last partial block
        for _ in range(65536):
            f.write(b"\0")
            f.flush()
    return filler


# --- 1. full disk, read-only and mount points -------------------------------------------------

def test_disk_full_keeps_the_old_run_and_resume_works_after_freeing_space(good, tmp_path):
    with tmpfs(str(tmp_path / "small"), "2m") as small:
        path = os.path.join(small, "run")
        shutil.copytree(good[0], path)
        before = checksums(path)
        filler = fill(small)
        proc = run_cli(*TRAIN, "--overwrite", "--out", path)
        assert_one_line_error(proc, "No space left on device", path, "--resume")
        assert checksums(path) == before and decode(path).stdout == good[2]
        os.remove(filler)
        proc = run_cli(*TRAIN, "--resume", "--out", path)
        assert proc.returncode == 0, proc.stderr
        assert "trained luong_lstm for 1 epoch(s)" in proc.stdout
        assert decode(path).returncode == 0
        assert not os.path.exists(os.path.join(small, ".run.training"))


def test_disk_full_when_the_model_outgrows_the_disk(good, tmp_path):
    with tmpfs(str(tmp_path / "small"), "2m") as small:
        path = os.path.join(small, "run")
        shutil.copytree(good[0], path)
        before = checksums(path)
        # 256 units: about 5 MB of weights, more than the 2 MB disk; refused before writing
        proc = run_cli(*TRAIN, "--overwrite", "--units", "256", "--out", path)
        assert_one_line_error(proc, "no space left on device", "latest.weights.h5",
                              "still holds the last published model")
        assert checksums(path) == before and decode(path).stdout == good[2]
        leftovers = [n for _, _, files in os.walk(small) for n in files if ".tmp-" in n]
        assert leftovers == []


def test_disk_full_on_a_fresh_run_is_one_line(tmp_path):
    with tmpfs(str(tmp_path / "small"), "1m") as small:
        fill(small)
        proc = run_cli(*TRAIN, "--out", os.path.join(small, "run"))
        assert_one_line_error(proc, "No space left on device")


def test_read_only_file_system(run, tmp_path):
    with tmpfs(str(tmp_path / "ro"), "4m") as ro:
        path = os.path.join(ro, "run")
        shutil.copytree(run[0], path)
        subprocess.run(["mount", "-o", "remount,ro", ro], check=True)
        proc = run_cli(*TRAIN, "--overwrite", "--out", path)
        assert_one_line_error(proc, "Read-only file system")
        assert checksums(path) == run[1]


def test_out_is_a_mount_point(tmp_path):
    with tmpfs(str(tmp_path / "mnt"), "1m") as mnt:
        assert_one_line_error(run_cli(*TRAIN, "--out", mnt), "is a mount point")


def test_atomic_save_leaves_the_old_file_whole_when_the_write_fails(tmp_path):
    path = str(tmp_path / "model.keras")
    with open(path, "wb") as f:
        f.write(b"old")

    def failing(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(rundir.StorageError, match="could not write .*model.keras: No space"):
        rundir.atomic_save(path, failing)
    assert open(path, "rb").read() == b"old" and os.listdir(tmp_path) == ["model.keras"]
    with pytest.raises(rundir.StorageError, match="no space left on device .needs about"):
        rundir.atomic_save(path, failing, needed_bytes=10**18)


# --- 2. mixed runs: locks, overwrite, resume -----------------------------------------------

def test_second_training_into_the_same_out_is_refused(run, tmp_path):
    lock = os.path.join(os.path.dirname(run[0]), ".run.lock")
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys, time
        fd = os.open({lock!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, str(os.getpid()).encode())
        print("locked", flush=True)
        time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        proc = run_cli(*TRAIN, "--overwrite", "--out", run[0])
        assert_one_line_error(proc, "another training is writing", f"process {holder.pid}")
        assert_intact(run)
    finally:
        holder.kill()
        holder.wait()
    assert run_cli(*TRAIN, "--overwrite", "--out", run[0]).returncode == 0  # lock released


def test_two_trainings_at_once_one_wins(tmp_path):
    out = str(tmp_path / "run")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "keras_s2s.cli", *TRAIN, "--epochs", "3", "--out", out]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    deadline = time.time() + 120
    while not os.path.exists(str(tmp_path / ".run.training")) and time.time() < deadline:
        time.sleep(0.2)  # the first one holds the lock once its work directory exists
    second = run_cli(*TRAIN, "--out", out)
    assert_one_line_error(second, "another training is writing")
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["complete"] and config["results"]["epochs_run"] == 3


def test_retraining_a_finished_run_needs_overwrite(run):
    proc = run_cli(*TRAIN, "--out", run[0])
    assert_one_line_error(proc, "holds a finished run", "--overwrite")
    assert_intact(run)


def test_overwrite_interrupted_before_its_first_checkpoint_keeps_the_old_run(run):
    class Kill(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        recipe.train("luong_lstm", _task(), run[0], overwrite=True, extra_callbacks=[Kill()],
                     **{**API, "model_kwargs": {"units": 12, "embedding_dim": 8}})
    assert_intact(run)  # old model, old tokenizers, old config: not mixed with the new run
    proc = run_cli(*TRAIN, "--out", run[0])
    assert_one_line_error(proc, "has an interrupted training", "--resume", "--overwrite")


class StopAfterEpoch(keras.callbacks.Callback):
    """Interrupts training at the end of its first epoch, after that epoch was published."""

    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt


def test_overwrite_replaces_the_run_at_its_first_checkpoint(run):
    old_id = json.load(open(os.path.join(run[0], "config.json"))).get("run_id")
    with pytest.raises(KeyboardInterrupt):
        recipe.train("luong_lstm", _task(), run[0], overwrite=True, extra_callbacks=[StopAfterEpoch()],
                     **{**API, "model_kwargs": {"units": 12, "embedding_dim": 8}})
    config = json.load(open(os.path.join(run[0], "config.json")))
    assert config["run_id"] != old_id and config["model_kwargs"]["units"] == 12
    assert config["progress"]["epochs_done"] == 1 and not config["complete"]
    model, *_ = recipe.load_run(run[0])  # one generation: the new model with the new config
    assert model.count_params() == config["parameters"]
    assert decode(run[0]).returncode == 0


def test_resume_with_a_changed_architecture_is_refused_before_anything_changes(run):
    with pytest.raises(KeyboardInterrupt):
        recipe.train("luong_lstm", _task(), run[0], overwrite=True, extra_callbacks=[StopAfterEpoch()],
                     **API)
    work = os.path.join(os.path.dirname(run[0]), ".run.training")
    before = checksums(os.path.dirname(run[0]))
    proc = run_cli(*TRAIN, "--resume", "--out", run[0], "--units", "32")
    assert_one_line_error(proc, "--resume", "started with different settings", "units=8",
                          "(now 32)")
    assert checksums(os.path.dirname(run[0])) == before
    assert json.load(open(os.path.join(work, "config.json")))["model_kwargs"]["units"] == 8


def test_a_training_refused_before_its_first_epoch_leaves_nothing_to_resume(tmp_path):
    # a bad model argument fails after the run directory was taken: the corrected command
    # must then train, not ask for --resume or --overwrite
    out = str(tmp_path / "run")
    with pytest.raises(ValueError, match="units"):
        recipe.train("luong_lstm", _task(), out,
                     **{**API, "model_kwargs": {"units": -4, "embedding_dim": 8}})
    assert not os.path.exists(tmp_path / ".run.training")
    proc = run_cli(*TRAIN, "--out", out)
    assert proc.returncode == 0, proc.stderr


def test_resume_of_a_finished_run(run):
    assert_one_line_error(run_cli(*TRAIN, "--resume", "--out", run[0]), "nothing to resume",
                          "finished run")
    assert_intact(run)


def test_resume_where_nothing_ran(tmp_path):
    assert_one_line_error(run_cli(*TRAIN, "--resume", "--out", str(tmp_path / "none")),
                          "nothing to resume")


def test_resume_and_overwrite_together(run):
    assert_one_line_error(run_cli(*TRAIN, "--resume", "--overwrite", "--out", run[0]),
                          "give one of them")


def test_resume_of_an_old_layout_backup(run):
    os.makedirs(os.path.join(run[0], "backup"))
    os.remove(os.path.join(run[0], "config.json"))
    assert_one_line_error(run_cli(*TRAIN, "--resume", "--out", run[0]), "older keras-s2s",
                          "--overwrite")


def test_out_is_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("mine")
    assert_one_line_error(run_cli(*TRAIN, "--out", str(path)), "is a file")
    assert path.read_text() == "mine"


def test_out_holds_someone_elses_files(tmp_path):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "a.jpg").write_text("x")
    for extra in ([], ["--overwrite"]):
        assert_one_line_error(run_cli(*TRAIN, *extra, "--out", str(out)), "not empty",
                              "no keras-s2s run")
    assert os.listdir(out) == ["a.jpg"]


def test_kill_9_during_a_checkpoint_write_then_resume(tmp_path):
    out = str(tmp_path / "run")
    script = textwrap.dedent(f"""
        import os, signal
        import keras
        from keras_s2s.data import load_task
        from keras_s2s.training import recipe
        save = keras.Model.save_weights
        calls = []
        def dying(self, path, *args, **kwargs):
            calls.append(path)
            save(self, path, *args, **kwargs)
            if len(calls) == 2:  # epoch 2's backup: half written when the kill comes
                with open(path, "r+b") as f:
                    f.truncate(os.path.getsize(path) // 2)
                os.kill(os.getpid(), signal.SIGKILL)
        keras.Model.save_weights = dying
        task = load_task("reverse", num_train=64, num_validation=16, num_test=16, max_length=5)
        recipe.train("luong_lstm", task, {out!r}, epochs=3, batch_size=16,
                     model_kwargs={{"units": 8, "embedding_dim": 8}}, max_eval_examples=8,
                     jit=False, verbose=0, patience=None)
        """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          timeout=300, cwd=os.getcwd())
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    published = checksums(out)
    assert published and recipe.load_run(out)[3]["progress"]["epochs_done"] in (1, 2)
    backup = os.path.join(tmp_path, ".run.training", "backup")
    assert json.load(open(os.path.join(backup, "training_metadata.json")))["epoch"] == 1
    # the half-written file never replaced the backup: resume reads epoch 1's and goes on
    config = recipe.train("luong_lstm", _task(), out, resume=True, patience=None,
                          **{**API, "epochs": 3})
    assert config["results"]["epochs_run"] == 3 and config["results"]["epochs_this_session"] == 2
    assert config["complete"] and decode(out).returncode == 0


# --- 3. NaN and Inf -------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_learning_rate_is_refused(value, tmp_path):
    proc = run_cli(*TRAIN, f"--learning-rate={value}", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "finite" in proc.stderr and not os.path.exists(tmp_path / "r")
    with pytest.raises(ValueError, match="must be a finite number"):
        recipe.train("luong_lstm", _task(), str(tmp_path / "r"), learning_rate=float(value))


class Poison(keras.callbacks.Callback):
    """Sets every weight to NaN before one step, as a blown-up update would."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self._epoch = (epoch, batch), 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self._epoch, batch) == self.at:
            for weight in self.model.trainable_weights:
                weight.assign(np.full(weight.shape, np.nan, weight.dtype))


def test_a_loss_that_turns_nan_stops_training_and_keeps_the_last_good_model(run):
    with pytest.raises(ValueError, match=r"became nan at epoch 2, step 2; training stopped "
                                         r"and .* keeps the best model, of epoch 1"):
        recipe.train("luong_lstm", _task(), run[0], overwrite=True, patience=None,
                     extra_callbacks=[Poison(1, 1)], **API)
    model, _, _, config = recipe.load_run(run[0])  # epoch 1's model, finite
    assert config["progress"]["best_epoch"] == 1
    assert decode(run[0]).returncode == 0


def test_a_nan_loss_in_the_first_epoch_leaves_the_old_run(run):
    with pytest.raises(ValueError, match=r"became nan at epoch 1, step 1; .*no model was saved"
                                         r".*lower --learning-rate"):
        recipe.train("luong_lstm", _task(), run[0], overwrite=True,
                     extra_callbacks=[Poison(0, 0)], **API)
    assert_intact(run)


def test_decode_refuses_a_model_with_nan_weights(run):
    model = keras.saving.load_model(os.path.join(run[0], "model.keras"))
    weight = model.trainable_weights[0]
    weight.assign(np.full(weight.shape, np.nan, weight.dtype))
    model.save(os.path.join(run[0], "model.keras"))
    assert_one_line_error(decode(run[0]), "non-finite weights", "model.keras")


# --- 5. damaged run files: one line that names the file ------------------------------------

def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def _empty(path):
    open(path, "wb").close()


@pytest.mark.parametrize("name,damage,fragment", [
    ("model.keras", _truncate, "model.keras is damaged"),
    ("model.keras", _empty, "model.keras is damaged"),
    ("config.json", lambda p: open(p, "w").write("[1, 2]"), "config.json holds a JSON list"),
    ("config.json", lambda p: open(p, "w").write("{oops"), "config.json is not valid JSON"),
    ("source_tokenizer.json", _truncate, "source_tokenizer.json can't be read"),
    ("target_tokenizer.json", os.remove, "missing target_tokenizer.json"),
])
def test_a_damaged_run_file_is_named(run, name, damage, fragment):
    damage(os.path.join(run[0], name))
    for command in (["decode", run[0], "--no-jit"], ["evaluate", run[0], "--no-jit"]):
        assert_one_line_error(run_cli(*command, stdin="abc\n"), fragment)


def test_a_run_whose_training_has_no_checkpoint_yet(tmp_path):
    os.makedirs(tmp_path / ".run.training")
    os.makedirs(tmp_path / "run")
    assert_one_line_error(decode(str(tmp_path / "run")), "has no model yet", "--resume")


def test_an_interrupted_publish_is_repaired_by_the_next_training(run):
    parent = os.path.dirname(run[0])
    shutil.copytree(run[0], os.path.join(parent, ".run.next"))
    os.rename(run[0], os.path.join(parent, ".run.prev"))  # killed between the two renames
    assert_one_line_error(decode(run[0]), "being replaced", "--resume")
    proc = run_cli(*TRAIN, "--resume", "--out", run[0])  # recovers, then has nothing to do
    assert_one_line_error(proc, "nothing to resume", "finished run")
    assert_intact(run)
    assert sorted(os.listdir(parent)) == [".run.lock", "run"]


# --- 8. crafted model files ----------------------------------------------------------------

def test_a_model_with_a_lambda_layer_is_refused(run):
    inputs = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    keras.Model(inputs, outputs).save(os.path.join(run[0], "model.keras"))
    line = assert_one_line_error(decode(run[0]))
    assert "Lambda" in line or "safe_mode" in line


def test_the_keras_backup_file_names_we_write_are_those_keras_restores(tmp_path):
    # AtomicBackupAndRestore writes Keras' file names itself; this fails if Keras renames them
    backup = rundir.AtomicBackupAndRestore(str(tmp_path))
    assert os.path.basename(backup._weights_path) == rundir.AtomicBackupAndRestore.WEIGHTS
    assert os.path.basename(backup._training_metadata_path) == \
        rundir.AtomicBackupAndRestore.METADATA


def test_the_demo_replaces_only_its_own_earlier_run(tmp_path):
    from keras_s2s import demo

    def write(directory, task):
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "config.json"), "w") as f:
            json.dump({"model": "luong_bilstm", "task": task}, f)

    ours = {"name": "g2p", "written_by": demo.WRITTEN_BY}
    assert not demo._replaces_only_a_demo(str(tmp_path / "new"))  # nothing to replace
    write(str(tmp_path / "a"), ours)
    assert demo._replaces_only_a_demo(str(tmp_path / "a"))  # `make demo` twice works
    write(str(tmp_path / "b"), {"name": "g2p"})  # the user's own g2p run: train refuses
    assert not demo._replaces_only_a_demo(str(tmp_path / "b"))
    write(str(tmp_path / ".c.training"), ours)  # an interrupted demo
    assert demo._replaces_only_a_demo(str(tmp_path / "c"))
    write(str(tmp_path / "c"), {"name": "tsv"})  # ...beside someone else's published run
    assert not demo._replaces_only_a_demo(str(tmp_path / "c"))
