"""The pointer-network problems: exact answers against brute force, seeding, and the metrics."""

import doctest
import itertools
import math

import numpy as np
import pytest

from keras_s2s.data import pointer_metrics as pm
from keras_s2s.data import pointer_problems as pp
from keras_s2s.data.pointer_metrics import (
    hull_area_coverage,
    hull_exact_match,
    is_simple_polygon,
    sort_exact_match,
    tour_length,
    tsp_scores,
)
from keras_s2s.data.pointer_problems import convex_hull, hull_indices, sort_numbers, tsp, tsp_tours

SQUARE = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]], dtype=np.float32)


# ---------------------------------------------------------------------------------- references
def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _brute_hull(points):
    """O(n^3): i -> j is a counter-clockwise hull edge iff every other point is strictly left
    of it or on the open segment between them; the vertices are chained along those edges."""
    pts = [tuple(map(float, p)) for p in points]
    first = {}
    for i, p in enumerate(pts):  # equal coordinates: the lowest index stands for them all
        first.setdefault(p, i)
    ids = sorted(first.values())
    if len(ids) == 1:
        return ids
    edges = {}
    for i, j in itertools.permutations(ids, 2):
        def ok(k):
            c = _cross(pts[i], pts[j], pts[k])
            between = min(pts[i][0], pts[j][0]) <= pts[k][0] <= max(pts[i][0], pts[j][0]) and \
                min(pts[i][1], pts[j][1]) <= pts[k][1] <= max(pts[i][1], pts[j][1])
            return c > 0 or (c == 0 and between)
        if all(ok(k) for k in ids if k not in (i, j)):
            assert i not in edges, "two hull edges leave one vertex"
            edges[i] = j
    cycle = [min(edges)]
    while edges[cycle[-1]] != cycle[0]:
        cycle.append(edges[cycle[-1]])
    return cycle


def _signed_area(points, indices):
    xy = np.asarray(points, dtype=np.float64)[indices]
    return 0.5 * sum(_cross((0, 0), xy[i], xy[(i + 1) % len(xy)]) for i in range(len(xy)))


def _brute_tour(points):
    """Every permutation in pure Python; the canonical direction of the best tour."""
    xy = np.asarray(points, dtype=np.float64).tolist()
    n = len(xy)
    best, best_length = None, math.inf
    for rest in itertools.permutations(range(1, n)):
        tour = (0,) + rest
        length = sum(math.dist(xy[tour[i]], xy[tour[(i + 1) % n]]) for i in range(n))
        if length < best_length:
            best, best_length = list(tour), length
    if best[1] > best[-1]:
        best = [0] + best[1:][::-1]
    return best, best_length


# ---------------------------------------------------------------------------------- convex hull
def test_hull_matches_brute_force_on_random_and_grid_points():
    rng = np.random.default_rng(7)
    cases = [rng.random((n, 2)).astype(np.float32) for n in range(3, 16) for _ in range(20)]
    # small integer grids: many duplicates and collinear points, on edges and inside
    cases += [rng.integers(0, 4, (n, 2)).astype(np.float32)
              for n in range(3, 16) for _ in range(20)]
    for points in cases:
        hull = hull_indices(points)
        assert hull == _brute_hull(points), points.tolist()
        if len(hull) >= 3:
            assert _signed_area(points, hull) > 0  # counter-clockwise
        assert hull[0] == min(hull)


def test_hull_degenerate_cases():
    assert hull_indices([[0, 0], [0, 1], [1, 0]]) == [0, 2, 1]  # n = 3, given clockwise
    assert hull_indices([[0, 0], [1, 0], [0, 1]]) == [0, 1, 2]
    assert hull_indices([[0, 0], [2, 2], [1, 1]]) == [0, 1]  # collinear: the two ends
    assert hull_indices([[3, 3], [3, 3], [3, 3]]) == [0]  # one point, thrice
    # midpoints of the square's edges and a duplicate corner are not vertices
    square = [[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0], [1, 0.5], [0.5, 1], [0, 0.5], [1, 1]]
    assert hull_indices(square) == [0, 1, 2, 3]
    assert hull_indices([[1, 1], [1, 0], [0, 0], [1, 1], [0, 1]]) == [0, 4, 2, 1]
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        hull_indices(np.zeros((4, 3)))


