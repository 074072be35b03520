"""Stacked recurrent cells with optional residual connections (Wu et al., 2016)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_s2s")
class StackedCells(keras.layers.StackedRNNCells):
    """`keras.layers.StackedRNNCells` with optional residual connections between layers.

    With `residual=True`, every layer after the first whose input size equals its output size
    adds its input to its output (`x_{l+1} = cell_l(x_l) + x_l`), as in GNMT. Deep stacks of
    LSTMs train markedly better this way. The state structure is that of
    `StackedRNNCells`: one entry per cell, nested as each cell's `state_size`.

    Args:
        cells: List of RNN cell instances.
        residual: Boolean, whether to add residual connections.
        **kwargs: Base layer arguments.

    Call arguments:
        inputs: `(batch, features)`.
        states: List with one entry per cell.
        training: Python boolean, whether dropout is active.

    Returns:
        `(output, new_states)`.

    Example:

    >>> cells = StackedCells([keras.layers.LSTMCell(8) for _ in range(3)], residual=True)
    >>> keras.layers.RNN(cells)(np.zeros((2, 5, 8), "float32")).shape
    TensorShape([2, 8])

    Reference:
        - [Wu et al., 2016. Google's Neural Machine Translation System.](
          https://arxiv.org/abs/1609.08144)
    """

    def __init__(self, cells, residual=False, **kwargs):
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(f"Argument `cells` must be a non-empty list of RNN cells. Received: {cells!r}")
        super().__init__(cells, **kwargs)
        self.residual = bool(residual)

    def build(self, input_shape):
        super().build(input_shape)
        self._residual_from = []
        size = input_shape[-1]
        for index, cell in enumerate(self.cells):
            out = getattr(cell, "output_size", None) or keras.tree.flatten(cell.state_size)[0]
            self._residual_from.append(self.residual and index > 0 and size == out)
            size = out
        self.built = True

    def call(self, inputs, states, training=False):
        return self._run(inputs, states, training)

    def call_after_first(self, first_output, first_states, states, training=False):
        """Run the cells after the first, whose step was computed elsewhere.

        `AttentionDecoder` hoists the first cell's input projection out of its loop
        (`keras_s2s.layers._hoisting`) and steps that cell itself.

        Args:
            first_output: The first cell's output for this step.
            first_states: The first cell's new states.
            states: The stack's states (as in `call`); the first entry is not read.
            training: Python boolean.

        Returns:
            `(output, new_states)`, as `call` returns.
        """
        return self._run(None, states, training, first=(first_output, first_states))

    def _run(self, inputs, states, training, first=None):
        new_states = []
        x = inputs
        for index, (cell, cell_states) in enumerate(zip(self.cells, states)):
            is_list = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if is_list else [cell_states]
            if index == 0 and first is not None:
                y, cell_states = first[0], list(first[1])
            else:
                y, cell_states = cell(x, cell_states, training=training)
            if self._residual_from[index]:
                y = y + ops.cast(x, y.dtype)
            x = y
            new_states.append(cell_states if is_list or len(cell_states) != 1 else cell_states[0])
        return x, new_states

    def get_config(self):
        config = super().get_config()
        config["residual"] = self.residual
        return config
