"""PNG plots of what people would rather look at: attention maps and curves (matplotlib figures
on their own Agg canvas: the global backend is never touched)."""

import io


class _Figures:
    """`plt.subplots` without pyplot: figures drawn on their own Agg canvas, so that plotting
    never switches the global backend (in Jupyter that would silence every later
    `plt.show()`) and needs no display."""

    @staticmethod
    def subplots(figsize, dpi=100):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(fig)
        return fig, fig.add_subplot()

    @staticmethod
    def close(fig):
        pass  # not registered with pyplot: garbage collection frees it


def _pyplot():
    return _Figures


def _png(plt, fig, path=None):
    """Render a figure to PNG bytes, close it, and write it to `path` if given."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    png = buffer.getvalue()
    if path:
        with open(path, "wb") as f:
            f.write(png)
    return png


def plot_attention(alignment, source_tokens, output_tokens, title=None, path=None):
    """Draw an attention heatmap: output tokens down the side, source tokens along the top.

    Args:
        alignment: `(output_len, source_len)` weights (rows may be longer; they are cut to the
            token lists).
        source_tokens: Labels of the source positions.
        output_tokens: Labels of the output steps.
        title: Optional title.
        path: Optional file to write the PNG to.

    Returns:
        The PNG as bytes.

    Example:

    >>> png = plot_attention(np.eye(3), ["a", "b", "c"], ["x", "y", "z"])
    >>> png[:4]
    b'\\x89PNG'
    """
    import numpy as np

    plt = _pyplot()
    weights = np.asarray(alignment)[:len(output_tokens), :len(source_tokens)]
    fig, ax = plt.subplots(figsize=(0.45 * max(len(source_tokens), 4) + 1.5,
                                    0.4 * max(len(output_tokens), 4) + 1.2), dpi=100)
    ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source_tokens)), labels=source_tokens, rotation=90)
    ax.set_yticks(range(len(output_tokens)), labels=output_tokens)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title)
    return _png(plt, fig, path)


def plot_curves(curves, xlabel, ylabel, title=None, path=None):
    """Line plot of named curves `{label: (xs, ys)}`; returns PNG bytes (and writes `path`)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for label, (xs, ys) in curves.items():
        ax.plot(xs, ys, marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _png(plt, fig, path)
