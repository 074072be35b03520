"""The pointer kind: its data, inference graphs, searches over positions, fit, evaluate, CLI."""

import itertools
import json

import keras
import numpy as np
import pytest

from keras_s2s import kinds, zoo
from keras_s2s.cli import main
from keras_s2s.constants import BOS_ID, EOS_ID, NUM_SPECIAL_TOKENS
from keras_s2s.data import load_task, pointer_problems
from keras_s2s.data.pointer_metrics import tour_length
from keras_s2s.data.pointer_format import format_points, parse_points, parse_positions
from keras_s2s.decoding import decode
from keras_s2s.decoding.pointer import build_pointer_inference_models, decode_points
from keras_s2s.evaluation import evaluate
from keras_s2s.training.recipe import build_for_task, compile_model

KIND = kinds.get("pointer")
TINY = {"pointer_lstm": {"units": 8},
        "pointer_transformer": {"units": 8, "num_layers": 1, "num_heads": 2,
                                "intermediate_dim": 16}}


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _model(name="pointer_lstm", seed=0, point_dim=2):
    keras.utils.set_random_seed(seed)
    return zoo.build(name, point_dim=point_dim, **TINY[name])


# ------------------------------------------------------------------ the text format and tasks
def test_the_format_round_trips_float32_exactly_and_names_bad_input():
    points = np.random.default_rng(0).random((50, 2), dtype=np.float32)
    assert (parse_points(format_points(points)) == points).all()
    with pytest.raises(ValueError, match="not a number"):
        parse_points("0.1 x; 0.2 0.3")
    with pytest.raises(ValueError, match="different numbers of features"):
        parse_points("0.1 0.2; 0.3")
    with pytest.raises(ValueError, match="empty point"):
        parse_points("0.1 0.2;; 0.3 0.4")
    with pytest.raises(ValueError, match="not finite"):
        parse_points("0.1 inf")
    with pytest.raises(ValueError, match="position 3 is outside the source's 3 points"):
        parse_positions("0 3", 3)


def test_builtin_tasks_hold_the_generators_exact_answers():
    task = load_task("convex_hull", n=8, num_train=30, num_validation=5, num_test=5)
    for example in task.splits["train"]:
        points = parse_points(example.source)
        # recomputed from the parsed text: the text holds the points the answers belong to
        assert example.targets == (" ".join(map(str, pointer_problems.hull_indices(points))),)
    tsp = load_task("tsp", n=6, num_train=10, num_validation=3, num_test=3)
    for example in tsp.splits["test"]:
        points = parse_points(example.source)
        tour = [int(v) for v in example.targets[0].split()]
        best = min(tour_length(points, (0,) + p) for p in itertools.permutations(range(1, 6)))
        assert abs(tour_length(points, tour) - best) < 1e-6
    # the splits are drawn with different seeds
    train = {e.source for e in task.splits["train"]}
    assert not train & {e.source for e in task.splits["test"]}
    assert task.decode_options == {"constraint": "no_repeat"}
    assert tsp.decode_options == {"constraint": "permutation"}


def test_the_dataset_teaches_the_answers_slots():
    task = load_task("sort_numbers", n=4, num_train=10, num_validation=3, num_test=3)
    x, y = KIND.arrays(task, "train")
    example = task.splits["train"][0]
    answer = [int(v) for v in example.targets[0].split()]
    slots = [a + NUM_SPECIAL_TOKENS for a in answer]
    assert y[0].tolist() == slots + [EOS_ID]
    assert x["decoder_token_ids"][0].tolist() == [BOS_ID] + slots
    np.testing.assert_array_equal(x["points"][0], parse_points(example.source))
    batches = list(KIND.dataset(task, "train", 4))
    assert [b[1].shape[0] for b in batches] == [4, 4, 4]  # 10 rows padded to one shape
    assert sum(int((b[1][:, 0] != 0).numpy().sum()) for b in batches) == 10  # none dropped


# ------------------------------------------------------------------ graphs and searches
@pytest.mark.parametrize("name", sorted(TINY))
def test_stepping_the_inference_graphs_equals_the_full_model(name):
    model = _model(name)
    rng = np.random.default_rng(1)
    points = rng.random((3, 6, 2)).astype("float32")
    mask = np.array([[1] * 6, [1] * 4 + [0] * 2, [1] * 5 + [0]], "int32")
    fed = np.array([[BOS_ID, 5, 9, 4], [BOS_ID, 7, 4, 6], [BOS_ID, 8, 5, 3]], "int32")
    full = _np(model({"points": points, "point_mask": mask, "decoder_token_ids": fed}))
    encoder_model, decoder_model = build_pointer_inference_models(model)
    encoded = encoder_model({"points": points, "point_mask": mask})
    state = {"state_0": encoded["state_0"], "state_1": encoded["state_1"]}
    for t in range(fed.shape[1]):
        out = decoder_model({"decoder_token_ids": keras.ops.convert_to_tensor(fed[:, t:t + 1]), **state,
                             "slots": encoded["slots"], "memory": encoded["memory"],
                             "slot_mask": encoded["slot_mask"]})
        np.testing.assert_allclose(_np(out["logits"]), full[:, t], atol=1e-4)
        state = {"state_0": out["state_0"], "state_1": out["state_1"]}
    # padded inputs can never be chosen
    assert (full[1, :, NUM_SPECIAL_TOKENS + 4:] <= -1e8).all()


