"""`keras-s2s train`: a zoo entry on a task or TSV files, or what a recipe file describes."""

import os
import sys

from keras_s2s.cli._common import (CliError, add_jit_flag, add_task_args, fraction, in_range,
                                   log, non_negative_int, parse_options, positive,
                                   task_from_args)


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="train a zoo model on a task or TSV files",
                              description="Train a zoo model; writes DIR/model.keras (best by the "
                                          "validation metric), the tokenizers, config.json and "
                                          "epochs/ (the last epochs' weights, for `keras-s2s "
                                          "average`).")
    p.add_argument("model", nargs="?", help="zoo entry, e.g. luong_bilstm")
    p.add_argument("--recipe", metavar="FILE.toml",
                   help="train what a recipe file describes (e.g. "
                        "zoo/recipes/g2p/luong_bilstm.toml): it sets the entry, task and "
                        "training; only --out, --logdir, --resume, --overwrite, --devices and "
                        "--model-parallel may be added")
    add_task_args(p)
    p.add_argument("--out", help="run directory (required without --recipe)")
    p.add_argument("--logdir", help="TensorBoard directory (scalars, attention, samples)")
    p.add_argument("--epochs", type=positive(int), default=None,
                   help="the most epochs (default 30); training stops --patience epochs "
                        "after the best one. A small task (30 epochs under 7680 optimizer "
                        "steps) given none of --epochs, --schedule and --patience trains "
                        "7680 steps (at most 100 epochs) on a cosine decay, every epoch")
    p.add_argument("--patience", type=positive(int), default=None,
                   help="stop this many epochs after the best validation epoch (default: 3, "
                        "or more when 3 epochs are under 1500 optimizer steps)")
    p.add_argument("--no-early-stopping", dest="patience", action="store_const", const=0,
                   help="train all --epochs")
    p.add_argument("--max-minutes", type=positive(float),
                   help="stop after the first epoch that ends past this many minutes")
    p.add_argument("--batch-size", type=positive(int), default=64)
    p.add_argument("--learning-rate", type=positive(float),
                   help="peak learning rate (default: the entry's recommended rate)")
    p.add_argument("--schedule", choices=["plateau", "constant", "cosine", "inverse_sqrt", "wsd"],
                   default=None, help="plateau (default): warm-up over one epoch, then "
                   "halve the rate when validation stops improving; cosine for a small task "
                   "(see --epochs)")
    p.add_argument("--target-order", choices=["auto", "left-to-right", "right-to-left"],
                   default="auto", help="the order in which the decoder writes each target "
                   "(seq2seq entries); auto: right to left for character pairs whose changed "
                   "targets keep the source's beginning (at least 2 leading characters shared "
                   "on average, over twice the trailing ones: an ending changes) unless the "
                   "entry's attention reads the source in order (monotonic, local-m), else "
                   "left to right")
    p.add_argument("--warmup-steps", type=non_negative_int,
                   help="warm-up steps (default for plateau: one epoch, at most 1000)")
    p.add_argument("--label-smoothing", type=fraction,
                   help="of the loss (default: the entry's, 0.1 for seq2seq, 0 for LMs)")
    p.add_argument("--side", choices=["source", "target"],
                   help="language models (kinds lm, mlm): which side of the task's pairs they "
                        "learn, with its tokenizer (default: target)")
    p.add_argument("--mask-rate", type=in_range(0.0, 1.0, low_open=True, high_open=True),
                   default=0.15,
                   help="masked LMs: share of each text's tokens masked (default: 0.15)")
    p.add_argument("--units", type=positive(int))
    p.add_argument("--embedding-dim", type=positive(int))
    p.add_argument("--num-layers", type=positive(int))
    p.add_argument("--dropout", type=fraction)
    p.add_argument("--model-option", action="append", metavar="KEY=VALUE",
                   help="more zoo kwargs, e.g. score=dot (repeatable)")
    add_jit_flag(p, "compile with XLA (default: on)")
    p.add_argument("--mixed-precision", action="store_true", help="train in mixed_bfloat16")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--metric", help="validation metric for the best checkpoint (default: "
                                    "a built-in task's own; for your data sequence_accuracy "
                                    "when targets are words, chrf when they are sentences; "
                                    "perplexity for LMs)")
    p.add_argument("--max-eval-examples", type=positive(int), default=500,
                   help="validation examples decoded per epoch")
    p.add_argument("--max-train-examples", type=positive(int),
                   help="use only the first N training examples")
    p.add_argument("--keep-epochs", type=non_negative_int, default=5,
                   help="keep the last N epochs' weights in DIR/epochs/ for `keras-s2s "
                        "average` (default 5; 0 keeps none)")
    p.add_argument("--final", choices=["auto", "best", "average"], default="auto",
                   help="the weights the run publishes: best, the epoch with the best "
                        "validation value; average, the mean of the kept epochs "
                        "(--keep-epochs); auto (default): average for a small task's "
                        "cosine budget (best if --max-minutes cuts it short), best otherwise")
    p.add_argument("--max-buckets", type=positive(int), default=8,
                   help="the most length buckets (batch shapes, so XLA compiles) of the "
                        "training and of the validation data (default 8); fewer compile "
                        "less and pad more")
    p.add_argument("--teacher", action="append", metavar="RUN",
                   help="distil from a trained run of the same data (repeatable: the teachers' "
                        "averaged per-token distributions; seq2seq entries); the teachers read "
                        "the training pairs once before the first epoch")
    p.add_argument("--teacher-weight", type=in_range(0.0, 1.0), default=0.5,
                   help="the teachers' share of the loss (default 0.5; 1: teachers only)")
    p.add_argument("--teacher-top-k", type=positive(int), default=8,
                   help="the teachers' most likely tokens kept per position (default 8)")
    p.add_argument("--devices", type=positive(int), default=None,
                   help="train data-parallel on N devices (JAX DataParallel or TensorFlow "
                        "MirroredStrategy; --batch-size is the global batch; default 1)")
    p.add_argument("--model-parallel", type=positive(int), default=None, metavar="M",
                   help="JAX: also shard the model's variables over M of the --devices (a "
                        "(devices/M, M) mesh; Transformer entries); default 1")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted training of --out (loses at most one "
                        "epoch); it keeps the settings it started with")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run already in --out (kept until the new run's first "
                        "checkpoint)")
    p.set_defaults(func=run, parser=p)


