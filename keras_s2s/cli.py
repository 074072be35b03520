"""The `keras-s2s` command line: list, info, train, evaluate, baseline, decode, demo, bench.

Errors print one line (`keras-s2s: error: ...`) and exit with status 2, without a traceback.
"""

import argparse
import ast
import json
import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

log = logging.getLogger("keras_s2s")


class CliError(Exception):
    """A user-facing error: printed as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def _options(pairs, what):
    """Parse `key=value` pairs; values are Python literals when they parse as such."""
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise CliError(f"{what} '{pair}' must look like key=value")
        key, value = pair.split("=", 1)
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def _add_jit_flag(parser, help):
    """`--jit/--no-jit`, on by default: train, evaluate and decode share it."""
    parser.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True, help=help)


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: '{text}'")
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


# ---------------------------------------------------------------------------- list / info
def _run_list(args):
    from keras_s2s import kinds, zoo

    names = zoo.list_models(args.pattern)
    if not names:
        raise CliError(f"no zoo entry matches '{args.pattern}' (try `keras-s2s list`)")
    header = ("name", "kind", "family", "parameters")
    rows = []
    for name in names:
        spec = zoo.get_spec(name)
        params = zoo.build(name, **kinds.get(spec.kind).size_arguments(1000)).count_params()
        rows.append((name, spec.kind, spec.family, f"{params:,}", spec.summary))
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]

    def line(cells, summary):
        left = "  ".join(f"{c:<{w}}" for c, w in zip(cells[:-1], widths))
        return f"{left}  {cells[-1]:>{widths[-1]}}  {summary}"

    print(line(header, "summary"))
    for row in rows:
        print(line(row[:-1], row[-1]))
    shown = sorted({zoo.get_spec(n).kind for n in names})
    print(f"({len(rows)} entries; parameters at the default size with 1,000-token vocabularies; "
          f"kinds: {', '.join(f'{k} = {kinds.get(k).summary}' for k in shown)})")
    return 0


def _run_info(args):
    from keras_s2s import kinds, zoo

    spec = zoo.get_spec(args.name)
    kind = kinds.get(spec.kind)
    print(f"{spec.name}: {spec.summary}")
    print(f"kind:     {spec.kind} (inputs: {', '.join(i.name for i in kind.inputs)}): "
          f"{kind.summary}")
    print(f"family:   {spec.family}")
    print(f"paper:    {spec.paper}")
    print("defaults:")
    for key, value in spec.defaults.items():
        print(f"  {key} = {value!r}")
    print("recommended training:")
    for key, value in spec.training.items():
        print(f"  {key} = {value!r}")
    print(f"model card: zoo/{spec.name}.md")
    return 0


# ---------------------------------------------------------------------------- tasks
def _task_from_args(args, source_tokenizer=None, target_tokenizer=None):
    """Build the task a command names; returns `(task, spec)` where spec rebuilds it."""
    from keras_s2s import data

    if getattr(args, "train", None):
        for path in (args.train, args.validation, args.test):
            if path and not os.path.exists(path):
                raise CliError(f"no such file: {path}")
        task = data.from_tsv(args.train, args.validation, args.test,
                             source_tokenizer=source_tokenizer or args.source_tokenizer,
                             target_tokenizer=target_tokenizer or args.target_tokenizer,
                             on_error=args.on_error)
        spec = {"name": "tsv", "train": args.train, "validation": args.validation,
                "test": args.test}
        return task, spec
    options = _options(args.task_option, "--task-option")
    task = data.load_task(args.task, **options)
    return task, {"name": args.task, "options": options}


def _model_kwargs(args):
    kwargs = _options(args.model_option, "--model-option")
    for key in ("units", "embedding_dim", "num_layers", "dropout"):
        value = getattr(args, key)
        if value is not None:
            kwargs[key] = value
    return kwargs


def _run_train_recipe(args):
    from keras_s2s.training.recipes import load_recipe, train_recipe

    allowed = {"recipe", "out", "logdir", "resume", "func", "parser", "command"}
    given = sorted("--" + dest.replace("_", "-") for dest, value in vars(args).items()
                   if dest not in allowed and value != args.parser.get_default(dest))
    if given:
        raise CliError(f"--recipe sets the model, task and training; drop {', '.join(given)} "
                       "or edit the recipe file")
    recipe = load_recipe(args.recipe)
    config = train_recipe(recipe, out=args.out, log_dir=args.logdir, resume=args.resume,
                          verbose=1 if sys.stdout.isatty() else 2)
    return _report_training(recipe["model"], config, args.out or recipe["out"], args.logdir)


def _report_training(model_name, config, out, logdir):
    results = config["results"]
    metric = config["training"]["metric"]
    stopped = (" (stopped early)" if results.get("stopped_early") else
               " (time limit)" if results.get("stopped_by_time") else "")
    print(f"trained {model_name} for {results['epochs_run']} epoch(s){stopped} in "
          f"{results['seconds']:.0f}s; best validation {metric}: "
          f"{results[f'best_val_{metric}']} at epoch {results.get('best_epoch')}")
    print(f"run written to {out} (model.keras, tokenizers, config.json)")
    if logdir:
        print(f"TensorBoard: tensorboard --logdir {logdir}")
    return 0


def _run_train(args):
    from keras_s2s import zoo
    from keras_s2s.training import recipe

    if args.recipe:
        return _run_train_recipe(args)
    if not args.model:
        raise CliError("name a zoo entry (e.g. `keras-s2s train luong_bilstm --task g2p "
                       "--out runs/x`) or give --recipe FILE.toml")
    if not args.out:
        raise CliError("give --out DIR, the run directory")
    zoo.get_spec(args.model)  # unknown names and options fail before any data is loaded
    recipe.check_options(args.model, args.side, args.metric)
    if not args.task and not args.train:
        raise CliError("give --task NAME or --train FILE.tsv")
    task, spec = _task_from_args(args)
    if args.max_train_examples:
        task.splits["train"] = task.splits["train"][:args.max_train_examples]
    log.info(task.summary())
    config = recipe.train(
        args.model, task, args.out, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, label_smoothing=args.label_smoothing,
        model_kwargs=_model_kwargs(args), jit=args.jit, mixed_precision=args.mixed_precision,
        seed=args.seed, log_dir=args.logdir, resume=args.resume, metric=args.metric,
        max_eval_examples=args.max_eval_examples, task_spec=spec,
        verbose=1 if sys.stdout.isatty() else 2, side=args.side, mask_rate=args.mask_rate,
        patience="auto" if args.patience is None else args.patience or None,
        max_minutes=args.max_minutes, schedule=args.schedule,
        warmup_steps=args.warmup_steps)
    return _report_training(args.model, config, args.out, args.logdir)


def _load(run_dir):
    from keras_s2s.data import Task
    from keras_s2s.training.recipe import load_run

    if not os.path.isdir(run_dir):
        raise CliError(f"no such run directory: {run_dir}")
    model, source_tokenizer, target_tokenizer, config = load_run(run_dir)
    task = Task("run", {}, source_tokenizer, target_tokenizer)
    return model, task, config


def _run_evaluate(args):
    from keras_s2s import data, kinds
    from keras_s2s.evaluation import evaluate

    model, run_task, config = _load(args.run)
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


def _baseline_task(args, tokenizers, config):
    """The task `baseline` scores: TSV files, a built-in task, or the data a run trained on."""
    from keras_s2s import data

    if args.train or args.task:
        task, _ = _task_from_args(args, *tokenizers)
    elif config is None:
        raise CliError("give --train FILE.tsv --test FILE.tsv, --task NAME, or --run DIR")
    elif config["task"].get("name") == "tsv":  # the run's own files, split as in training
        spec = config["task"]
        for path in (spec.get("train"), spec.get("validation"), spec.get("test")):
            if path and not os.path.exists(path):
                raise CliError(f"the run trained on {path}, which is gone: pass --train and "
                               "--test")
        task = data.from_tsv(spec["train"], spec.get("validation"), spec.get("test"),
                             source_tokenizer=tokenizers[0], target_tokenizer=tokenizers[1],
                             on_error=args.on_error)
    else:
        options = config["task"].get("options", {})
        task = data.load_task(config["task"]["name"], **options)
    if tokenizers:  # score with the run's tokenizers, as `evaluate` does
        task.source_tokenizer, task.target_tokenizer = tokenizers
    if not task.splits.get(args.split):
        hint = " (give --test FILE.tsv)" if args.split == "test" else ""
        raise CliError(f"task {task.name} has no {args.split} examples{hint}")
    return task


def _run_baseline(args):
    from keras_s2s import kinds
    from keras_s2s.baselines import BASELINES, default_baselines, run_baselines

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
        model, run_task, config = _load(args.run)
        kind = kinds.get(config["kind"])
        if not kind.decodes_sources:
            raise CliError(f"{args.run} holds a {kind.name} model ({kind.summary}); "
                           "baselines compare runs that decode sources into targets")
        tokenizers = (run_task.source_tokenizer, run_task.target_tokenizer)
    task = _baseline_task(args, tokenizers, config)
    names = names or default_baselines(task)
    rows = run_baselines(task, args.split, names=names, max_examples=args.max_examples)
    model_scores = None
    if model is not None:
        from keras_s2s.evaluation import evaluate

        model_scores, _ = evaluate(model, task, args.split, "greedy",
                                   max_examples=args.max_examples,
                                   verbose=True if sys.stdout.isatty() else False, jit=args.jit)
        rows["model (greedy)"] = model_scores
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
    if args.json:
        out = {"task": task.name, "split": args.split, "examples": examples,
               "train_pairs": train_pairs, "baselines": {n: rows[n] for n in names}}
        if model_scores is not None:
            out["model"] = {"run": args.run, "method": "greedy", **model_scores}
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


def _read_sources(path, allow_empty=False):
    stream = open(path, encoding="utf-8") if path else sys.stdin
    sources = []
    with stream:
        for number, line in enumerate(stream, 1):
            line = line.rstrip("\r\n").strip()
            if not line and not allow_empty:
                raise CliError(f"{path or '<stdin>'}:{number}: empty line; give one source per line")
            sources.append(line)
    if not sources:
        raise CliError("no input: give one source per line on stdin or with --input")
    return sources


def _run_decode(args):
    from keras_s2s.decoding import decode
    from keras_s2s.plots import plot_attention

    from keras_s2s import kinds

    model, task, config = _load(args.run)
    kind = kinds.get(config.get("kind", "seq2seq"))
    if not kind.has_decoder:
        raise CliError(f"a {kind.name} model ({kind.summary}) has no decoder; decode needs a "
                       "run of a model that generates (seq2seq, or a decoder-only LM)")
    lm = kind.continues_prompt
    # an LM continues prompts, and an empty line is the empty prompt
    sources = _read_sources(args.input, allow_empty=lm)
    method = "sample" if args.sample else ("beam" if args.beam else "greedy")
    kwargs = {"max_length": args.max_length, "num_return_sequences": args.n_best,
              "return_alignments": bool(args.attention), "jit": args.jit}
    if method == "beam":
        kwargs.update(beam_width=args.beam, length_penalty=args.length_penalty,
                      coverage_penalty=args.coverage_penalty)
    if method == "sample":
        kwargs.update(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                      seed=args.seed)
    if args.attention and len(sources) != 1:
        raise CliError("--attention plots one input; give exactly one source line")
    if lm:  # the prompts are text on the side the LM was trained on
        kwargs["side"] = config.get("side", "target")
    result = decode(model, sources, method, task=task, verbose=False, **kwargs)
    for i, texts in enumerate(result.texts):
        if args.n_best == 1:
            print(texts[0])
        else:
            for rank, text in enumerate(texts):
                print(f"{i}\t{rank + 1}\t{text}\t{result.scores[i, rank]:.4f}")
    if args.attention:
        source_tokens = task.source_tokenizer.tokenize(sources[0])
        ids = result.token_ids[0, 0, :result.lengths[0, 0]]
        output_tokens = [task.target_tokenizer.id_to_token(int(t)) for t in ids]
        plot_attention(result.alignments[0, 0], source_tokens, output_tokens, title=sources[0],
                       path=args.attention)
        print(f"attention plot written to {args.attention}", file=sys.stderr)
    return 0


def _run_demo(args):
    from keras_s2s import demo

    demo.run(logdir=args.logdir, out=args.out, epochs=args.epochs, seed=args.seed,
             max_train_words=args.max_train_words)
    return 0


def _run_bench(args):
    from keras_s2s import bench

    if args.what in ("train", "all"):
        models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
        command = " ".join(["keras-s2s bench", args.what] + (["--quick"] if args.quick else [])
                           + (["--models", args.models] if args.models else [])
                           + (["--json", args.json] if args.json else []))
        results = bench.run_suite(args.what, quick=args.quick, models=models, command=command)
        print(bench.format_suite(results))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
        return 0
    if args.quick:
        quick = bench.SUITE_SETTINGS["quick"][args.what]
        results = (bench.bench_cache if args.what == "cache" else bench.bench_decode)(
            model=bench._suite_model(quick),
            **{k: v for k, v in quick.items() if k != "model_kwargs"})
    elif args.what == "cache":
        results = bench.bench_cache(args.model or "transformer_small",
                                    batch_size=args.batch_size or 32,
                                    max_length=args.max_length or 64)
    else:
        results = bench.bench_decode(args.model or "luong_bilstm",
                                     num_sources=args.num_sources,
                                     tutorial_sources=args.tutorial_sources,
                                     max_length=args.max_length or 30,
                                     beam_width=args.beam_width,
                                     batch_size=args.batch_size or 256)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({args.what: results}, f, indent=2)
    return 0


# ---------------------------------------------------------------------------- parser
def _task_args(parser, data_files=True):
    group = parser.add_argument_group("data")
    group.add_argument("--task", help="built-in task: g2p (default task), addition, copy, "
                                      "reverse, sort, dates, numbers")
    group.add_argument("--task-option", action="append", metavar="KEY=VALUE",
                       help="task option, e.g. max_train_words=20000 (repeatable)")
    if data_files:
        group.add_argument("--train", help="training TSV (source<TAB>target per line)")
        group.add_argument("--validation", help="validation TSV (default: 5%% of --train)")
        group.add_argument("--test", help="test TSV")
        group.add_argument("--source-tokenizer", choices=["char", "word", "subword"],
                           default="char")
        group.add_argument("--target-tokenizer", choices=["char", "word", "subword"],
                           default="char")
    group.add_argument("--on-error", choices=["raise", "skip"], default="raise",
                       help="malformed TSV lines: stop with an error (default) or skip and count")


def build_parser():
    from keras_s2s import __version__

    parser = _Parser(prog="keras-s2s",
                     description="keras_s2s: sequence-to-sequence models for Keras 3.")
    parser.add_argument("--version", action="version", version=f"keras-s2s {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of a failure (also KERAS_S2S_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("list", help="print the zoo table")
    p.add_argument("pattern", nargs="?", help="fnmatch pattern, e.g. 'luong_*'")
    p.set_defaults(func=_run_list)

    p = sub.add_parser("info", help="print an entry's spec, defaults and paper")
    p.add_argument("name")
    p.set_defaults(func=_run_info)

    p = sub.add_parser("train", help="train a zoo model on a task or TSV files",
                       description="Train a zoo model; writes DIR/model.keras (best by the "
                                   "validation metric), the tokenizers and config.json.")
    p.add_argument("model", nargs="?", help="zoo entry, e.g. luong_bilstm")
    p.add_argument("--recipe", metavar="FILE.toml",
                   help="train what a recipe file describes (e.g. "
                        "zoo/recipes/g2p/luong_bilstm.toml): it sets the entry, task and "
                        "training; only --out, --logdir and --resume may be added")
    _task_args(p)
    p.add_argument("--out", help="run directory (required without --recipe)")
    p.add_argument("--logdir", help="TensorBoard directory (scalars, attention, samples)")
    p.add_argument("--epochs", type=_positive(int), default=30,
                   help="the most epochs (default 30); training stops --patience epochs "
                        "after the best one")
    p.add_argument("--patience", type=_positive(int), default=None,
                   help="stop this many epochs after the best validation epoch (default: 3, "
                        "or more when 3 epochs are under 1500 optimizer steps)")
    p.add_argument("--no-early-stopping", dest="patience", action="store_const", const=0,
                   help="train all --epochs")
    p.add_argument("--max-minutes", type=_positive(float),
                   help="stop after the first epoch that ends past this many minutes")
    p.add_argument("--batch-size", type=_positive(int), default=64)
    p.add_argument("--learning-rate", type=_positive(float),
                   help="peak learning rate (default: the entry's recommended rate)")
    p.add_argument("--schedule", choices=["plateau", "constant", "cosine", "inverse_sqrt"],
                   default="plateau", help="plateau (default): warm-up over one epoch, then "
                   "halve the rate when validation stops improving")
    p.add_argument("--warmup-steps", type=int,
                   help="warm-up steps (default for plateau: one epoch, at most 1000)")
    p.add_argument("--label-smoothing", type=float,
                   help="of the loss (default: the entry's, 0.1 for seq2seq, 0 for LMs)")
    p.add_argument("--side", choices=["source", "target"],
                   help="language models (kinds lm, mlm): which side of the task's pairs they "
                        "learn, with its tokenizer (default: target)")
    p.add_argument("--mask-rate", type=_positive(float), default=0.15,
                   help="masked LMs: share of each text's tokens masked (default: 0.15)")
    p.add_argument("--units", type=_positive(int))
    p.add_argument("--embedding-dim", type=_positive(int))
    p.add_argument("--num-layers", type=_positive(int))
    p.add_argument("--dropout", type=float)
    p.add_argument("--model-option", action="append", metavar="KEY=VALUE",
                   help="more zoo kwargs, e.g. score=dot (repeatable)")
    _add_jit_flag(p, "compile with XLA (default: on)")
    p.add_argument("--mixed-precision", action="store_true", help="train in mixed_bfloat16")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--metric", help="validation metric for the best checkpoint (default: "
                                    "a built-in task's own; for your data sequence_accuracy "
                                    "when targets are words, chrf when they are sentences; "
                                    "perplexity for LMs)")
    p.add_argument("--max-eval-examples", type=_positive(int), default=500,
                   help="validation examples decoded per epoch")
    p.add_argument("--max-train-examples", type=_positive(int),
                   help="use only the first N training examples")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in --out (loses at most one epoch)")
    p.set_defaults(func=_run_train, parser=p)

    p = sub.add_parser("evaluate", help="decode a split and print its metrics (perplexity "
                                        "for a language model)")
    p.add_argument("run", help="run directory written by train")
    p.add_argument("--task", help="built-in task (default: the one the run trained on)")
    p.add_argument("--task-option", action="append", metavar="KEY=VALUE")
    p.add_argument("--test", help="test TSV instead of a built-in task")
    p.add_argument("--split", default="test", choices=["train", "validation", "test"])
    p.add_argument("--beam", type=_positive(int), help="beam width (default: greedy)")
    p.add_argument("--length-penalty", type=float, default=0.0)
    p.add_argument("--max-examples", type=_positive(int))
    p.add_argument("--on-error", choices=["raise", "skip"], default="raise")
    p.add_argument("--json", help="also write the metrics to this JSON file")
    _add_jit_flag(p, "compile the decoding loop with XLA (default: on; --no-jit for a handful "
                     "of inputs, where compiling takes longer than decoding)")
    p.set_defaults(func=_run_evaluate)

    p = sub.add_parser("baseline", help="score naive baselines on a task; with --run, beside "
                                        "the model",
                       description="Fit naive baselines on the training data and score them on "
                                   "the test split with the task's metrics: copy (output = "
                                   "source), suffix_rule (the most frequent suffix rewrite), "
                                   "char_ngram (each source character's most frequent output in "
                                   "its context) for words, and copy and word_lexicon "
                                   "(word-by-word replacement) for sentences. With --run, the "
                                   "run's model decodes the same split (greedy) as a last row.")
    _task_args(p)
    p.add_argument("--run", help="run directory written by train: its tokenizers score the "
                                 "baselines and its model is the last row (default data: what "
                                 "it trained on)")
    p.add_argument("--split", default="test", choices=["validation", "test"])
    p.add_argument("--baselines", metavar="NAMES",
                   help="comma-separated, from copy, suffix_rule, char_ngram, word_lexicon "
                        "(default: by the tokenizers: copy, suffix_rule, char_ngram for "
                        "characters; copy, word_lexicon for words and subwords)")
    p.add_argument("--max-examples", type=_positive(int), help="score the first N examples")
    p.add_argument("--json", help="also write the scores to this JSON file")
    _add_jit_flag(p, "with --run: compile the decoding loop with XLA (default: on)")
    p.set_defaults(func=_run_baseline)

    p = sub.add_parser("decode", help="decode sources from stdin or a file, one per line")
    p.add_argument("run", help="run directory written by train")
    p.add_argument("--input", help="file of sources (default: stdin)")
    p.add_argument("--beam", type=_positive(int), help="beam width (default: greedy)")
    p.add_argument("--n-best", type=_positive(int), default=1,
                   help="outputs per source; >1 prints TSV: index, rank, text, score")
    p.add_argument("--length-penalty", type=float, default=0.0)
    p.add_argument("--coverage-penalty", type=float, default=0.0)
    p.add_argument("--sample", action="store_true", help="sample instead of searching")
    p.add_argument("--temperature", type=_positive(float), default=1.0)
    p.add_argument("--top-k", type=_positive(int))
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--max-length", type=_positive(int))
    p.add_argument("--attention", metavar="OUT.png", help="plot the alignment of one input")
    _add_jit_flag(p, "compile the decoding loop with XLA (default: on; --no-jit for a handful "
                     "of inputs, where compiling takes longer than decoding)")
    p.set_defaults(func=_run_decode)

    p = sub.add_parser("demo", help="the main job: train luong_bilstm on g2p, show results",
                       description="Train luong_bilstm on the default g2p task for a few "
                                   "minutes, print PER/WER and sample words, write TensorBoard "
                                   "logs and an attention PNG.")
    p.add_argument("--logdir", default="logs/demo")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--epochs", type=_positive(int), default=5)
    p.add_argument("--max-train-words", type=_positive(int), default=40000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_run_demo)

    p = sub.add_parser("bench", help="benchmarks: training throughput, decoding, caches",
                       description="Benchmarks, kept out of the tests. `train` times training "
                                   "of the zoo's seq2seq entries against plain-Keras baselines "
                                   "(tokens/s, FLOP efficiency, memory); `decode` times batched "
                                   "compiled greedy and beam search against the keras.io-style "
                                   "loop (one predict per token); `cache` times a Transformer's "
                                   "cached greedy decoding against a compiled loop that re-runs "
                                   "the whole model at every step; `all` runs the three and "
                                   "prints a table (see zoo/BENCHMARKS.md).")
    p.add_argument("what", choices=["train", "decode", "cache", "all"], nargs="?",
                   default="decode")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes and 2 entries: a smoke run of about a minute")
    p.add_argument("--models", help="train/all: comma-separated entries to time (default: "
                                    "every seq2seq entry but transformer_base)")
    p.add_argument("--model", help="zoo entry at its default size (default: luong_bilstm "
                                   "for decode, transformer_small for cache)")
    p.add_argument("--batch-size", type=_positive(int),
                   help="sources per compiled call (default: 256 for decode, 32 for cache)")
    p.add_argument("--num-sources", type=_positive(int), default=256)
    p.add_argument("--tutorial-sources", type=_positive(int), default=16,
                   help="sources decoded the slow way (tokens/s is what is compared)")
    p.add_argument("--max-length", type=_positive(int),
                   help="output length (default: 30 for decode, 64 for cache)")
    p.add_argument("--beam-width", type=_positive(int), default=5)
    p.add_argument("--json", help="write the measurements to this JSON file")
    p.set_defaults(func=_run_bench)
    return parser


def _quiet_import_tensorflow():
    """Import TensorFlow with the C++ start-up chatter (oneDNN, CUDA probes) sent to /dev/null.

    Those lines are written by C++ before any Python logging setting applies; silencing the
    file descriptor for the length of the import keeps the command's output readable.
    """
    if "tensorflow" in sys.modules:
        return
    try:
        saved = os.dup(2)
    except OSError:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
        import keras  # noqa: F401

        keras.ops.zeros((1,))  # the first op probes the devices (and logs about CUDA)
    except ImportError:
        pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_USER_ERRORS = (CliError, ValueError, TypeError, FileNotFoundError)


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def main(argv=None):
    """Run the CLI; returns the exit status.

    Every failure prints one line (`keras-s2s COMMAND: error: ...`). `--traceback` anywhere on
    the command line, or `KERAS_S2S_DEBUG=1` in the environment, shows the full traceback
    instead.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--traceback" in argv or os.environ.get("KERAS_S2S_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--traceback"]
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    _quiet_import_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write("keras-s2s: interrupted\n")
        return 130
    except Exception as error:  # one line, unless the user asks for the traceback
        if debug:
            raise
        if isinstance(error, _USER_ERRORS):
            sys.stderr.write(f"keras-s2s {args.command}: error: {_first_line(error)}\n")
        else:
            sys.stderr.write(f"keras-s2s {args.command}: internal error: "
                             f"{type(error).__name__}: {_first_line(error)} (rerun with "
                             "--traceback for the full trace, and please report it)\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
