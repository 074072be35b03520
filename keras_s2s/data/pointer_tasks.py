"""The built-in pointer tasks: `convex_hull`, `tsp` and `sort_numbers` as `Task`s.

Each wraps a generated problem of `keras_s2s.data.pointer_problems` (seeded, exact answers)
in the pointer text format of `keras_s2s.data.pointer_format`: a source lists the inputs
(`"x y; x y; ..."`), its reference the answer's positions (`"i j k"`). The three splits are
drawn with different seeds from the same distribution. Each task names the metrics of the
paper (`Task.metrics`) and the constraint its decodes use (`Task.decode_options`).
"""

import numpy as np

from keras_s2s.data import pointer_problems
from keras_s2s.data.pointer_format import format_points
from keras_s2s.data.task import Example, Task
from keras_s2s.data.tokenizers import CharTokenizer

# the characters of the pointer format (float32 values as NumPy prints them, positions)
_SOURCE_CHARACTERS = list("0123456789.-+e; ")
_TARGET_CHARACTERS = list("0123456789 ")


def _task(name, make, n, num_train, num_validation, num_test, seed, metrics, description,
          constraint):
    for label, value in (("num_train", num_train), ("num_validation", num_validation),
                         ("num_test", num_test)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"Argument `{label}` must be a positive int. Received: {value!r}")
    splits = {}
    # one seed per split (seed, seed + 1, seed + 2): independent draws of the same problem
    for offset, (split, size) in enumerate((("train", num_train), ("validation", num_validation),
                                           ("test", num_test))):
        problem = make(size, n, seed=seed + offset)
        splits[split] = [Example(format_points(points), " ".join(map(str, answer.tolist())))
                         for points, answer in zip(problem.inputs, problem.answers)]
    return Task(name, splits, CharTokenizer(_SOURCE_CHARACTERS),
                CharTokenizer(_TARGET_CHARACTERS), metrics=metrics, description=description,
                decode_options={"constraint": constraint})


def _convex_hull(n=10, num_train=100_000, num_validation=1000, num_test=1000, seed=0):
    """The planar convex hull (Vinyals et al., 2015): `n` points uniform in the unit square;
    the answer is the hull's vertices, counter-clockwise from the lowest index.

    Scored by exact match (any rotation of the same cycle) and area coverage; decoded with no
    repeated point.
    """
    return _task("convex_hull", pointer_problems.convex_hull, n, num_train, num_validation,
                 num_test, seed, ("hull_accuracy", "area_coverage", "sequence_accuracy"),
                 f"planar convex hull of {n} uniform points", "no_repeat")


def _tsp(n=10, num_train=100_000, num_validation=1000, num_test=1000, seed=0):
    """The planar travelling salesman problem: `n` cities uniform in the unit square; the
    answer is an optimal closed tour from city 0 (exhaustive search or Held–Karp).

    Scored by the mean tour length against the optimal one and the share of valid tours;
    decoded as a permutation (every city exactly once).
    """
    return _task("tsp", pointer_problems.tsp, n, num_train, num_validation, num_test, seed,
                 ("tour_length_ratio", "valid_tours", "tour_length", "optimal_tour_length",
                  "sequence_accuracy"),
                 f"optimal tours of {n} uniform cities", "permutation")


def _sort_numbers(n=10, num_train=20_000, num_validation=1000, num_test=1000, seed=0):
    """Sort `n` numbers uniform in [0, 1): the answer is their positions in ascending order.

    Scored by exact match; decoded as a permutation.
    """
    return _task("sort_numbers", pointer_problems.sort_numbers, n, num_train, num_validation,
                 num_test, seed, ("sequence_accuracy",), f"sort {n} uniform numbers",
                 "permutation")


TASKS = (_convex_hull, _tsp, _sort_numbers)