def _teacher_kwargs(args):
    """`train`'s distillation arguments; none without --teacher (a resumed run keeps its
    own)."""
    if not args.teacher:
        for flag, dest in (("--teacher-weight", "teacher_weight"),
                           ("--teacher-top-k", "teacher_top_k")):
            if getattr(args, dest) != args.parser.get_default(dest):
                raise CliError(f"{flag} sets how the model learns from teachers; give "
                               "--teacher RUN too, or drop it")
        return {}
    for run_dir in args.teacher:
        if not os.path.isdir(run_dir):
            raise CliError(f"--teacher {run_dir}: no such run directory (give a run that "
                           "`keras-s2s train --out` wrote)")
    return {"teachers": list(args.teacher), "teacher_weight": args.teacher_weight,
            "teacher_top_k": args.teacher_top_k}


def _model_kwargs(args):
    kwargs = parse_options(args.model_option, "--model-option")
    for key in ("units", "embedding_dim", "num_layers", "dropout"):
        value = getattr(args, key)
        if value is not None:
            kwargs[key] = value
    return kwargs


def _run_train_recipe(args):
    from keras_s2s.training.recipes import load_recipe, train_recipe

    allowed = {"recipe", "out", "logdir", "resume", "overwrite", "devices", "model_parallel",
               "func", "parser", "command", "traceback"}
    given = sorted("--" + dest.replace("_", "-") for dest, value in vars(args).items()
                   if dest not in allowed and value != args.parser.get_default(dest))
    if given:
        raise CliError(f"--recipe sets the model, task and training; drop {', '.join(given)} "
                       "or edit the recipe file")
    recipe = load_recipe(args.recipe)
    _check_out(args.out or recipe["out"], args)
    config = train_recipe(recipe, out=args.out, log_dir=args.logdir, resume=args.resume,
                          overwrite=args.overwrite, devices=args.devices,
                          model_axis=args.model_parallel,
                          verbose=1 if sys.stdout.isatty() else 2)
    return _report_training(recipe["model"], config, args.out or recipe["out"], args.logdir)


