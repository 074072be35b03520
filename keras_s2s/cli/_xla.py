"""The command line's one compiler setting: XLA's LLVM optimisation level 1 on the CPU.

XLA compiles every training and decoding shape with LLVM at level 3 by default. Level 1
spends less time compiling, and the compiled steps ran at the same speed in the two-thread
benchmark suite (docs/PERFORMANCE.md: the JoeyNMT recipe trained in 27% less wall time and 9%
less CPU time, at the same validation WER; the recurrent entries compiled about 10% quicker).

`XLA_FLAGS` is process-global and read once, at the process's first XLA compile, so only the
`keras-s2s` process sets it, never the library: a Python program that imports keras_s2s keeps
the compiler that its author chose. It is left alone when:
- the user's `XLA_FLAGS` already names an optimisation level (`=3` restores XLA's default);
- the backend is not TensorFlow (only TensorFlow's CPU compiles were measured);
- TensorFlow sees a GPU (level 1 would also weaken the GPU kernels' LLVM passes);
- TensorFlow was imported before the CLI ran (another program's process, such as a test run,
  whose XLA may already have read its flags).
"""

import os

# XLA's flag (xla/debug_options_flags.cc) and the level the CLI uses; an unknown flag in
# XLA_FLAGS aborts the process at its first compile, which tests/test_cli_xla.py guards
FLAG = "--xla_backend_optimization_level"
LEVEL = 1


def cpu_compile_flags(environ=None):
    """Append `--xla_backend_optimization_level=1` to `XLA_FLAGS` for a TensorFlow CPU run.

    Call it after TensorFlow is imported and before anything is compiled. Returns whether
    it set the flag; the module docstring lists when it does not.

    Args:
        environ: the mapping to read and update (default `os.environ`).

    Returns:
        bool: True when the flag was appended.

    Example:

    >>> env = {"XLA_FLAGS": "--xla_backend_optimization_level=3"}
    >>> cpu_compile_flags(env)   # the user's level stands
    False
    """
    environ = os.environ if environ is None else environ
    current = environ.get("XLA_FLAGS", "")
    if FLAG in current:
        return False
    import keras

    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return False
    environ["XLA_FLAGS"] = f"{current} {FLAG}={LEVEL}".strip()
    return True
