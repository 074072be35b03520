"""The package's shared constants, in one dependency-free module.

Special token ids and strings (every tokenizer puts them first, in this order), and the
stable layer names that `keras_s2s.inference` and `keras_s2s.autoencoders` look up in a
trained or reloaded zoo model.

Example:

>>> from keras_s2s.constants import BOS_ID, EOS_ID, SPECIAL_TOKENS
>>> SPECIAL_TOKENS[BOS_ID], SPECIAL_TOKENS[EOS_ID]
('<s>', '</s>')
"""

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
SPECIAL_TOKENS = ("<pad>", "<unk>", "<s>", "</s>")
NUM_SPECIAL_TOKENS = len(SPECIAL_TOKENS)

# Input names of the built-in kinds (see `keras_s2s.kinds`).
ENCODER_TOKEN_IDS = "encoder_token_ids"
DECODER_TOKEN_IDS = "decoder_token_ids"
TOKEN_IDS = "token_ids"
MASK_POSITIONS = "mask_positions"

# Stable layer names of zoo models: inference graphs find the trained layers by these.
ENCODER_EMBEDDING = "encoder_embedding"
DECODER_EMBEDDING = "decoder_embedding"
ENCODER = "encoder"
DECODER = "decoder"
BRIDGE = "bridge"
SOURCE_MASK = "source_mask"
MEMORY_PROJECTION = "memory_projection"
OUTPUT_BOTTLENECK = "output_bottleneck"
OUTPUT_PROJECTION = "output_projection"
LOGITS = "logits"
COPY = "copy"  # a pointer-generator's CopyMixture, applied after LOGITS
POSTERIOR = "posterior"

# The pointer kind (`keras_s2s.kinds.pointer`): float inputs and their mask, and its layers.
POINTS = "points"
POINT_MASK = "point_mask"
POINTER_SLOTS = "slots"
POINTER_READ_MASK = "read_mask"
POINTER = "pointer"  # the PointerLogits layer, whose scores are the model's output
