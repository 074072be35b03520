"""Keras layers for seq2seq: recurrent cells, attention, and the attention decoder.

Pure `keras.ops`: nothing here imports TensorFlow, so the layers run on every Keras backend.
"""

from keras_s2s.layers.attention import BahdanauAttention, BaseAttention, LuongAttention, masked_softmax
from keras_s2s.layers.attention_decoder import AttentionDecoder
from keras_s2s.layers.bridge import StateBridge
from keras_s2s.layers.copy import CopyMixture, ExtendedIdsToUnk
from keras_s2s.layers.coverage import CoverageAttention, CoverageLoss
from keras_s2s.layers.latent import GaussianPosterior
from keras_s2s.layers.local_attention import LuongLocalAttention
from keras_s2s.layers.location_attention import LocationSensitiveAttention
from keras_s2s.layers.monotonic_attention import (
    BahdanauMonotonicAttention,
    LuongMonotonicAttention,
    monotonic_alignments,
)
from keras_s2s.layers.pointer import GatherSlots, PointerLogits, PointerSlots, SlotReadMask
from keras_s2s.layers.noise import SequenceNoise, TokenDeletion, TokenMask, TokenSwap, WordDropout
from keras_s2s.layers.read_once_rnn import ReadOnceRNN
from keras_s2s.layers.recurrent import (
    CoupledGateLSTM,
    CoupledGateLSTMCell,
    PeepholeLSTM,
    PeepholeLSTMCell,
)
from keras_s2s.layers.sequence import (
    FixedLength,
    MatchLength,
    PaddingMask,
    ReverseSequence,
    ZeroState,
)
from keras_s2s.layers.stacking import StackedCells

__all__ = [
    "AttentionDecoder",
    "BahdanauAttention",
    "BahdanauMonotonicAttention",
    "BaseAttention",
    "CopyMixture",
    "CoverageAttention",
    "CoverageLoss",
    "ExtendedIdsToUnk",
    "CoupledGateLSTM",
    "CoupledGateLSTMCell",
    "FixedLength",
    "GatherSlots",
    "GaussianPosterior",
    "LocationSensitiveAttention",
    "LuongAttention",
    "LuongLocalAttention",
    "LuongMonotonicAttention",
    "MatchLength",
    "PaddingMask",
    "PeepholeLSTM",
    "PeepholeLSTMCell",
    "PointerLogits",
    "ReadOnceRNN",
    "PointerSlots",
    "SlotReadMask",
    "ReverseSequence",
    "SequenceNoise",
    "StackedCells",
    "StateBridge",
    "TokenDeletion",
    "TokenMask",
    "TokenSwap",
    "WordDropout",
    "ZeroState",
    "masked_softmax",
    "monotonic_alignments",
]
