"""`keras-s2s decode`: decode sources from stdin or a file with a trained run."""

import sys

from keras_s2s.cli._common import CliError, add_jit_flag, load_run_dir, positive


def add_parser(subparsers):
    p = subparsers.add_parser("decode", help="decode sources from stdin or a file, one per line")
    p.add_argument("run", help="run directory written by train")
    p.add_argument("--input", help="file of sources (default: stdin)")
    p.add_argument("--beam", type=positive(int), help="beam width (default: greedy)")
    p.add_argument("--n-best", type=positive(int), default=1,
                   help="outputs per source; >1 prints TSV: index, rank, text, score")
    p.add_argument("--length-penalty", type=float, default=0.0)
    p.add_argument("--coverage-penalty", type=float, default=0.0)
    p.add_argument("--sample", action="store_true", help="sample instead of searching")
    p.add_argument("--temperature", type=positive(float), default=1.0)
    p.add_argument("--top-k", type=positive(int))
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--max-length", type=positive(int))
    p.add_argument("--attention", metavar="OUT.png", help="plot the alignment of one input")
    add_jit_flag(p, "compile the decoding loop with XLA (default: on; --no-jit for a handful "
                     "of inputs, where compiling takes longer than decoding)")
    p.set_defaults(func=run)


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


def run(args):
    from keras_s2s.decoding import decode
    from keras_s2s.plots import plot_attention

    from keras_s2s import kinds

    model, task, config = load_run_dir(args.run)
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
