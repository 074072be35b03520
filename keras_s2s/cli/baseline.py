"""`keras-s2s baseline`: naive baselines on a task, beside a run's model with --run."""

import os
import sys

from keras_s2s.cli._common import (CliError, add_jit_flag, add_task_args, check_output_file,
                                   check_task_args, load_run_dir, positive, read_test_file,
                                   task_from_args, write_json)


def add_parser(subparsers):
    p = subparsers.add_parser(
        "baseline", help="score naive baselines on a task; with --run, beside the model",
        description="Fit naive baselines on the training data and score them on the test split "
                    "with the task's metrics: copy (output = source), suffix_rule (the most "
                    "frequent suffix rewrite), char_ngram (each source character's most "
                    "frequent output in its context) for words, and copy and word_lexicon "
                    "(word-by-word replacement) for sentences. With --run, the run's model "
                    "decodes the same split (greedy) as a last row.")
    add_task_args(p)
    p.add_argument("--run", help="run directory written by train: its tokenizers score the "
                                 "baselines and its model is the last row (default data: what "
                                 "it trained on; --test FILE.tsv alone replaces only its test "
                                 "split)")
    p.add_argument("--split", default="test", choices=["validation", "test"])
    p.add_argument("--baselines", metavar="NAMES",
                   help="comma-separated, from copy, suffix_rule, char_ngram, word_lexicon "
                        "(default: by the tokenizers: copy, suffix_rule, char_ngram for "
                        "characters; copy, word_lexicon for words and subwords)")
    p.add_argument("--max-examples", type=positive(int), help="score the first N examples")
    p.add_argument("--json", help="also write the scores to this JSON file")
    add_jit_flag(p, "with --run: compile the decoding loop with XLA (default: on)")
    p.set_defaults(func=run, check=check)


def _run_with_test_file(args):
    """`--run DIR --test FILE.tsv` without `--train`: the run's training data, that test file."""
    return bool(args.run and args.test and not args.train and not args.task)


def check(args):
    """The checks that need no data (run before TensorFlow is imported)."""
    if _run_with_test_file(args):
        from keras_s2s.data.files import check_input_file

        if args.validation:
            raise CliError("with --run, --test FILE.tsv replaces the run's test split; "
                           "--validation needs --train FILE.tsv")
        if args.split != "test":
            raise CliError(f"--test FILE is the test split; drop --split {args.split}")
        check_input_file(args.test)
    else:
        check_task_args(args)
    if args.json is not None:
        check_output_file(args.json, "--json")


def _baseline_task(args, tokenizers, config):
    """The task `baseline` scores: TSV files, a built-in task, or the data a run trained on."""
    from keras_s2s import data

    test_file = args.test if _run_with_test_file(args) else None
    if args.train or args.task:
        task, _ = task_from_args(args, *tokenizers)
    elif config is None:
        raise CliError("give --train FILE.tsv --test FILE.tsv, --task NAME, or --run DIR")
    elif config["task"].get("name") == "tsv":  # the run's own files, split as in training
        spec = config["task"]
        for path in (spec.get("train"), spec.get("validation"),
                     None if test_file else spec.get("test")):
            if path and not os.path.exists(path):
                raise CliError(f"the run trained on {path}, which is gone: pass --train and "
                               "--test")
        task = data.from_tsv(spec["train"], spec.get("validation"),
                             None if test_file else spec.get("test"),
                             source_tokenizer=tokenizers[0], target_tokenizer=tokenizers[1],
                             on_error=args.on_error,
                             multiple_references=spec.get("multiple_references", False),
                             max_line_length=args.max_line_length)
    else:
        options = config["task"].get("options", {})
        task = data.load_task(config["task"]["name"], **options)
    if tokenizers:  # score with the run's tokenizers, as `evaluate` does
        task.source_tokenizer, task.target_tokenizer = tokenizers
    if test_file:  # read as `evaluate --test` reads it
        task.splits["test"], task.skipped["test"] = read_test_file(args)
    if not task.splits.get(args.split):
        hint = " (give --test FILE.tsv)" if args.split == "test" else ""
        raise CliError(f"task {task.name} has no {args.split} examples{hint}")
    return task


