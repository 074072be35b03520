"""Data-parallel training on several devices, with the engines Keras and TensorFlow provide.

keras_s2s writes no parallelism of its own. `data_parallel(n)` picks the backend's engine:

- JAX: `keras.distribution.DataParallel` over the first `n` devices. Every training step is
  one global XLA computation whose batch is split over a `("batch",)` mesh; the variables are
  replicated. The loss and the gradient are those of the global batch by construction.
- TensorFlow: `tf.distribute.MirroredStrategy` over the first `n` GPUs (or logical CPUs).
  Each replica runs the step on its share of the batch, and the gradients are summed across
  replicas. Two things make that step equal to one device's step on the same global batch:
  the masked losses divide by the real tokens of the global batch (`sum_over_replicas`,
  used by `keras_s2s.losses.masked_token_loss`), and `ReplicaAdam` clips the summed
  gradient rather than each replica's share (Keras' optimizers clip before the sum).
  XLA cannot compile a step whose variables live on several devices, so TensorFlow runs
  these steps as graphs without `jit_compile` (`train` says so when it turns it off).

The global batch is the `batch_size` the user gives: each of `n` replicas gets
`batch_size / n` rows. A partial last batch is filled up with all-padding rows (see
`keras_s2s.data.Task.dataset`), so every replica gets a full share and the rows that carry
no tokens carry no loss.

Example:

>>> from keras_s2s.distribution import data_parallel
>>> with data_parallel(2):
...     config = train("luong_bilstm", load_task("g2p"), "runs/g2p", batch_size=128)

or `keras-s2s train luong_bilstm --task g2p --out runs/g2p --devices 2`.
"""

import contextlib

import keras
from keras import ops


class DeviceError(ValueError):
    """The devices asked for are not there, or the backend cannot use them."""


def replicas_in_sync():
    """How many TensorFlow replicas share the current step; 1 elsewhere.

    Example:

    >>> replicas_in_sync()
    1
    """
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def sum_over_replicas(value):
    """`value` summed over the replicas of a `tf.distribute` step.

    Elsewhere (one device, a cross-replica context, or JAX, whose data-parallel step is one
    global computation) `value` itself.

    Example:

    >>> real_tokens = sum_over_replicas(ops.sum(mask))   # the global batch's count
    """
    if replicas_in_sync() == 1:
        return value
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or tf.distribute.in_cross_replica_context():
        return value
    if isinstance(value, tf.IndexedSlices):  # an embedding's gradient: rows differ per replica
        value = tf.convert_to_tensor(value)
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def available_devices():
    """The devices `data_parallel` can use, in order: `["cpu:0", ...]` or GPUs/TPUs first.

    Example:

    >>> available_devices()
    ['cpu:0']
    """
    backend = keras.backend.backend()
    if backend == "jax":
        return keras.distribution.list_devices()
    if backend == "tensorflow":
        import tensorflow as tf

        for kind in ("TPU", "GPU", "CPU"):
            found = tf.config.list_logical_devices(kind)
            if found:
                return [d.name for d in found]
        return []
    return []


def _check_count(devices):
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise DeviceError(f"--devices must be a positive whole number of devices; got "
                          f"{devices!r}")
    backend = keras.backend.backend()
    if devices == 1:
        return []
    if backend not in ("jax", "tensorflow"):
        raise DeviceError(f"--devices {devices}: data parallelism runs on the JAX and "
                          f"TensorFlow backends, not {backend}; set KERAS_BACKEND=jax or "
                          "tensorflow, or train on one device")
    found = available_devices()
    if len(found) < devices:
        hint = ("for trials on a CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N "
                "splits it into N devices" if backend == "jax" else
                "for trials on a CPU, KERAS_BACKEND=jax with XLA_FLAGS="
                "--xla_force_host_platform_device_count=N splits it into N devices")
        raise DeviceError(f"--devices {devices}: the {backend} backend sees "
                          f"{len(found)} device(s) ({', '.join(found) or 'none'}); ask for at "
                          f"most {len(found)} ({hint})")
    return found[:devices]


def _check_model_axis(devices, model_axis):
    if keras.backend.backend() != "jax":
        raise DeviceError(f"--model-parallel runs on the JAX backend (Keras' ModelParallel), "
                          f"not {keras.backend.backend()}; set KERAS_BACKEND=jax")
    if isinstance(model_axis, bool) or not isinstance(model_axis, int) or model_axis < 1 or \
            not isinstance(devices, int) or devices % model_axis:
        raise DeviceError(f"--model-parallel {model_axis} must divide --devices {devices}")