def _report_training(model_name, config, out, logdir):
    results = config["results"]
    metric = config["training"]["metric"]
    stopped = (" (stopped early)" if results.get("stopped_early") else
               " (time limit)" if results.get("stopped_by_time") else "")
    session = results.get("epochs_this_session", results["epochs_run"])
    resumed = f" ({session} after resuming)" if session != results["epochs_run"] else ""
    print(f"trained {model_name} for {results['epochs_run']} epoch(s){resumed}{stopped} in "
          f"{results['seconds']:.0f}s; best validation {metric}: "
          f"{_value(results[f'best_val_{metric}'])} at epoch {results.get('best_epoch')}")
    training = config["training"]
    if training.get("teachers"):
        print(f"distilled from {len(training['teachers'])} teacher(s) (weight "
              f"{training['teacher_weight']:g}, top {training['teacher_top_k']} tokens); their "
              f"pass over the training pairs took {training['teacher_seconds']:.0f}s")
    final = results.get("final", {})
    if final.get("weights") == "average":
        epochs = final["epochs"]
        print(f"published the average of epochs {epochs[0]}-{epochs[-1]} (--final average): "
              f"validation {metric} {_value(final[f'val_{metric}'])}")
    elif final.get("why"):
        print(f"published the best epoch: {final['why']}")
    kept = config["training"].get("keep_epochs")
    print(f"run written to {out} (model.keras, tokenizers, config.json"
          + (f"; the last {kept} epochs' weights in epochs/, for keras-s2s average)" if kept
             else ")"))
    if logdir:
        print(f"TensorBoard: tensorboard --logdir {logdir}")
    return 0


def _value(value):
    """A validation value as `train` prints it: 4 significant digits (None as it is)."""
    return value if value is None else f"{value:.4g}"


def _check_out(out, args):
    """Refuse a taken `--out` before any data is loaded (building a task's tokenizers can take
    minutes); `train` checks again with the directory locked. Workers of a cluster skip it:
    another worker may be writing the chief's directory already."""
    from keras_s2s import workers
    from keras_s2s.training.rundir import RunDirectory

    if not out or workers.active() is not None:
        return
    run = RunDirectory(out)
    if not os.path.isdir(run.parent):
        return  # a new run: nothing on disk to refuse
    with run.lock():  # as `train` does: a training writing it, a publish to repair first
        run.recover()
        run.check(args.resume, args.overwrite)


def run(args):
    from keras_s2s import zoo
    from keras_s2s.training import recipe

    if args.resume and args.overwrite:
        raise CliError("--resume continues the run in --out and --overwrite replaces it; "
                       "give one of them")
    if args.recipe:
        return _run_train_recipe(args)
    _check_out(args.out, args)
    if not args.model:
        raise CliError("name a zoo entry (e.g. `keras-s2s train luong_bilstm --task g2p "
                       "--out runs/x`) or give --recipe FILE.toml")
    if not args.out:
        raise CliError("give --out DIR, the run directory")
    zoo.get_spec(args.model)  # unknown names and options fail before any data is loaded
    recipe.check_options(args.model, args.side, args.metric)
    if not args.task and not args.train:
        raise CliError("give --task NAME or --train FILE.tsv")
    task, spec = task_from_args(args)
    if args.max_train_examples:
        task.splits["train"] = task.splits["train"][:args.max_train_examples]
    log.info(task.summary())
    config = recipe.train(
        args.model, task, args.out, epochs=args.epochs or "auto", batch_size=args.batch_size,
        learning_rate=args.learning_rate, label_smoothing=args.label_smoothing,
        model_kwargs=_model_kwargs(args), jit=args.jit, mixed_precision=args.mixed_precision,
        seed=args.seed, log_dir=args.logdir, resume=args.resume, overwrite=args.overwrite,
        metric=args.metric,
        max_eval_examples=args.max_eval_examples, task_spec=spec,
        verbose=1 if sys.stdout.isatty() else 2, side=args.side, mask_rate=args.mask_rate,
        patience="auto" if args.patience is None else args.patience or None,
        max_minutes=args.max_minutes, schedule=args.schedule or "auto",
        warmup_steps=args.warmup_steps, keep_epochs=args.keep_epochs,
        devices=args.devices or 1, model_axis=args.model_parallel or 1,
        target_order=args.target_order, max_buckets=args.max_buckets, final=args.final,
        **_teacher_kwargs(args))
    return _report_training(args.model, config, args.out, args.logdir)
