"""The tokenizers as TensorFlow string ops, so that a SavedModel serves text without Python.

`graph_text(tokenizer)` gives a `GraphText` whose `encode(strings)` and `decode(ids)` run
inside a `tf.function` and give what the Python tokenizer's `encode` and `decode` give:

- `CharTokenizer`: `tf.strings.unicode_split` (after `tf.strings.lower` when `lowercase`),
  then a `tf.lookup.StaticHashTable` (unknown characters → `<unk>`); decoding joins the
  characters;
- `WordTokenizer`: Python's `\\w+|[^\\w\\s]` as RE2 patterns. RE2's `\\w` and `\\s` are ASCII
  only, so the character classes are derived from Python's own `re` at export time
  (`_python_class`), which makes them match exactly the characters Python's do;
- `SubwordTokenizer`: its keras-hub `WordPieceTokenizer` (tensorflow-text's
  `FastWordpieceTokenizer`), so a process that loads the SavedModel must
  `import tensorflow_text` first; decoding glues the `##` pieces to their words.

Decoding drops `<pad>` and `<s>` and stops at the first `</s>`, like `Tokenizer.decode`. Word
and subword outputs are spaced as a writer spaces them: `_spaced_join` is
`keras_s2s.data.detokenize.detokenize` vectorised over a batch (no space before closing
punctuation, after opening punctuation, inside `don't`, `3.50`, `well-known`, paired
quotes, no spaces between Chinese or Japanese characters).

`tests/export/test_text_graph.py` compares each against the Python tokenizer on
multilingual text. One difference is known: `lowercase` runs TensorFlow's (ICU's) Unicode
lowercasing instead of `str.lower`; they agree on the scripts tested.

Example:

>>> tokenizer = WordTokenizer.build(["Don't stop, he said."])
>>> text = graph_text(tokenizer)
>>> ids = text.encode(tf.constant(["Don't stop!"]))
>>> ids.to_list()
[[7, 4, 11, 10, 1]]
>>> text.decode(tf.expand_dims(ids.to_tensor(), 1)).numpy()[0, 0].decode()
"Don't stop <unk>"
"""

import functools
import re
import sys

import tensorflow as tf

from keras_s2s.constants import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from keras_s2s.data import detokenize as rules
from keras_s2s.data.tokenizers import CharTokenizer, SubwordTokenizer, WordTokenizer

__all__ = ["GraphText", "graph_text", "supports"]


def supports(tokenizer):
    """Whether `graph_text` can run `tokenizer` in a graph.

    Example:

    >>> supports(CharTokenizer(["a"]))
    True
    """
    return isinstance(tokenizer, (CharTokenizer, WordTokenizer, SubwordTokenizer))


_PREDICATES = {
    "word": re.compile(r"\w").fullmatch,  # Python's Unicode \w
    "space": re.compile(r"\s").fullmatch,  # Python's Unicode \s
    "digit": str.isdigit,
    "no_space_script": rules._NO_SPACE_SCRIPT.fullmatch,  # written without spaces (CJK)
}


@functools.lru_cache(maxsize=None)
def _python_class(name):
    """The inside of an RE2 character class matching exactly the characters that Python's
    predicate `name` (`_PREDICATES`) accepts, as ranges of code points; surrogates are left
    out (they are not valid in UTF-8 text). RE2's own `\\w`, `\\s` and `\\d` are ASCII only."""
    accepts = _PREDICATES[name]
    ranges, start, previous = [], None, None
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF or not accepts(chr(code)):
            continue
        if start is not None and code == previous + 1:
            previous = code
            continue
        if start is not None:
            ranges.append((start, previous))
        start = previous = code
    if start is not None:
        ranges.append((start, previous))
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}"
                   for a, b in ranges)


def _one_of(characters):
    """An RE2 class of the given characters."""
    return "".join(f"\\x{{{ord(c):X}}}" for c in sorted(characters))


def _any_of(words):
    """An RE2 alternation matching exactly one of `words`."""
    return "(?:" + "|".join(re.escape(w) for w in sorted(words)) + ")"


