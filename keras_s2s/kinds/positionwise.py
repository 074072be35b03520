"""The `positionwise` kind: one output token per input position (`dense_autoencoder`).

Input `encoder_token_ids` `(batch, T)`; logits `(batch, T, V)`; the labels are the inputs
themselves (an autoencoder of the task's sources). It has no step decoder:
`keras_s2s.autoencoders.reconstruct` takes the most probable token at every position.
Checkpointed by the validation token accuracy that `fit` logs (`masked_accuracy`); scored by
reconstruction accuracy (`evaluate`).

Example:

>>> keras_s2s.kinds.get("positionwise").size_arguments(1000)
{'vocab_size': 1000}
"""

import numpy as np

from keras_s2s import kinds
from keras_s2s.constants import ENCODER_TOKEN_IDS, PAD_ID


class Positionwise(kinds.Kind):
    """Token ids in, one token's logits per position out: reconstruct the source.

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

    def check_options(self, model_name, side=None, metric=None):
        if metric not in (None, "masked_accuracy"):
            raise ValueError(f"'{model_name}' reconstructs its input position by position; its "
                             "best epoch is chosen by validation token accuracy "
                             f"(masked_accuracy), not by metric={metric!r}.")
        super().check_options(model_name, side)
        return None, "masked_accuracy"

    def default_metric(self):
        return "masked_accuracy"

    def dataset(self, task, split, batch_size, *, side=None, shuffle=None, seed=0,
                mask_rate=0.15, **kwargs):
        # the pairs' pipeline (bucketed, padded), keeping the sources as inputs and labels
        pairs = task.dataset(split, batch_size=batch_size, shuffle=shuffle, seed=seed, **kwargs)
        return pairs.map(lambda x, y: ({ENCODER_TOKEN_IDS: x[ENCODER_TOKEN_IDS]},
                                       x[ENCODER_TOKEN_IDS]))

    def batch_lengths(self, task, split, side=None):
        # the batches are the seq2seq pipeline's, mapped: the same shapes
        return kinds.get("seq2seq").batch_lengths(task, split)

    def checkpoint(self, task, metric, *, save_best, state_path, max_examples=None,
                   log_dir=None):
        from keras_s2s.training.callbacks import BestCheckpoint

        return BestCheckpoint("masked_accuracy", save_best=save_best, state_path=state_path,
                              higher_is_better=True)

    def evaluate(self, model, task, split, *, method="greedy", metrics=None,
                 max_examples=None, batch_size=64, verbose="auto", side="target", **kwargs):
        """Reconstruction of the split's sources: token and exact-match accuracy."""
        import time

        sources = [e.source for e in task.splits.get(split, [])][:max_examples]
        if not sources:
            raise ValueError(f"Split '{split}' of task '{task.name}' is empty.")
        start = time.perf_counter()
        ids = task.encode_source(sources)
        predicted = np.asarray(model.predict({ENCODER_TOKEN_IDS: ids}, batch_size=batch_size,
                                             verbose=0)).argmax(-1)
        real = ids != PAD_ID
        right = (predicted == ids) & real
        scores = {"token_accuracy": float(right.sum() / max(real.sum(), 1)),
                  "sequence_accuracy": float((right == real).all(axis=1).mean()),
                  "examples": len(sources), "seconds": time.perf_counter() - start}
        return scores, {"sources": sources, "predicted_ids": predicted}

    def no_decoder_message(self, model):
        return (f"Model '{model.name}' predicts every position at once: it has no decoder to "
                "step. Use keras_s2s.autoencoders.reconstruct(model, token_ids).")


kinds.register(Positionwise())
