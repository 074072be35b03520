"""Model kinds: one object per input/output contract, and the registry that finds them.

A *kind* owns everything that differs between kinds of model, so that training, decoding,
evaluation, the CLI and the benchmarks ask the kind and never branch on its name:

- its inputs (names, dtypes, shapes; float features are allowed);
- how a `keras_s2s.data.Task` becomes `(x, y)` batches for it (`dataset`);
- its training metrics and the callback that keeps its best epoch (`checkpoint`);
- the arguments that size an entry (`size_arguments`, for `keras-s2s list` and the cards);
- whether it has a step decoder, and how `decode` reads and writes text for it;
- how `evaluate` scores it (`evaluate`).

The built-in kinds:

| kind | inputs | output | labels |
| --- | --- | --- | --- |
| `"seq2seq"` | `encoder_token_ids`, `decoder_token_ids` | logits `(batch, T, V)` | `y1..yn </s>` |
| `"copy_seq2seq"` | as `"seq2seq"` | logits `(batch, T, V + S)`: id `V + j` copies source token `j` (`pointer_generator`) | `y1..yn </s>`, an unknown word that the source holds as `V + j` |
| `"lm"` | `token_ids` = `<s> y1..yn` | logits `(batch, T, V)` | `y1..yn </s>` |
| `"mlm"` | `token_ids` (some masked), `mask_positions` `(batch, P)` | logits `(batch, P, V)` | the original ids at the positions (`mask_ids`), 0 where a slot is unused |
| `"positionwise"` | `encoder_token_ids` | logits `(batch, T, V)`, one per input position (`dense_autoencoder`) | the inputs themselves |
| `"pointer"` | `points` `(batch, n, d)` float, `point_mask`, `decoder_token_ids` | logits over slots `(batch, T, 4 + n)` | the answer's slots (input `j` is slot `4 + j`), `</s>` |

This module is the bottom of the import graph (it imports nothing from the package at import
time): the interface (`Kind`), the registry (`register`, `get`, `of`, `names`) and
`KindModel`, the functional model that carries its kind into a saved `.keras` file. Each
kind's implementation sits above the machinery it uses and registers itself; the built-in
ones are imported the first time the registry is asked.

Adding a kind (see "Adding a kind" in docs/ARCHITECTURE.md):

>>> class Classify(Kind):
...     name = "classify"
...     inputs = (InputSpec("token_ids"),)
...     ...
>>> register(Classify())
"""

import dataclasses
import importlib

import keras

from keras_s2s.constants import EOS_ID

_REGISTRY = {}
_BUILTIN = ("keras_s2s.kinds.seq2seq", "keras_s2s.kinds.copy_seq2seq",
            "keras_s2s.kinds.language_models", "keras_s2s.kinds.positionwise",
            "keras_s2s.kinds.pointer")
