"""The generated problems of pointer networks (Vinyals, Fortunato and Jaitly, 2015), exactly solved.

Three problems whose answers are indices into the input: the planar convex hull, the planar
travelling salesman problem (TSP) and sorting numbers. Inputs are drawn uniformly in the unit
square (or interval) with a seeded `np.random.default_rng`; answers are exact (monotone chain,
exhaustive search or Held–Karp, stable argsort). The paper's evaluation functions are
in `keras_s2s.data.pointer_metrics`.

Pure NumPy: no TensorFlow and no Keras, so the data can be made and scored anywhere.

Reference: [Vinyals et al., 2015](https://arxiv.org/abs/1506.03134).
"""

import dataclasses
import itertools

import numpy as np

MAX_TSP_CITIES = 12  # Held–Karp: about 2 ms an instance at 12 cities (measured), x2.5 a city
EXHAUSTIVE_MAX_CITIES = 8  # (n - 1)! / 2 = 2,520 tours at 8 cities
_CHUNK_BYTES = 2**20  # a solver chunk's largest temporary; 1 MB stays in cache (measured:
# Held–Karp at 10 cities 0.3 ms an instance with 1 MB chunks, 0.7 ms with 32 MB)


@dataclasses.dataclass(frozen=True)
class PointerProblem:
    """A generated pointer-network data set: inputs and their exact answers.

    Attributes:
        name: `"convex_hull"`, `"tsp"` or `"sort_numbers"`.
        inputs: float32 array `(num_examples, n, d)`: points (`d = 2`) or numbers (`d = 1`).
        answers: One int64 array per example: indices into that example's `n` inputs. Hull
            answers vary in length; TSP and sorting answers have length `n`.
        n: The number of inputs of every example.

    Example:

    >>> problem = sort_numbers(num_examples=3, n=4, seed=0)
    >>> problem.inputs.shape, len(problem)
    ((3, 4, 1), 3)
    """

    name: str
    inputs: np.ndarray
    answers: list
    n: int

    def __len__(self):
        return len(self.answers)


