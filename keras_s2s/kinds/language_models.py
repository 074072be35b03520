"""The language-model kinds: `lm` (next token) and `mlm` (masked tokens).

Both learn the texts of one side of a task (`side`, `"target"` by default), are checkpointed
by validation perplexity (`BestCheckpoint` on the `val_perplexity` that
`keras_s2s.metrics.MaskedPerplexity` logs), and are scored by
`keras_s2s.evaluation.evaluate_language_model`.

- `lm`: input `token_ids` = `<s> y1..yn`, logits `(batch, T, V)`, labels `y1..yn </s>`;
  `decode` continues prompts.
- `mlm`: inputs `token_ids` (some masked) and `mask_positions` `(batch, P)`, logits
  `(batch, P, V + 1)` (one id more, the mask token); no decoder.

Example:

>>> keras_s2s.kinds.get("mlm").extra_ids
1
"""

from keras_s2s import kinds
from keras_s2s.constants import MASK_POSITIONS, TOKEN_IDS


class _LanguageModel(kinds.Kind):
    reads_one_side = True
    extra_ids = 0  # ids beyond the tokenizer's vocabulary (the mask token)
    label_extra = 1  # tokens a text gains in its batch (<s> or </s>, or both)

    def task_size_arguments(self, task, side):
        return {"vocab_size": task.tokenizer(side or "target").vocabulary_size
                + self.extra_ids}

    def check_options(self, model_name, side=None, metric=None):
        if metric not in (None, "perplexity"):
            raise ValueError(f"'{model_name}' is a language model; its best epoch is chosen by "
                             f"validation perplexity, not by metric={metric!r}.")
        return side or "target", "perplexity"

    def default_metric(self):
        return "perplexity"

    def batch_lengths(self, task, split, side=None):
        ids, _ = task.encode_texts(split, side)
        return [len(t) + self.label_extra for t in ids]

    def training_metrics(self):
        from keras_s2s.metrics import MaskedPerplexity

        return [MaskedPerplexity()]

    def evaluate_options(self, config, beam=None, length_penalty=0.0, jit=True, min_length=0):
        if beam or min_length:
            flag = "--beam" if beam else "--min-length"
            raise ValueError(f"{flag} decodes seq2seq runs; this run holds a language model "
                             f"(kind {self.name}), which is scored by perplexity")
        side = config.get("side", "target")
        # the batch shapes the run trained with (`train --max-buckets`), so as many compiles
        max_buckets = config.get("training", {}).get("max_buckets", 8)
        return "greedy", {"side": side, "max_buckets": max_buckets}, {
            "kind": self.name, "side": side}

    def evaluate(self, model, task, split, *, method="greedy", metrics=None,
                 max_examples=None, batch_size=64, verbose="auto", side="target", **kwargs):
        from keras_s2s.evaluation import evaluate_language_model

        if method != "greedy" or metrics:
            raise ValueError(f"Model '{model.name}' is a language model (kind {self.name}): it "
                             "is scored by perplexity, so `method` and `metrics` do not apply.")
        return evaluate_language_model(model, task, split, side=side, max_examples=max_examples,
                                       batch_size=batch_size, **kwargs)


class LanguageModel(_LanguageModel):
    """Next-token language model: `token_ids` = `<s> y1..yn` → logits for `y1..yn </s>`.

    Example:

    >>> keras_s2s.kinds.get("lm").continues_prompt
    True
    """

    name = "lm"
    summary = "next-token language model"
    inputs = (kinds.InputSpec(TOKEN_IDS),)
    has_decoder = True
    continues_prompt = True
    fit_example = ('model.fit({"token_ids": tokens_in}, tokens_out, epochs=10)  '
                   '# <s> y1..yn -> y1..yn </s>')
    use_example = 'result = keras_s2s.decoding.decode(model, prompts, method="sample", top_p=0.9)'

    def dataset(self, task, split, batch_size, *, side=None, shuffle=None, seed=0,
                mask_rate=0.15, **kwargs):
        return task.lm_dataset(split, batch_size, side=side or "target", shuffle=shuffle,
                               seed=seed, **kwargs)

    def synthetic_inputs(self, source_ids, decoder_ids):
        return {TOKEN_IDS: decoder_ids}

    def text_tokenizers(self, task, side="target"):
        tokenizer = task.tokenizer(side)
        return tokenizer, tokenizer

    def default_max_length(self, input_width):
        return input_width + 32


class MaskedLanguageModel(_LanguageModel):
    """Masked language model: `token_ids` (some masked) and `mask_positions` → logits there.

    Example:

    >>> keras_s2s.kinds.get("mlm").has_decoder
    False
    """

    name = "mlm"
    summary = "masked language model"
    inputs = (kinds.InputSpec(TOKEN_IDS), kinds.InputSpec(MASK_POSITIONS))
    extra_ids = 1
    label_extra = 2
    fit_example = ('model.fit({"token_ids": masked, "mask_positions": positions}, mask_ids, '
                   'epochs=10)')
    use_example = ('embedder = keras_s2s.inference.build_embedding_model(model)  '
                   '# contextual embeddings')

    def dataset(self, task, split, batch_size, *, side=None, shuffle=None, seed=0,
                mask_rate=0.15, **kwargs):
        return task.mlm_dataset(split, batch_size, side=side or "target", mask_rate=mask_rate,
                                shuffle=shuffle, seed=seed, **kwargs)

    def evaluate_options(self, config, beam=None, length_penalty=0.0, jit=True, min_length=0):
        method, kwargs, recorded = super().evaluate_options(config, beam, length_penalty, jit,
                                                            min_length)
        # the masks as in training
        kwargs.update(mask_rate=config["training"].get("mask_rate", 0.15),
                      seed=config["training"].get("seed", 0))
        return method, kwargs, recorded

    def no_decoder_message(self, model):
        return (f"Model '{model.name}' is a masked language model: it has no decoder to step "
                "or decode with. Use keras_s2s.inference.build_embedding_model(model) for its "
                "contextual embeddings, or call the model on masked inputs.")


kinds.register(LanguageModel())
kinds.register(MaskedLanguageModel())