def _sequence_log_prob(model, points, slots, constraint):
    """log P of a slot sequence under the full model (teacher forced), with the constraint's
    forbidden slots removed from each step's softmax: the NumPy reference of the search."""
    fed = np.array([[BOS_ID] + slots[:-1]], "int32")
    logits = _np(model({"points": points[None], "point_mask": np.ones((1, len(points)), "int32"),
                        "decoder_token_ids": fed}))[0].astype("float64")
    total, taken = 0.0, set()
    for t, slot in enumerate(slots):
        row = logits[t].copy()
        if constraint is not None:
            for s in taken:
                row[s] = -np.inf
            if constraint == "permutation" and len(taken) < len(points):
                row[EOS_ID] = -np.inf
        row -= row.max()
        total += row[slot] - np.log(np.exp(row).sum())
        taken.add(slot)
    return total


@pytest.mark.parametrize("constraint", [None, "no_repeat", "permutation"])
def test_a_wide_beam_finds_the_best_position_sequence_by_exhaustive_search(constraint):
    model = _model(seed=3)
    points = np.random.default_rng(2).random((3, 2)).astype("float32")
    inputs = [NUM_SPECIAL_TOKENS + j for j in range(3)]
    max_length = 4
    candidates = []
    for length in range(1, max_length + 1):  # every sequence the search may return
        for body in itertools.product(inputs, repeat=length - 1):
            if constraint and len(set(body)) < len(body):
                continue
            if constraint == "permutation" and len(body) < 3:
                continue
            candidates.append(list(body) + [EOS_ID])
        if constraint is None and length == max_length:  # cut at the limit without </s>
            candidates += [list(b) for b in itertools.product(inputs + [EOS_ID], repeat=length)
                           if EOS_ID not in b]
    scored = [(_sequence_log_prob(model, points, c, constraint), c) for c in candidates]
    best_score, best = max(scored, key=lambda s: s[0])
    result = decode_points(model, points[None], "beam", beam_width=40, max_length=max_length,
                           constraint=constraint, jit=False, verbose=False)
    found = [int(s) for s in result.token_ids[0, 0, :result.lengths[0, 0]]]
    assert found == best
    np.testing.assert_allclose(result.log_probs[0, 0], best_score, atol=1e-4)


def test_constraints_give_valid_outputs_for_an_untrained_model():
    model = _model(seed=5)
    points = np.random.default_rng(4).random((16, 7, 2)).astype("float32")
    for method in ("greedy", "beam"):
        perm = decode_points(model, points, method, constraint="permutation", jit=False,
                             verbose=False)
        assert all(sorted(map(int, t[0].split())) == list(range(7)) for t in perm.texts)
        once = decode_points(model, points, method, constraint="no_repeat", jit=False,
                             verbose=False, max_length=12)
        for rows in once.texts:
            chosen = rows[0].split()
            assert len(chosen) == len(set(chosen))
    free = decode_points(model, points, "greedy", constraint=None, max_length=12, jit=False,
                         verbose=False)
    # the free search may repeat: the constraint is what made the others valid
    assert any(len(set(t[0].split())) < len(t[0].split()) for t in free.texts)


def test_decode_hands_pointer_models_to_the_pointer_search_and_refuses_what_does_not_apply():
    model = _model(point_dim=1)
    result = decode(model, ["0.3; 0.1; 0.2", "0.5; 0.7"], "beam", beam_width=3,
                    return_alignments=True, jit=False, verbose=False)
    assert result.alignments.shape[-1] == 3 and len(result.texts) == 2
    # the alignments are the pointer distributions over the inputs (</s> takes the rest)
    first = _np(model({"points": parse_points("0.3; 0.1; 0.2")[None],
                       "point_mask": np.ones((1, 3), "int32"),
                       "decoder_token_ids": np.array([[BOS_ID]])}))[0, 0].astype("float64")
    expected = np.exp(first - first.max()) / np.exp(first - first.max()).sum()
    np.testing.assert_allclose(result.alignments[0, 0, 0], expected[NUM_SPECIAL_TOKENS:],
                               atol=1e-5)
    with pytest.raises(ValueError, match="greedy' or 'beam'"):
        decode(model, ["0.3; 0.1"], "sample")
    with pytest.raises(ValueError, match="2 features per point; model .pointer_lstm. reads 1"):
        decode(model, ["0.3 0.2; 0.1 0.4"])


