"""The `copy_seq2seq` kind: seq2seq whose outputs extend past the vocabulary into the source.

A pointer-generator with the extended vocabulary (`pointer_generator`, See et al., 2017) has
the seq2seq kind's inputs, `encoder_token_ids` and `decoder_token_ids`, but its logits are
`(batch, T, V + S)`: id `V + j` copies the source's token `j`, so that a word the vocabulary
lacks (a name, a number, a word never seen in training) can be emitted. What differs from
`seq2seq`:

- its labels (`Task.copy_dataset`): a target word that the vocabulary lacks but the source
  holds is labelled with its source position's extended id;
- its decode: the token search of `keras_s2s.decoding.api.decode_tokens`, then the extended
  ids are mapped back to the source's words (`Tokenizer.decode_extended`), so `texts` hold
  the copied words where a seq2seq model writes `<unk>`.

Example:

>>> keras_s2s.kinds.get("copy_seq2seq").size_arguments(1000)
{'source_vocab_size': 1000, 'target_vocab_size': 1000}
"""

from keras_s2s import kinds
from keras_s2s.kinds.seq2seq import Seq2Seq


class Copy(Seq2Seq):
    """Source sequence to target sequence, copying source words past the vocabulary.

    Example:

    >>> keras_s2s.kinds.get("copy_seq2seq").own_decode
    True
    """

    name = "copy_seq2seq"
    summary = "source sequence to target sequence, copying words the vocabulary lacks"
    own_decode = True
    ensembles = False  # its decode extends the vocabulary per source, outside the token search
    use_example = ('result = keras_s2s.decoding.decode(model, ["meet zorro"], task=task)  '
                   '# texts hold copied words')

    def dataset(self, task, split, batch_size, *, side=None, shuffle=None, seed=0,
                mask_rate=0.15, **kwargs):
        return task.copy_dataset(split, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                 **kwargs)

    def decode(self, model, inputs, method="greedy", task=None, side="target", **options):
        """The token search, then the extended ids mapped back to the source's words."""
        from keras_s2s.decoding.api import _is_strings, decode_tokens

        source_tokens = None
        if task is not None and _is_strings(inputs):
            strings = [inputs] if isinstance(inputs, str) else list(inputs)
            source_tokens = [task.source_tokenizer.pieces(s) for s in strings]
            inputs = [task.source_tokenizer.encode(s) for s in strings]
        result = decode_tokens(model, inputs, method, **options)
        if task is not None:
            writer = task.target_tokenizer
            if source_tokens is None:  # ids in: an unknown source word reads as <unk>
                source_tokens = [[task.source_tokenizer.id_to_token(int(i)) for i in row]
                                 for row in _rows(inputs)]
            result.texts = [[writer.decode_extended(row, tokens) for row in rows]
                            for rows, tokens in zip(result.token_ids, source_tokens)]
        return result


def _rows(ids):
    """Token id rows without their padding."""
    import numpy as np

    return [[int(i) for i in np.asarray(row) if i != 0] for row in ids]


kinds.register(Copy())
