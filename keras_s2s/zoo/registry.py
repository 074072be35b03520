"""The model registry: `@register_model`, `build`, `list_models`, `get_spec` (timm's shape)."""

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


def register_model(fn=None, *, family=None, paper="", tiny=None, training=None, kind="seq2seq",
                   stochastic=False):
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
        )
        return builder

    return decorator(fn) if fn is not None else decorator


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
        **kwargs: `source_vocab_size`, `target_vocab_size` and the entry's hyperparameters.

    Returns:
        A functional `keras.Model` (a `keras_s2s.kinds.KindModel`, which keeps its kind in
        saved files) named after the entry (or `name=` if given).

    Example:

    >>> model = build("luong_bilstm", source_vocab_size=30, target_vocab_size=40, units=16)
    >>> model.output.shape
    (None, None, 40)
    """
    spec = get_spec(name)
    accepted = [p for p in inspect.signature(spec.builder).parameters]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"Model '{name}' got unknown argument(s) {unknown}. It accepts: "
            f"{', '.join(accepted)}.")
    # the model carries its kind into saved files (`keras_s2s.kinds.KindModel`)
    return kinds.with_kind(spec.builder(**kwargs), spec.kind)
