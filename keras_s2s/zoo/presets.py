"""Zoo entries from keras-hub presets: `zoo.build("bart_small", preset="/path/to/preset")`.

The modern families (`bart_small`, `gpt2_lm`, `roberta_mlm`, `t5_small`) are built from
keras-hub's own blocks (`TransformerEncoder`, `TransformerDecoder`, `PositionEmbedding`,
`ReversibleEmbedding`, T5's `T5TransformerLayer`), arranged in the zoo's layers so that they
train with `model.fit`, save with `safe_mode=True` and decode through the inference graphs
and key/value caches like every other entry. A keras-hub *preset* (a directory that
`backbone.save_to_preset(path)` writes, or a downloaded one copied to this machine) holds a
backbone's config and weights. This module loads the backbone with keras-hub's own loader
(`keras_hub.models.Backbone.from_preset`), and each family's file maps the backbone's layers
onto its entry's (`weights_from`): the same keras-hub layer classes on both sides, so each
copy is layer to layer, and a keras-hub release that changes a layer's weights fails here in
one line instead of loading wrong numbers.

Nothing is downloaded: a preset is a local directory. Its tokenizer is not used: keras_s2s
models read keras_s2s tokenizers (id 0 is padding, see `keras_s2s.data`), so a pretrained
preset's vocabulary would first need mapping onto them.
"""

import os

import numpy as np


def load_backbone(path, class_name, entry):
    """The keras-hub backbone of the local preset directory `path`, checked to be a
    `class_name` (`"BartBackbone"`, ...) for the zoo entry `entry`.

    Raises:
        ValueError: in one line, when `path` is no preset directory or holds another model.

    Example:

    >>> backbone = load_backbone("/tmp/bart_preset", "BartBackbone", "bart_small")
    """
    path = os.fspath(path)
    if not os.path.isdir(path) or not os.path.isfile(os.path.join(path, "config.json")):
        raise ValueError(
            f"`preset` must be a local keras-hub preset directory (with a config.json), "
            f"and {path!r} is not one. keras_s2s downloads nothing: save a backbone with "
            "`backbone.save_to_preset(directory)` or copy a downloaded preset here.")
    import keras_hub

    try:
        backbone = keras_hub.models.Backbone.from_preset(path)
    except Exception as error:  # keras-hub's own message names what is missing
        raise ValueError(f"keras-hub could not load the preset {path!r}: "
                         f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
                         ) from error
    if type(backbone).__name__ != class_name:
        raise ValueError(
            f"The preset {path!r} holds a {type(backbone).__name__}; '{entry}' loads a "
            f"{class_name}.")
    return backbone


def refuse_architecture_arguments(entry, kwargs, allowed):
    """Arguments that a preset sets (sizes, vocabularies) cannot also be given."""
    clash = sorted(set(kwargs) - set(allowed))
    if clash:
        raise ValueError(
            f"With `preset`, '{entry}' takes its architecture and vocabulary from the "
            f"preset; drop {', '.join(clash)} (it may take {', '.join(sorted(allowed))}).")


def copy_weights(source, target, what):
    """Copy the weights of keras-hub layer `source` into our layer `target`, which must
    hold the same weights (shapes, in order): else a `ValueError` that names `what`."""
    values = source.get_weights()
    ours = target.get_weights()
    shapes = [tuple(np.shape(v)) for v in values]
    our_shapes = [tuple(np.shape(v)) for v in ours]
    if shapes != our_shapes:
        raise ValueError(
            f"Cannot load {what} from the keras-hub preset: keras-hub's "
            f"{type(source).__name__} holds weights {shapes}, the zoo's layer "
            f"{target.name} holds {our_shapes}. This keras-hub version changed the layer; "
            "the mapping lives in the family's file in keras_s2s/zoo.")
    target.set_weights(values)


def copy_blocks(sources, targets, what):
    """`copy_weights` for two equally long lists of blocks."""
    if len(sources) != len(targets):
        raise ValueError(f"Cannot load {what}: the preset has {len(sources)} blocks, the "
                         f"model {len(targets)}.")
    for i, (source, target) in enumerate(zip(sources, targets)):
        copy_weights(source, target, f"{what} {i}")
