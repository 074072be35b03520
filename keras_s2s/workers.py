"""Training on several hosts: TensorFlow's `MultiWorkerMirroredStrategy`, driven by `TF_CONFIG`.

keras_s2s writes no parallelism of its own. When the `TF_CONFIG` environment variable names
a cluster of two or more workers, `keras-s2s train` (and `keras_s2s.training.recipe.train`)
runs every worker's step under one `tf.distribute.MultiWorkerMirroredStrategy`:

- **The step** is `keras_s2s.distribution`'s replicated step: every worker's local devices
  are replicas, the masked loss divides by the global batch's real tokens and `ReplicaAdam`
  clips the global gradient, so N workers train as one device on the same global batch.
- **The input.** Every worker builds the same seeded pipeline of full global batches (a
  partial batch is filled up with all-padding rows); TensorFlow's data auto-sharding hands
  each worker its replicas' rows of every global batch, so no example is duplicated or
  dropped, and every worker takes the same number of steps.
- **One run directory.** The chief (`task` `chief`, or worker 0 when the cluster has no
  chief) writes the run directory, its checkpoints and TensorBoard logs. The other workers
  train into a scratch directory of their own, removed when they finish (`run_directory`).
- **One set of decisions.** Each worker scores the validation split, but the best epoch,
  the plateau schedule, early stopping and the time limit all use the chief's numbers
  (`chief_value`, one all-reduce), so the workers never disagree about when to stop or what
  rate to use; a disagreement would leave one of them waiting in a collective forever.
- **Refusals come before training.** A run directory the chief refuses (it holds a finished
  run, it is locked) stops every worker with one line (`agree`).

Example (two hosts; on one machine, give both workers ports of 127.0.0.1):

```console
$ # host a: worker 0, the chief
$ TF_CONFIG='{"cluster": {"worker": ["a:2222", "b:2222"]}, "task": {"type": "worker", "index": 0}}' \\
      keras-s2s train luong_bilstm --task g2p --out runs/g2p --batch-size 128
$ # host b: the same command, with "index": 1
```
"""

import contextlib
import json
import os
import shutil
import tempfile

import keras

from keras_s2s.distribution import DeviceError

#: Seconds a collective operation may wait for the other workers before it fails (a worker
#: that died leaves the others with an error instead of a hang). Long enough for the slowest
#: worker's validation decode between two epochs.
COLLECTIVE_TIMEOUT_SECONDS = 900


