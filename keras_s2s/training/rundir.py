"""The run directory contract: atomic files, one run per directory, one training at a time.

For `--out runs/x`, three paths are used, all beside each other in `runs/`:

- `runs/x/`, the **published run**: `model.keras` (the best model so far), the two tokenizers,
  `config.json`, `best.json` and `epochs/` (the last epochs' weights, for checkpoint
  averaging). It only ever holds a complete set of files from one run, so `decode` and
  `evaluate` can read it at any moment, also while a training is running.
- `runs/.x.training/`, the **work directory** of a training in progress: the same files, plus
  `backup/` (the last epoch's weights and optimizer state, for `--resume`). Every file in it
  is written atomically: to a temporary file in the same directory, `fsync`ed, then
  `os.replace`d.
- `runs/.x.lock`, which the training holds with `fcntl.flock` for its whole life: a second
  training into the same `--out` is refused at once.

**Publishing.** Whenever an epoch brings a new best model, and once more when the training
ends, the work directory's files are hard-linked into `runs/.x.next/`, and that directory
replaces `runs/x` by two renames (`x` → `.x.prev`, `.x.next` → `x`). A crash between the two
renames is repaired by the next training (`RunDirectory.recover`). The previous run in
`runs/x` therefore stays whole until the new training has a complete first checkpoint.

**Storage errors.** Before a model or a backup is written, the free space is checked against
the size it needs. A full disk (`ENOSPC`), an I/O error or a permission error ends the
training with `StorageError`, one line that names the path; nothing published is touched, and
`--resume` continues once the problem is fixed.

**Refusals.** A new training that fails on its settings, data or model (an error, not a storage
error or an interrupt) before its first epoch was saved removes its work directory
(`discard_unstarted`), so the corrected command simply trains.
"""

import contextlib
import errno
import fcntl
import json
import math
import os
import shutil
import uuid

import keras
import numpy as np

#: the files of a published run, in the order `load_run` needs them
RUN_FILES = ("model.keras", "source_tokenizer.json", "target_tokenizer.json", "config.json",
             "best.json")
#: the directory of a run that holds the last epochs' weights (`keras_s2s.training.averaging`)
EPOCHS_DIR = "epochs"
#: what the machine refuses when a file is written (a full disk or quota, a read-only or
#: failing disk, a permission): the user's to fix. `StorageError` here; one line in the CLI
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES,
                            errno.EPERM, errno.EFBIG})


class RunDirectoryError(ValueError):
    """A run directory that can't be used as asked: printed as one line by the CLI."""


class StorageError(RunDirectoryError):
    """Writing a run's file failed (disk full, I/O or permission error); names the path."""


def storage_error(path, error, what="write"):
    """A `StorageError` for an `OSError` met while writing `path`, or None for other errors."""
    if isinstance(error, StorageError):
        return error
    code = getattr(error, "errno", None)
    if code not in STORAGE_ERRNOS:
        return None
    return StorageError(f"could not {what} {path}: {os.strerror(code)}")


def _fsync_dir(path):
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_free_space(path, needed_bytes):
    """Raise `StorageError` when the file system of `path` has less than `needed_bytes` free.

    Example:

    >>> check_free_space("runs", 10_000_000)
    """
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(path)) or ".").free
    if free < needed_bytes:
        raise StorageError(f"could not write {path}: no space left on device (needs about "
                           f"{needed_bytes / 1e6:.1f} MB, {free / 1e6:.1f} MB free)")


def atomic_save(path, write, needed_bytes=0):
    """Write `path` atomically: `write(tmp)` writes a temporary file beside it, which is
    `fsync`ed and renamed over `path`. `path` is either the old file or the new one, never a
    part of either.

    The temporary name keeps `path`'s suffix (`.keras`, `.weights.h5`), which Keras requires.

    Args:
        path: The file to write.
        write: A function of one argument, the temporary path, that writes the file.
        needed_bytes: Free space to require first (0: no check).

    Raises:
        StorageError: The disk is full, or the write failed with an I/O or permission error.

    Example:

    >>> atomic_save("runs/x/model.keras", model.save, needed_bytes=10_000_000)
    """
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}-{name}")
    try:
        if needed_bytes:
            check_free_space(path, needed_bytes)
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        converted = storage_error(path, error) if isinstance(error, Exception) else None
        if converted is None and isinstance(error, Exception) and _disk_full(directory):
            converted = StorageError(f"could not write {path}: no space left on device")
        if converted is not None and converted is not error:
            raise converted from error
        raise
    _fsync_dir(directory)


