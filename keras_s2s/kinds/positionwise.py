"""The `positionwise` kind: one output token per input position (`dense_autoencoder`).

Input `encoder_token_ids` `(batch, T)`; logits `(batch, T, V)`; the labels are the inputs
themselves. It has no step decoder: `keras_s2s.autoencoders.reconstruct` takes the most
probable token at every position.

Example:

>>> keras_s2s.kinds.get("positionwise").size_arguments(1000)
{'vocab_size': 1000}
"""

from keras_s2s import kinds
from keras_s2s.constants import ENCODER_TOKEN_IDS


class Positionwise(kinds.Kind):
    """Token ids in, one token's logits per position out.

    Example:

    >>> keras_s2s.kinds.get("positionwise").has_decoder
    False
    """

    name = "positionwise"
    summary = "one output per input position"
    inputs = (kinds.InputSpec(ENCODER_TOKEN_IDS),)
    fit_example = 'model.fit({"encoder_token_ids": ids}, ids, epochs=10)  # reconstruct the input'
    use_example = "codes = keras_s2s.autoencoders.encode(model, ids)"

    def task_size_arguments(self, task, side):
        return {"vocab_size": task.source_tokenizer.vocabulary_size}

    def no_decoder_message(self, model):
        return (f"Model '{model.name}' predicts every position at once: it has no decoder to "
                "step. Use keras_s2s.autoencoders.reconstruct(model, token_ids).")


kinds.register(Positionwise())
