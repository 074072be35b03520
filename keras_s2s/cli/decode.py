"""`keras-s2s decode`: decode sources from stdin or a file with a trained run, or with several
runs as one ensemble (`keras_s2s.decoding.ensemble`).

Inputs follow `keras_s2s.data.files`' rules: a regular file or stdin (a pipe, a file or a
terminal; never a directory or a device), strict UTF-8, no control characters, lines of at
most `--max-line-length` characters (default 10,000). A bad line stops the decode with its
line number, or with `--on-error skip` is counted and gets an empty output line, so outputs
stay aligned with inputs. Inputs are read and decoded in chunks of `CHUNK` lines, so memory
stays bounded however long the input is (a bad line in a later chunk stops the decode after
the earlier chunks' outputs were printed).

Flags that do nothing in the chosen mode are errors, checked (by `check`) before TensorFlow
is imported: `--sample` with `--beam`; `--temperature`, `--top-k`, `--top-p`, `--seed`
without `--sample`; `--length-penalty`, `--coverage-penalty` without `--beam`; `--n-best`
over 1 with greedy search or over the beam width; `--min-length` at or over `--max-length`.
The beam width is at most `MAX_BEAM` and at most the target vocabulary size. After decoding,
`decode` warns how many outputs are empty (`EmptyOutputs`).
"""

import itertools
import logging
import os
import stat
import sys

from keras_s2s.cli._common import (CliError, UnknownPieces, add_jit_flag, add_min_length_flag,
                                   check_min_length, check_output_file, check_run_dir, in_range,
                                   load_run_dir, positive)
from keras_s2s.data.files import MAX_LINE_LENGTH, check_input_file, read_lines

log = logging.getLogger("keras_s2s")

#: the widest beam `decode` accepts (a wider one is also refused above the target vocabulary)
MAX_BEAM = 256
#: inputs read, decoded and printed at a time
CHUNK = 4096

# flags that only apply in one mode: (attribute, flag, mode, the flag that sets that mode)
_MODE_FLAGS = (("temperature", "--temperature", "sample", "--sample"),
               ("top_k", "--top-k", "sample", "--sample"),
               ("top_p", "--top-p", "sample", "--sample"),
               ("seed", "--seed", "sample", "--sample"),
               ("length_penalty", "--length-penalty", "beam", "--beam N"),
               ("coverage_penalty", "--coverage-penalty", "beam", "--beam N"))


