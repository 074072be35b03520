"""The three model contracts of the zoo, and `model_kind(model)` to tell them apart.

| kind | inputs | output | labels |
| --- | --- | --- | --- |
| `"seq2seq"` | `encoder_token_ids`, `decoder_token_ids` | logits `(batch, T, V)` | `y1..yn </s>` |
| `"lm"` | `token_ids` = `<s> y1..yn` | logits `(batch, T, V)` | `y1..yn </s>` |
| `"mlm"` | `token_ids` (some masked), `mask_positions` `(batch, P)` | logits `(batch, P, V)` | the original ids at the positions (`mask_ids`), 0 where a slot is unused |
| `"positionwise"` | `encoder_token_ids` | logits `(batch, T, V)`, one per input position (`dense_autoencoder`) | the inputs themselves |

A zoo entry declares its kind at registration (`keras_s2s.zoo.get_spec(name).kind`); a built
or reloaded model is recognised by its input names, which is all a saved `.keras` file keeps.
"""

KIND_INPUTS = {
    "seq2seq": ("encoder_token_ids", "decoder_token_ids"),
    "lm": ("token_ids",),
    "mlm": ("token_ids", "mask_positions"),
    "positionwise": ("encoder_token_ids",),
}
LANGUAGE_MODEL_KINDS = ("lm", "mlm")


def input_names(model):
    """The names of a functional model's inputs (its dict keys when it takes a dict)."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(f"{model!r} has no symbolic inputs; keras_s2s works with the functional "
                         "models that `keras_s2s.zoo.build` returns.")
    structure = model.input
    return sorted(structure) if isinstance(structure, dict) else sorted(t.name for t in inputs)


def model_kind(model):
    """The contract a model follows: `"seq2seq"`, `"lm"` or `"mlm"`, from its input names.

    Args:
        model: A functional `keras.Model` built by `keras_s2s.zoo.build` (or reloaded).

    Returns:
        The kind, a string.

    Raises:
        ValueError: when the inputs match none of the kinds.

    Example:

    >>> model_kind(keras_s2s.zoo.build("luong_lstm", source_vocab_size=9, target_vocab_size=9))
    'seq2seq'
    """
    names = input_names(model)
    for kind, expected in KIND_INPUTS.items():
        if names == sorted(expected):
            return kind
    known = "; ".join(f"{k}: {', '.join(v)}" for k, v in KIND_INPUTS.items())
    raise ValueError(f"Model '{model.name}' has inputs {names}, which match no keras_s2s model "
                     f"kind ({known}).")
