"""The benchmark suite: `keras-s2s bench all --quick` writes every field; FLOP counts by hand.

The quick suite is run once, in-process, for the module (about a minute on 2 CPU cores);
timings are only checked to be positive finite numbers.
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_s2s import cli
from keras_s2s.bench.flops import dense_flops, recurrent_flops, training_flops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENTRY_FIELDS = {"name", "kind", "family", "baseline", "model_kwargs", "parameters",
                "compile_seconds", "seconds", "steps", "step_seconds", "target_tokens_per_step",
                "target_tokens_per_second", "loss", "best_step_seconds", "peak_rss_mib",
                "rss_increase_mib", "paired_baseline_best_step_seconds",
                "flops_per_step", "achieved_flops_per_second"}
POSITIVE = ("compile_seconds", "seconds", "step_seconds", "best_step_seconds",
            "target_tokens_per_second", "peak_rss_mib")


def positive(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("bench") / "quick.json")
    assert cli.main(["bench", "all", "--quick", "--json", path]) == 0
    with open(path) as f:
        return path, json.load(f)


@pytest.mark.extended  # a 70 s benchmark run: benchmarks stay out of make test's budget
def test_quick_suite_writes_every_field(suite):
    _, results = suite
    assert set(results) == {"command", "environment", "settings", "train", "decode", "cache",
                            "goals", "wall_seconds", "cpu_seconds"}
    assert results["command"].startswith("keras-s2s bench all --quick")
    assert {"backend", "keras", "tensorflow", "cpu_count", "machine", "date"} <= set(
        results["environment"])
    assert results["settings"]["mode"] == "quick"
    train = results["train"]
    assert set(train) == {"settings", "entries", "skipped", "efficiency_entries", "ratios",
                          "efficiency", "memory"}
    names = [r["name"] for r in train["entries"]]
    assert names[:3] == ["baseline_lstm", "baseline_attention", "baseline_bilstm_attention"]
    assert len(names) >= 4
    for row in train["entries"]:
        assert ENTRY_FIELDS <= set(row), ENTRY_FIELDS - set(row)
        assert all(positive(row[k]) for k in POSITIVE), row
        assert row["steps"] >= train["settings"]["min_steps"]
    assert "transformer_base" in train["skipped"]
    assert {r["name"] for r in train["ratios"]} >= {"vanilla_lstm / baseline_lstm"}
    for ratio in train["ratios"] + results["goals"]:
        assert positive(ratio["value"]) and positive(ratio["goal"])
        values = [ratio["value"], ratio.get("standalone_value", ratio["value"])]
        if ratio.get("at_most"):  # beam search's cost over greedy
            assert ratio["pass"] == (ratio["value"] <= ratio["goal"])
        else:  # a ratio's goal holds for the paired and the standalone ratio both
            assert ratio["pass"] == all(v >= ratio["goal"] for v in values)
    luong = next(r for r in train["ratios"] if r["numerator"] == "luong_lstm")
    assert luong["denominator"] == "baseline_attention"  # its encoder is one LSTM
    assert luong["standalone_value"] == pytest.approx(
        luong["baseline_step_seconds"] / luong["step_seconds"])
    assert {g["name"] for g in results["goals"]} >= {"beam 5 / greedy decoding time"}
    matmul = train["efficiency"]["matmul"]
    assert positive(matmul["flops_per_second"]) and matmul["flops"] == 2 * matmul["size"] ** 3
    assert matmul["flops_per_second"] == pytest.approx(matmul["flops"] / matmul["seconds"])
    efficiency = {e["name"]: e for e in train["efficiency"]["entries"]}
    assert "vanilla_lstm" in train["efficiency_entries"]
    lstm = efficiency["vanilla_lstm"]
    # the quick size, B=16, S=T=10, V=32, units 32, embedding 16: encoder and decoder LSTMs
    # 2·16·10·(4·32)·(16+32) each, the projection 2·16·10·32·32, 3x for the backward pass
    assert lstm["flops_per_step"] == 3 * (2 * 1_966_080 + 327_680)
    assert lstm["achieved_flops_per_second"] == pytest.approx(
        lstm["flops_per_step"] / lstm["best_step_seconds"])
    for entry in efficiency.values():  # a share of the matmul's FLOP/s: at most all of it
        assert entry["fraction_of_matmul"] == pytest.approx(
            entry["achieved_flops_per_second"] / matmul["flops_per_second"])
        assert 0 < entry["fraction_of_matmul"] <= 1, entry
    assert set(train["memory"]["entries"]) == set(names)
    assert positive(train["memory"]["process_peak_rss_mib"])
    assert {g["section"] for g in results["goals"]} == {"train", "decode", "cache"}
    decode, cache = results["decode"], results["cache"]
    for part in ("greedy", "beam", "tutorial_loop"):
        assert positive(decode[part]["tokens_per_second"])
    assert positive(decode["speedup_greedy_vs_tutorial"])
    # one source per call: the compiled decode emits what the keras.io loop emits
    assert decode["greedy_batch1"]["tokens"] == decode["tutorial_loop"]["tokens"] > 0
    per = decode["seconds_per_sequence"]
    assert decode["speedup_greedy_batch1_vs_tutorial"] == pytest.approx(
        per["tutorial_loop"] / per["greedy_batch1"])
    trained = decode["trained"]  # the same sources after the copy task's 5 quick steps
    assert trained["steps"] == 5 and np.isfinite(trained["loss"])
    assert trained["beam"]["cost_vs_greedy"] == pytest.approx(
        trained["beam"]["seconds"] / trained["greedy"]["seconds"])
    # greedy over each source beam-width times emits greedy's tokens that many times over
    # (the same outputs, repeated), and its ratio is its own time over greedy's
    for part in (decode, trained):
        rows, beam = part["greedy_beam_rows"], part["beam"]
        assert rows["rows_per_source"] == beam["beam_width"] == 5
        assert rows["tokens"] == 5 * part["greedy"]["tokens"]
        assert rows["cost_vs_greedy"] == pytest.approx(
            rows["seconds"] / part["greedy"]["seconds"])
    assert any(g["name"] == "beam 5 / greedy, after 5 steps on the copy task"
               for g in results["goals"])
    # the honest baseline (encoder run once) and the first one (whole model each step) both
    # emit the cached decode's tokens; re-running the encoder too can only cost more work
    assert positive(cache["speedup"]) and cache["identical_tokens"] is True
    assert cache["speedup_with_encoder_rerun"] == pytest.approx(
        cache["uncached_with_encoder"]["seconds"] / cache["cached"]["seconds"])


@pytest.mark.extended
def test_benchmarks_md_renders(suite, tmp_path):
    path, results = suite
    out = tmp_path / "BENCHMARKS.md"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_benchmarks_md.py"),
                           path, "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith("# Benchmarks")
    assert results["command"] in text
    for heading in ("## Goals", "## Training throughput", "## Hardware efficiency",
                    "## Decoding", "## Memory"):
        assert heading in text
    assert "`vanilla_lstm`" in text and "baseline_attention (plain Keras)" in text
    # the slow-period column: the paired baseline's best step over the baseline's own best
    best = {r["name"]: r["best_step_seconds"] for r in results["train"]["entries"]}
    ratio = results["train"]["ratios"][0]
    slowdown = ratio["baseline_best_step_seconds"] / best[ratio["denominator"]]
    row = next(line for line in text.splitlines()
               if line.startswith(f"| `{ratio['numerator']}` |"))
    assert "baseline alongside / alone |" in text and row.endswith(f"| {slowdown:.2f}× |")
    repeated = results["decode"]["greedy_beam_rows"]["cost_vs_greedy"]
    assert "each source 5 times (the beam's rows, nothing shared)" in text
    assert f"on its own, costs {repeated:.2f}×" in text


def test_flop_counter_against_hand_counts():
    # Dense 4 -> 5 at 2 x 3 positions: 2·(2·3)·4·5 multiply-adds.
    assert dense_flops(2, 3, 4, 5) == 240
    # LSTM, input 2, units 3, batch 1, 2 steps: per step x@W (2x12) and h@U (3x12).
    per_step = 2 * 1 * 2 * 12 + 2 * 1 * 3 * 12
    assert recurrent_flops(1, 2, 2, 3, "lstm") == 2 * per_step
    assert recurrent_flops(1, 2, 2, 3, "gru") == 2 * per_step * 3 // 4
    # vanilla_lstm, B=1, S=2, T=3, E=2, u=3, V=5: encoder 240 + decoder 360 + projection 90,
    # times 3 for forward and backward.
    assert training_flops("vanilla_lstm", 1, 2, 3, 5, units=3, embedding_dim=2) == 3 * 690
    # The attention baseline adds dot scores and context (2·T·S·u each) and tanh(W[c; h]).
    attention = 2 * 3 * 2 * 3 * 2 + 2 * 3 * 6 * 3
    assert training_flops("baseline_attention", 1, 2, 3, 5, units=3,
                          embedding_dim=2) == 3 * (690 + attention)
    # Over a bidirectional encoder (2 × 240), a dense bridge from the four states (12 → 6),
    # keys memory·W (2·2·6·3), scores (2·3·2·3), context (2·3·2·6), tanh(W[c; h]) (2·3·9·3).
    assert training_flops("baseline_bilstm_attention", 1, 2, 3, 5, units=3, embedding_dim=2) \
        == 3 * (480 + 144 + 360 + 72 + 36 + 72 + 162 + 90)
    assert training_flops("seq_vae_lstm", 1, 2, 3, 5, units=3, embedding_dim=2) is None


def test_flop_counter_reads_the_entry_arguments():
    # the cell, the direction and the mechanism come from what an entry's variant fixes (as
    # `bench` passes them), not from a list of names: local-m over a BiLSTM costs what
    # luong_bilstm costs, the monotonic RNNsearch GRU what bahdanau_gru costs
    size = dict(units=3, embedding_dim=2)
    luong = training_flops("luong_bilstm", 1, 2, 3, 5, **size)
    bilstm = dict(cell_type="lstm", bidirectional=True)
    assert training_flops("luong_local_m_bilstm", 1, 2, 3, 5, attention="luong_local",
                          local_mode="m", **bilstm, **size) == luong
    assert training_flops("luong_monotonic_bilstm", 1, 2, 3, 5, attention="luong_monotonic",
                          **bilstm, **size) == luong
    # local-p adds W_p (3×3) and v_p (3×1) at each of the 3 target steps
    assert training_flops("luong_local_p_bilstm", 1, 2, 3, 5, attention="luong_local",
                          local_mode="p", **bilstm, **size) == luong + 3 * (54 + 18)
    # location-sensitive: a query projection (3×3) at each of the 3 steps, and the filters,
    # 2 channels 7 wide into 3 at each of the 2 source positions and 3 steps
    assert training_flops("location_bilstm", 1, 2, 3, 5, attention="location", **bilstm,
                          **size) == luong + 3 * (54 + 2 * 3 * 2 * 3 * 2 * 7)
    assert training_flops("bahdanau_monotonic_gru", 1, 2, 3, 5, cell_type="gru",
                          bidirectional=True, attention="bahdanau_monotonic", **size) \
        == training_flops("bahdanau_gru", 1, 2, 3, 5, **size)
    assert training_flops("bahdanau_monotonic_gru", 1, 2, 3, 5, **size) \
        != training_flops("bahdanau_gru", 1, 2, 3, 5, **size)  # the name alone: LSTM, one way


def test_bench_rejects_unknown_entries():
    assert cli.main(["bench", "train", "--quick", "--models", "no_such_model"]) == 2


def test_the_full_suite_times_only_entries_it_can_feed():
    # the full run once stopped at `pointer_lstm`, whose inputs are coordinates, not ids
    from keras_s2s.bench.train import default_entries

    entries = default_entries()
    assert {"vanilla_lstm", "luong_bilstm", "t5_small", "pointer_generator"} <= set(entries)
    assert not {"pointer_lstm", "pointer_transformer", "transformer_base"} & set(entries)


def test_input_feeding_entries_are_paired_with_the_baseline_of_their_encoder():
    # the variants fix `bidirectional` (it is not in their defaults): the first full run with
    # the bidirectional baseline still paired every *_bilstm entry with the unidirectional one
    from keras_s2s.bench.train import ratio_goals

    pairs = {num: den for num, den, _ in ratio_goals(
        ["luong_lstm", "luong_bilstm", "luong_monotonic_bilstm", "bahdanau_bilstm"])}
    assert pairs == {"luong_lstm": "baseline_attention",
                     "luong_bilstm": "baseline_bilstm_attention",
                     "luong_monotonic_bilstm": "baseline_bilstm_attention"}


def test_copy_batch_targets_are_the_sources_then_eos():
    from keras_s2s.bench.decode import _copy_batch
    from keras_s2s.constants import BOS_ID, EOS_ID

    inputs, targets = _copy_batch(np.random.default_rng(0), 8, 20)
    ids, decoder_ids = inputs["encoder_token_ids"], inputs["decoder_token_ids"]
    for row in range(8):
        source = [int(i) for i in ids[row] if i]
        assert 6 <= len(source) <= 12
        assert targets[row].tolist() == source + [EOS_ID] + [0] * (12 - len(source))
        assert decoder_ids[row].tolist() == [BOS_ID] + targets[row, :-1].tolist()
