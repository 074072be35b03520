"""Write zoo/BENCHMARKS.md from the JSON of `keras-s2s bench all --json FILE`.

Usage: python scripts/make_benchmarks_md.py zoo/benchmarks.json [--out zoo/BENCHMARKS.md]

Every number in the page comes from the JSON; this script measures nothing and imports
neither Keras nor keras_s2s.
"""

import argparse
import json
import os
import sys


def _goal_text(goal):
    """The value and goal of a goal row as the suite wrote them (older JSON: a plain ratio)."""
    if "value_text" in goal:
        return goal["value_text"], goal["goal_text"]
    return f"{goal['value']:,.2f}×", f"≥ {goal['goal']:g}×"


def _num(value, digits=0):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _pass(flag):
    return "yes" if flag else "**no**"


def _train(train):
    s = train["settings"]
    out = ["## Training throughput", "",
           f"One synthetic batch of {s['batch_size']} pairs, source and target widths "
           f"{s['source_length']}/{s['target_length']} (lengths ragged from 3/4 of the width), "
           f"vocabulary {s['vocab']}; recurrent entries at units {s['units']}, embeddings "
           f"{s['embedding_dim']}, at most {s['max_layers']} layers; Transformers at width "
           f"{s['hidden_dim']}, feed-forward {s['intermediate_dim']}; dropout 0. "
           "`compile_model` (Adam, masked label-smoothed loss, `jit_compile=True`), one "
           f"`train_on_batch` to compile, then {s['min_steps']}–{s['max_steps']} timed steps "
           f"(at least {s['min_seconds']:g} s): tokens/s from the median step. Two ratios to "
           "a baseline: paired, from the fastest step of the entry and of the baseline, whose "
           "steps alternated with the entry's; and the ratio of the two standalone medians. A "
           "goal passes when both reach it. The input-feeding entries are compared with the "
           "plain-Keras parallel-attention baseline that has their encoder: "
           "`baseline_attention` (an LSTM encoder) or `baseline_bilstm_attention` (a "
           "bidirectional one, with a dense bridge and Luong's general score, as `luong_bilstm` "
           "has). Tokens are real target tokens. \"Baseline alongside / alone\": the "
           "baseline's fastest step while it alternated with the entry over its fastest step "
           "when it was timed alone; above 1, the machine was slower while the entry was "
           "timed, which the paired ratio cancels and the ratio of medians does not.", ""]
    ratio_of = {r["numerator"]: r for r in train["ratios"]}
    best_of = {r["name"]: r["best_step_seconds"] for r in train["entries"]}
    out += ["| entry | kind | parameters | target tokens/s | ms/step (median) | ms/step "
            "(best) | compile s | vs baseline (paired, medians) | goal | pass | baseline "
            "alongside / alone |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    for r in train["entries"]:
        ratio = ratio_of.get(r["name"])
        extra = (f"{_goal_text(ratio)[0]} {ratio['denominator']} | {_goal_text(ratio)[1]} | "
                 f"{_pass(ratio['pass'])} | {_num(_slowdown(ratio, best_of), 2)}×"
                 ) if ratio else "| | |"
        name = f"{r['name']} (plain Keras)" if r["baseline"] else f"`{r['name']}`"
        out.append(f"| {name} | {r['kind']} | {_num(r['parameters'])} | "
                   f"{_num(r['target_tokens_per_second'])} | {_num(1000 * r['step_seconds'], 1)} | "
                   f"{_num(1000 * r['best_step_seconds'], 1)} "
                   f"| {_num(r['compile_seconds'], 1)} | {extra} |")
    for name, reason in train["skipped"].items():
        out.append(f"| `{name}` | skipped: {reason} | | | | | | | | | |")
    return out


def _slowdown(ratio, best_of):
    """The baseline's fastest step alongside the entry over its fastest step alone."""
    return ratio["baseline_best_step_seconds"] / best_of[ratio["denominator"]]


def _efficiency(train):
    m = train["efficiency"]["matmul"]
    out = ["", "## Hardware efficiency", "",
           "Model FLOPs per training step (matrix products only, 3× the forward pass, over "
           "the padded batch; see `keras_s2s/bench/flops.py`) over the fastest step, as a "
           f"share of the best a compiled float32 {m['size']}×{m['size']}×{m['size']} matmul "
           f"reached in the same process ({m['samples']} samples spread over the run): "
           f"{_num(m['flops_per_second'] / 1e9, 1)} GFLOP/s.", "",
           "| entry | GFLOP/step | ms/step (best) | GFLOP/s | share of matmul |",
           "| --- | ---: | ---: | ---: | ---: |"]
    shown = set(train["efficiency_entries"])
    rows = [e for e in train["efficiency"]["entries"] if e["name"] in shown]
    rows += [e for e in train["efficiency"]["entries"] if e["name"] not in shown]
    for e in rows:
        out.append(f"| `{e['name']}` | {_num(e['flops_per_step'] / 1e9, 2)} | "
                   f"{_num(1000 * e['best_step_seconds'], 1)} | "
                   f"{_num(e['achieved_flops_per_second'] / 1e9, 2)} | "
                   f"{_num(100 * e['fraction_of_matmul'], 1)}% |")
    return out


def _search_rows(results):
    """The header and the greedy and beam rows of a decoding table, from `bench_decode`'s
    results or their `"trained"` part."""
    greedy, beam = results["greedy"], results["beam"]
    rows = ["| method | tokens/s | seconds |", "| --- | ---: | ---: |",
            f"| batched greedy | {_num(greedy['tokens_per_second'])} | "
            f"{_num(greedy['seconds'], 3)} |",
            f"| batched beam, width {beam['beam_width']} | "
            f"{_num(beam['tokens_per_second'])} | {_num(beam['seconds'], 3)} |"]
    repeated = results.get("greedy_beam_rows")
    if repeated:  # runs before 5 December did not time it
        rows.append(f"| batched greedy, each source {repeated['rows_per_source']} times "
                    f"(the beam's rows, nothing shared) | {_num(repeated['tokens_per_second'])} | "
                    f"{_num(repeated['seconds'], 3)} |")
    return rows


def _beam_reference(results):
    """The sentence on the beam's cost against greedy on as many rows (empty for runs
    without that row)."""
    beam, rows = results["beam"], results.get("greedy_beam_rows")
    if not rows:
        return []
    return [f"Beam {beam['beam_width']} costs {_num(beam['cost_vs_greedy'], 2)}× greedy. "
            f"Greedy decoding of each source {beam['beam_width']} times, as many rows as the "
            f"beam steps but each copy encoded and attended over on its own, costs "
            f"{_num(rows['cost_vs_greedy'], 2)}×: the beam's selection and reordering cost "
            "less than what it saves by encoding each source once and sharing its memory "
            "across the hypotheses.", ""]


def _decoding(decode, cache):
    out = ["", "## Decoding", ""]
    if decode:
        out += [f"`{decode['model']}` ({_num(decode['parameters'])} parameters, untrained), "
                f"{decode['num_sources']} sources, batch {decode['batch_size']}, up to "
                f"{decode['max_length']} tokens; the keras.io-style loop (one `predict` per "
                f"token, one source at a time) on {decode['tutorial_loop']['sources']} "
                "source(s).", "", *_search_rows(decode),
                f"| keras.io-style loop | {_num(decode['tutorial_loop']['tokens_per_second'], 1)} "
                f"| {_num(decode['tutorial_loop']['seconds'], 2)} |", "", *_beam_reference(decode)]
        trained = decode.get("trained")
        if trained:
            out += [f"The same model after {trained['steps']} training steps on a copy task "
                    f"(batch 64, loss {_num(trained['loss'], 3)}; its greedy outputs average "
                    f"{_num(trained['mean_greedy_length'], 1)} tokens, so hypotheses end with "
                    "`</s>` as a trained model's do), the same sources:", "",
                    *_search_rows(trained), "", *_beam_reference(trained)]
        per = decode.get("seconds_per_sequence")
        if per:
            out += [f"Per sequence, at equal batch size: the keras.io-style loop takes "
                    f"{_num(1000 * per['tutorial_loop'], 1)} ms per source; compiled greedy "
                    f"decoding of one source per call takes "
                    f"{_num(1000 * per['greedy_batch1'], 1)} ms "
                    f"({_num(decode['speedup_greedy_batch1_vs_tutorial'], 1)}× faster without "
                    f"batching), and {_num(1000 * per['greedy'], 2)} ms in batches of "
                    f"{decode['batch_size']}.", ""]
    if cache:
        out += [f"Cached against uncached greedy decoding of `{cache['model']}` "
                f"({_num(cache['parameters'])} parameters), batch {cache['batch_size']}, "
                f"exactly {cache['max_length']} tokens: cached {_num(cache['cached']['seconds'], 3)} s; "
                f"uncached, the encoder run once and the decoder stack re-run over the output "
                f"buffer at each step, {_num(cache['uncached']['seconds'], 3)} s "
                f"({_num(cache['speedup'], 1)}× for the caches)"]
        if "uncached_with_encoder" in cache:
            out[-1] += (f"; uncached with the whole model, encoder included, re-run at each "
                        f"step (this benchmark's first baseline) "
                        f"{_num(cache['uncached_with_encoder']['seconds'], 3)} s "
                        f"({_num(cache['speedup_with_encoder_rerun'], 1)}×)")
        out[-1] += f". Identical tokens: {'yes' if cache['identical_tokens'] else 'no'}."
        out.append("")
    return out


def _memory(train):
    mem = train["memory"]
    out = ["## Memory", "",
           "Resident memory of the benchmark process (`VmRSS`, sampled every 20 ms) during each "
           "entry's timed steps, and its rise over the resident memory before the entry was "
           "built, after a garbage collection (its weights, optimizer state and compiled "
           "step, roughly). The baselines stay compiled for the whole run, and Keras and "
           "TensorFlow keep some of each finished entry, so the resident memory grows over "
           "the run.", "",
           "| entry | peak RSS MiB | rise MiB |", "| --- | ---: | ---: |"]
    for name, m in mem["entries"].items():
        out.append(f"| `{name}` | {_num(m['peak_rss_mib'])} | {_num(m['rss_increase_mib'])} |")
    out += ["", f"Peak resident memory of the whole process: "
                f"{_num(mem['process_peak_rss_mib'])} MiB.", ""]
    return out


def render(results):
    """The Markdown page of a suite result dict."""
    env = results["environment"]
    out = ["# Benchmarks", "",
           f"Produced by `{results['command'] or 'keras-s2s bench all'}` then "
           "`python scripts/make_benchmarks_md.py` on the JSON; regenerate both together.", "",
           f"Measured on {env['date']}: {env['cpu_count']} CPU core(s) "
           f"({env.get('cpu_model') or 'model unknown'}), {env['machine']} "
           f"({env['platform']}), Keras {env['keras']} on the {env['backend']} backend"
           + (f" (TensorFlow {env['tensorflow']})" if env.get("tensorflow") else "")
           + f", Python {env['python']}"
           + (f", `XLA_FLAGS={env['xla_flags']}`" if env.get("xla_flags") else "")
           + f". The suite took {_num(results['wall_seconds'])} s "
           + (f"of wall time and {_num(results['cpu_seconds'])} s of CPU time "
              if results.get("cpu_seconds") else "")
           + f"({results['settings']['mode']} settings). Our development machines are often "
           "shared with other jobs, so single timings carry noise: each step time is the "
           "median of several steps, and each ratio to a baseline comes from steps that "
           "alternate with the baseline's.", "",
           "## Goals", "", "| measurement | value | goal | pass |", "| --- | ---: | ---: | --- |"]
    for g in results["goals"]:
        value, goal = _goal_text(g)
        out.append(f"| {g['name']} | {value} | {goal} | {_pass(g['pass'])} |")
    out.append("")
    if results["train"]:
        out += _train(results["train"]) + _efficiency(results["train"])
    out += _decoding(results["decode"], results["cache"])
    if results["train"]:
        out += _memory(results["train"])
    return "\n".join(out).rstrip() + "\n"


PEER_JSON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "zoo",
                         "results", "peer_bench.json")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="the JSON written by `keras-s2s bench all --json`")
    parser.add_argument("--out", default=os.path.join("zoo", "BENCHMARKS.md"))
    parser.add_argument("--peer", default=PEER_JSON,
                        help="the JSON of `python scripts/peer_bench.py`, appended as a section "
                             "when it exists (default: %(default)s)")
    args = parser.parse_args(argv)
    with open(args.json) as f:
        results = json.load(f)
    text = render(results)
    if args.peer and os.path.exists(args.peer):
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "peer_bench", os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_bench.py"))
        peer = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(peer)
        with open(args.peer) as f:
            text = text.rstrip("\n") + "\n\n" + peer.render(json.load(f))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import sampled_softmax_results

    sampled = sampled_softmax_results.benchmarks_section()
    if sampled:
        text = text.rstrip("\n") + "\n\n" + "\n".join(sampled).rstrip() + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
