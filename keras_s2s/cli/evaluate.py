"""`keras-s2s evaluate`: decode a split with a trained run and print its metrics."""

import json
import os
import sys

from keras_s2s.cli._common import CliError, add_jit_flag, load_run_dir, positive


def add_parser(subparsers):
    p = subparsers.add_parser("evaluate", help="decode a split and print its metrics (perplexity "
                                               "for a language model)")
    p.add_argument("run", help="run directory written by train")
    p.add_argument("--task", help="built-in task (default: the one the run trained on)")
    p.add_argument("--task-option", action="append", metavar="KEY=VALUE")
    p.add_argument("--test", help="test TSV instead of a built-in task")
    p.add_argument("--split", default="test", choices=["train", "validation", "test"])
    p.add_argument("--beam", type=positive(int), help="beam width (default: greedy)")
    p.add_argument("--length-penalty", type=float, default=0.0)
    p.add_argument("--max-examples", type=positive(int))
    p.add_argument("--on-error", choices=["raise", "skip"], default="raise")
    p.add_argument("--json", help="also write the metrics to this JSON file")
    add_jit_flag(p, "compile the decoding loop with XLA (default: on; --no-jit for a handful "
                     "of inputs, where compiling takes longer than decoding)")
    p.set_defaults(func=run)


def run(args):
    from keras_s2s import data, kinds
    from keras_s2s.evaluation import evaluate

    model, run_task, config = load_run_dir(args.run)
    if args.test:
        if not os.path.exists(args.test):
            raise CliError(f"no such file: {args.test}")
        examples, skipped = data.read_tsv(args.test, on_error=args.on_error)
        task = data.Task("tsv", {"test": examples}, run_task.source_tokenizer,
                         run_task.target_tokenizer, metrics=("bleu", "chrf", "sequence_accuracy", "cer"),
                         skipped={"test": skipped})
        split = "test"
    else:
        name = args.task or config["task"].get("name")
        if name == "tsv":
            raise CliError("this run was trained on TSV files: pass --test FILE.tsv")
        options = config["task"].get("options", {}) if name == config["task"].get("name") else {}
        task = data.load_task(name, **options)
        task.source_tokenizer, task.target_tokenizer = (run_task.source_tokenizer,
                                                        run_task.target_tokenizer)
        split = args.split
    # what evaluate runs is the kind's to say: decode (greedy or beam), or perplexity
    method, kwargs, settings = kinds.get(config["kind"]).evaluate_options(
        config, beam=args.beam, length_penalty=args.length_penalty, jit=args.jit)
    scores, _ = evaluate(model, task, split, method, max_examples=args.max_examples,
                         verbose=True if sys.stdout.isatty() else False, **kwargs)
    print(f"{'metric':<20} value")
    for key, value in scores.items():
        print(f"{key:<20} {value:.4f}" if isinstance(value, float) else f"{key:<20} {value}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"run": args.run, "split": split, **settings, **scores}, f, indent=2)
    return 0
