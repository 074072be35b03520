"""Ensemble decoding: several seq2seq models searched as one, inside the compiled loop.

At every step each member runs its own decoder step on its own state, and the ensemble's
next-token distribution is the normalised mean of the members' log-probabilities:

    log p(y | ...) = log_softmax( (1/K) Σ_k log_softmax(z_k) )

(a product of experts, as Marian and OpenNMT average log-probabilities; K = 1 gives the model
itself). The members may be different entries; they must read the same source ids and emit
the same target vocabulary, i.e. share the tokenizers. Their states travel side by side in
the loop (`state_<k>_<i>`), so greedy, beam and sampling all work unchanged.

`decode([m1, m2], ...)` builds the ensemble; `Ensemble(models)` is the object it caches.
"""

import weakref

import keras

from keras_s2s import inference

# first member -> {tuple of the others' ids: Ensemble}, so repeated decodes reuse the graphs
_ENSEMBLES = weakref.WeakKeyDictionary()


def _check_models(models):
    if not models or not all(isinstance(m, keras.Model) for m in models):
        raise ValueError("An ensemble needs a list of one or more keras_s2s models. "
                         f"Received: {models!r}")


class Ensemble:
    """Several seq2seq models that decode as one (see the module docstring).

    Args:
        models: Two or more (or one) trained keras_s2s seq2seq models with the same input and
            output vocabulary sizes.

    Example:

    >>> ensemble = Ensemble([model_a, model_b])
    >>> decode(ensemble, ids, method="beam").token_ids.shape   # or decode([model_a, model_b], ...)
    (2, 1, 9)
    """

    def __init__(self, models):
        models = list(models)
        _check_models(models)
        self.models = models
        self.name = "ensemble(" + "+".join(m.name for m in models) + ")"

    @property
    def variables(self):
        """Every member's variables (what a JAX-compiled decode reads as arguments)."""
        return [v for m in self.models for v in m.variables]

    def build_inference_models(self):
        """One encoder graph and one step graph over all members: an `InferenceModels`."""
        members = [inference.build_inference_models(m) for m in self.models]
        first = members[0]
        for model, graphs in zip(self.models, members):
            if not graphs.kind.decodes_sources or graphs.kind.continues_prompt:
                raise ValueError(
                    f"Model '{model.name}' is a {graphs.kind.name} model; an ensemble decodes "
                    "sources with seq2seq models only.")
            for attribute, what in [("input_vocabulary_size", "source"),
                                    ("output_vocabulary_size", "target")]:
                if getattr(graphs, attribute) != getattr(first, attribute):
                    raise ValueError(
                        f"The ensemble's models read or write different vocabularies: "
                        f"'{self.models[0].name}' has a {what} vocabulary of "
                        f"{getattr(first, attribute)}, '{model.name}' of "
                        f"{getattr(graphs, attribute)}. Ensemble models trained with the "
                        "same tokenizers.")
        ids = keras.Input((None,), dtype="int32", name="encoder_token_ids")
        encoded, state_names, constant_names = {}, [], []
        for k, (encoder_model, _) in enumerate(members):
            out = _named(encoder_model, f"member_{k}_encoder")({"encoder_token_ids": ids})
            for name, value in out.items():
                renamed = f"state_{k}_{name[6:]}" if name.startswith("state_") else f"m{k}_{name}"
                encoded[renamed] = value
                (state_names if name.startswith("state_") else constant_names).append(renamed)
        encoder = keras.Model({"encoder_token_ids": ids}, encoded, name="ensemble_encoder")

        token = keras.Input((1,), dtype="int32", name="decoder_token_ids")
        inputs, outputs, log_probs = {"decoder_token_ids": token}, {}, []
        for k, (_, decoder_model) in enumerate(members):
            member_inputs = {"decoder_token_ids": token}
            for name, spec in decoder_model.input.items():
                if name == "decoder_token_ids":
                    continue
                renamed = f"state_{k}_{name[6:]}" if name.startswith("state_") else f"m{k}_{name}"
                tensor = keras.Input(tuple(spec.shape[1:]), dtype=spec.dtype, name=renamed)
                inputs[renamed] = member_inputs[name] = tensor
            out = _named(decoder_model, f"member_{k}_step")(member_inputs)
            for name, value in out.items():
                if name.startswith("state_"):
                    outputs[f"state_{k}_{name[6:]}"] = value
            log_probs.append(keras.layers.Activation("log_softmax", dtype="float32",
                                                     name=f"log_probs_{k}")(out["logits"]))
        mean = log_probs[0] if len(log_probs) == 1 else keras.layers.Average(
            dtype="float32", name="mean_log_probs")(log_probs)
        # the loops take log_softmax of the logits: the mean renormalised
        outputs["logits"] = mean
        decoder = keras.Model(inputs, outputs, name="ensemble_decoder_step")
        limits = [g.max_length for g in members if g.max_length is not None]
        return inference.InferenceModels(
            encoder, decoder, kind=first.kind, input_vocabulary_size=first.input_vocabulary_size,
            output_vocabulary_size=first.output_vocabulary_size,
            max_length=min(limits) if limits else None, attention=False, kv_cache=False,
            state_names=state_names, constant_names=constant_names)


def _named(graph, name):
    """`graph` under a name of its own: members of one entry (two seeds, two checkpoints)
    have graphs of one name, which a model can't hold twice."""
    return keras.Model(graph.input, graph.output, name=name)


def as_ensemble(models):
    """The cached `Ensemble` of a list of models (the same object for the same models)."""
    models = list(models)
    _check_models(models)
    key = tuple(id(m) for m in models[1:])
    by_rest = _ENSEMBLES.setdefault(models[0], {})
    cached = by_rest.get(key)
    if cached is None or any(a is not b for a, b in zip(cached.models, models)):
        cached = by_rest[key] = Ensemble(models)
    return cached