def _bootstrap(task, details, outputs, names):
    """`{baseline: {metric: paired_bootstrap result}}` of the task's corpus scores
    (`significance.bootstrap_metrics_for`: CER and PER; BLEU and chrF unless the targets are
    characters)."""
    from keras_s2s.significance import bootstrap_corpus_metrics, bootstrap_metrics_for

    metrics = bootstrap_metrics_for(task.metrics, task.target_tokenizer)
    if not metrics:
        return {}
    references = details["references"]
    return {name: bootstrap_corpus_metrics(details["hypotheses"], references, outputs[name],
                                           references, metrics) for name in names}


def run(args):
    from keras_s2s import kinds
    from keras_s2s.baselines import BASELINES, default_baselines, run_baselines

    check(args)
    names = None
    if args.baselines:
        names = [n.strip() for n in args.baselines.split(",") if n.strip()]
        unknown = [n for n in names if n not in BASELINES]
        if unknown or not names:
            raise CliError(f"unknown baseline(s) {', '.join(unknown) or repr(args.baselines)}; "
                           f"choose from {', '.join(BASELINES)}")
    model, tokenizers, config = None, (), None
    if args.run:
        if args.source_tokenizer != "char" or args.target_tokenizer != "char":
            raise CliError("--run brings the tokenizers the model was trained with; drop "
                           "--source-tokenizer/--target-tokenizer")
        model, run_task, config = load_run_dir(args.run)
        kind = kinds.get(config["kind"])
        if not kind.decodes_sources:
            raise CliError(f"{args.run} holds a {kind.name} model ({kind.summary}); "
                           "baselines compare runs that decode sources into targets")
        tokenizers = (run_task.source_tokenizer, run_task.target_tokenizer)
    task = _baseline_task(args, tokenizers, config)
    names = names or default_baselines(task)
    rows, outputs = run_baselines(task, args.split, names=names,
                                  max_examples=args.max_examples, return_hypotheses=True)
    model_scores, paired, bootstrap = None, {}, {}
    if model is not None:
        from keras_s2s.evaluation import evaluate
        from keras_s2s.significance import paired_exact_match

        model_scores, details = evaluate(model, task, args.split, "greedy",
                                         max_examples=args.max_examples,
                                         verbose=True if sys.stdout.isatty() else False,
                                         jit=args.jit)
        rows["model (greedy)"] = model_scores
        # example by example against each baseline: which one is right where the other is not
        paired = {name: paired_exact_match(details["hypotheses"], outputs[name],
                                           details["references"]) for name in names}
        bootstrap = _bootstrap(task, details, outputs, names)
    metrics = list(task.metrics)
    examples = next(iter(rows.values()))["examples"]
    train_pairs = len(task.pairs("train"))
    print(f"task {task.name}: baselines fit on {train_pairs:,} training pairs, scored on "
          f"{examples:,} {args.split} examples" + (f"; model: {args.run}" if args.run else ""))
    width = max(len(name) for name in rows)
    widths = [max(len(m), 8) for m in metrics]
    print(f"{'name':<{width}}  " + "  ".join(f"{m:>{w}}" for m, w in zip(metrics, widths))
          + "  seconds")
    for name, scores in rows.items():
        print(f"{name:<{width}}  " + "  ".join(f"{scores[m]:>{w}.4f}"
                                               for m, w in zip(metrics, widths))
              + f"  {scores['seconds']:>7.1f}")
    higher = [m for m in metrics if m in ("bleu", "chrf", "sequence_accuracy")]
    lower = [m for m in metrics if m not in higher]
    print("(" + "; ".join(part for part in (
        f"higher is better: {', '.join(higher)}" if higher else "",
        f"lower is better: {', '.join(lower)}" if lower else "") if part)
        + "; seconds: fit and predict, or decode)")
    if paired:
        from keras_s2s.significance import describe

        print("exact matches, example by example:")
        for name, result in paired.items():
            print(f"  model vs {name}: " + describe(result, "the model", name))
    if bootstrap:
        from keras_s2s.significance import describe_bootstrap

        print("corpus scores, paired bootstrap:")
        for name, by_metric in bootstrap.items():
            for metric, result in by_metric.items():
                print(f"  model vs {name}: "
                      + describe_bootstrap(result, metric, "the model", name))
    if args.json:
        out = {"task": task.name, "split": args.split, "examples": examples,
               "train_pairs": train_pairs, "baselines": {n: rows[n] for n in names}}
        if model_scores is not None:
            out["model"] = {"run": args.run, "method": "greedy", **model_scores}
            out["paired"] = paired
            if bootstrap:
                out["bootstrap"] = bootstrap
        out["skipped"] = dict(task.skipped)
        out["data_report"] = task.data_report
        write_json(args.json, out)
    return 0