@contextlib.contextmanager
def data_parallel(devices=1):
    """Build, compile and train inside this context to replicate over `devices` devices.

    `devices=1` changes nothing. Inside, `replicas_in_sync()` (TensorFlow) or
    `keras.distribution.distribution()` (JAX) tells the code that it is replicated.

    Args:
        devices: How many devices, the first ones of `available_devices()`.

    Raises:
        DeviceError: when fewer devices are there, or the backend is PyTorch.

    Example:

    >>> with data_parallel(2):
    ...     model = zoo.build("luong_bilstm", 40, 40, units=64)
    ...     compile_model(model, jit=False)
    ...     model.fit(dataset)
    """
    chosen = _check_count(devices)
    if not chosen:
        yield
        return
    if keras.backend.backend() == "jax":
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=chosen))
        try:
            yield
        finally:
            keras.distribution.set_distribution(previous)
        return
    with _mirrored_strategy(tuple(chosen)).scope():
        yield


_STRATEGIES = {}


def _mirrored_strategy(devices):
    """One `MirroredStrategy` per device set for the process: a second strategy over the same
    devices pairs its collective operations with the first one's, and the step fails."""
    if devices not in _STRATEGIES:
        import tensorflow as tf

        _STRATEGIES[devices] = tf.distribute.MirroredStrategy(list(devices))
    return _STRATEGIES[devices]


def is_replicated():
    """Whether the current context trains on several devices (either backend).

    Example:

    >>> with data_parallel(2):
    ...     is_replicated()
    True
    """
    if replicas_in_sync() > 1:
        return True
    if keras.backend.backend() == "jax":
        current = keras.distribution.distribution()
        return current is not None and len(current.device_mesh.devices.flatten()) > 1
    return False


def _is_sparse(gradient):
    return hasattr(gradient, "indices")  # tf.IndexedSlices: an embedding's gradient


def _scaled(gradient, scale):
    if _is_sparse(gradient):
        import tensorflow as tf

        return tf.IndexedSlices(gradient.values * ops.cast(scale, gradient.values.dtype),
                                gradient.indices, gradient.dense_shape)
    return gradient * ops.cast(scale, gradient.dtype)


def _global_squared_norm(gradient):
    """The squared norm Keras' clipping would see on one device, from this replica's share.

    A dense gradient's is the norm of the replicas' sum. A sparse gradient's (an
    embedding's `tf.IndexedSlices`) is over its rows as looked up, a row looked up twice
    counted twice (what `tf.clip_by_norm` computes); each replica holds its own rows, so the
    squares add up over replicas.
    """
    if _is_sparse(gradient):
        return sum_over_replicas(ops.sum(ops.square(gradient.values)))
    return ops.sum(ops.square(sum_over_replicas(gradient)))


def clip_global(grads, clipnorm=None, global_clipnorm=None):
    """Scale each replica's share of the gradients so that their sum is the global batch's
    gradient clipped as Keras clips one device's (`clipnorm`: each variable's norm;
    `global_clipnorm`: all of them together).

    On one device this is Keras' own clipping. Sparse shares stay sparse, so Adam updates
    an embedding exactly as it does on one device.

    Example:

    >>> grads = clip_global(grads, clipnorm=1.0)   # inside a replica's step
    """
    if not (clipnorm or global_clipnorm):
        return list(grads)
    squares = [None if g is None else _global_squared_norm(g) for g in grads]
    if clipnorm:
        return [None if g is None else _scaled(g, clipnorm / ops.maximum(ops.sqrt(q), clipnorm))
                for g, q in zip(grads, squares)]
    norm = ops.sqrt(sum(q for q in squares if q is not None))
    scale = global_clipnorm / ops.maximum(norm, global_clipnorm)
    return [None if g is None else _scaled(g, scale) for g in grads]