class GraphText:
    """A tokenizer's `encode` and `decode` as TensorFlow string ops (see the module).

    Args:
        tokenizer: A `CharTokenizer`, `WordTokenizer` or `SubwordTokenizer`.

    Attributes:
        vocabulary: `tf.Tensor` of strings, the tokenizer's vocabulary (`id -> token`).
        table: The `tf.lookup.StaticHashTable` `token -> id` (None for a subword tokenizer,
            whose keras-hub layer holds its own).

    Example:

    >>> text = GraphText(CharTokenizer(["a", "b"]))
    >>> text.encode(tf.constant(["ab?"])).to_list()
    [[4, 5, 1]]
    """

    def __init__(self, tokenizer):
        if not supports(tokenizer):
            raise ValueError(f"A {type(tokenizer).__name__} has no graph version; export "
                             "supports char, word and subword tokenizers.")
        self.tokenizer = tokenizer
        self.vocabulary = tf.constant(list(tokenizer.vocabulary))
        self.table = None
        if not isinstance(tokenizer, SubwordTokenizer):
            self.table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    self.vocabulary, tf.range(tokenizer.vocabulary_size, dtype=tf.int32)),
                default_value=UNK_ID)
        if isinstance(tokenizer, (WordTokenizer, SubwordTokenizer)):
            self._word_class = _python_class("word")
            self._space_class = _python_class("space")

    # --------------------------------------------------------------- text -> ids

    def pieces(self, texts):
        """`texts` `(batch,)` strings → `tf.RaggedTensor` `(batch, None)` of pieces
        (char and word tokenizers; `tokenize` for each text)."""
        if self.tokenizer.lowercase:
            texts = tf.strings.lower(texts, encoding="utf-8")
        if isinstance(self.tokenizer, CharTokenizer):
            return tf.strings.unicode_split(texts, "UTF-8")
        space, word = self._space_class, self._word_class
        texts = tf.strings.regex_replace(texts, f"[{space}]+", " ")
        texts = tf.strings.regex_replace(texts, f"([{word}]+|[^{word} ])", r" \1 ")
        return tf.strings.split(texts)  # on the single spaces left

    def encode(self, texts):
        """`texts` `(batch,)` strings → `tf.RaggedTensor` `(batch, None)` int32 ids (right to
        left for a `reverse` tokenizer)."""
        if isinstance(self.tokenizer, SubwordTokenizer):
            ids = self.tokenizer.keras_hub_tokenizer.tokenize(texts)
            if isinstance(ids, (list, tuple)):  # eager: keras-hub's pure-Python path
                ids = tf.ragged.constant(ids, dtype=tf.int32, ragged_rank=1)
            ids = tf.cast(ids, tf.int32)
        else:
            ids = tf.ragged.map_flat_values(self.table.lookup, self.pieces(texts))
        return _reverse_rows(ids) if self.tokenizer.reverse else ids

    # --------------------------------------------------------------- ids -> text

    def decode(self, ids):
        """`ids` `(..., length)` int → strings `(...)`: `Tokenizer.decode` of each row."""
        shape = tf.shape(ids)
        flat = tf.reshape(tf.cast(ids, tf.int32), [-1, shape[-1]])
        before_eos = tf.equal(tf.math.cumsum(tf.cast(tf.equal(flat, EOS_ID), tf.int32), axis=1,
                                             exclusive=True), 0)
        kept = (before_eos & tf.not_equal(flat, EOS_ID) & tf.not_equal(flat, PAD_ID)
                & tf.not_equal(flat, BOS_ID))
        tokens = tf.ragged.boolean_mask(tf.gather(self.vocabulary, flat), kept)
        if self.tokenizer.reverse:  # written right to left: back to the reading order
            tokens = _reverse_rows(tokens)
        if isinstance(self.tokenizer, CharTokenizer):
            texts = tf.strings.reduce_join(tokens, axis=1)
        else:
            if isinstance(self.tokenizer, SubwordTokenizer):
                tokens = self._words(tokens)
            texts = self._spaced_join(tokens)
        return tf.reshape(texts, shape[:-1])

    def _words(self, tokens):
        """WordPiece pieces → words: a piece that starts with the suffix indicator and is
        longer than it joins the piece before it, without the indicator."""
        indicator = self.tokenizer.suffix_indicator
        size = len(indicator.encode("utf-8"))
        values = tokens.flat_values
        row = tf.ragged.row_splits_to_segment_ids(tokens.row_splits)  # each piece's row
        first = tf.equal(tf.range(tf.size(values, out_type=row.dtype)),
                         tf.gather(tokens.row_splits, row))  # the first piece of its row
        suffix = tf.logical_and(tf.logical_not(first), tf.strings.regex_full_match(
            values, "(?s)" + re.escape(indicator) + ".+"))
        stripped = tf.where(suffix, tf.strings.substr(  # pos within every piece, even those left as they are
            values, tf.minimum(tf.strings.length(values), size), tf.strings.length(values)),
                            values)
        starts = tf.cast(tf.logical_not(suffix), tf.int32)  # the pieces that start a word
        words = tf.strings.unsorted_segment_join(stripped, tf.math.cumsum(starts) - 1,
                                                 num_segments=tf.reduce_sum(starts))
        counts = tf.math.unsorted_segment_sum(starts, row, num_segments=tokens.nrows())
        return tf.RaggedTensor.from_row_lengths(words, tf.cast(counts, tf.int64))

    def _spaced_join(self, tokens):
        """`keras_s2s.data.detokenize.detokenize` of every row of a ragged batch of tokens."""
        dense = tokens.to_tensor(default_value="")
        rows, width = tf.shape(dense)[0], tf.shape(dense)[1]
        position = tf.range(width)[tf.newaxis, :]
        valid = position < tf.cast(tokens.row_lengths(), tf.int32)[:, tf.newaxis]

        def match(pattern):
            return tf.strings.regex_full_match(dense, "(?s)" + pattern) & valid

        def previous(x):
            return tf.concat([tf.zeros([rows, 1], tf.bool), x[:, :-1]], axis=1)

        def following(x):
            return tf.concat([x[:, 1:], tf.zeros([rows, 1], tf.bool)], axis=1)

        word = self._word_class
        closing = match(f"[{_one_of(rules._CLOSING)}]")
        opening = match(f"[{_one_of(rules._OPENING)}]") & ~closing
        digit_joiner = match(f"[{_one_of(rules._DIGIT_JOINERS)}]")
        word_joiner = match(f"[{_one_of(rules._WORD_JOINERS)}]") & ~closing & ~opening
        apostrophe, double_quote = match("'"), match('"')
        is_word = match(f"(?:[{word}]|<).*")
        cjk, digit = _python_class("no_space_script"), _python_class("digit")
        cjk_first, cjk_last = match(f"[{cjk}].*"), match(f".*[{cjk}]")
        starts_digit, ends_digit = match(f"[{digit}].*"), match(f".*[{digit}]")
        clitic, elision = match(_any_of(rules._CLITICS)), match(_any_of(rules._ELISIONS))

        joins_words = previous(is_word) & following(is_word)
        in_number = closing & digit_joiner & previous(ends_digit) & following(starts_digit)
        hyphen = word_joiner & joins_words
        elided = apostrophe & joins_words & (following(clitic) | previous(elision))

        def quote(mark):  # (opens, closes): paired in order within a row
            count = tf.math.cumsum(tf.cast(mark, tf.int32), axis=1, exclusive=True)
            odd = tf.equal(count % 2, 1)
            return mark & ~odd, mark & odd

        opens_double, closes_double = quote(double_quote)
        opens_single, closes_single = quote(apostrophe & ~elided)
        glue_next = (in_number | opening | hyphen | elided | opens_double | opens_single)
        attach = (tf.equal(position, 0) | previous(glue_next) | closing | hyphen | elided
                  | closes_double | closes_single | (cjk_first & previous(cjk_last)))
        pieces = tf.where(attach, dense, tf.strings.join([" ", dense]))
        return tf.strings.reduce_join(tf.where(valid, pieces, ""), axis=1)


def _reverse_rows(ragged):
    """Every row of a `(batch, None)` `tf.RaggedTensor`, backwards."""
    splits = ragged.row_splits
    row = tf.ragged.row_splits_to_segment_ids(splits)
    position = tf.range(tf.size(ragged.flat_values, out_type=splits.dtype))
    index = tf.gather(splits, row) + tf.gather(splits, row + 1) - 1 - position
    return tf.RaggedTensor.from_row_splits(tf.gather(ragged.flat_values, index), splits)


def graph_text(tokenizer):
    """The `GraphText` of `tokenizer` (see `GraphText`).

    Example:

    >>> graph_text(CharTokenizer(["a"])).encode(tf.constant(["aa"])).to_list()
    [[4, 4]]
    """
    return GraphText(tokenizer)