_loaded = False


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One input of a kind: its name, dtype and shape without the batch axis."""

    name: str
    dtype: str = "int32"
    shape: tuple = (None,)


class Kind:
    """The contract of one kind of model. Subclass it, then `register(YourKind())`.

    Attributes:
        name: The kind's name, as zoo entries declare it (`register_model(kind=...)`).
        summary: What the kind is, in a few words (`keras-s2s list`).
        inputs: The model's inputs, a tuple of `InputSpec`.
        reads_one_side: The model learns the texts of one side of a task (`side` applies).
        has_decoder: The model steps a decoder: `decode`, beam search and the inference
            graphs apply to it.
        continues_prompt: `decode` forces the input tokens, then continues them (an LM).
        orders_targets: The model writes the task's target tokens one after another, so
            that it may write them right to left (`train(target_order=...)`).
        own_decode: `keras_s2s.decoding.decode` hands the model to the kind's `decode`
            instead of the token search over `build_inference_models`' graphs.
        ensembles: Several models of this kind decode as one ensemble (`decode([m1, m2])`,
            `keras-s2s decode RUN1 RUN2`): their step graphs' log-probabilities average.
        example_label_smoothing: The label smoothing of the model cards' `compile` line.
        fit_example: A `model.fit` line for this kind's inputs (model cards).
        use_example: A line that uses a trained model of this kind (model cards).

    Example:

    >>> get("seq2seq").inputs[0].name
    'encoder_token_ids'
    """

    name = None
    summary = ""
    inputs = ()
    reads_one_side = False
    has_decoder = False
    continues_prompt = False
    orders_targets = False
    own_decode = False
    ensembles = False
    example_label_smoothing = 0.1
    fit_example = ""
    use_example = ""

    # -------------------------------------------------------------- building
    def size_arguments(self, vocabulary_size):
        """The arguments that size an entry for vocabularies of `vocabulary_size`."""
        return {"vocab_size": vocabulary_size}

    def size_description(self, vocabulary_size):
        """What `size_arguments(vocabulary_size)` sizes, in words (model cards)."""
        sizes = self.size_arguments(vocabulary_size)
        return (f"{'vocabularies' if len(sizes) > 1 else 'a vocabulary'} of "
                f"{vocabulary_size:,} tokens")

    def task_size_arguments(self, task, side):
        """The vocabulary arguments of an entry built for `task` (and `side`)."""
        return {"vocab_size": task.tokenizer(side or "target").vocabulary_size}

    def check_options(self, model_name, side=None, metric=None):
        """Check the kind-specific options of `train`; returns `(side, metric)` with defaults.

        The default refuses `side`, which only a model that reads one side takes.
        """
        if side is not None:
            raise ValueError(f"`side` picks the texts of a language model; '{model_name}' is "
                             f"a {self.name} model, which reads both sides. Leave `side` out.")
        return None, metric

    # -------------------------------------------------------------- data and training
    def dataset(self, task, split, batch_size, *, side=None, shuffle=None, seed=0,
                mask_rate=0.15, **kwargs):
        """The `tf.data` pipeline of `(x, y)` batches of a split for this kind."""
        raise NotImplementedError(f"kind '{self.name}' has no dataset")

    def batch_lengths(self, task, split, side=None):
        """The padded length of every example of a split (to count XLA batch shapes)."""
        raise NotImplementedError(f"kind '{self.name}' has no batch lengths")

    def loss(self, label_smoothing=0.0):
        """The training loss: masked cross-entropy over the labels (0 = padding)."""
        from keras_s2s.losses import MaskedSparseCategoricalCrossentropy

        return MaskedSparseCategoricalCrossentropy(label_smoothing=label_smoothing)

    def training_metrics(self):
        """Metrics compiled beside the loss and `MaskedAccuracy`."""
        return []

    def checkpoint(self, task, metric, *, save_best, state_path, max_examples=None,
                   log_dir=None):
        """The callback that scores each epoch on validation and keeps the best model.

        It exposes `best`, `best_epoch` and `metric` (see
        `keras_s2s.training.callbacks.BestCheckpoint`).
        """
        from keras_s2s.training.callbacks import BestCheckpoint

        return BestCheckpoint(metric, save_best=save_best, state_path=state_path)

    def inspection_callbacks(self, task, log_dir, num_examples):
        """TensorBoard callbacks beyond the scalars (sample decodes, attention images)."""
        return []

    def choose_metric(self, task):
        """`(metric, reason)`: the checkpoint metric `train` picks for `task` when none is
        given (`keras_s2s.training.defaults.choose_metric`: the task's own, or by the shape
        of its targets)."""
        from keras_s2s.training.defaults import choose_metric

        return choose_metric(task)

    def default_metric(self):
        """The checkpoint metric when neither the user nor the task names one, or None."""
        return None

    # -------------------------------------------------------------- evaluation, decoding
    def evaluate(self, model, task, split, *, method="greedy", metrics=None,
                 max_examples=None, batch_size=64, verbose="auto", side="target", **kwargs):
        """Score `model` on a split; returns `(scores, details)` (see `keras_s2s.evaluate`)."""
        raise NotImplementedError(f"kind '{self.name}' cannot be evaluated")

    def evaluate_options(self, config, beam=None, length_penalty=0.0, jit=True, min_length=0):
        """The `evaluate` arguments for a run directory of this kind (`keras-s2s evaluate`).

        Args:
            config: The run's `config.json`.
            beam: The beam width asked for (None: greedy).
            length_penalty, jit, min_length: Decoding options asked for.

        Returns:
            `(method, kwargs, recorded)`: `evaluate`'s method and keyword arguments, and the
            settings to record beside the scores.
        """
        if beam or min_length:
            flag = "--beam" if beam else "--min-length"
            raise ValueError(f"{flag} decodes models that generate; this run holds a "
                             f"{self.name} model ({self.summary})")
        return "greedy", {}, {"kind": self.name}

    def no_decoder_message(self, model):
        """Why `decode` cannot step this model, and what to use instead."""
        return (f"Model '{model.name}' is a {self.name} model: it has no decoder to step or "
                "decode with.")

    def decode(self, model, inputs, method="greedy", **options):
        """Decode `inputs` with `model` (kinds with `own_decode`); returns a `DecodeResult`."""
        raise NotImplementedError(f"kind '{self.name}' decodes with the token search")

    def source_labels(self, task, source):
        """The labels of a source's parts on an attention plot (`keras-s2s decode
        --attention`): its tokens."""
        return task.source_tokenizer.pieces(source)

    def output_labels(self, task, token_ids):
        """The labels of decoded ids on an attention plot: the target tokens."""
        return [task.target_tokenizer.id_to_token(int(t)) for t in token_ids]

    def attention_rows(self, task, token_ids, alignment):
        """`(labels, rows)`: an attention plot's output labels and alignment rows, in the order
        the output reads.

        A target tokenizer that writes right to left (`reverse`, `train --target-order`) has
        the decoder emit the last piece first; its rows are turned back (a final `</s>` stays
        last), so that the plot reads as the decoded text does.

        Args:
            task: The `Task` whose target tokenizer wrote the ids.
            token_ids: The decoded ids, `</s>` included, padding excluded.
            alignment: `(steps, source_len)`, at least `len(token_ids)` rows.

        Example:

        >>> n = result.lengths[0, 0]  # result = decode(model, [source], return_alignments=True)
        >>> labels, rows = kinds.of(model).attention_rows(task, result.token_ids[0, 0, :n],
        ...                                               result.alignments[0, 0])
        """
        import numpy as np

        ids = [int(t) for t in token_ids]
        labels = self.output_labels(task, ids)
        rows = np.asarray(alignment)[:len(ids)]
        if getattr(getattr(task, "target_tokenizer", None), "reverse", False):
            k = len(ids) - 1 if ids and ids[-1] == EOS_ID else len(ids)
            labels = labels[:k][::-1] + labels[k:]
            rows = np.concatenate([rows[:k][::-1], rows[k:]], axis=0)
        return labels, rows

    def text_tokenizers(self, task, side="target"):
        """`(reader, writer)`: the tokenizers that encode `decode`'s inputs and its outputs."""
        return task.source_tokenizer, task.target_tokenizer

    def default_max_length(self, input_width):
        """`decode`'s `max_length` when none is given."""
        return 2 * input_width + 10

    @property
    def decodes_sources(self):
        """The model decodes an output from a source (a decoder that is not an LM's)."""
        return self.has_decoder and not self.continues_prompt

    def synthetic_inputs(self, source_ids, decoder_ids):
        """The model inputs of a batch of random ids (benchmarks), or None when the kind
        takes other inputs: `source_ids` `(batch, S)`, `decoder_ids` `(batch, T)` = `<s> ...`.
        """
        return None

    def __repr__(self):
        return f"<kind {self.name}>"


def register(kind):
    """Register a `Kind` instance under `kind.name`; registering a name twice raises.

    Example:

    >>> register(MyKind())
    """
    if not isinstance(kind, Kind) or not kind.name:
        raise TypeError(f"Expected a named keras_s2s.kinds.Kind instance, got {kind!r}.")
    if kind.name in _REGISTRY:
        raise ValueError(f"A kind named '{kind.name}' is already registered.")
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name):
    """Remove a kind (for tests that define their own)."""
    _REGISTRY.pop(name, None)


def _load_builtin():
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _BUILTIN:
            importlib.import_module(module)


def names():
    """The registered kinds' names, in registration order."""
    _load_builtin()
    return list(_REGISTRY)


def get(name):
    """The registered `Kind` called `name`.

    Example:

    >>> get("lm").has_decoder
    True
    """
    _load_builtin()
    if name not in _REGISTRY:
        raise ValueError(f"Unknown model kind {name!r}; the kinds are {', '.join(_REGISTRY)}.")
    return _REGISTRY[name]


def input_names(model):
    """The names of a functional model's inputs (its dict keys when it takes a dict)."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(f"{model!r} has no symbolic inputs; keras_s2s works with the functional "
                         "models that `keras_s2s.zoo.build` returns.")
    structure = model.input
    return sorted(structure) if isinstance(structure, dict) else sorted(t.name for t in inputs)


def of(model):
    """The `Kind` of a model: the one it carries (`KindModel`), else guessed from its inputs.

    Models saved before kinds travelled with them are recognised by their input names; two
    kinds with the same inputs can only be told apart by the kind a `KindModel` carries.

    Raises:
        ValueError: when the model carries no kind and its inputs match none.

    Example:

    >>> of(keras_s2s.zoo.build("lstm_lm", vocab_size=9)).name
    'lm'
    """
    _load_builtin()
    carried = getattr(model, "kind", None)
    if isinstance(carried, str) and carried in _REGISTRY:
        return _REGISTRY[carried]
    names_ = input_names(model)
    for kind in _REGISTRY.values():
        if names_ == sorted(spec.name for spec in kind.inputs):
            return kind
    known = "; ".join(f"{k.name}: {', '.join(s.name for s in k.inputs)}"
                      for k in _REGISTRY.values())
    raise ValueError(f"Model '{model.name}' has inputs {names_}, which match no keras_s2s model "
                     f"kind ({known}).")


def model_kind(model):
    """The name of the contract a model follows (`"seq2seq"`, `"lm"`, ...): `of(model).name`.

    Example:

    >>> model_kind(keras_s2s.zoo.build("luong_lstm", source_vocab_size=9, target_vocab_size=9))
    'seq2seq'
    """
    return of(model).name


@keras.saving.register_keras_serializable(package="keras_s2s")
class KindModel(keras.Model):
    """A functional model that knows its kind, and keeps it through `.keras` files.

    `keras_s2s.zoo.build` returns one. It is a plain functional model (same layers, inputs,
    outputs and weights) whose config also holds `kind`; `keras.saving.load_model` restores
    it with `safe_mode=True`.

    Args:
        inputs: As `keras.Model`.
        outputs: As `keras.Model`.
        name: As `keras.Model`.
        **kwargs: `kind` (a registered kind's name) and `keras.Model`'s other arguments.

    Example:

    >>> ids = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    >>> logits = keras.layers.Embedding(9, 9)(ids)
    >>> model = KindModel({"encoder_token_ids": ids}, logits, kind="positionwise")
    >>> model.kind
    'positionwise'
    """

    # The constructor's positional names must be Functional's (inputs, outputs, name), so
    # that Keras serialises it as a functional model; `kind` travels in **kwargs.
    def __init__(self, inputs, outputs, name=None, **kwargs):
        kind = kwargs.pop("kind", None)
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.kind = kind

    def get_config(self):
        config = super().get_config()
        config["kind"] = self.kind
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        kind = config.pop("kind", None)
        model = super().from_config(config, custom_objects=custom_objects)
        model.kind = kind
        return model


def with_kind(model, kind):
    """`model` as a `KindModel` of `kind` (the same layers and weights).

    Example:

    >>> model = with_kind(keras.Model(inputs, outputs, name="m"), "seq2seq")
    """
    if isinstance(model, KindModel) and model.kind == kind:
        return model
    return KindModel(model.input, model.output, name=model.name, kind=kind)


def __getattr__(name):
    """`KIND_INPUTS` and `LANGUAGE_MODEL_KINDS`, the tables of the first version of this
    module, derived from the registered kinds (so they can't drift from them)."""
    if name == "KIND_INPUTS":
        return {n: tuple(spec.name for spec in get(n).inputs) for n in names()}
    if name == "LANGUAGE_MODEL_KINDS":
        return tuple(n for n in names() if get(n).reads_one_side)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