@keras.saving.register_keras_serializable(package="keras_s2s")
class ReplicaAdam(keras.optimizers.Adam):
    """Adam whose gradient clipping sees the global batch's gradient under `tf.distribute`.

    Keras' optimizers clip each replica's share of the gradient before the shares are summed,
    so `clipnorm` bounds each share, not the step. This subclass keeps `clipnorm` and
    `global_clipnorm` from Keras and clips itself (`clip_global`): it computes the norm
    of the global gradient (one more all-reduce of the dense gradients per step) and scales
    every replica's share by the factor one device would use. On one device, or on JAX, it
    is Adam. `compile_model` uses it when it compiles inside `data_parallel`. (`clipvalue`
    is left to Keras, which clips each share.)

    Args:
        All of `keras.optimizers.Adam`'s.

    Example:

    >>> with data_parallel(2):
    ...     model.compile(optimizer=ReplicaAdam(1e-3, clipnorm=1.0), loss=...)
    """

    def __init__(self, *args, clipnorm=None, global_clipnorm=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.replica_clipnorm = clipnorm
        self.replica_global_clipnorm = global_clipnorm

    def apply_gradients(self, grads_and_vars):
        grads, variables = zip(*grads_and_vars)
        grads = clip_global(grads, self.replica_clipnorm, self.replica_global_clipnorm)
        return super().apply_gradients(zip(grads, variables))

    def get_config(self):
        return {**super().get_config(), "clipnorm": self.replica_clipnorm,
                "global_clipnorm": self.replica_global_clipnorm}


def check_devices(devices, batch_size, model_axis=1):
    """Refuse, in one line, a device layout the backend can't give or the batch can't split.

    Example:

    >>> check_devices(2, 64)   # raises DeviceError on a one-device machine
    """
    if model_axis != 1:
        _check_model_axis(devices, model_axis)
    _check_count(devices)
    check_batch_split(batch_size, devices // model_axis)


def check_batch_split(batch_size, replicas):
    """Refuse, in one line, a global batch that `replicas` replicas can't share evenly.

    Example:

    >>> check_batch_split(33, 2)   # raises DeviceError
    """
    if replicas > 1 and batch_size % replicas:
        raise DeviceError(f"--batch-size {batch_size} does not split over {replicas} "
                          f"replicas: give a multiple of {replicas} (the batch size is the "
                          "global batch)")


def is_mirrored(model):
    """Whether `model` (or the context) holds TensorFlow variables mirrored on several devices.

    Example:

    >>> is_mirrored(model)   # built inside `data_parallel(2)` on TensorFlow
    True
    """
    if replicas_in_sync() > 1:
        return True
    strategy = getattr(model, "distribute_strategy", None)
    return keras.backend.backend() == "tensorflow" and strategy is not None and \
        strategy.num_replicas_in_sync > 1


# How `model_parallel` shards a Transformer (Megatron-style): the attention heads and the
# feed-forward's inner width are split over the "model" axis, so each device holds 1/m of
# every attention and feed-forward kernel; embeddings and the output projection are split
# along the hidden width. Keys are regular expressions over variable paths
# (`encoder/block_0/self_attention_layer/query/kernel`); what no key matches is replicated.
TRANSFORMER_LAYOUT = {
    r".*embeddings": (None, "model"),
    r".*/(query|key|value)/kernel": (None, "model", None),
    r".*/(query|key|value)/bias": ("model", None),
    r".*/attention_output/kernel": ("model", None, None),
    r".*feedforward_intermediate_dense/kernel": (None, "model"),
    r".*feedforward_intermediate_dense/bias": ("model",),
    r".*feedforward_output_dense/kernel": ("model", None),
    r"output_projection/kernel": ("model", None),
}


def transformer_layout_map(mesh, layout=None):
    """A `keras.distribution.LayoutMap` that shards a zoo Transformer on `mesh`'s "model" axis.

    Args:
        mesh: A `keras.distribution.DeviceMesh` with axes `("batch", "model")`.
        layout: `{path regex: axes}` (default `TRANSFORMER_LAYOUT`).

    Example:

    >>> mesh = keras.distribution.DeviceMesh((2, 2), ["batch", "model"])
    >>> layout_map = transformer_layout_map(mesh)
    """
    layout_map = keras.distribution.LayoutMap(mesh)
    for pattern, axes in (TRANSFORMER_LAYOUT if layout is None else layout).items():
        layout_map[pattern] = axes
    return layout_map


@contextlib.contextmanager
def model_parallel(devices, model_axis=2, layout=None):
    """Build, compile and train inside this context to shard a model over a 2-D mesh (JAX).

    The `devices` devices form a `(devices / model_axis, model_axis)` mesh with axes
    `("batch", "model")`: the batch is split over the first, and the variables that `layout`
    names over the second (`keras.distribution.ModelParallel`). XLA (GSPMD) inserts the
    communication; the step is the one-device step on the global batch.

    Args:
        devices: How many devices in all.
        model_axis: How many devices share each variable's shards.
        layout: `{path regex: axes}`; `TRANSFORMER_LAYOUT` by default, for the Transformer
            entries (`transformer_base`, `transformer_small`, ...). A dimension that the
            "model" axis does not divide must not be sharded: choose widths that it divides.

    Raises:
        DeviceError: on TensorFlow or PyTorch (Keras' `ModelParallel` is JAX's), with too few
            devices, or when `model_axis` does not divide `devices`.

    Example:

    >>> with model_parallel(4, model_axis=2):
    ...     config = train("transformer_base", task, "runs/big", batch_size=64)
    """
    _check_model_axis(devices, model_axis)
    chosen = _check_count(devices) or available_devices()[:1]
    mesh = keras.distribution.DeviceMesh((devices // model_axis, model_axis),
                                         ["batch", "model"], chosen)
    layout_map = transformer_layout_map(mesh, layout)
    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(keras.distribution.ModelParallel(
        layout_map=layout_map, batch_dim_name="batch"))
    try:
        yield
    finally:
        keras.distribution.set_distribution(previous)