class Cluster:
    """The cluster `TF_CONFIG` describes: `workers` (how many), `task_type`, `index`.

    Example:

    >>> Cluster.from_environment()      # TF_CONFIG unset: None
    """

    def __init__(self, workers, task_type, index, chief_type):
        self.workers, self.task_type, self.index = workers, task_type, index
        self.chief_type = chief_type

    @property
    def is_chief(self):
        """Whether this process writes the run directory."""
        return self.task_type == self.chief_type and self.index == 0

    def __repr__(self):
        return f"Cluster(workers={self.workers}, task={self.task_type}:{self.index})"

    @classmethod
    def from_environment(cls):
        """The cluster of `TF_CONFIG`, or None when it is unset or names one worker.

        Raises:
            DeviceError: one line, when `TF_CONFIG` is not the JSON TensorFlow reads.
        """
        text = os.environ.get("TF_CONFIG", "").strip()
        if not text:
            return None
        try:
            config = json.loads(text)
            cluster, task = config["cluster"], config["task"]
            task_type, index = task["type"], int(task["index"])
            members = {name: list(addresses) for name, addresses in cluster.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise DeviceError(
                f"TF_CONFIG is not a cluster description ({type(error).__name__}: {error}); "
                'set it to {"cluster": {"worker": ["host:port", ...]}, "task": {"type": '
                '"worker", "index": I}} or unset it to train in one process') from None
        workers = sum(len(members.get(name, [])) for name in ("chief", "worker"))
        if task_type not in ("chief", "worker") or not 0 <= index < len(members.get(task_type,
                                                                                  [])):
            raise DeviceError(f"TF_CONFIG's task {task_type}:{index} is not one of its "
                              f"cluster's chief or workers ({members}); fix its \"task\"")
        if workers < 2:
            return None
        return cls(workers, task_type, index, "chief" if members.get("chief") else "worker")


_STARTED = []  # (strategy, cluster), once the cluster has started


def multi_worker_strategy():
    """The process's `MultiWorkerMirroredStrategy` for the `TF_CONFIG` cluster (made once).

    TensorFlow must create it before it runs any other operation: call it first in a program
    that trains on several hosts (`keras-s2s train` does).

    Returns:
        The strategy, or None when `TF_CONFIG` names no cluster of two or more workers.

    Raises:
        DeviceError: on a backend other than TensorFlow, or when TensorFlow has already
            started.

    Example:

    >>> strategy = multi_worker_strategy()   # first thing in the program
    """
    if _STARTED:
        return _STARTED[0][0]
    cluster = Cluster.from_environment()
    if cluster is None:
        return None
    if keras.backend.backend() != "tensorflow":
        raise DeviceError(f"TF_CONFIG names {cluster.workers} workers: training on several "
                          "hosts runs on the TensorFlow backend (MultiWorkerMirroredStrategy), "
                          f"not {keras.backend.backend()}; set KERAS_BACKEND=tensorflow or "
                          "unset TF_CONFIG")
    import tensorflow as tf

    options = tf.distribute.experimental.CommunicationOptions(
        timeout_seconds=COLLECTIVE_TIMEOUT_SECONDS)
    try:
        strategy = _strategy_class()(communication_options=options)
    except (RuntimeError, ValueError) as error:
        raise DeviceError(
            f"TF_CONFIG names {cluster.workers} workers, but TensorFlow could not start them "
            f"({str(error).splitlines()[0]}); call keras_s2s.workers.multi_worker_strategy() "
            "before anything else runs TensorFlow") from None
    _STARTED.append((strategy, cluster))
    return strategy


def _strategy_class():
    import tensorflow as tf

    class KerasMultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        """`MultiWorkerMirroredStrategy` with the `reduce` that Keras 3's `fit` expects.

        Keras 3's TensorFlow trainer calls `strategy.reduce` in two ways that this strategy's
        own `reduce` refuses (tensorflow/tensorflow#72388: without this, `fit` fails on
        several workers for every model):

        - on the first batch, a nest (the dict of inputs and the labels), to build the
          metrics; `reduce` takes one value (TensorFlow's own TODO: "support `value` being a
          nest"). Each value of the nest is reduced on its own;
        - on every step's scalar logs, `"MEAN"` with `axis=0`, which a scalar has not. For a
          scalar this means the mean over the replicas, `axis=None`.
        """

        def reduce(self, reduce_op, value, axis=None):
            reduce = super().reduce

            def one(v):
                local = self.experimental_local_results(v)[0]
                scalar = getattr(local, "shape", None) is not None and local.shape.rank == 0
                return reduce(reduce_op, v, None if scalar else axis)

            return tf.nest.map_structure(one, value)

    return KerasMultiWorkerStrategy


def active():
    """The cluster this process trains in, once `multi_worker_strategy` has started it.

    Example:

    >>> active()    # one process: None
    """
    return _STARTED[0][1] if _STARTED else None


def _all_reduce_sum(value):
    import tensorflow as tf

    strategy = _STARTED[0][0]
    first = tf.constant(float(value), tf.float32)
    zero = tf.constant(0.0, tf.float32)
    local = len(strategy.extended.worker_devices)  # this worker's replicas, numbered together
    # only this worker's first replica carries the value: the sum over replicas is the sum
    # over workers
    per_replica = strategy.experimental_distribute_values_from_function(
        lambda context: first if context.replica_id_in_sync_group % local == 0 else zero)
    return float(strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None))


def chief_value(value):
    """`value` as the chief computed it, on every worker (one all-reduce); `value` in one
    process.

    Every worker must call it at the same point, the same number of times.

    Example:

    >>> elapsed = chief_value(time.perf_counter() - start)
    """
    cluster = active()
    if cluster is None:
        return value
    return _all_reduce_sum(float(value) if cluster.is_chief else 0.0)


def agree(ok):
    """Whether every worker is `ok` (one all-reduce); `ok` in one process.

    Example:

    >>> if not agree(started):
    ...     raise DeviceError("another worker could not start; see its log")
    """
    cluster = active()
    if cluster is None:
        return ok
    return _all_reduce_sum(0.0 if ok else 1.0) == 0.0


@contextlib.contextmanager
def run_directory(out_dir):
    """The directory this process writes its run to: `out_dir` for the chief (and in one
    process), a scratch directory for the other workers, removed on exit.

    Example:

    >>> with run_directory("runs/g2p") as directory:
    ...     ...
    """
    cluster = active()
    if cluster is None or cluster.is_chief:
        yield out_dir
        return
    scratch = tempfile.mkdtemp(prefix=f"keras_s2s_worker{cluster.index}_")
    try:
        yield os.path.join(scratch, "run")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
