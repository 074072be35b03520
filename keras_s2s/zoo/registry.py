"""The model registry: `@register_model`, `register_variant`, `build`, `list_models`, `get_spec`.

The shape is timm's: an entry is a named builder with documented defaults. A family file
writes one builder that owns the family's signature, defaults and argument docs; each entry
of the family is `register_variant(family, name, fixed=..., defaults=...)`, which states only
what differs from the family.
"""

import dataclasses
import difflib
import fnmatch
import inspect

from keras_s2s import kinds

_REGISTRY = {}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about an entry.

    Attributes:
        name: The entry's name, which is also the builder function's name.
        family: The family file it lives in (`"rnn_seq2seq"`, `"attention_seq2seq"`, ...).
        summary: One line, the first line of the builder's docstring.
        paper: The citation of the paper the entry reproduces.
        defaults: The builder's keyword arguments and their default values.
        tiny: Keyword arguments for a tiny instance, used by the tests.
        training: Recommended training settings (optimizer, learning rate, batch size, ...).
        kind: The name of the entry's kind (`keras_s2s.kinds`): `"seq2seq"` takes
            `encoder_token_ids` and `decoder_token_ids`; also `"lm"`, `"mlm"`,
            `"positionwise"` and any kind registered with `keras_s2s.kinds.register`.
        stochastic: Whether training draws noise beyond dropout (posterior samples, input
            noise), so that a training step's loss differs from an inference-mode loss.
        builder: The registered function.
        task_arguments: None, or a function `task -> dict` of the arguments an entry takes
            from the data it is built for beyond the vocabulary sizes (e.g. the copy map of
            `copy_bilstm`); `keras_s2s.training.recipe.build_for_task` applies it, and
            arguments given by the caller win.
        preset: None, or a function `(path, **kwargs) -> model` that builds the entry from a
            local keras-hub preset directory (`build(name, preset=path)`, see
            `keras_s2s.zoo.presets`).
    """

    name: str
    family: str
    summary: str
    paper: str
    defaults: dict
    tiny: dict
    training: dict
    kind: str
    stochastic: bool
    builder: object = dataclasses.field(repr=False, compare=False)
    task_arguments: object = dataclasses.field(default=None, repr=False, compare=False)
    preset: object = dataclasses.field(default=None, repr=False, compare=False)


def register_model(fn=None, *, family=None, paper="", tiny=None, training=None, kind="seq2seq",
                   stochastic=False, task_arguments=None, preset=None):
    """Register a model builder under its function name.

    Usable bare (`@register_model`) or with arguments. The function's keyword-only parameters
    become the entry's documented defaults; registering a name twice raises.

    Args:
        fn: The builder, when used bare.
        family: The family name; defaults to the module's last name component.
        paper: Citation of the paper.
        tiny: Keyword arguments for a tiny test instance.
        training: Recommended training settings.
        kind: The input/output contract of the built model.
        stochastic: Whether training draws noise beyond dropout.
        task_arguments: A function `task -> dict` of arguments taken from the data (see
            `ModelSpec`).
        preset: A function `(path, **kwargs) -> model` that builds the entry from a local
            keras-hub preset (see `ModelSpec`).

    Returns:
        The builder, unchanged.

    Example:

    >>> @register_model(family="mine", paper="Me, 2026", tiny={"units": 4})
    ... def my_model(source_vocab_size, target_vocab_size, *, units=32, name="my_model"):
    ...     "My model."
    ...     ...
    """

    def decorator(builder):
        name = builder.__name__
        if name in _REGISTRY:
            raise ValueError(
                f"A model named '{name}' is already registered (from "
                f"{_REGISTRY[name].builder.__module__}). Choose another function name.")
        signature = inspect.signature(builder)
        defaults = {
            p.name: p.default for p in signature.parameters.values()
            if p.kind == p.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
        }
        doc = inspect.getdoc(builder) or ""
        _REGISTRY[name] = ModelSpec(
            name=name,
            family=family or builder.__module__.rsplit(".", 1)[-1],
            summary=doc.splitlines()[0] if doc else "",
            paper=paper,
            defaults=defaults,
            tiny=dict(tiny or {}),
            training=dict(training or {}),
            kind=kind,
            stochastic=bool(stochastic),
            builder=builder,
            task_arguments=task_arguments,
            preset=preset,
        )
        return builder

    return decorator(fn) if fn is not None else decorator


def _args_section(doc):
    """`{argument: description lines}` of a Google-style `Args:` section."""
    entries, current, inside = {}, None, False
    for line in inspect.cleandoc(doc or "").splitlines():
        if line.strip() == "Args:":
            inside = True
        elif inside and line.startswith("        ") and current:
            entries[current].append(line.strip())
        elif inside and line.startswith("    ") and ":" in line:
            current, _, text = line.strip().partition(":")
            entries[current] = [text.strip()]
        elif inside:
            break
    return entries


def _section(doc, title):
    """The lines of section `title` (`"Returns"`, ...) of a Google-style docstring."""
    lines = inspect.cleandoc(doc or "").splitlines()
    if f"{title}:" not in lines:
        return []
    out = []
    for line in lines[lines.index(f"{title}:") + 1:]:
        if line and not line.startswith("    "):
            break
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return [f"{title}:"] + out


def _variant_doc(doc, family, signature):
    """`doc` with the family's `Args:` (the entry's arguments only) and `Returns:` inserted
    before `Example:`."""
    described = _args_section(family.__doc__)
    missing = [p for p in signature.parameters if p not in described]
    if missing:
        raise ValueError(f"The family builder '{family.__name__}' documents no "
                         f"{', '.join(missing)} in its Args section. Describe every argument.")
    args = ["Args:"]
    for p in signature.parameters:
        first, *rest = described[p]
        args += [f"    {p}: {first}"] + [f"        {line}" for line in rest]
    text = inspect.cleandoc(doc)
    if "\nExample:" not in text:
        raise ValueError("A variant's docstring needs an `Example:` section.")
    head, _, tail = text.partition("\nExample:")
    inserted = "\n".join(args + [""] + _section(family.__doc__, "Returns"))
    return f"{head.rstrip()}\n\n{inserted}\n\nExample:{tail}"


def register_variant(family, name, *, fixed=None, defaults=None, hide=(), doc, file=None,
                     **spec):
    """Register the entry `name` as the family builder `family` with some arguments changed.

    The entry's builder takes the family's arguments minus those in `fixed` (set to the given
    values, since they define the entry) and `hide` (left at the family's default because they
    do not apply), with the defaults in `defaults` changed and `name` defaulting to the entry's
    name. Its docstring is `doc` with the family's descriptions of those arguments inserted, so
    cards, `get_spec(name).defaults` and `help()` show the entry's own signature. An option
    added to the family reaches every entry without editing them.

    Args:
        family: The family builder, whose keyword-only arguments all have defaults and are all
            described in its docstring's `Args:` section.
        name: The entry's name.
        fixed: Arguments that define the entry, e.g. `{"cell_type": "gru"}`.
        defaults: Arguments whose entry default differs from the family's.
        hide: Arguments the entry does not take.
        doc: The entry's docstring: summary line, body, `Example:` and `Reference:` sections.
        file: The zoo file that registers the entry, when it is not the family's (its
            `ModelSpec.family`; e.g. `"bart"` for `bart_small`, a Transformer variant).
        **spec: `paper`, `tiny`, `training`, `kind`, `stochastic`,
            `task_arguments`, `preset`: as `register_model`.

    Returns:
        The entry's builder, a function to assign to the module-level name `name`.

    Example:

    >>> luong_lstm = register_variant(
    ...     attention_seq2seq, "luong_lstm", fixed={"bidirectional": False}, doc="...")
    """
    fixed, defaults = dict(fixed or {}), dict(defaults or {})
    family_signature = inspect.signature(family)
    unknown = sorted((set(fixed) | set(defaults) | set(hide)) - set(family_signature.parameters))
    if unknown:
        raise ValueError(f"Variant '{name}' names argument(s) {unknown} that the family "
                         f"builder '{family.__name__}' does not take.")
    parameters = []
    for p in family_signature.parameters.values():
        if p.name in fixed or p.name in hide:
            continue
        if p.name == "name":
            p = p.replace(default=name)
        elif p.name in defaults:
            p = p.replace(default=defaults[p.name])
        parameters.append(p)
    signature = family_signature.replace(parameters=parameters)

    def builder(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return family(*bound.args, **bound.kwargs, **fixed)

    builder.__name__ = builder.__qualname__ = name
    builder.__module__ = family.__module__
    builder.__signature__ = signature
    builder.__doc__ = _variant_doc(doc, family, signature)
    builder.variant_of = (family.__name__, dict(fixed))
    return register_model(builder, family=file, **spec)


def _unknown(name):
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(
        f"Unknown model '{name}'.{hint} `keras_s2s.zoo.list_models()` lists all "
        f"{len(_REGISTRY)} entries.")


def get_spec(name):
    """Return the `ModelSpec` of a registered entry.

    Example:

    >>> get_spec("luong_bilstm").family
    'attention_seq2seq'
    """
    if not isinstance(name, str):
        raise TypeError(f"Model name must be a string. Received: {name!r}")
    if name not in _REGISTRY:
        raise _unknown(name)
    return _REGISTRY[name]


def list_models(pattern=None):
    """Sorted names of the registered entries, optionally filtered by an fnmatch pattern.

    Example:

    >>> list_models("luong_*")[:2]
    ['luong_bilstm', 'luong_concat_bilstm']
    """
    names = sorted(_REGISTRY)
    return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names


def build(name, **kwargs):
    """Build a registered entry as an uncompiled functional `keras.Model`.

    Args:
        name: The entry name (see `list_models()`).
        **kwargs: `source_vocab_size`, `target_vocab_size` and the entry's hyperparameters;
            or, for an entry built on a keras-hub backbone, `preset=` a local keras-hub
            preset directory, whose backbone sets the architecture, the vocabulary and the
            weights (see `keras_s2s.zoo.presets`).

    Returns:
        A functional `keras.Model` (a `keras_s2s.kinds.KindModel`, which keeps its kind in
        saved files) named after the entry (or `name=` if given).

    Example:

    >>> model = build("luong_bilstm", source_vocab_size=30, target_vocab_size=40, units=16)
    >>> model.output.shape
    (None, None, 40)
    """
    spec = get_spec(name)
    if "preset" in kwargs:
        if spec.preset is None:
            able = [n for n, s in sorted(_REGISTRY.items()) if s.preset is not None]
            raise ValueError(
                f"Model '{name}' is not built on a keras-hub backbone, so it takes no "
                f"`preset`; the entries that load keras-hub presets are: {', '.join(able)}.")
        return kinds.with_kind(spec.preset(kwargs.pop("preset"), **kwargs), spec.kind)
    accepted = [p for p in inspect.signature(spec.builder).parameters]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"Model '{name}' got unknown argument(s) {unknown}. It accepts: "
            f"{', '.join(accepted)}.")
    # the model carries its kind into saved files (`keras_s2s.kinds.KindModel`)
    return kinds.with_kind(spec.builder(**kwargs), spec.kind)
