"""Checkpoint averaging: keep the last epochs' weights, and average them into a new run.

Averaging the parameters of the last few checkpoints of one training (Vaswani et al. 2017,
section 6.1) is a cheap improvement that the NMT and G2P literature often reports. Two pieces
make it available:

- `KeepLastEpochs`, a callback that writes the model's weights (not the optimizer's) after
  every epoch to `DIR/epoch-NNNN.weights.npz` (`save_weights_npz`: by position), atomically,
  and deletes all but the last `keep`. `train` adds it with `keep_epochs` (default 5), into
  the run's `epochs/` directory.
- `average_run(run, last=N)` (`keras-s2s average RUN --last N`), which averages the last N
  kept epochs of a run, weight by weight, and writes the result as a new run directory that
  `decode` and `evaluate` read like any other.

Weights are averaged in float64 and cast back; integer variables (a seed generator's state)
are taken from the last epoch.
"""

import glob
import os
import re
import shutil

import keras
import numpy as np

from keras_s2s.layers._checks import check_positive_int
from keras_s2s.training.rundir import (EPOCHS_DIR, RunDirectory, RunDirectoryError,
                                       atomic_save, atomic_write_json, model_bytes,
                                       save_model, storage_error)

_EPOCH_FILE = re.compile(r"^epoch-(\d+)\.weights\.npz$")


def epoch_file(directory, epoch):
    """The path of epoch `epoch`'s weights (1-based) in `directory`."""
    return os.path.join(directory, f"epoch-{int(epoch):04d}.weights.npz")


