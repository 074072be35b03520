"""`keras-s2s bench`: the benchmarks of `keras_s2s.bench` (train, decode, cache, all)."""

from keras_s2s.bench.defaults import CACHE, DECODE, QUICK_ENTRIES, SKIPPED
from keras_s2s.cli._common import check_output_file, positive, write_json


def add_parser(subparsers):
    p = subparsers.add_parser(
        "bench", help="benchmarks: training throughput, decoding, caches",
        description="Benchmarks, kept out of the tests. `train` times training of the zoo's "
                    "seq2seq entries against plain-Keras baselines (tokens/s, FLOP efficiency, "
                    "memory); `decode` times batched compiled greedy and beam search against "
                    "the keras.io-style loop (one predict per token); `cache` times a "
                    "Transformer's cached greedy decoding against a compiled loop that re-runs "
                    "the whole model at every step; `all` runs the three and prints a table "
                    "(see zoo/BENCHMARKS.md).")
    p.add_argument("what", choices=["train", "decode", "cache", "all"], nargs="?",
                   default="decode")
    p.add_argument("--quick", action="store_true",
                   help=f"tiny sizes and {len(QUICK_ENTRIES)} entries: a smoke run of about a "
                        "minute")
    p.add_argument("--models", help="train/all: comma-separated entries to time (default: "
                                    f"every seq2seq entry but {', '.join(SKIPPED)})")
    p.add_argument("--model", help=f"zoo entry at its default size (default: "
                                   f"{DECODE['model_name']} for decode, {CACHE['model_name']} "
                                   "for cache)")
    p.add_argument("--batch-size", type=positive(int),
                   help=f"sources per compiled call (default: {DECODE['batch_size']} for "
                        f"decode, {CACHE['batch_size']} for cache)")
    p.add_argument("--num-sources", type=positive(int), default=DECODE["num_sources"])
    p.add_argument("--tutorial-sources", type=positive(int), default=DECODE["tutorial_sources"],
                   help="sources decoded the slow way (tokens/s is what is compared)")
    p.add_argument("--max-length", type=positive(int),
                   help=f"output length (default: {DECODE['max_length']} for decode, "
                        f"{CACHE['max_length']} for cache)")
    p.add_argument("--beam", "--beam-width", dest="beam_width", type=positive(int),
                   default=DECODE["beam_width"],
                   help=f"beam width of the decode benchmark (default {DECODE['beam_width']}; "
                        "--beam as in decode and evaluate)")
    p.add_argument("--json", help="write the measurements to this JSON file")
    p.set_defaults(func=run, check=check)


def check(args):
    """Refuse a --json path that can't be written before minutes of measuring."""
    if args.json is not None:
        check_output_file(args.json, "--json")


def run(args):
    from keras_s2s import bench

    if args.what in ("train", "all"):
        models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
        command = " ".join(["keras-s2s bench", args.what] + (["--quick"] if args.quick else [])
                           + (["--models", args.models] if args.models else [])
                           + (["--json", args.json] if args.json else []))
        results = bench.run_suite(args.what, quick=args.quick, models=models, command=command)
        print(bench.format_suite(results))
        if args.json:
            write_json(args.json, results)
        return 0
    if args.quick:
        results = bench.run_settings(args.what, bench.SUITE_SETTINGS["quick"][args.what])
    elif args.what == "cache":
        results = bench.bench_cache(args.model or CACHE["model_name"],
                                    batch_size=args.batch_size or CACHE["batch_size"],
                                    max_length=args.max_length or CACHE["max_length"])
    else:
        results = bench.bench_decode(args.model or DECODE["model_name"],
                                     num_sources=args.num_sources,
                                     tutorial_sources=args.tutorial_sources,
                                     max_length=args.max_length or DECODE["max_length"],
                                     beam_width=args.beam_width,
                                     batch_size=args.batch_size or DECODE["batch_size"])
    if args.json:
        write_json(args.json, {args.what: results})
    return 0
