"""The text format of pointer-network data: sources `"x y; x y; ..."`, targets `"i j k"`.

One input per `;`-separated group, its features separated by spaces (2-D points, or one number
for sorting); a target lists 0-based positions in its source. This is what `keras-s2s train`
reads from a TSV for a pointer model, and how the built-in pointer tasks (`convex_hull`,
`tsp`, `sort_numbers`) store their examples. Pure NumPy.

Example:

>>> parse_points(format_points(np.array([[0.5, 0.25]], "float32"))).tolist()
[[0.5, 0.25]]
"""

import numpy as np


def parse_points(text, line=None):
    """One source of the pointer format: `"x y; x y; ..."` (one input per `;`-separated
    group, its features separated by spaces) as a float32 array `(n, d)`.

    Args:
        text: The source string.
        line: Where it came from, for the error message.

    Raises:
        ValueError: naming the problem and the expected format.

    Example:

    >>> parse_points("0.5 0.25; 1 0").tolist()
    [[0.5, 0.25], [1.0, 0.0]]
    """
    where = f" ({line})" if line else ""
    groups = [g.split() for g in text.split(";")]
    if not groups or any(not g for g in groups):
        raise ValueError(f"empty point in {text[:60]!r}{where}; pointer sources are "
                         "'x y; x y; ...': numbers separated by spaces, points by ';'")
    if len({len(g) for g in groups}) != 1:
        raise ValueError(f"points with different numbers of features in {text[:60]!r}{where}; "
                         "every point needs as many numbers")
    try:
        points = np.array([[float(v) for v in g] for g in groups], "float32")
    except ValueError:
        raise ValueError(f"not a number in {text[:60]!r}{where}; pointer sources are "
                         "'x y; x y; ...'") from None
    if not np.isfinite(points).all():
        raise ValueError(f"a point that is not finite in {text[:60]!r}{where}")
    return points


def format_points(points):
    """The pointer format of one input array `(n, d)`: `"x y; x y; ..."`, each float32 value
    written so that it parses back exactly.

    Example:

    >>> format_points(np.array([[0.5, 0.25], [1, 0]], "float32"))
    '0.5 0.25; 1.0 0.0'
    """
    return "; ".join(" ".join(str(v) for v in row) for row in np.asarray(points, "float32"))


def parse_positions(text, n, line=None):
    """A target of the pointer format, `"i j k"` (0-based input positions), checked against
    the `n` inputs of its source.

    Example:

    >>> parse_positions("2 0 1", 3)
    [2, 0, 1]
    """
    where = f" ({line})" if line else ""
    try:
        positions = [int(v) for v in text.split()]
    except ValueError:
        raise ValueError(f"pointer targets are input positions '0 3 1 ...', got "
                         f"{text[:60]!r}{where}") from None
    bad = [p for p in positions if not 0 <= p < n]
    if bad:
        raise ValueError(f"position {bad[0]} is outside the source's {n} points (0 to {n - 1})"
                         f" in {text[:60]!r}{where}")
    return positions


def pad_points(sources):
    """Parsed sources (arrays `(n_i, d)`) as `(points (batch, n, d), mask (batch, n))`."""
    dims = {p.shape[1] for p in sources}
    if len(dims) > 1:
        raise ValueError(f"sources with {sorted(dims)} features per point; every source needs "
                         "the same number")
    width = max(len(p) for p in sources)
    points = np.zeros((len(sources), width, dims.pop()), "float32")
    mask = np.zeros((len(sources), width), "int32")
    for i, p in enumerate(sources):
        points[i, :len(p)], mask[i, :len(p)] = p, 1
    return points, mask