def test_convex_hull_problem_shapes_and_answers():
    problem = convex_hull(num_examples=100, n=12, seed=3)
    assert problem.name == "convex_hull" and problem.n == 12 and len(problem) == 100
    assert problem.inputs.shape == (100, 12, 2) and problem.inputs.dtype == np.float32
    assert 0 <= problem.inputs.min() and problem.inputs.max() < 1
    for points, answer in zip(problem.inputs, problem.answers):
        assert answer.dtype == np.int64 and answer.tolist() == _brute_hull(points)
    with pytest.raises(ValueError, match="n must be an int >= 3"):
        convex_hull(num_examples=5, n=2)


# ---------------------------------------------------------------------------------- TSP
@pytest.mark.parametrize("n", [5, 6, 7, 8])
def test_held_karp_and_exhaustive_equal_brute_force(n):
    points = np.random.default_rng(n).random((3 if n == 8 else 6, n, 2), dtype=np.float32)
    held_karp = tsp_tours(points, method="held_karp")
    exhaustive = tsp_tours(points, method="exhaustive")
    for xy, a, b in zip(points, held_karp, exhaustive):
        tour, length = _brute_tour(xy)
        assert a.tolist() == tour and b.tolist() == tour
        assert tour_length(xy, a) == pytest.approx(length, rel=1e-12)


def test_held_karp_beyond_exhaustive_range_against_numpy_brute_force():
    points = np.random.default_rng(9).random((2, 9, 2), dtype=np.float32)
    rest = np.array(list(itertools.permutations(range(1, 9))))
    tours = np.concatenate([np.zeros((len(rest), 1), int), rest], axis=1)
    for xy, tour in zip(points, tsp_tours(points)):  # "auto" is Held–Karp at 9 cities
        xy = xy.astype(np.float64)
        lengths = np.linalg.norm(xy[tours] - xy[np.roll(tours, -1, axis=1)], axis=-1).sum(-1)
        assert tour_length(xy, tour) == pytest.approx(lengths.min(), rel=1e-12)


def test_tsp_problem_tours_start_at_zero_in_canonical_direction():
    problem = tsp(num_examples=40, n=10, seed=1)
    assert problem.inputs.shape == (40, 10, 2) and problem.inputs.dtype == np.float32
    for answer in problem.answers:
        assert sorted(answer.tolist()) == list(range(10))
        assert answer[0] == 0 and answer[1] < answer[-1]
    assert tsp_tours([[[0, 0], [1, 1], [0, 1], [1, 0]]]).tolist() == [[0, 2, 1, 3]]
    with pytest.raises(ValueError, match="up to 12 cities"):
        tsp(num_examples=1, n=13)
    with pytest.raises(ValueError, match="exhaustive"):
        tsp_tours(np.zeros((1, 9, 2)), method="exhaustive")


# ---------------------------------------------------------------------------------- sorting
def test_sort_numbers_is_stable_argsort():
    problem = sort_numbers(num_examples=50, n=20, seed=2)
    assert problem.inputs.shape == (50, 20, 1) and problem.inputs.dtype == np.float32
    assert 0 <= problem.inputs.min() and problem.inputs.max() < 1
    for values, answer in zip(problem.inputs[..., 0], problem.answers):
        assert answer.tolist() == np.argsort(values, kind="stable").tolist()
        assert np.all(np.diff(values[answer]) >= 0)


# ---------------------------------------------------------------------------------- seeding
@pytest.mark.parametrize("make, n", [(convex_hull, 10), (tsp, 6), (sort_numbers, 8)])
def test_same_seed_same_data_other_seed_other_data(make, n):
    a, b, c = make(20, n, seed=5), make(20, n, seed=5), make(20, n, seed=6)
    assert np.array_equal(a.inputs, b.inputs)
    assert all(np.array_equal(x, y) for x, y in zip(a.answers, b.answers))
    assert not np.array_equal(a.inputs, c.inputs)


# ---------------------------------------------------------------------------------- metrics
def test_hull_exact_match_accepts_rotations_not_reversal():
    answer = hull_indices(SQUARE)
    assert answer == [0, 1, 2, 3]
    predictions = {(2, 3, 0, 1): 1, (0, 1, 2, 3, 0): 1, (0, 3, 2, 1): 0, (0, 1, 2): 0,
                   (0, 1, 4, 3): 0, (0, 1, 2, 3, 4): 0}
    for guess, hit in predictions.items():
        assert hull_exact_match([guess], [answer]) == hit, guess
    assert hull_exact_match(list(predictions), [answer] * len(predictions)) == 2 / 6
    problem = convex_hull(30, 15, seed=0)
    assert hull_exact_match(problem.answers, problem.answers) == 1.0