def _link(source, target):
    """Hard-link `source` to `target`, or copy it where links are not supported."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _disk_full(directory, margin=64 * 1024):
    """Whether a failed write is explained by a (nearly) full disk: h5py and Keras report
    ENOSPC as errors without an errno."""
    try:
        return shutil.disk_usage(directory).free < margin
    except OSError:
        return False


def atomic_write_json(path, data):
    """Write `data` as indented JSON to `path` atomically (see `atomic_save`).

    Example:

    >>> atomic_write_json("runs/x/config.json", {"model": "luong_bilstm"})
    """
    text = json.dumps(data, indent=2, default=str)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    atomic_save(path, write)


def model_bytes(model, with_optimizer=False):
    """A generous estimate of the bytes a saved model (and its optimizer state) take."""
    # from shapes and dtypes: copying every weight to NumPy just to size it cost a full copy
    params = sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in model.weights) \
        if model.built else 0
    return int(params * (3 if with_optimizer else 1) * 1.2) + 256 * 1024


def save_model(model, path):
    """`model.save(path)`, atomically and after a free-space check.

    Example:

    >>> save_model(model, "runs/x/model.keras")
    """
    atomic_save(path, model.save, needed_bytes=model_bytes(model))


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` whose epoch backups are written atomically.

    Keras writes `latest.weights.h5` in place: a process killed during the write, or a full
    disk, leaves a truncated file that `--resume` can't read. This subclass writes the
    weights and the metadata to temporary files and renames them over the old ones (weights
    first), after a free-space check. It restores exactly as Keras does, from the same file
    names (`tests/test_rundir.py` fails if Keras renames them).

    Example:

    >>> backup = AtomicBackupAndRestore("runs/.x.training/backup")
    """

    WEIGHTS, METADATA = "latest.weights.h5", "training_metadata.json"

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        weights = os.path.join(self.backup_dir, self.WEIGHTS)
        atomic_save(weights, lambda tmp: self.model.save_weights(tmp, overwrite=True),
                    needed_bytes=model_bytes(self.model, with_optimizer=True))
        atomic_write_json(os.path.join(self.backup_dir, self.METADATA),
                          {"epoch": epoch + 1, "batch": 0})

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except (OSError, ValueError, KeyError) as error:
            raise RunDirectoryError(
                f"the backup in {self.backup_dir} can't be read ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else ''}); start again with "
                "--overwrite") from error


class RunLock:
    """An exclusive `fcntl.flock` on a lock file, held while a training writes a run.

    Example:

    >>> with RunLock("runs/.x.lock", "runs/x"):
    ...     pass
    """

    def __init__(self, path, run_path):
        self.path, self.run_path, self._fd = path, run_path, None

    def __enter__(self):
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise (storage_error(self.path, error, "create the lock file")
                   or RunDirectoryError(f"could not create the lock file {self.path}: "
                                        f"{error.strerror}")) from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunDirectoryError(
                f"another training is writing {self.run_path} (process {holder}); wait for "
                "it to end, or choose another --out") from None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc):
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        return False