def kept_epochs(directory):
    """The kept epochs in `directory`, oldest first: a list of `(epoch, path)`.

    Example:

    >>> kept_epochs("runs/g2p/epochs")
    [(8, 'runs/g2p/epochs/epoch-0008.weights.npz'), ...]
    """
    found = []
    for path in glob.glob(os.path.join(directory, "epoch-*.weights.npz")):
        match = _EPOCH_FILE.match(os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


class KeepLastEpochs(keras.callbacks.Callback):
    """Keep the weights of the last `keep` epochs, for checkpoint averaging.

    After every epoch the model's weights (not the optimizer's) are written atomically to
    `directory/epoch-NNNN.weights.npz` (`save_weights_npz`), after a free-space check; then
    the files of all but the last `keep` epochs are deleted. A resumed training continues the
    numbering.

    Args:
        directory: Where the files go (created when missing).
        keep: How many epochs to keep (at least 1).

    Example:

    >>> model.fit(ds, epochs=10, callbacks=[KeepLastEpochs("runs/x/epochs", keep=5)])
    """

    def __init__(self, directory, keep=5):
        super().__init__()
        self.directory, self.keep = directory, check_positive_int("keep", keep)

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        path = epoch_file(self.directory, epoch + 1)
        atomic_save(path, lambda tmp: save_weights_npz(self.model, tmp),
                    needed_bytes=model_bytes(self.model))
        for _, old in kept_epochs(self.directory)[:-self.keep]:
            os.remove(old)


def save_weights_npz(model, path):
    """Write `model.weights` to an `.npz` file, in their order (`w0000`, `w0001`, ...).

    Unlike `model.save_weights`, which also stores a compiled model's optimizer state (three
    times the size under Adam), this holds only what averaging needs. The weights are stored
    by position, because a reloaded model keeps the order of its weights but not always their
    paths (a layer's nested variables are renamed on deserialisation); the paths are stored
    too, under `paths`, to name a mismatch.

    Example:

    >>> save_weights_npz(model, "runs/x/epochs/epoch-0003.weights.npz")
    """
    arrays = {f"w{k:04d}": keras.ops.convert_to_numpy(v) for k, v in enumerate(model.weights)}
    with open(path, "wb") as f:
        np.savez(f, paths=np.array([v.path for v in model.weights]), **arrays)


def average_weights(model, paths):
    """Set `model`'s weights to the element-wise mean of the weight files `paths`.

    Every file must have been written by `save_weights_npz` for the same architecture: as
    many weights, of the same shapes, in the same order. Float variables are averaged (in
    float64, then cast back); other variables take the value of the last file.

    Args:
        model: A built Keras model; its weights are replaced.
        paths: `.weights.npz` files, oldest first.

    Returns:
        The model.

    Raises:
        ValueError: A file holds another number of weights, or another shape.

    Example:

    >>> average_weights(model, ["epoch-0009.weights.npz", "epoch-0010.weights.npz"])
    """
    paths = list(paths)
    if not paths:
        raise ValueError("average_weights needs at least one weights file")
    variables = model.weights
    sums = [None] * len(variables)
    for path in paths:
        with np.load(path) as stored:
            count = len(stored.files) - 1  # and `paths`
            if count != len(variables):
                raise ValueError(f"{path} holds {count} weights, and model '{model.name}' has "
                                 f"{len(variables)}: it was written for another model")
            for k, variable in enumerate(variables):
                value = stored[f"w{k:04d}"]
                if tuple(value.shape) != tuple(variable.shape):
                    raise ValueError(
                        f"{path} holds {stored['paths'][k]} with shape {tuple(value.shape)}, "
                        f"where model '{model.name}' has {tuple(variable.shape)}")
                if _is_float(value):
                    sums[k] = value.astype("float64") + (0.0 if sums[k] is None else sums[k])
                else:
                    sums[k] = value
    for variable, total in zip(variables, sums):
        value = total / len(paths) if _is_float(total) else total
        variable.assign(np.asarray(value).astype(variable.dtype))
    return model


def _is_float(value):
    return np.issubdtype(np.asarray(value).dtype, np.floating)


def average_run(run_dir, last, out_dir=None, overwrite=False):
    """Average the last `last` kept epochs of a run into a new run directory.

    The new run holds the averaged `model.keras`, the run's tokenizers and its `config.json`
    with an `"averaged"` entry (the source run and the epochs); `decode` and `evaluate` read
    it like any run. It is written under the run-directory contract of `train`
    (`keras_s2s.training.rundir`): the lock, a complete `.NAME.next` directory, then two
    renames, so `out_dir` is never half-written.

    Args:
        run_dir: A run written by `train` with `keep_epochs` (its `epochs/` directory).
        last: How many of the last kept epochs to average (at least 1).
        out_dir: The new run directory; `"<run_dir>-avg<last>"` by default.
        overwrite: Replace `out_dir` when it exists.

    Returns:
        `(out_dir, epochs)`: the new run's path and the averaged epochs.

    Raises:
        ValueError: One line: the run kept fewer than `last` epochs, `out_dir` exists (and
            `overwrite` is off, or it holds no run), or the run can't be read.

    Example:

    >>> out, epochs = average_run("runs/g2p", last=5)
    """
    from keras_s2s.training.recipe import load_run

    last = check_positive_int("last", last)
    run_dir = os.path.normpath(run_dir)
    out_dir = os.path.normpath(out_dir or f"{run_dir}-avg{last}")
    out = RunDirectory(out_dir)
    if out.path == os.path.abspath(run_dir):
        raise RunDirectoryError(f"--out {out_dir} is the run being averaged; choose another "
                                "directory")
    out.check_path()
    with out.lock():  # the run-directory contract, as for `train`
        out.recover()
        if os.path.exists(out.path):
            if not out.is_run():
                raise RunDirectoryError(
                    f"--out {out_dir} exists and holds no keras-s2s run; choose a new "
                    "directory (--overwrite only replaces a run)")
            if not overwrite:
                raise RunDirectoryError(f"{out_dir} already exists; pass --overwrite to "
                                        "replace it, or choose another --out")
        model, _, _, config = load_run(run_dir)
        kept = kept_epochs(os.path.join(run_dir, EPOCHS_DIR))
        if not kept:
            raise RunDirectoryError(
                f"{run_dir} kept no epoch weights to average (no {EPOCHS_DIR}/ directory); "
                "train it with --keep-epochs N (a keras-s2s older than checkpoint averaging "
                "kept none)")
        if len(kept) < last:
            raise RunDirectoryError(
                f"{run_dir} kept {len(kept)} epoch(s) ({', '.join(str(e) for e, _ in kept)}), "
                f"fewer than --last {last}; average at most {len(kept)}, or train with "
                f"--keep-epochs {last}")
        chosen = kept[-last:]
        try:
            average_weights(model, [path for _, path in chosen])
        except (OSError, ValueError, KeyError) as error:
            raise RunDirectoryError(f"the kept weights of {run_dir} don't fit its "
                                    f"model.keras: {error}") from error
        epochs = [epoch for epoch, _ in chosen]
        config = {**config, "averaged": {"run": os.path.abspath(run_dir), "epochs": epochs}}
        config.pop("progress", None)
        try:  # a complete `.NAME.next`, then two renames: `out_dir` is never half-written
            out.prepare_next()
            save_model(model, os.path.join(out.next, "model.keras"))
            for name in ("source_tokenizer.json", "target_tokenizer.json"):
                shutil.copy2(os.path.join(run_dir, name), os.path.join(out.next, name))
            atomic_write_json(os.path.join(out.next, "config.json"), config)
        except OSError as error:
            shutil.rmtree(out.next, ignore_errors=True)
            raise (storage_error(out.next, error) or error) from error
        out.replace_with_next()
    return out_dir, epochs


__all__ = ["EPOCHS_DIR", "KeepLastEpochs", "average_run", "average_weights", "epoch_file",
           "kept_epochs", "save_weights_npz"]
