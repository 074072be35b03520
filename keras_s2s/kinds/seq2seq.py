"""The `seq2seq` kind: a source sequence in, a target sequence out, decoded step by step.

Inputs `encoder_token_ids` `(batch, S)` and `decoder_token_ids` `(batch, T)` (`<s> y1..yn`);
output logits `(batch, T, V)`; labels `y1..yn </s>`. Checkpointed by a decode-based metric
(`DecodeEvaluation`); scored by decoding the split (`keras_s2s.evaluation.evaluate_decoded`).

Example:

>>> kind = keras_s2s.kinds.get("seq2seq")
>>> train = kind.dataset(task, "train", batch_size=64)
"""

from keras_s2s import kinds
from keras_s2s.constants import DECODER_TOKEN_IDS, ENCODER_TOKEN_IDS


class Seq2Seq(kinds.Kind):
    """Sequence to sequence: `encoder_token_ids` and `decoder_token_ids` → next-token logits.

    Example:

    >>> keras_s2s.kinds.get("seq2seq").size_arguments(1000)
    {'source_vocab_size': 1000, 'target_vocab_size': 1000}
    """

    name = "seq2seq"
    summary = "source sequence to target sequence"
    inputs = (kinds.InputSpec(ENCODER_TOKEN_IDS), kinds.InputSpec(DECODER_TOKEN_IDS))
    has_decoder = True
    orders_targets = True
    ensembles = True
    fit_example = ('model.fit({"encoder_token_ids": src, "decoder_token_ids": dec_in}, '
                   'dec_out, epochs=10)')
    use_example = 'result = keras_s2s.decoding.decode(model, src, method="beam", beam_width=5)'

    def size_arguments(self, vocabulary_size):
        return {"source_vocab_size": vocabulary_size, "target_vocab_size": vocabulary_size}

    def task_size_arguments(self, task, side):
        return {"source_vocab_size": task.source_tokenizer.vocabulary_size,
                "target_vocab_size": task.target_tokenizer.vocabulary_size}

    def synthetic_inputs(self, source_ids, decoder_ids):
        return {ENCODER_TOKEN_IDS: source_ids, DECODER_TOKEN_IDS: decoder_ids}

    def dataset(self, task, split, batch_size, *, side=None, shuffle=None, seed=0,
                mask_rate=0.15, **kwargs):
        return task.dataset(split, batch_size=batch_size, shuffle=shuffle, seed=seed, **kwargs)

    def batch_lengths(self, task, split, side=None):
        sources, targets, _ = task.encode_pairs(split)
        return [max(len(a), len(b) + 1) for a, b in zip(sources, targets)]

    def checkpoint(self, task, metric, *, save_best, state_path, max_examples=None,
                   log_dir=None):
        from keras_s2s.training.callbacks import DecodeEvaluation

        return DecodeEvaluation(task, "validation", metric=metric, max_examples=max_examples,
                                save_best=save_best, log_dir=log_dir, state_path=state_path)

    def inspection_callbacks(self, task, log_dir, num_examples):
        from keras_s2s.training.callbacks import AttentionImages, SampleDecodes

        return [SampleDecodes(task, log_dir, num_examples=num_examples),
                AttentionImages(task, log_dir, num_examples=min(num_examples, 4))]

    def evaluate_options(self, config, beam=None, length_penalty=0.0, jit=True, min_length=0):
        kwargs = {"beam_width": beam, "length_penalty": length_penalty} if beam else {}
        kwargs["jit"] = jit
        recorded = {"method": "beam" if beam else "greedy"}
        if min_length:
            kwargs["min_length"] = recorded["min_length"] = min_length
        return ("beam" if beam else "greedy"), kwargs, recorded

    def evaluate(self, model, task, split, *, method="greedy", metrics=None,
                 max_examples=None, batch_size=64, verbose="auto", side="target", **kwargs):
        from keras_s2s.evaluation import evaluate_decoded

        return evaluate_decoded(model, task, split, method=method, metrics=metrics,
                                max_examples=max_examples, batch_size=batch_size,
                                verbose=verbose, **kwargs)


kinds.register(Seq2Seq())