def _uniform(num_examples, n, dims, seed, min_n):
    for label, value, least in (("num_examples", num_examples, 0), ("n", n, min_n)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{label} must be an int >= {least}, got {value!r}.")
    # float32 draws lie on the 2**-24 grid, in [0, 1): the orientation tests below are then
    # exact in float64 (differences are exact, products fit in 48 bits).
    return np.random.default_rng(seed).random((num_examples, n, dims), dtype=np.float32)


# ---------------------------------------------------------------------------------- convex hull
def hull_indices(points):
    """The convex hull of one point set, by Andrew's monotone chain.

    Only true vertices are returned: points on a hull edge (collinear) are left out, and of
    points with equal coordinates only the lowest index can be a vertex. The order is
    counter-clockwise, starting from the lowest index among the vertices. Degenerate sets give
    fewer than 3 indices: the two ends of a segment when every point is on one line, one index
    when every point is the same.

    Args:
        points: Array-like `(n, 2)`, `n >= 1`.

    Returns:
        A list of ints.

    Example:

    >>> hull_indices([[0, 0], [1, 0], [0.5, 0.2], [1, 1], [0.5, 1], [0, 1]])
    [0, 1, 3, 5]
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
        raise ValueError(f"points must have shape (n, 2) with n >= 1, got {pts.shape}.")
    order = np.lexsort((np.arange(len(pts)), pts[:, 1], pts[:, 0]))  # by x, y, then index
    xs, ys = pts[:, 0].tolist(), pts[:, 1].tolist()
    unique = [int(order[0])]
    for i in order[1:].tolist():  # equal coordinates are adjacent; keep the lowest index
        if xs[i] != xs[unique[-1]] or ys[i] != ys[unique[-1]]:
            unique.append(i)
    if len(unique) < 3:
        return sorted(unique)

    def chain(sequence):
        kept = []
        for c in sequence:
            while len(kept) >= 2:
                a, b = kept[-2], kept[-1]
                cross = (xs[b] - xs[a]) * (ys[c] - ys[a]) - (ys[b] - ys[a]) * (xs[c] - xs[a])
                if cross > 0:  # a left turn: b stays; 0 (collinear) drops b
                    break
                kept.pop()
            kept.append(c)
        return kept

    hull = chain(unique)[:-1] + chain(unique[::-1])[:-1]
    start = hull.index(min(hull))
    return hull[start:] + hull[:start]


def convex_hull(num_examples, n, seed=0):
    """The convex hull problem: points uniform in the unit square, answers their hulls.

    Args:
        num_examples: How many point sets.
        n: Points per set, `n >= 3`.
        seed: Seed of `np.random.default_rng`; the same seed gives the same data.

    Returns:
        A `PointerProblem` named `"convex_hull"`: inputs `(num_examples, n, 2)` float32, each
        answer the hull's vertices (see `hull_indices`): counter-clockwise from the lowest index.

    Example:

    >>> problem = convex_hull(num_examples=2, n=10, seed=0)
    >>> problem.inputs.shape, int(problem.answers[0][0]) == int(problem.answers[0].min())
    ((2, 10, 2), True)
    """
    inputs = _uniform(num_examples, n, 2, seed, min_n=3)
    answers = [np.asarray(hull_indices(p), dtype=np.int64) for p in inputs]
    return PointerProblem("convex_hull", inputs, answers, n)


# ---------------------------------------------------------------------------------- TSP
def _distances(points):
    p = np.asarray(points, dtype=np.float64)
    return np.sqrt(((p[:, :, None, :] - p[:, None, :, :]) ** 2).sum(-1))  # (batch, n, n)


def _chunks(batch, bytes_per_instance):
    size = max(1, _CHUNK_BYTES // max(1, bytes_per_instance))
    return [slice(i, i + size) for i in range(0, batch, size)]


def _exhaustive(dist):
    n = dist.shape[1]
    rest = np.array(list(itertools.permutations(range(1, n))), dtype=np.int64).reshape(-1, n - 1)
    rest = rest[rest[:, 0] < rest[:, -1]]  # one direction of each cycle: the canonical one
    tours = np.concatenate([np.zeros((len(rest), 1), np.int64), rest], axis=1)  # (P, n)
    following = np.roll(tours, -1, axis=1)
    best = np.empty(len(dist), dtype=np.int64)
    for part in _chunks(len(dist), tours.size * 8):
        lengths = dist[part][:, tours, following].sum(-1)  # (chunk, P)
        best[part] = lengths.argmin(-1)
    return tours[best]


def _held_karp(dist):
    # dp[b, S, j]: the shortest path from city 0 through the set S of cities 1..n-1 (bit j-1
    # for city j), ending at city j + 1. Vectorised over instances and over every (S, j) with
    # j in S for the subsets of one size; `parent` keeps the city before j, for the tour.
    batch, n = dist.shape[:2]
    m = n - 1
    full = (1 << m) - 1
    subsets = np.arange(1 << m)
    member = (subsets[:, None] >> np.arange(m)) & 1  # (2**m, m)
    sizes = member.sum(1)
    layers = []  # per size: the (S, j) pairs with j in S, and S without j
    for size in range(2, m + 1):
        s, j = np.nonzero(member * (sizes == size)[:, None])
        layers.append((s, j, s ^ (1 << j)))
    widest = max(len(s) for s, _, _ in layers)
    tours = np.zeros((batch, n), dtype=np.int64)
    for part in _chunks(batch, widest * m * 8 * 3):
        d = dist[part]
        b = len(d)
        into = d[:, 1:, 1:].transpose(0, 2, 1)  # (b, j, k): from city k+1 to city j+1
        dp = np.full((b, 1 << m, m), np.inf)
        parent = np.zeros((b, 1 << m, m), dtype=np.int8)
        dp[:, 1 << np.arange(m), np.arange(m)] = d[:, 0, 1:]
        for s, j, previous in layers:
            candidates = dp[:, previous, :] + into[:, j, :]  # (b, pairs, k)
            best_k = candidates.argmin(-1)
            dp[:, s, j] = np.take_along_axis(candidates, best_k[..., None], -1)[..., 0]
            parent[:, s, j] = best_k
        rows = np.arange(b)
        last = (dp[:, full, :] + d[:, 1:, 0]).argmin(-1)
        subset = np.full(b, full)
        for position in range(m, 0, -1):
            tours[part][:, position] = last + 1
            before = parent[rows, subset, last].astype(np.int64)
            subset = subset ^ (1 << last)
            last = before
    flip = tours[:, 1] > tours[:, -1]
    tours[flip, 1:] = tours[flip, 1:][:, ::-1]
    return tours


def tsp_tours(points, method="auto"):
    """Optimal closed Euclidean tours of a batch of city sets, solved exactly.

    Every tour starts at city 0 and runs in the canonical direction: its second city is the
    smaller of city 0's two neighbours.

    Args:
        points: Array-like `(batch, n, 2)`, `2 <= n <= MAX_TSP_CITIES` (12).
        method: `"exhaustive"` (every tour, `n <= 8`), `"held_karp"` (bitmask dynamic
            programming), or `"auto"`: exhaustive up to 8 cities, Held–Karp above.

    Returns:
        int64 array `(batch, n)`.

    Example:

    >>> tsp_tours([[[0, 0], [1, 1], [0, 1], [1, 0]]]).tolist()
    [[0, 2, 1, 3]]
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 3 or points.shape[2] != 2 or not 2 <= points.shape[1] <= MAX_TSP_CITIES:
        raise ValueError(f"points must have shape (batch, n, 2) with 2 <= n <= "
                         f"{MAX_TSP_CITIES}, got {points.shape}.")
    n = points.shape[1]
    if method == "auto":
        method = "exhaustive" if n <= EXHAUSTIVE_MAX_CITIES else "held_karp"
    if method == "exhaustive" and n > EXHAUSTIVE_MAX_CITIES:
        raise ValueError(f"method='exhaustive' takes up to {EXHAUSTIVE_MAX_CITIES} cities, "
                         f"got {n}; use 'held_karp'.")
    if method not in ("exhaustive", "held_karp"):
        raise ValueError(f"method must be 'auto', 'exhaustive' or 'held_karp', got {method!r}.")
    if n == 2 or len(points) == 0:
        return np.tile(np.arange(n, dtype=np.int64), (len(points), 1))
    dist = _distances(points)
    return _exhaustive(dist) if method == "exhaustive" else _held_karp(dist)


def tsp(num_examples, n, seed=0):
    """The planar TSP: cities uniform in the unit square, answers their optimal tours.

    Args:
        num_examples: How many city sets.
        n: Cities per set, `3 <= n <= 12` (exhaustive search up to 8, Held–Karp above).
        seed: Seed of `np.random.default_rng`.

    Returns:
        A `PointerProblem` named `"tsp"`: inputs `(num_examples, n, 2)` float32, each answer
        an optimal closed tour of length `n` from city 0, in the canonical direction (see
        `tsp_tours`).

    Example:

    >>> problem = tsp(num_examples=2, n=6, seed=0)
    >>> int(problem.answers[0][0]), sorted(problem.answers[0].tolist()) == list(range(6))
    (0, True)
    """
    if isinstance(n, (int, np.integer)) and n > MAX_TSP_CITIES:
        raise ValueError(f"tsp solves up to {MAX_TSP_CITIES} cities exactly, got n={n}.")
    inputs = _uniform(num_examples, n, 2, seed, min_n=3)
    return PointerProblem("tsp", inputs, list(tsp_tours(inputs)), n)


# ---------------------------------------------------------------------------------- sorting
def sort_numbers(num_examples, n, seed=0):
    """Sorting: numbers uniform in [0, 1), answers the indices in ascending order (stable).

    Args:
        num_examples: How many sequences.
        n: Numbers per sequence, `n >= 1`.
        seed: Seed of `np.random.default_rng`.

    Returns:
        A `PointerProblem` named `"sort_numbers"`: inputs `(num_examples, n, 1)` float32,
        answers `np.argsort(kind="stable")` of each sequence.

    Example:

    >>> problem = sort_numbers(num_examples=1, n=5, seed=0)
    >>> bool(np.all(np.diff(problem.inputs[0, problem.answers[0], 0]) >= 0))
    True
    """
    inputs = _uniform(num_examples, n, 1, seed, min_n=1)
    return PointerProblem("sort_numbers", inputs,
                          list(np.argsort(inputs[..., 0], axis=1, kind="stable")), n)
