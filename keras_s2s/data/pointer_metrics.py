"""The evaluation of pointer networks as in the paper (Vinyals, Fortunato and Jaitly, 2015):
exact match and area coverage for convex hulls, tour lengths and valid tours for the TSP, exact
match for sorting. Pure NumPy.

A predicted sequence is a list of ints (indices into the example's inputs) without padding or
an end token; a closing repetition of its first index (`[3, 0, 5, 3]`, the paper's data files
write cycles that way) is dropped before scoring.

Reference: [Vinyals et al., 2015](https://arxiv.org/abs/1506.03134).
"""

import numpy as np

def _cycle(sequence):
    seq = [int(i) for i in np.asarray(sequence).reshape(-1)]
    return seq[:-1] if len(seq) > 1 and seq[-1] == seq[0] else seq


def _paired(predicted, answers):
    if len(predicted) != len(answers):
        raise ValueError(f"{len(predicted)} predictions for {len(answers)} answers.")
    if len(answers) == 0:
        raise ValueError("Nothing to score: no answers.")


def _shoelace(xy):
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _orient(a, b, c):
    return np.sign((b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1])
                   - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0]))


def _within(a, b, c):  # c inside the bounding box of segment ab (used when collinear)
    return ((np.minimum(a[..., 0], b[..., 0]) <= c[..., 0])
            & (c[..., 0] <= np.maximum(a[..., 0], b[..., 0]))
            & (np.minimum(a[..., 1], b[..., 1]) <= c[..., 1])
            & (c[..., 1] <= np.maximum(a[..., 1], b[..., 1])))


def is_simple_polygon(points, indices):
    """Whether `points[indices]`, in that order, is a simple polygon.

    A simple polygon has at least 3 vertices, no repeated or out-of-range index, no
    zero-length edge, non-zero area, and edges that meet only where consecutive edges share
    their vertex (no crossing, touching or folding back).

    Args:
        points: Array-like `(n, 2)`.
        indices: A sequence of ints (a closing repetition of the first is dropped).

    Returns:
        A bool.

    Example:

    >>> square = [[0, 0], [1, 0], [1, 1], [0, 1]]
    >>> is_simple_polygon(square, [0, 1, 2, 3]), is_simple_polygon(square, [0, 2, 1, 3])
    (True, False)
    """
    pts = np.asarray(points, dtype=np.float64)
    cycle = _cycle(indices)
    k = len(cycle)
    if k < 3 or len(set(cycle)) != k or min(cycle) < 0 or max(cycle) >= len(pts):
        return False
    xy = pts[cycle]
    a, b = xy, np.roll(xy, -1, axis=0)  # edge e goes from a[e] to b[e]
    if np.any(np.all(a == b, axis=1)) or _shoelace(xy) == 0:
        return False
    # consecutive edges a->b, b->c fold back when c lies on the ray from b through a
    c = np.roll(xy, -2, axis=0)
    folds = (_orient(a, b, c) == 0) & (np.sum((a - b) * (c - b), axis=1) > 0)
    if np.any(folds):
        return False
    if k == 3:
        return True
    i, j = np.triu_indices(k, 2)
    keep = ~((i == 0) & (j == k - 1))  # the first and last edges are consecutive too
    p1, q1, p2, q2 = a[i[keep]], b[i[keep]], a[j[keep]], b[j[keep]]
    o1, o2 = _orient(p1, q1, p2), _orient(p1, q1, q2)
    o3, o4 = _orient(p2, q2, p1), _orient(p2, q2, q1)
    crossing = (o1 * o2 < 0) & (o3 * o4 < 0)
    touching = (((o1 == 0) & _within(p1, q1, p2)) | ((o2 == 0) & _within(p1, q1, q2))
                | ((o3 == 0) & _within(p2, q2, p1)) | ((o4 == 0) & _within(p2, q2, q1)))
    return not np.any(crossing | touching)


def hull_exact_match(predicted, answers):
    """The share of predicted hulls that are the true hull, the paper's accuracy.

    A prediction counts when it is the same counter-clockwise cycle as the answer, from any
    starting vertex (a cycle is the same polygon wherever it starts, so the paper's
    lowest-index start is a training convention, not a criterion). The clockwise order of the
    same vertices does not count: the convention asks for counter-clockwise.

    Args:
        predicted: A sequence of index sequences, one per example.
        answers: The true hulls (e.g. `PointerProblem.answers`).

    Returns:
        A float in [0, 1].

    Example:

    >>> hull_exact_match([[3, 5, 0, 1], [0, 5, 3, 1]], [[0, 1, 3, 5], [0, 1, 3, 5]])
    0.5
    """
    _paired(predicted, answers)
    hits = 0
    for guess, answer in zip(predicted, answers):
        guess, answer = _cycle(guess), [int(i) for i in answer]
        if len(guess) == len(answer) and answer[0] in guess:
            start = guess.index(answer[0])
            hits += guess[start:] + guess[:start] == answer
    return hits / len(answers)