# ------------------------------------------------------------------ learning, evaluate, CLI
@pytest.mark.slow
def test_a_pointer_network_learns_to_sort_and_evaluates_by_exact_match():
    task = load_task("sort_numbers", n=5, num_train=3000, num_validation=200, num_test=200)
    keras.utils.set_random_seed(0)
    model = compile_model(build_for_task("pointer_lstm", task, units=32), learning_rate=1e-2,
                          label_smoothing=0.1, jit=False)
    history = model.fit(KIND.dataset(task, "train", 64), epochs=4, verbose=0)
    # chance: 6 slots (5 inputs and </s>), a uniform pointer's loss is log 6 = 1.79
    assert history.history["loss"][-1] < 0.5 * np.log(6), history.history["loss"]
    scores, details = evaluate(model, task, "test", verbose=False, jit=False)
    # exact match of all 5 positions; a random permutation is right 1 time in 120
    assert scores["sequence_accuracy"] > 0.5, scores
    numbers = [parse_points(s)[:, 0] for s in details["sources"]]
    right = [np.all(np.diff(x[[int(v) for v in h.split()]]) >= 0)
             for x, h in zip(numbers, details["hypotheses"])]
    np.testing.assert_allclose(np.mean(right), scores["sequence_accuracy"], atol=1e-9)


def _pointer_tsv(path, n_examples, seed):
    problem = pointer_problems.sort_numbers(n_examples, 4, seed=seed)
    lines = [f"{format_points(x)}\t{' '.join(map(str, a.tolist()))}"
             for x, a in zip(problem.inputs, problem.answers)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.slow
def test_the_cli_trains_evaluates_and_decodes_a_pointer_model_on_a_tsv(tmp_path, capsys):
    train = _pointer_tsv(tmp_path / "train.tsv", 1500, 0)
    validation = _pointer_tsv(tmp_path / "validation.tsv", 100, 1)
    run = str(tmp_path / "run")
    assert main(["train", "pointer_lstm", "--train", train, "--validation", validation,
                 "--out", run, "--epochs", "3", "--units", "32", "--learning-rate", "0.01",
                 "--no-jit"]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["kind"] == "pointer"
    capsys.readouterr()
    assert main(["evaluate", run, "--test", validation, "--json",
                 str(tmp_path / "scores.json"), "--no-jit"]) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["sequence_accuracy"] > 0.3, scores  # a random order is right 1 in 24
    sources = tmp_path / "sources.txt"
    sources.write_text("0.9; 0.1; 0.5\n0.2; 0.8\n")
    capsys.readouterr()
    assert main(["decode", run, "--input", str(sources), "--beam", "2", "--no-jit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(set(line.split()) <= {"0", "1", "2"} for line in lines)
    assert main(["decode", run, "--input", str(sources), "--sample", "--no-jit"]) == 2
    assert "'greedy' or 'beam'" in capsys.readouterr().err
    png = str(tmp_path / "pointing.png")
    sources.write_text("0.9; 0.1; 0.5\n")
    assert main(["decode", run, "--input", str(sources), "--attention", png, "--no-jit"]) == 0
    with open(png, "rb") as f:
        assert f.read(4) == b"\x89PNG"


def test_tensorboard_shows_the_pointer_distributions_and_sample_decodes(tmp_path):
    task = load_task("sort_numbers", n=4, num_train=64, num_validation=4, num_test=4)
    model = compile_model(build_for_task("pointer_lstm", task, units=8), jit=False)
    callbacks = KIND.inspection_callbacks(task, str(tmp_path / "logs"), num_examples=2)
    model.fit(KIND.dataset(task, "train", 32), epochs=1, verbose=0, callbacks=callbacks)
    samples, images = callbacks
    rows = samples.last_table.splitlines()[2:]
    assert len(rows) == 2 and all(len(r.split("|")[3].split()) == 4 for r in rows)  # positions
    png = images.render(task.splits["validation"][0].source, [5, 4, 6, 7, 3], 5,
                        np.full((5, 4), 0.25), path=str(tmp_path / "p.png"))
    assert png[:4] == b"\x89PNG"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "logs" / "samples"))
    events.Reload()
    images_logged = [t for t in events.Tags()["tensors"] if t.startswith("attention/")]
    assert len(images_logged) == 2  # one pointer-distribution image per example
