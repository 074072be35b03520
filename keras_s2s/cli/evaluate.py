"""`keras-s2s evaluate`: decode a split with a trained run and print its metrics.

`--test FILE` follows the input rules of `keras_s2s.data.files` (a regular file, two
columns unless `--multiple-references`, ...). `--json` is written atomically and holds the
metrics, the settings, the lines skipped (`--on-error skip`) and the data report of `--test`.
"""

import logging
import os
import sys

from keras_s2s.cli._common import (CliError, UnknownPieces, add_jit_flag, add_min_length_flag,
                                   check_output_file, check_run_dir, in_range, load_run_dir,
                                   positive, read_test_file, write_json)
from keras_s2s.cli.decode import MAX_BEAM

log = logging.getLogger("keras_s2s")


def add_parser(subparsers):
    from keras_s2s.data.files import MAX_LINE_LENGTH

    p = subparsers.add_parser("evaluate", help="decode a split and print its metrics (perplexity "
                                               "for a language model)")
    p.add_argument("run", help="run directory written by train")
    p.add_argument("--task", help="built-in task (default: the one the run trained on)")
    p.add_argument("--task-option", action="append", metavar="KEY=VALUE")
    p.add_argument("--test", help="test TSV instead of a built-in task")
    p.add_argument("--split", default="test", choices=["train", "validation", "test"])
    p.add_argument("--beam", type=positive(int),
                   help=f"beam width, at most {MAX_BEAM} (default: greedy)")
    p.add_argument("--length-penalty", type=in_range(0.0, 1000.0),
                   help="beam search: GNMT length penalty alpha (default 0)")
    add_min_length_flag(p)
    p.add_argument("--max-examples", type=positive(int))
    p.add_argument("--on-error", choices=["raise", "skip"], default="raise",
                   help="malformed --test lines: stop with an error (default) or skip and count")
    p.add_argument("--multiple-references", action="store_true",
                   help="--test: read columns after the second as more references")
    p.add_argument("--max-line-length", type=positive(int), default=MAX_LINE_LENGTH,
                   help=f"--test: the longest line, in characters (default {MAX_LINE_LENGTH:,})")
    p.add_argument("--compare", metavar="RUN2",
                   help="also decode the same examples with a second run (the same settings) "
                        "and test the difference: McNemar's exact test on exact matches and, "
                        "for sentence targets, a paired bootstrap of BLEU and chrF")
    p.add_argument("--json", help="also write the metrics to this JSON file")
    add_jit_flag(p, "compile the decoding loop with XLA (default: on; --no-jit for a handful "
                     "of inputs, where compiling takes longer than decoding)")
    p.set_defaults(func=run, check=check)


def check(args):
    """The checks that need no model (run before TensorFlow is imported)."""
    from keras_s2s.data.files import check_input_file

    check_run_dir(args.run)
    if args.compare is not None:
        check_run_dir(args.compare)
    if args.length_penalty is not None and not args.beam:
        raise CliError("--length-penalty applies to beam search only; add --beam N or drop "
                       "--length-penalty")
    if args.beam and args.beam > MAX_BEAM:
        raise CliError(f"--beam {args.beam} is over the limit of {MAX_BEAM}")
    if args.test is not None:
        if args.task or args.task_option:
            raise CliError("--test gives the data; drop --task/--task-option")
        if args.split != "test":
            raise CliError(f"--test FILE is the test split; drop --split {args.split}")
        check_input_file(args.test)
    elif args.multiple_references:
        raise CliError("--multiple-references reads --test; give --test FILE.tsv")
    if args.json is not None:
        check_output_file(args.json, "--json")