def add_parser(subparsers):
    p = subparsers.add_parser("decode", help="decode sources from stdin or a file, one per line")
    p.add_argument("run", nargs="+",
                   help="run directory written by train; several runs of seq2seq models that "
                        "share their tokenizers decode as one ensemble (the mean of their "
                        "per-step log-probabilities)")
    p.add_argument("--input", help="file of sources (default: stdin)")
    p.add_argument("--beam", type=positive(int),
                   help=f"beam width, at most {MAX_BEAM} and the target vocabulary size "
                        "(default: greedy)")
    p.add_argument("--n-best", type=positive(int), default=1,
                   help="outputs per source (beam or --sample); >1 prints TSV: index, rank, "
                        "text, score")
    p.add_argument("--length-penalty", type=in_range(0.0, 1000.0),
                   help="beam search: GNMT length penalty alpha (default 0)")
    p.add_argument("--coverage-penalty", type=in_range(0.0, 1000.0),
                   help="beam search: GNMT coverage penalty beta (default 0; attention models)")
    p.add_argument("--sample", action="store_true", help="sample instead of searching")
    p.add_argument("--temperature", type=positive(float),
                   help="--sample: the temperature (default 1)")
    p.add_argument("--top-k", type=positive(int), help="--sample: from the k likeliest tokens")
    p.add_argument("--top-p", type=in_range(0.0, 1.0, low_open=True),
                   help="--sample: nucleus sampling, in (0, 1]")
    p.add_argument("--seed", type=int, help="--sample: seed of the draws")
    p.add_argument("--max-length", type=positive(int))
    add_min_length_flag(p)
    p.add_argument("--max-length-a", type=in_range(0.0, 1e6), metavar="A",
                   help="each source's own length limit is A·|source| + B tokens (fairseq's "
                        "max_len_a; with --max-length-b)")
    p.add_argument("--max-length-b", type=in_range(0.0, 1e6), metavar="B",
                   help="the constant of that limit (fairseq's max_len_b)")
    p.add_argument("--no-repeat-ngram-size", type=positive(int), metavar="N",
                   help="never output the same N-gram twice")
    p.add_argument("--repetition-penalty", type=positive(float), metavar="P",
                   help="penalise tokens already output (CTRL's rule; > 1 discourages)")
    p.add_argument("--attention", metavar="OUT.png", help="plot the alignment of one input")
    p.add_argument("--on-error", choices=["raise", "skip"], default="raise",
                   help="a bad input line (bad UTF-8, control character, too long, empty): "
                        "stop with an error (default), or skip and count it, printing an "
                        "empty output line in its place")
    p.add_argument("--max-line-length", type=positive(int), default=MAX_LINE_LENGTH,
                   help=f"the longest input line, in characters (default {MAX_LINE_LENGTH:,})")
    add_jit_flag(p, "compile the decoding loop with XLA (default: on; --no-jit for a handful "
                     "of inputs, where compiling takes longer than decoding)")
    p.set_defaults(func=run, check=check)


def check(args):
    """The checks that need no model: flags that do nothing in the chosen mode, the beam cap.

    Raises `CliError`; runs before TensorFlow is imported.
    """
    for run_dir in args.run:
        check_run_dir(run_dir)
    if len(args.run) > 1:
        for flag, value in (("--attention", args.attention),
                            ("--coverage-penalty", args.coverage_penalty)):
            if value is not None:
                raise CliError(f"{flag} needs one model's attention; an ensemble of "
                               f"{len(args.run)} runs has none: give one run")
    if args.sample and args.beam:
        raise CliError("--sample and --beam exclude each other (sampling draws, beam search "
                       "searches); give one")
    method = "sample" if args.sample else ("beam" if args.beam else "greedy")
    for attribute, flag, mode, setter in _MODE_FLAGS:
        if getattr(args, attribute) is not None and method != mode:
            raise CliError(f"{flag} applies to {'sampling' if mode == 'sample' else 'beam search'}"
                           f" only; add {setter} or drop {flag}")
    if args.beam and args.beam > MAX_BEAM:
        raise CliError(f"--beam {args.beam} is over the limit of {MAX_BEAM}")
    if args.n_best > 1 and method == "greedy":
        raise CliError("greedy search gives one output per source; for --n-best "
                       f"{args.n_best} add --beam N (N >= {args.n_best}) or --sample")
    if method == "beam" and args.n_best > args.beam:
        raise CliError(f"--n-best {args.n_best} is more than the beam holds (--beam "
                       f"{args.beam})")
    check_min_length(args)
    if args.attention is not None:
        check_output_file(args.attention, "--attention")
    if args.input is not None:
        check_input_file(args.input)
    else:
        _check_stdin()


def _check_stdin():
    """Refuse a stdin that is a directory or a device (`< /dev/zero`); a terminal is fine."""
    stream = sys.stdin
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # a replaced stdin (tests): no descriptor
        return
    mode = status.st_mode
    if stream.isatty() or os.path.samestat(status, os.stat(os.devnull)):  # /dev/null: empty
        return
    if stat.S_ISDIR(mode):
        raise CliError("<stdin> is a directory; give a file or a pipe")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise CliError("<stdin> is a device; give a regular file or a pipe")


def _stdin():
    """stdin as a binary stream."""
    _check_stdin()
    stream = sys.stdin
    buffer = getattr(stream, "buffer", None)
    return buffer if buffer is not None else _Encoded(stream)