class RunDirectory:
    """The paths of one run and the operations of its contract (see the module docstring).

    Args:
        path: The run directory (`--out`).

    Example:

    >>> run = RunDirectory("runs/x")
    >>> run.work_file("model.keras")
    '.../runs/.x.training/model.keras'
    """

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.parent, self.name = os.path.split(self.path)
        if not self.name:
            raise RunDirectoryError(f"--out {path} names no directory")
        hidden = os.path.join(self.parent, f".{self.name}")
        self.work = hidden + ".training"
        self.next, self.previous, self.lock_path = hidden + ".next", hidden + ".prev", \
            hidden + ".lock"

    def work_file(self, name):
        return os.path.join(self.work, name)

    @property
    def backup(self):
        return self.work_file("backup")

    def lock(self):
        return RunLock(self.lock_path, self.path)

    def is_run(self):
        return os.path.isfile(os.path.join(self.path, "config.json"))

    def check_path(self):
        """Refuse an `--out` that is a file or a mount point, before anything is written."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise RunDirectoryError(f"--out {self.path} is a file, not a directory; give a "
                                    "directory for the run")
        if os.path.isdir(self.path) and os.path.ismount(self.path):
            raise RunDirectoryError(f"--out {self.path} is a mount point; give a directory "
                                    "inside it (the run is replaced by renaming)")
        try:
            os.makedirs(self.parent, exist_ok=True)
        except OSError as error:
            raise (storage_error(self.parent, error, "create") or RunDirectoryError(
                f"could not create {self.parent}: {error.strerror}")) from error

    def recover(self):
        """Finish or undo a publish that a crash interrupted (call with the lock held)."""
        if os.path.isdir(self.next):
            if os.path.exists(self.path):
                shutil.rmtree(self.next)  # it was still being prepared: the old run stands
            else:
                os.rename(self.next, self.path)  # it was complete: finish the swap
        if os.path.isdir(self.previous):
            if os.path.exists(self.path):
                shutil.rmtree(self.previous)
            else:
                os.rename(self.previous, self.path)

    def check(self, resume, overwrite):
        """Raise `RunDirectoryError` (one line) when what `train` is asked to do does not fit
        what is on disk; touches nothing (call with the lock held, after `recover`). The
        command line asks it before loading any data, so that a taken `--out` is refused at
        once, not after minutes of tokenizer training; `begin` asks it again.

        Example:

        >>> RunDirectory("runs/x").check(resume=False, overwrite=False)
        """
        interrupted = os.path.isdir(self.work)
        if resume:
            if not interrupted:
                if self.is_run():
                    raise RunDirectoryError(
                        f"nothing to resume: {self.path} is a finished run; to train it again "
                        "from scratch, give --overwrite instead of --resume")
                if os.path.isdir(os.path.join(self.path, "backup")):
                    raise RunDirectoryError(
                        f"{self.path} holds a backup written by an older keras-s2s, which "
                        "--resume can't continue; start again with --overwrite")
                raise RunDirectoryError(f"nothing to resume in {self.path}: no interrupted "
                                        "training there; drop --resume to start one")
            return
        if interrupted and not overwrite:
            raise RunDirectoryError(
                f"{self.path} has an interrupted training ({self.work}); pass --resume to "
                "continue it, or --overwrite to start again")
        if os.path.isdir(self.path) and os.listdir(self.path):
            if not self.is_run() and not os.path.isdir(os.path.join(self.path, "backup")):
                raise RunDirectoryError(
                    f"--out {self.path} is not empty and holds no keras-s2s run; choose an "
                    "empty or new directory")
            if not overwrite:
                raise RunDirectoryError(
                    f"{self.path} holds a finished run; pass --overwrite to replace it (it is "
                    "kept until the new run's first checkpoint), or choose another --out")

    def begin(self, resume, overwrite):
        """Check what `train` is asked to do against what is on disk (`check`), and prepare
        the work directory (call with the lock held). Raises `RunDirectoryError` before
        touching anything when the request doesn't fit."""
        self.check(resume, overwrite)
        if resume:
            return
        if os.path.isdir(self.work):
            shutil.rmtree(self.work)
        try:
            os.makedirs(self.work)
        except OSError as error:
            raise (storage_error(self.work, error, "create") or RunDirectoryError(
                f"could not create {self.work}: {error.strerror}")) from error

    def publish(self):
        """Make the work directory's files the published run (see the module docstring)."""
        try:
            self.prepare_next()
            for name in RUN_FILES:
                source = self.work_file(name)
                if not os.path.exists(source):
                    continue
                _link(source, os.path.join(self.next, name))
            epochs = self.work_file(EPOCHS_DIR)
            if os.path.isdir(epochs):
                os.makedirs(os.path.join(self.next, EPOCHS_DIR))
                for name in sorted(os.listdir(epochs)):
                    if not name.startswith("."):  # not a temporary file being written
                        _link(os.path.join(epochs, name),
                              os.path.join(self.next, EPOCHS_DIR, name))
        except OSError as error:
            raise (storage_error(self.path, error, "publish") or error) from error
        self.replace_with_next()

    def prepare_next(self):
        """An empty `.x.next` directory, for the files of the run about to be published."""
        if os.path.isdir(self.next):
            shutil.rmtree(self.next)
        os.makedirs(self.next)

    def replace_with_next(self):
        """Make the complete `.x.next` directory the run, by two renames (`x` → `.x.prev`,
        `.x.next` → `x`); `recover` finishes or undoes a crash between them. Call with the
        lock held."""
        try:
            _fsync_dir(self.next)
            if os.path.exists(self.path):
                if os.path.isdir(self.previous):
                    shutil.rmtree(self.previous)
                os.rename(self.path, self.previous)
            os.rename(self.next, self.path)
            _fsync_dir(self.parent)
            shutil.rmtree(self.previous, ignore_errors=True)
        except OSError as error:
            raise (storage_error(self.path, error, "publish") or error) from error

    def discard_unstarted(self):
        """Remove the work directory of a training that failed before its first epoch was
        saved (call with the lock held): nothing in it can be resumed, and left in place it
        would make the next training ask for --resume or --overwrite."""
        if not os.path.exists(os.path.join(self.backup, AtomicBackupAndRestore.METADATA)):
            shutil.rmtree(self.work, ignore_errors=True)

    def finish(self):
        """Publish the final files and remove the work directory."""
        self.publish()
        shutil.rmtree(self.work, ignore_errors=True)
