"""`keras-s2s export`: a trained run as a TensorFlow SavedModel that serves strings.

`keras_s2s.export.export_saved_model` does the work; this command loads the run, checks the
flags, and writes the SavedModel whole or not at all: into a hidden directory beside `--out`
(`.NAME.export`), renamed into place once complete, so a failure or an interrupted export
never leaves a half-written `--out` (a leftover hidden directory is removed by the next
export).
"""

import os
import shutil

from keras_s2s.cli._common import (CliError, add_min_length_flag, check_min_length,
                                   check_run_dir, check_writable_dir, in_range, load_run_dir,
                                   positive)
from keras_s2s.cli.decode import MAX_BEAM  # the widest beam an export accepts, as `decode`


def add_parser(subparsers):
    p = subparsers.add_parser(
        "export", help="write a run as a SavedModel that serves strings (for TF Serving)",
        description="Export a run for serving: a TensorFlow SavedModel whose `translate` "
                    "signature maps string[batch] to {text: string[batch, n], score: "
                    "float[batch, n]}, with tokenization, search and detokenization inside "
                    "the graph. Load it with tf.saved_model.load (no Keras, no keras_s2s).")
    p.add_argument("run", help="run directory written by train")
    p.add_argument("--out", required=True, help="the directory to write")
    p.add_argument("--format", choices=["saved_model", "onnx"], default="saved_model",
                   help="saved_model (default): strings in, strings out, the search inside; "
                        "onnx: the encoder and one-step decoder graphs (encoder.onnx, "
                        "step.onnx) for a runtime's own search loop; needs tf2onnx")
    p.add_argument("--beam", type=positive(int),
                   help=f"beam width, at most {MAX_BEAM} (default: greedy search)")
    p.add_argument("--n-best", type=positive(int), default=1,
                   help="outputs per input (beam search), best first")
    p.add_argument("--length-penalty", type=in_range(0.0, 1000.0),
                   help="beam search: GNMT length penalty alpha (default 0)")
    p.add_argument("--max-length", type=positive(int),
                   help="the most tokens generated (default 256, or the model's limit)")
    p.add_argument("--max-length-a", type=in_range(0.0, 1e6), metavar="A",
                   help="each input's own limit is A·|source| + B tokens, within --max-length")
    p.add_argument("--max-length-b", type=in_range(0.0, 1e6), metavar="B",
                   help="the constant of that limit")
    add_min_length_flag(p)
    p.add_argument("--jit", action="store_true",
                   help="compile the search with XLA inside the SavedModel (the server must "
                        "support XLA JIT)")
    p.add_argument("--overwrite", action="store_true", help="replace --out when it exists")
    p.set_defaults(func=run, check=check)


def check(args):
    """The checks that need no model (run before TensorFlow is imported)."""
    check_run_dir(args.run)
    if args.format == "onnx":
        search_flags = (("--beam", args.beam is not None),
                        ("--length-penalty", args.length_penalty is not None),
                        ("--max-length", args.max_length is not None),
                        ("--max-length-a", args.max_length_a is not None),
                        ("--max-length-b", args.max_length_b is not None),
                        ("--min-length", args.min_length != 0),
                        ("--jit", args.jit), ("--n-best", args.n_best != 1))
        given = [flag for flag, is_set in search_flags if is_set]
        if given:
            raise CliError(f"{given[0]} sets the search inside a SavedModel; an ONNX export "
                           "holds the graphs only (the runtime runs its own search): drop it")
    if args.beam is None:
        if args.n_best > 1:
            raise CliError(f"greedy search gives one output per input; for --n-best "
                           f"{args.n_best} add --beam N (N >= {args.n_best})")
        if args.length_penalty is not None:
            raise CliError("--length-penalty applies to beam search only; add --beam N or "
                           "drop --length-penalty")
    elif args.beam > MAX_BEAM:
        raise CliError(f"--beam {args.beam} is over the limit of {MAX_BEAM}")
    elif args.n_best > args.beam:
        raise CliError(f"--n-best {args.n_best} is more than the beam holds (--beam "
                       f"{args.beam})")
    check_min_length(args)
    out = os.path.abspath(args.out)
    if os.path.exists(out) and not args.overwrite:
        raise CliError(f"{args.out} exists; pass --overwrite to replace it")
    if os.path.exists(out) and not os.path.isdir(out):
        raise CliError(f"{args.out} is a file; give a directory name")
    parent = os.path.dirname(out)
    if not os.path.isdir(parent):
        raise CliError(f"the parent directory of --out does not exist: {parent}")
    check_writable_dir(parent, "--out")
    if os.path.abspath(args.run) == out:
        raise CliError("--out is the run directory itself; give another directory")


def run(args):
    from keras_s2s.export import export_saved_model

    model, task, config = load_run_dir(args.run)
    out = os.path.abspath(args.out)
    work = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.export")
    shutil.rmtree(work, ignore_errors=True)
    try:
        if args.format == "onnx":
            from keras_s2s.export.onnx import export_onnx
            from keras_s2s.training.recipe import target_order_of

            manifest = export_onnx(model, work,
                                   target_order=target_order_of(task.target_tokenizer))
        else:
            manifest = export_saved_model(
                model, task.source_tokenizer, task.target_tokenizer, work,
                beam_width=args.beam, num_return_sequences=args.n_best,
                max_length=args.max_length, min_length=args.min_length,
                max_length_a=args.max_length_a,
                max_length_b=args.max_length_b, length_penalty=args.length_penalty or 0.0,
                side=config.get("side") or "target", jit=args.jit)
        if os.path.exists(out):
            old = work + ".old"
            shutil.rmtree(old, ignore_errors=True)
            os.rename(out, old)
            os.rename(work, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if args.format == "onnx":
        print(f"wrote {args.out}: encoder.onnx and step.onnx ({manifest['kind']} model "
              f"{manifest['model']}); {os.path.join(args.out, 'keras_s2s_onnx.json')} names "
              "their inputs, outputs and states; docs/DEPLOYING.md has a greedy loop")
        return 0
    search = ("greedy search" if manifest["method"] == "greedy" else
              f"beam search (width {manifest['beam_width']}, {manifest['num_return_sequences']}"
              "-best)")
    print(f"wrote {args.out}: signature translate(text: string[batch]) with {search}, at "
          f"most {manifest['max_length']} tokens")
    loader = ("import tensorflow_text; " if manifest["needs_tensorflow_text"] else "")
    print(f"serve it with TF Serving, or in Python: {loader}tf.saved_model.load("
          f"{args.out!r}).translate(tf.constant([...]))")
    return 0
