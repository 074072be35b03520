"""Decoding: greedy, beam search (GNMT penalties, n-best) and sampling, as compiled loops.

`decode(model, ...)` decodes with any keras_s2s seq2seq model, or with a list of them as an
ensemble (`keras_s2s.decoding.ensemble`). The loops themselves take a
step function `step_fn(token_ids, state, constants) -> (logits, new_state, alignments)`
and know nothing about architectures.
"""

from keras_s2s.decoding._common import BOS_ID, EOS_ID, PAD_ID, UNK_ID, log_softmax, mask_forbidden
from keras_s2s.decoding.api import DecodeResult, compile_decode, decode, decode_from
from keras_s2s.decoding.beam import beam_search
from keras_s2s.decoding.ensemble import Ensemble
from keras_s2s.decoding.greedy import greedy_search
from keras_s2s.decoding.sampling import filter_logits, sample

__all__ = [
    "BOS_ID", "EOS_ID", "PAD_ID", "UNK_ID", "DecodeResult", "Ensemble", "beam_search",
    "compile_decode",
    "decode", "decode_from", "filter_logits", "greedy_search", "log_softmax", "mask_forbidden",
    "sample",
]