class _Encoded:
    """A text stream (a replaced `sys.stdin`) read as bytes, a bounded line at a time."""

    def __init__(self, stream):
        self.stream = stream

    def readline(self, limit):
        return self.stream.readline(limit).encode("utf-8")

    def close(self):
        pass


def _sources(args, allow_empty, skipped):
    """Yield `(number, source or None)`: None for a line skipped with `--on-error skip`."""
    name = args.input or "<stdin>"
    stream = open(args.input, "rb") if args.input else _stdin()
    hint = " (pass --on-error skip to skip and count such lines)"
    try:
        for number, text in read_lines(stream, name, args.max_line_length):
            if not isinstance(text, ValueError):
                text = text.strip()
                if not text and not allow_empty:
                    text = ValueError(f"{name}:{number}: empty line; give one source per line")
            if isinstance(text, ValueError):
                if args.on_error == "raise":
                    raise CliError(f"{text}{hint}")
                skipped.append(number)
                log.warning("skipped %s", text)
                text = None
            yield number, text
    finally:
        if args.input:
            stream.close()


def _ensemble_members(runs, first, task, kind):
    """The models of several runs, checked to decode as one ensemble (`decode([m1, m2])`)."""
    from keras_s2s import kinds

    if not kind.ensembles:
        raise CliError(f"{runs[0]} holds a {kind.name} model, which does not decode as an "
                       "ensemble (seq2seq models do): give one run")
    models = [first]
    for run_dir in runs[1:]:
        model, other, config = load_run_dir(run_dir)
        if kinds.get(config.get("kind", "seq2seq")) is not kind:
            raise CliError(f"{run_dir} holds a {config['kind']} model, {runs[0]} a "
                           f"{kind.name} model; an ensemble's runs are models of one kind")
        for side in ("source", "target"):
            if other.tokenizer(side) != task.tokenizer(side):
                raise CliError(f"{run_dir}'s {side} tokenizer differs from {runs[0]}'s: an "
                               "ensemble's runs must share their tokenizers (train them on "
                               "the same data with the same tokenizer options)")
        models.append(model)
    return models


class EmptyOutputs:
    """Counts the sources whose best output is empty (the model ended with `</s>` at once), so
    that `decode` says so: an empty line in the outputs reads like a skipped input.

    Args:
        min_length: The decode's `--min-length`; the message suggests 1 when it is 0.

    Example:

    >>> empty = EmptyOutputs(0)
    >>> empty.add(3, ""); empty.add(4, "K AE T")
    >>> empty.message().startswith("1 of 2 outputs are empty (line 3)")
    True
    """

    SHOWN = 5

    def __init__(self, min_length=0):
        self.min_length = min_length
        self.lines = []  # the line numbers of the first SHOWN empty outputs
        self.count = 0
        self.total = 0

    def add(self, number, output):
        self.total += 1
        if not output:
            self.count += 1
            if len(self.lines) < self.SHOWN:
                self.lines.append(number)

    def message(self):
        """The warning line, or None when no output was empty."""
        if not self.count:
            return None
        lines = ", ".join(map(str, self.lines)) + (", ..." if self.count > self.SHOWN else "")
        fix = ("; --min-length 1 rules that out" if self.min_length == 0 else
               " (their tokens read as no text)")
        return (f"{self.count:,} of {self.total:,} outputs are empty (line"
                f"{'s' if self.count > 1 else ''} {lines}): the model ended them at once{fix}")