def hull_area_coverage(points, predicted, answers):
    """The area of the predicted hulls over the true hulls' areas, the paper's "area".

    The vertices of a prediction are input points, so a simple polygon made of them lies inside
    the true hull and its area over the hull's area is at most 1 (either orientation counts
    for area). A prediction that is not a simple polygon (see `is_simple_polygon`: fewer than 3
    points, a repeated or out-of-range index, crossing edges) is invalid; the paper reports
    FAIL for a model whose predictions are not simple polygons in more than 1% of the cases.

    Args:
        points: The inputs, `(num_examples, n, 2)`, or a list of `(n_i, 2)` arrays.
        predicted: A sequence of index sequences, one per example.
        answers: The true hulls (e.g. `PointerProblem.answers`), each of non-zero area.

    Returns:
        A dict: `"area_coverage"`, the mean ratio over valid predictions (NaN when none is
        valid); `"area_coverage_all"`, the mean with invalid predictions counted as 0;
        `"invalid"`, the share of invalid predictions; `"fail"`, whether that share exceeds 1%.

    Example:

    >>> square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]]]
    >>> hull_area_coverage(square, [[0, 1, 4, 3]], [[0, 1, 2, 3]])["area_coverage"]
    0.5
    """
    _paired(predicted, answers)
    if len(points) != len(answers):
        raise ValueError(f"{len(points)} point sets for {len(answers)} answers.")
    ratios = []
    for xy, guess, answer in zip(points, predicted, answers):
        xy = np.asarray(xy, dtype=np.float64)
        true_area = abs(_shoelace(xy[np.asarray(answer, dtype=np.int64)]))
        if true_area == 0:
            raise ValueError(f"A true hull has zero area (indices {list(answer)}).")
        valid = is_simple_polygon(xy, guess)
        ratios.append(abs(_shoelace(xy[_cycle(guess)])) / true_area if valid else np.nan)
    ratios = np.array(ratios)
    invalid = float(np.isnan(ratios).mean())
    return {"area_coverage": float(np.nanmean(ratios)) if invalid < 1 else float("nan"),
            "area_coverage_all": float(np.nan_to_num(ratios).mean()),
            "invalid": invalid, "fail": invalid > 0.01}


def tour_length(points, tour):
    """The length of a closed tour: its edges, and back from the last city to the first.

    Args:
        points: Array-like `(n, 2)`.
        tour: A sequence of city indices.

    Returns:
        A float.

    Example:

    >>> tour_length([[0, 0], [3, 0], [3, 4]], [0, 1, 2])
    12.0
    """
    xy = np.asarray(points, dtype=np.float64)[np.asarray(tour, dtype=np.int64).reshape(-1)]
    return float(np.sqrt(((xy - np.roll(xy, -1, axis=0)) ** 2).sum(-1)).sum())


def tsp_scores(points, predicted, answers):
    """Average predicted and optimal tour lengths, as the paper's TSP table reports them.

    A predicted tour is valid when it visits every city exactly once (a closing return to the
    first city is allowed). Lengths are averaged over the valid tours only, and the optimal
    length over the same examples, so that their ratio compares like with like; read it with
    `"valid"`, since leaving out the hard instances flatters a model.

    Args:
        points: The inputs, `(num_examples, n, 2)`, or a list of `(n_i, 2)` arrays.
        predicted: A sequence of tours, one per example.
        answers: Optimal tours (e.g. `PointerProblem.answers`).

    Returns:
        A dict: `"predicted_length"` and `"optimal_length"` (means over the valid examples),
        `"ratio"` (the first over the second, 1.0 for optimal tours), `"valid"` (the share of
        valid tours). The means and the ratio are NaN when no tour is valid.

    Example:

    >>> square = [[[0, 0], [1, 0], [1, 1], [0, 1]]]
    >>> tsp_scores(square, [[0, 2, 1, 3]], [[0, 1, 2, 3]])["valid"]
    1.0
    """
    _paired(predicted, answers)
    if len(points) != len(answers):
        raise ValueError(f"{len(points)} point sets for {len(answers)} answers.")
    mine, best = [], []
    for xy, guess, answer in zip(points, predicted, answers):
        guess = _cycle(guess)
        if sorted(guess) == list(range(len(xy))):
            mine.append(tour_length(xy, guess))
            best.append(tour_length(xy, answer))
    if not mine:
        nan = float("nan")
        return {"predicted_length": nan, "optimal_length": nan, "ratio": nan, "valid": 0.0}
    return {"predicted_length": float(np.mean(mine)), "optimal_length": float(np.mean(best)),
            "ratio": float(np.mean(mine) / np.mean(best)), "valid": len(mine) / len(answers)}


def sort_exact_match(predicted, answers):
    """The share of predicted orders equal to the answers, index for index.

    Args:
        predicted: A sequence of index sequences, one per example.
        answers: The stable argsorts (e.g. `PointerProblem.answers`).

    Returns:
        A float in [0, 1].

    Example:

    >>> sort_exact_match([[2, 0, 1], [0, 1, 2]], [[2, 0, 1], [2, 0, 1]])
    0.5
    """
    _paired(predicted, answers)
    hits = sum(np.array_equal(np.asarray(g).reshape(-1), np.asarray(a).reshape(-1))
               for g, a in zip(predicted, answers))
    return hits / len(answers)