def test_hull_area_coverage_and_invalid_polygons():
    answer = [0, 1, 2, 3]
    cases = {(0, 1, 2, 3): 1.0, (3, 2, 1, 0): 1.0, (0, 1, 4, 3): 0.5, (0, 1, 2): 0.5,
             (0, 2, 1, 3): None, (0, 1, 1, 2): None, (0, 1): None, (0, 1, 7): None,
             (0, 4, 2): None}  # a bow tie, a repeat, two points, out of range, collinear
    for guess, ratio in cases.items():
        scores = hull_area_coverage([SQUARE], [guess], [answer])
        if ratio is None:
            assert scores["invalid"] == 1.0 and scores["fail"], guess
            assert math.isnan(scores["area_coverage"]) and scores["area_coverage_all"] == 0
        else:
            assert scores["area_coverage"] == pytest.approx(ratio) and not scores["fail"], guess
    scores = hull_area_coverage([SQUARE] * 4, [[0, 1, 2, 3], [0, 1, 4, 3], [0, 2, 1, 3], [0, 1]],
                                [answer] * 4)
    assert scores == {"area_coverage": 0.75, "area_coverage_all": 0.375, "invalid": 0.5,
                      "fail": True}


def test_is_simple_polygon_touching_and_folding():
    pts = [[0, 0], [4, 0], [4, 4], [2, 0], [0, 4], [2, 1]]
    assert not is_simple_polygon(pts, [0, 1, 2, 3, 4])  # vertex 3 touches edge 0-1
    assert is_simple_polygon(pts, [0, 1, 2, 5, 4])  # the same shape, a dart: simple
    assert is_simple_polygon(pts, [0, 3, 1, 2])  # a straight angle at 3 is allowed
    assert not is_simple_polygon(pts, [0, 1, 3, 2])  # 1 -> 3 folds back along edge 0 -> 1


def test_tsp_scores_on_a_crossing_tour_and_invalid_tours():
    square = SQUARE[:4]
    assert tour_length([[0, 0], [3, 0], [3, 4]], [0, 1, 2]) == 12.0
    crossing = 2 + 2 * math.sqrt(2)
    scores = tsp_scores([square], [[0, 2, 1, 3]], [[0, 1, 2, 3]])
    assert scores["predicted_length"] == pytest.approx(crossing)
    assert scores["optimal_length"] == pytest.approx(4.0)
    assert scores["ratio"] == pytest.approx(crossing / 4) and scores["valid"] == 1.0
    # invalid tours (a repeat, a city missing) stay out of the averages; a closed tour is valid
    scores = tsp_scores([square] * 4, [[0, 1, 2, 3, 0], [0, 1, 1, 3], [0, 1, 2], [0, 2, 1, 3]],
                        [[0, 1, 2, 3]] * 4)
    assert scores["valid"] == 0.5 and scores["optimal_length"] == pytest.approx(4.0)
    assert scores["predicted_length"] == pytest.approx((4 + crossing) / 2)
    assert math.isnan(tsp_scores([square], [[0, 0, 0, 0]], [[0, 1, 2, 3]])["ratio"])
    problem = tsp(10, 7, seed=0)
    assert tsp_scores(problem.inputs, problem.answers, problem.answers)["ratio"] == 1.0
    with pytest.raises(ValueError, match="2 predictions for 1 answers"):
        tsp_scores([square], [[0, 1, 2, 3]] * 2, [[0, 1, 2, 3]])


def test_sort_exact_match():
    assert sort_exact_match([[2, 0, 1], [0, 1, 2]], [[2, 0, 1], [2, 0, 1]]) == 0.5
    problem = sort_numbers(10, 6, seed=0)
    assert sort_exact_match(problem.answers, problem.answers) == 1.0
    assert sort_exact_match([a[::-1] for a in problem.answers], problem.answers) == 0.0


def test_docstring_examples():
    for module, least in ((pp, 5), (pm, 5)):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted >= least and result.failed == 0, module.__name__
