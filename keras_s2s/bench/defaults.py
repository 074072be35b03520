"""Every default size and setting of the benchmarks, in one place.

`keras_s2s.bench.decode`, `keras_s2s.bench.train`, `keras_s2s.bench.suite` and `keras-s2s bench`
read their defaults from here; nothing else writes a benchmark size. Pure Python: the command
line imports it to build its parser before TensorFlow is loaded.
"""

# ---------------------------------------------------------------------------- decoding
# The synthetic vocabulary of the decoding benchmarks (and of the suite's tiny models).
VOCAB = 64

# `bench_decode` (and `keras-s2s bench decode`): batched compiled greedy and beam decoding
# against the keras.io-style loop.
# `trained_steps`: then trained that many steps on a copy task, and timed again.
DECODE = {"model_name": "luong_bilstm", "num_sources": 256, "tutorial_sources": 16,
          "vocab": VOCAB, "max_length": 30, "beam_width": 5, "batch_size": 256,
          "repeats": 7, "trained_steps": 300}

# `bench_cache` (and `keras-s2s bench cache`): cached against uncached Transformer greedy.
CACHE = {"model_name": "transformer_small", "batch_size": 32, "max_length": 64,
         "vocab": VOCAB, "repeats": 3}

# ---------------------------------------------------------------------------- training
# `bench_train`: one benchmark size for every entry, `TRAIN_FULL` or `TRAIN_QUICK` (smoke run).
TRAIN_FULL = {"batch_size": 64, "source_length": 24, "target_length": 24, "vocab": 64,
              "units": 128, "embedding_dim": 64, "hidden_dim": 128, "intermediate_dim": 512,
              "max_layers": 2, "min_steps": 10, "max_steps": 20, "min_seconds": 1.0,
              "matmul_size": 1024}
TRAIN_QUICK = {"batch_size": 16, "source_length": 10, "target_length": 10, "vocab": 32,
               "units": 32, "embedding_dim": 16, "hidden_dim": 32, "intermediate_dim": 64,
               "max_layers": 2, "min_steps": 3, "max_steps": 5, "min_seconds": 0.1,
               "matmul_size": 512}
# The plain-Keras encoder-decoders the zoo's recurrent entries are compared with: an LSTM
# encoder-decoder, and parallel attention after the decoder LSTM over an LSTM encoder or, for
# the entries with a bidirectional encoder, over the same bidirectional encoder.
BASELINES = ("baseline_lstm", "baseline_attention", "baseline_bilstm_attention")
# Entries the full suite leaves out, with the reason shown in its table.
SKIPPED = {"transformer_base": "left out of the default suite, to keep it near 10 minutes: its "
                               "6+6 layers would about double transformer_small's compile time "
                               "(about a minute on 2 CPU cores); --models transformer_base runs it"}
# What `--quick` trains (besides the baselines).
QUICK_ENTRIES = ("vanilla_lstm", "luong_lstm")
# The entries whose FLOP efficiency the suite's table shows.
EFFICIENCY_ENTRIES = ("vanilla_lstm", "luong_bilstm", "transformer_small")
# (numerator, denominator, goal) for training throughput ratios
RATIO_GOALS = [("vanilla_lstm", "baseline_lstm", 0.95), ("peephole_lstm", "baseline_lstm", 0.8),
               ("coupled_lstm", "baseline_lstm", 0.8)]
# The goal of an input-feeding Luong or Bahdanau entry against the parallel-attention baseline
# with its encoder (`baseline_attention`, or `baseline_bilstm_attention` when bidirectional).
ATTENTION_GOAL = 0.8

# ---------------------------------------------------------------------------- the suite
# The goals of the suite's decoding parts: batched greedy over the keras.io-style loop, and
# cached over uncached Transformer greedy.
DECODE_GOAL, CACHE_GOAL = 50.0, 5.0
# Beam search of width 5 may cost at most this many times greedy decoding (issue 21), and
# `luong_bilstm`'s training step should reach this share of the matmul peak.
BEAM_COST_GOAL, EFFICIENCY_GOAL = 3.0, 0.35
# `run_suite` and `keras-s2s bench ... --quick`: the decoding and cache settings of each mode;
# `model_kwargs` (quick) builds a tiny model of the entry with a `VOCAB`-token vocabulary.
SUITE_SETTINGS = {
    "full": {"decode": {"model_name": "luong_bilstm", "num_sources": 256, "tutorial_sources": 4,
                        "max_length": 30, "beam_width": 5, "batch_size": 256,
                        "repeats": 7, "trained_steps": 300},
             "cache": {"model_name": "transformer_small", "batch_size": 32, "max_length": 64,
                       "repeats": 2}},
    "quick": {"decode": {"model_name": "luong_lstm", "num_sources": 32, "tutorial_sources": 1,
                         "max_length": 10, "beam_width": 5, "batch_size": 32,
                         "repeats": 1, "trained_steps": 5,
                         "model_kwargs": {"units": 32, "embedding_dim": 16}},
              "cache": {"model_name": "transformer_tiny", "batch_size": 8, "max_length": 16,
                        "repeats": 1,
                        "model_kwargs": {"hidden_dim": 32, "intermediate_dim": 64,
                                         "num_encoder_layers": 1, "num_decoder_layers": 1}}},
}
# The training settings of each mode of the suite.
SUITE_TRAIN = {"full": TRAIN_FULL, "quick": TRAIN_QUICK}


def goal_text(goal):
    """`(value, goal)` of a goal row as text: a ratio (with the standalone medians' ratio
    beside the paired one where there is one) or a share.

    Example:

    >>> goal_text({"value": 0.812, "standalone_value": 0.79, "goal": 0.8})
    ('0.81× paired, 0.79× medians', '≥ 0.8×')
    """
    unit = goal.get("unit", "×")
    fmt = (lambda v: f"{100 * v:.1f}%") if unit == "%" else (lambda v: f"{v:,.2f}×")
    value = fmt(goal["value"])
    if goal.get("standalone_value") is not None:
        value += f" paired, {fmt(goal['standalone_value'])} medians"
    bound = (f"{100 * goal['goal']:g}%" if unit == "%" else f"{goal['goal']:g}×")
    return value, ("≤ " if goal.get("at_most") else "≥ ") + bound


def with_text(goal):
    """`goal` with `value_text` and `goal_text` added (what the pages print)."""
    goal["value_text"], goal["goal_text"] = goal_text(goal)
    return goal