def run(args):
    from keras_s2s.decoding import decode
    from keras_s2s.plots import plot_attention

    from keras_s2s import kinds

    check(args)
    model, task, config = load_run_dir(args.run[0])
    kind = kinds.get(config.get("kind", "seq2seq"))
    if len(args.run) > 1:
        model = _ensemble_members(args.run, model, task, kind)
    if not kind.has_decoder:
        raise CliError(f"a {kind.name} model ({kind.summary}) has no decoder; decode needs a "
                       "run of a model that generates (seq2seq, or a decoder-only LM)")
    lm = kind.continues_prompt
    method = "sample" if args.sample else ("beam" if args.beam else "greedy")
    if method == "beam":
        vocabulary = task.target_tokenizer.vocabulary_size
        if args.beam > vocabulary:
            raise CliError(f"--beam {args.beam} is wider than the target vocabulary "
                           f"({vocabulary} tokens); a beam holds distinct continuations")
    kwargs = {"max_length": args.max_length, "num_return_sequences": args.n_best,
              "return_alignments": bool(args.attention), "jit": args.jit,
              "min_length": args.min_length}
    for name in ("max_length_a", "max_length_b", "no_repeat_ngram_size", "repetition_penalty"):
        if getattr(args, name) is not None:
            kwargs[name] = getattr(args, name)
    if method == "beam":
        kwargs.update(beam_width=args.beam, length_penalty=args.length_penalty or 0.0,
                      coverage_penalty=args.coverage_penalty or 0.0)
    if method == "sample":
        kwargs.update(temperature=1.0 if args.temperature is None else args.temperature,
                      top_k=args.top_k, top_p=args.top_p, seed=args.seed)
    if lm:  # the prompts are text on the side the LM was trained on
        kwargs["side"] = config.get("side", "target")
    skipped = []
    # an LM continues prompts, and an empty line is the empty prompt
    lines = _sources(args, allow_empty=lm, skipped=skipped)
    first = list(itertools.islice(lines, CHUNK))
    if not first:
        raise CliError("no input: give one source per line on stdin or with --input")
    if args.attention:
        rest = next(lines, None)
        if len(first) != 1 or rest is not None or first[0][1] is None:
            raise CliError("--attention plots one input; give exactly one source line")
    index = 0
    empty = EmptyOutputs(args.min_length)
    chunk = first
    # kinds with their own decode read inputs their own way (pointer: numbers, no tokenizer)
    unknown = UnknownPieces(None if kind.own_decode else
                            kind.text_tokenizers(task, kwargs.get("side", "target"))[0])
    while chunk:
        sources = [text for _, text in chunk if text is not None]
        for number, text in chunk:
            if text is not None:
                unknown.add(number, text)
        # progress on stderr (a line every tenth of the chunk off a terminal)
        result = decode(model, sources, method, task=task, verbose="auto",
                        **kwargs) if sources else None
        at = 0
        for number, text in chunk:
            if text is None:  # skipped: an empty line keeps the outputs aligned
                if args.n_best == 1:
                    print("")
            else:
                texts = result.texts[at]
                empty.add(number, texts[0])
                if args.n_best == 1:
                    print(texts[0])
                else:
                    for rank, out in enumerate(texts):
                        print(f"{index}\t{rank + 1}\t{out}\t{result.scores[at, rank]:.4f}")
                at += 1
            index += 1
        if args.attention:
            break
        chunk = list(itertools.islice(lines, CHUNK))
    if unknown.count:
        log.warning("decode: %s", unknown.message())
    if empty.count:
        log.warning("decode: %s", empty.message())
    if skipped:
        log.warning("decode: skipped %d input line(s) (%s%s); each has an empty output line",
                    len(skipped), ", ".join(map(str, skipped[:10])),
                    ", ..." if len(skipped) > 10 else "")
    if args.attention:
        source = first[0][1]
        source_tokens = kind.source_labels(task, source)
        ids = result.token_ids[0, 0, :result.lengths[0, 0]]
        output_tokens, rows = kind.attention_rows(task, ids, result.alignments[0, 0])
        plot_attention(rows, source_tokens, output_tokens, title=source, path=args.attention)
        print(f"attention plot written to {args.attention}", file=sys.stderr)
    return 0