def run(args):
    from keras_s2s import data, kinds
    from keras_s2s.evaluation import evaluate

    check(args)
    model, run_task, config = load_run_dir(args.run)
    skipped, report = {}, {}
    if args.test:
        file_report = {"path": args.test}
        examples, skipped["test"] = read_test_file(args, report=file_report)
        report = {"files": {"test": file_report}}
        task = data.Task("tsv", {"test": examples}, run_task.source_tokenizer,
                         run_task.target_tokenizer, metrics=("bleu", "chrf", "sequence_accuracy", "cer"),
                         skipped=skipped, data_report=report)
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
    kind = kinds.get(config["kind"])
    second = _second_run(args, kind, task) if args.compare else None
    unknown = _unknown_sources(kind, task, split, args.max_examples)
    # what evaluate runs is the kind's to say: decode (greedy or beam), or perplexity
    method, kwargs, settings = kind.evaluate_options(
        config, beam=args.beam, length_penalty=args.length_penalty or 0.0, jit=args.jit,
        min_length=args.min_length)
    verbose = True if sys.stdout.isatty() else False
    scores, details = evaluate(model, task, split, method, max_examples=args.max_examples,
                               verbose=verbose, **kwargs)
    print(f"{'metric':<20} value")
    for key, value in scores.items():
        print(f"{key:<20} {value:.4f}" if isinstance(value, float) else f"{key:<20} {value}")
    if unknown is not None and unknown.count:
        log.warning("evaluate: %s", unknown.message())
    comparison = None
    if second is not None:
        model2, task2 = second
        scores2, details2 = evaluate(model2, task2, split, method,
                                     max_examples=args.max_examples, verbose=verbose, **kwargs)
        comparison = _compare(args, task, (scores, details), (scores2, details2))
    if args.json:
        extra = {} if unknown is None else {"sources_with_unknown_pieces": unknown.count}
        if comparison is not None:
            extra["compare"] = comparison
        write_json(args.json, {"run": args.run, "split": split, **settings, **scores,
                               "skipped": skipped, "data_report": report, **extra})
    return 0


def _second_run(args, kind, task):
    """`--compare RUN2`: its model, and the task with its tokenizers (the same examples)."""
    import copy

    from keras_s2s import kinds

    model2, task2_of_run, config2 = load_run_dir(args.compare)
    kind2 = kinds.get(config2["kind"])
    for name, k in ((args.run, kind), (args.compare, kind2)):
        if not k.decodes_sources:
            raise CliError(f"--compare tests decoded outputs; {name} holds a {k.name} model "
                           f"({k.summary})")
    task2 = copy.copy(task)
    task2.source_tokenizer = task2_of_run.source_tokenizer
    task2.target_tokenizer = task2_of_run.target_tokenizer
    return model2, task2


def _compare(args, task, first, second):
    """Print and return the paired tests of this run against `--compare`'s; `first` and
    `second` are each run's `(scores, details)` from `evaluate`."""
    from keras_s2s.significance import (bootstrap_corpus_metrics, bootstrap_metrics_for,
                                        describe, describe_bootstrap, exact_matches,
                                        paired_matches)

    (scores, details), (scores2, details2) = first, second
    a, b = "this run", args.compare
    # each run is judged against the references as its own tokenizer normalises them
    paired = paired_matches(exact_matches(details["hypotheses"], details["references"]),
                            exact_matches(details2["hypotheses"], details2["references"]))
    print(f"\ncompared with {b}, on the same {paired['examples']:,} examples:")
    print(f"{'metric':<20} {'this run':>10} {'--compare':>10}")
    for key, value in scores.items():
        if key in scores2 and isinstance(value, float):
            print(f"{key:<20} {value:>10.4f} {scores2[key]:>10.4f}")
    print("exact matches: " + describe(paired, a, b))
    metrics = bootstrap_metrics_for(task.metrics, task.target_tokenizer)
    bootstrap = bootstrap_corpus_metrics(details["hypotheses"], details["references"],
                                         details2["hypotheses"], details2["references"],
                                         metrics)
    for metric, result in bootstrap.items():
        print(describe_bootstrap(result, metric, a, b))
    return {"run": b, "scores": scores2, "paired": paired, "bootstrap": bootstrap}


def _unknown_sources(kind, task, split, max_examples):
    """The sources to score that hold pieces the run's source vocabulary lacks (a kind that
    decodes sources with the token search), or None for other kinds."""
    if not kind.decodes_sources or kind.own_decode:
        return None
    unknown = UnknownPieces(task.source_tokenizer, what="sources", unit="example")
    for number, example in enumerate(task.splits[split][:max_examples], 1):
        unknown.add(number, example.source)
    return unknown
