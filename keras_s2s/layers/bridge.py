"""Bridges: how an encoder's final states become a decoder's initial states."""

import keras
from keras import ops

from keras_s2s.layers._checks import check_choice

_MODES = ("copy", "sum", "dense", "zeros")


@keras.saving.register_keras_serializable(package="keras_s2s")
class StateBridge(keras.layers.Layer):
    """Map the encoder's final states to the decoder's initial states.

    Both sides are flat lists of `(batch, size)` tensors (see `keras.tree.flatten`); for a
    bidirectional encoder the forward states come first, then the backward ones.

    Modes:

    - `"copy"`: pass the states through (sizes must match one to one);
    - `"sum"`: add the forward and backward state of each position (bidirectional encoders;
      sizes must match);
    - `"dense"`: concatenate every encoder state and project them with one dense layer to all
      the decoder states at once (OpenNMT's dense bridge; any sizes);
    - `"zeros"`: start the decoder from zeros (no context vector; for attention-only models).

    Args:
        decoder_state_sizes: List of integers, the decoder's flat state sizes.
        mode: One of `"copy"`, `"sum"`, `"dense"`, `"zeros"`.
        bidirectional: Boolean, whether the inputs are forward states then backward states.
        activation: Activation of the `"dense"` projection (default None, linear).
        **kwargs: Base layer arguments.

    Call arguments:
        encoder_states: Flat list of `(batch, size)` tensors.

    Returns:
        Flat list of `(batch, size)` tensors, one per entry of `decoder_state_sizes`.

    Example:

    >>> bridge = StateBridge([16, 16], mode="dense", bidirectional=True)
    >>> states = bridge([np.ones((2, 8), "float32")] * 4)
    >>> [tuple(s.shape) for s in states]
    [(2, 16), (2, 16)]
    """

    def __init__(self, decoder_state_sizes, mode="copy", bidirectional=False, activation=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(decoder_state_sizes, (list, tuple)) or not all(
                isinstance(s, int) and s > 0 for s in decoder_state_sizes):
            raise ValueError(
                "Argument `decoder_state_sizes` must be a list of positive integers. "
                f"Received: decoder_state_sizes={decoder_state_sizes!r}")
        self.decoder_state_sizes = [int(s) for s in decoder_state_sizes]
        self.mode = check_choice("mode", mode, _MODES)
        self.bidirectional = bool(bidirectional)
        self.activation = keras.activations.get(activation)
        self.projection = None
        if self.mode == "dense":
            self.projection = keras.layers.Dense(
                sum(self.decoder_state_sizes), activation=self.activation,
                dtype=self.dtype_policy, name="projection")

    def build(self, encoder_states_shape):
        sizes = [shape[-1] for shape in encoder_states_shape]
        want = self.decoder_state_sizes
        if self.mode == "copy" and sizes != want:
            raise ValueError(
                f"StateBridge(mode='copy') needs encoder states of sizes {want} (the decoder's), "
                f"got {sizes}. Use mode='dense' to project, or match the sizes.")
        if self.mode == "sum":
            half = len(sizes) // 2 if self.bidirectional else len(sizes)
            fw, bw = sizes[:half], sizes[half:] if self.bidirectional else sizes
            if (self.bidirectional and len(sizes) % 2) or fw != want or (
                    self.bidirectional and bw != want):
                raise ValueError(
                    f"StateBridge(mode='sum') needs forward and backward encoder states of sizes "
                    f"{want}, got {sizes}. Use mode='dense' to project.")
        if self.projection is not None:
            self.projection.build((encoder_states_shape[0][0], sum(sizes)))
        self.built = True

    def call(self, encoder_states):
        encoder_states = list(encoder_states)
        if self.mode == "copy":
            return [ops.cast(s, self.compute_dtype) for s in encoder_states]
        if self.mode == "sum":
            if not self.bidirectional:
                return list(encoder_states)
            half = len(encoder_states) // 2
            return [f + b for f, b in zip(encoder_states[:half], encoder_states[half:])]
        batch = ops.shape(encoder_states[0])[0]
        if self.mode == "zeros":
            return [ops.zeros((batch, size), self.compute_dtype) for size in self.decoder_state_sizes]
        projected = self.projection(ops.concatenate(encoder_states, axis=-1))
        splits, total = [], 0
        for size in self.decoder_state_sizes[:-1]:
            total += size
            splits.append(total)
        return ops.split(projected, splits, axis=-1) if splits else [projected]

    def compute_output_spec(self, encoder_states):
        batch = encoder_states[0].shape[0]
        return [keras.KerasTensor((batch, size), dtype=self.compute_dtype)
                for size in self.decoder_state_sizes]

    def get_config(self):
        return {
            **super().get_config(),
            "decoder_state_sizes": self.decoder_state_sizes,
            "mode": self.mode,
            "bidirectional": self.bidirectional,
            "activation": keras.activations.serialize(self.activation),
        }
