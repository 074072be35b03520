"""Tokenizers for seq2seq tasks: characters, words and WordPiece subwords.

Every tokenizer maps text to integer ids with the same four special tokens at the same ids,
so models, losses and decoding loops can rely on them whatever the tokenizer:

| id | token    | meaning                                           |
|----|----------|---------------------------------------------------|
| 0  | `<pad>`  | padding (`PAD_ID`); skipped by `decode`            |
| 1  | `<unk>`  | any piece missing from the vocabulary (`UNK_ID`)  |
| 2  | `<s>`    | start of sequence (`BOS_ID`); skipped by `decode`  |
| 3  | `</s>`   | end of sequence (`EOS_ID`); `decode` stops there   |

Three tokenizers share the `Tokenizer` interface (`tokenize`, `encode`, `decode`, the batch
forms, `build` from a corpus, `save`/`load` as JSON):

- `CharTokenizer`: one piece per character; `decode` joins pieces with `""`.
- `WordTokenizer`: words and single punctuation marks (`\\w+|[^\\w\\s]`); `decode` joins
  pieces with single spaces.
- `SubwordTokenizer`: WordPiece, trained by `keras_hub.tokenizers.compute_word_piece_vocabulary`
  and run by `keras_hub.tokenizers.WordPieceTokenizer`.

`encode` never drops anything: a piece missing from the vocabulary becomes `<unk>` (id 1).
`decode(encode(text))` gives back the text in each tokenizer's normalised form (documented
on each class) when every piece of `text` is in the vocabulary.

This module imports only the standard library and NumPy; keras-hub (and with it TensorFlow
and tensorflow-text) is imported the first time a `SubwordTokenizer` is built or run.
"""

import collections
import json
import logging
import os
import re
import string
import unicodedata

import numpy as np

from keras_s2s.constants import BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID
from keras_s2s.data.detokenize import detokenize

log = logging.getLogger("keras_s2s")

_WORDPIECE_SPLIT = re.compile(r"<pad>|<unk>|<s>|</s>|[^\W_]+|_|[^\w\s]")
DEFAULT_SUBWORD_VOCABULARY_SIZE = 8000

__all__ = [
    "PAD_ID",
    "UNK_ID",
    "BOS_ID",
    "EOS_ID",
    "SPECIAL_TOKENS",
    "Tokenizer",
    "CharTokenizer",
    "WordTokenizer",
    "SubwordTokenizer",
    "load_tokenizer",
]

_REGISTRY = {}  # class name -> Tokenizer subclass, for `load_tokenizer`.
_WORD_PATTERN = re.compile(r"\w+|[^\w\s]")


# --------------------------------------------------------------------------- argument checks


def _check_text(text, name="text"):
    if not isinstance(text, str):
        raise TypeError(f"Argument `{name}` must be a string. Received: {text!r} "
                        f"of type {type(text).__name__}")
    return text


def _check_texts(texts, name="texts"):
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"Argument `{name}` must be an iterable of strings, not a single "
                        f"string. Received: {texts!r:.80}")
    try:
        texts = list(texts)
    except TypeError:
        raise TypeError(f"Argument `{name}` must be an iterable of strings. "
                        f"Received: {texts!r:.80}") from None
    for i, text in enumerate(texts):
        _check_text(text, f"{name}[{i}]")
    return texts


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Argument `{name}` must be a bool. Received: {value!r}")
    return bool(value)


def _check_int(value, name, minimum, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Argument `{name}` must be an int. Received: {value!r}")
    if value < minimum:
        raise ValueError(f"Argument `{name}` must be >= {minimum}. Received: {value!r}")
    return int(value)


def _canonical_vocabulary(vocabulary):
    """The vocabulary as a list that starts with `SPECIAL_TOKENS` (prepended if absent)."""
    if isinstance(vocabulary, (str, bytes)):
        raise TypeError("Argument `vocabulary` must be a list of strings, not a single string. "
                        f"Received: {vocabulary!r:.80}")
    try:
        tokens = list(vocabulary)
    except TypeError:
        raise TypeError("Argument `vocabulary` must be a list of strings. "
                        f"Received: {vocabulary!r:.80}") from None
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            raise TypeError(f"Argument `vocabulary` must hold strings; vocabulary[{i}] is "
                            f"{token!r} of type {type(token).__name__}")
        if not token:
            raise ValueError(f"Argument `vocabulary` must not hold empty strings; "
                             f"vocabulary[{i}] is ''")
    tokens = [str(token) for token in tokens]  # np.str_ -> str, so JSON and equality are plain.
    seen = set()
    for token in tokens:
        if token in seen:
            raise ValueError(f"Argument `vocabulary` has the token {token!r} more than once.")
        seen.add(token)
    if tuple(tokens[:len(SPECIAL_TOKENS)]) == SPECIAL_TOKENS:
        return tokens
    misplaced = [(i, t) for i, t in enumerate(tokens) if t in SPECIAL_TOKENS]
    if misplaced:
        raise ValueError(
            f"Argument `vocabulary` must either start with the special tokens "
            f"{list(SPECIAL_TOKENS)} in this order, or hold none of them (they are then "
            f"prepended). Received special tokens at positions {misplaced}.")
    return list(SPECIAL_TOKENS) + tokens


def _ids_array(ids, name="ids"):
    """`ids` as a 1-D int64 NumPy array (accepts lists, tuples, NumPy and tensors)."""
    array = np.asarray(ids)
    if array.size == 0:
        return np.zeros((0,), "int64")
    if array.ndim != 1:
        raise ValueError(f"Argument `{name}` must be one sequence of ids (1-D); use "
                         f"`decode_batch` for a batch. Received shape {array.shape}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"Argument `{name}` must hold integer ids. Received dtype {array.dtype}")
    return array.astype("int64")


# --------------------------------------------------------------------------- base class


class Tokenizer:
    """Base class of the tokenizers: a vocabulary with the four special tokens first.

    A tokenizer splits text into pieces (`tokenize`) and maps them to ids (`encode`) through
    its vocabulary, whose first four tokens are always `<pad>`, `<unk>`, `<s>` and `</s>`
    (ids 0 to 3, also `PAD_ID`, `UNK_ID`, `BOS_ID`, `EOS_ID`). A piece missing from the
    vocabulary becomes `<unk>`; nothing is dropped, so `len(encode(text)) ==
    len(tokenize(text))`. `decode` maps ids back to text, skipping `<pad>` and `<s>` and
    stopping at the first `</s>`, so the output of a decoding loop can go in as it is.

    Subclasses implement `tokenize` and `_detokenize` (how pieces are joined back); they get
    `build` (a vocabulary from a corpus), `save`/`load` (JSON), `get_config`/`from_config` and
    equality (same class, same configuration, same vocabulary) from this class.

    Args:
        vocabulary: List of token strings. Either it starts with the four special tokens in
            id order, or it holds none of them and they are prepended. Tokens must be
            non-empty and unique.
        lowercase: Whether to lowercase text before splitting it.
        reverse: Whether ids run right to left: `encode` gives the last piece's id first
            and `decode` turns the ids back, so a decoder trained on them writes the end of
            a text first (`pieces`). `tokenize`, `normalize` and the vocabulary keep the
            reading order.

    Example:

    >>> tokenizer = CharTokenizer(["a", "b"])
    >>> tokenizer.vocabulary
    ['<pad>', '<unk>', '<s>', '</s>', 'a', 'b']
    >>> tokenizer.encode("abc")
    [4, 5, 1]
    """

    def __init__(self, vocabulary, lowercase=False, reverse=False):
        self._vocabulary = _canonical_vocabulary(vocabulary)
        self._lowercase = _check_bool(lowercase, "lowercase")
        self._reverse = _check_bool(reverse, "reverse")
        self._token_ids = {token: i for i, token in enumerate(self._vocabulary)}
        self._check_vocabulary(self._vocabulary[len(SPECIAL_TOKENS):])

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def _check_vocabulary(self, tokens):
        """Subclass hook: raise `ValueError` for tokens this tokenizer can never produce."""

    # ----------------------------------------------------------------------- properties

    @property
    def vocabulary(self):
        """The vocabulary as a new list of strings, the special tokens first."""
        return list(self._vocabulary)

    @property
    def vocabulary_size(self):
        """The number of tokens in the vocabulary, the four special tokens included."""
        return len(self._vocabulary)

    @property
    def lowercase(self):
        """Whether text is lowercased before it is split."""
        return self._lowercase

    @property
    def reverse(self):
        """Whether ids run right to left (see the class docstring)."""
        return self._reverse

    def reversed(self, reverse=True):
        """This tokenizer with ids in the other reading order (`reverse`), the rest the same.

        Args:
            reverse: True for right-to-left ids, False for left-to-right ones.

        Returns:
            A tokenizer of the same class.

        Example:

        >>> CharTokenizer(["a", "b"]).reversed().encode("ab")
        [5, 4]
        """
        return type(self).from_config({**self.get_config(),
                                       "reverse": _check_bool(reverse, "reverse")})

    @property
    def special_tokens(self):
        """The special tokens in id order: `["<pad>", "<unk>", "<s>", "</s>"]`."""
        return list(SPECIAL_TOKENS)

    @property
    def pad_id(self):
        """The id of `<pad>` (0)."""
        return PAD_ID

    @property
    def unk_id(self):
        """The id of `<unk>` (1)."""
        return UNK_ID

    @property
    def bos_id(self):
        """The id of `<s>` (2)."""
        return BOS_ID

    @property
    def eos_id(self):
        """The id of `</s>` (3)."""
        return EOS_ID

    # ----------------------------------------------------------------------- lookups

    def token_to_id(self, token):
        """The id of a token, or `UNK_ID` (1) for a token missing from the vocabulary.

        Args:
            token: A string.

        Returns:
            An int.

        Example:

        >>> CharTokenizer(["a"]).token_to_id("a"), CharTokenizer(["a"]).token_to_id("z")
        (4, 1)
        """
        return self._token_ids.get(_check_text(token, "token"), UNK_ID)

    def id_to_token(self, id):
        """The token string of an id.

        Ids outside `[0, vocabulary_size)` raise `ValueError`.

        Args:
            id: An int (Python or NumPy).

        Returns:
            A string.

        Example:

        >>> CharTokenizer(["a"]).id_to_token(4)
        'a'
        """
        if isinstance(id, (bool, np.bool_)) or not isinstance(id, (int, np.integer)):
            raise TypeError(f"Argument `id` must be an int. Received: {id!r}")
        self._check_id(int(id))
        return self._vocabulary[int(id)]

    def _check_id(self, id):
        if not 0 <= id < len(self._vocabulary):
            raise ValueError(
                f"Token id {id} is outside the vocabulary of size {len(self._vocabulary)} "
                f"(valid ids are 0 to {len(self._vocabulary) - 1}).")

    # ----------------------------------------------------------------------- text -> ids

    def tokenize(self, text):
        """Split a string into pieces (strings), after lowercasing if `lowercase`.

        Args:
            text: A string.

        Returns:
            A list of strings.

        Example:

        >>> WordTokenizer([]).tokenize("Hi, you!")
        ['Hi', ',', 'you', '!']
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement `tokenize`.")

    def _encode(self, text):
        return [self._token_ids.get(piece, UNK_ID) for piece in self.tokenize(text)]

    def _ordered(self, items):
        """`items` (pieces or ids in reading order) in id order, or back: reversed if
        `reverse`."""
        return list(items)[::-1] if self._reverse else list(items)

    def pieces(self, text):
        """The pieces of `text` in the order of its ids (reversed if `reverse`).

        Args:
            text: A string.

        Returns:
            A list of strings, one for each id of `encode(text)`.

        Example:

        >>> CharTokenizer([], reverse=True).pieces("abc")
        ['c', 'b', 'a']
        """
        return self._ordered(self.tokenize(text))

    def encode(self, text, add_bos=False, add_eos=False):
        """Encode a string to a list of ids.

        Every piece of `tokenize(text)` gives exactly one id; pieces missing from the
        vocabulary give `UNK_ID` (1).

        Args:
            text: A string.
            add_bos: Whether to start the ids with `BOS_ID` (2).
            add_eos: Whether to end the ids with `EOS_ID` (3).

        Returns:
            A list of ints.

        Example:

        >>> CharTokenizer(["a", "b"]).encode("ab?", add_eos=True)
        [4, 5, 1, 3]
        """
        ids = self._ordered(self._encode(_check_text(text)))
        add_bos = _check_bool(add_bos, "add_bos")
        add_eos = _check_bool(add_eos, "add_eos")
        return ([BOS_ID] if add_bos else []) + ids + ([EOS_ID] if add_eos else [])

    def encode_batch(self, texts, add_bos=False, add_eos=False):
        """Encode strings to lists of ids (not padded).

        Args:
            texts: An iterable of strings.
            add_bos: Whether to start each sequence with `BOS_ID` (2).
            add_eos: Whether to end each sequence with `EOS_ID` (3).

        Returns:
            A list of lists of ints.

        Example:

        >>> CharTokenizer(["a", "b"]).encode_batch(["ab", "b"])
        [[4, 5], [5]]
        """
        return [self.encode(text, add_bos=add_bos, add_eos=add_eos)
                for text in _check_texts(texts)]

    # ----------------------------------------------------------------------- ids -> text

    def _detokenize(self, tokens):
        raise NotImplementedError(f"{type(self).__name__} does not implement `_detokenize`.")

    def _kept_tokens(self, ids):
        array = _ids_array(ids)
        for id in array:
            self._check_id(int(id))
        tokens = []
        for id in array.tolist():
            if id == EOS_ID:
                break
            if id in (PAD_ID, BOS_ID):
                continue
            tokens.append(self._vocabulary[id])
        return tokens

    def decode(self, ids):
        """Decode ids to a string.

        `<pad>` and `<s>` are skipped, and decoding stops at the first `</s>`; `<unk>` comes
        out as the string `"<unk>"`. Every id, those after `</s>` included, must be in
        `[0, vocabulary_size)`, or `ValueError` names the id and the vocabulary size.

        Args:
            ids: A 1-D sequence of ints: a list, a tuple, a NumPy array or a tensor.

        Returns:
            A string.

        Example:

        >>> CharTokenizer(["a", "b"]).decode([2, 4, 0, 5, 3, 4])
        'ab'
        """
        return self._detokenize(self._ordered(self._kept_tokens(ids)))

    def normalize(self, text):
        """`text` as `decode(encode(text))` prints it, every piece kept (how references are scored).

        A piece the vocabulary lacks stays itself instead of becoming `"<unk>"`.

        Args:
            text: A string.

        Returns:
            A string.

        Example:

        >>> WordTokenizer(["hi"]).normalize("hi,zorro")
        'hi, zorro'
        """
        return self._detokenize(self.tokenize(text))

    def decode_extended(self, ids, source_tokens):
        """Decode ids of an extended vocabulary, where id `vocabulary_size + j` is source token `j`.

        Such ids are the words a pointer-generator copies (`keras_s2s.layers.CopyMixture`).

        Args:
            ids: A 1-D sequence of ints.
            source_tokens: The source's pieces in the order of its ids (`pieces(source)` of
                its tokenizer), which the extended ids point at.

        Returns:
            A string; an extended id past the source's tokens comes out as `"<unk>"`.

        Example:

        >>> WordTokenizer(["the", "is"]).decode_extended([4, 6, 5, 7, 3], ["zorro", "here"])
        'the zorro is here'
        """
        tokens = []
        for id in _ids_array(ids).tolist():
            if id == EOS_ID:
                break
            if id in (PAD_ID, BOS_ID):
                continue
            if id >= self.vocabulary_size:
                j = id - self.vocabulary_size
                tokens.append(source_tokens[j] if j < len(source_tokens) else
                              self._vocabulary[UNK_ID])
            else:
                self._check_id(id)
                tokens.append(self._vocabulary[id])
        return self._detokenize(self._ordered(tokens))

    def decode_batch(self, ids):
        """Decode a batch of id sequences to strings.

        Args:
            ids: A list of 1-D id sequences (ragged is fine), or a 2-D array padded with 0.

        Returns:
            A list of strings.

        Example:

        >>> CharTokenizer(["a", "b"]).decode_batch(np.array([[4, 5, 3], [5, 0, 0]]))
        ['ab', 'b']
        """
        if isinstance(ids, np.ndarray) and ids.ndim != 2:
            raise ValueError(f"Argument `ids` must be a batch of sequences (2-D). "
                             f"Received shape {ids.shape}")
        return [self.decode(row) for row in ids]

    # ----------------------------------------------------------------------- building

    @classmethod
    def build(cls, texts, min_frequency=1, max_vocabulary_size=None, **options):
        """Build a tokenizer whose vocabulary holds the frequent pieces of a corpus.

        The pieces of `tokenize` are counted over `texts`; those seen at least
        `min_frequency` times are kept, the most frequent first, ties in code point order, so
        the result is deterministic. When `max_vocabulary_size` is set, the least frequent
        pieces are cut so that the whole vocabulary, the four special tokens included, has
        at most that many tokens. `SubwordTokenizer` overrides this to train WordPiece.

        Args:
            texts: An iterable of strings.
            min_frequency: Int >= 1, the least count for a piece to be kept.
            max_vocabulary_size: None, or int >= 5: the most tokens in the vocabulary.
            **options: Constructor arguments other than `vocabulary` (e.g. `lowercase`).

        Returns:
            A tokenizer of the class this is called on.

        Example:

        >>> WordTokenizer.build(["a b a", "b a c"], min_frequency=2).vocabulary
        ['<pad>', '<unk>', '<s>', '</s>', 'a', 'b']
        """
        texts = _check_texts(texts)
        min_frequency = _check_int(min_frequency, "min_frequency", 1)
        max_vocabulary_size = _check_int(max_vocabulary_size, "max_vocabulary_size", 5,
                                         allow_none=True)
        probe = cls(SPECIAL_TOKENS, **options)  # Checks `options` before any counting.
        counts = collections.Counter()
        for text in texts:
            counts.update(probe.tokenize(text))
        kept = sorted(((piece, count) for piece, count in counts.items()
                       if count >= min_frequency and piece not in SPECIAL_TOKENS),
                      key=lambda item: (-item[1], item[0]))
        if max_vocabulary_size is not None:
            kept = kept[:max_vocabulary_size - len(SPECIAL_TOKENS)]
        return cls(list(SPECIAL_TOKENS) + [piece for piece, _ in kept], **options)

    # ----------------------------------------------------------------------- serialisation

    def get_config(self):
        """The constructor arguments, the vocabulary included, as JSON-friendly values.

        Returns:
            A dict; `type(self).from_config(config)` rebuilds an equal tokenizer.

        Example:

        >>> CharTokenizer(["a"], lowercase=True).get_config()
        {'vocabulary': ['<pad>', '<unk>', '<s>', '</s>', 'a'], 'lowercase': True, 'reverse': False}
        """
        return {"vocabulary": list(self._vocabulary), "lowercase": self._lowercase,
                "reverse": self._reverse}

    @classmethod
    def from_config(cls, config):
        """Rebuild a tokenizer from the dict of `get_config`.

        Args:
            config: A dict of constructor arguments.

        Returns:
            A tokenizer of the class this is called on.

        Example:

        >>> tokenizer = CharTokenizer(["a"])
        >>> CharTokenizer.from_config(tokenizer.get_config()) == tokenizer
        True
        """
        return cls(**dict(config))

    def save(self, path):
        """Save the tokenizer to a UTF-8 JSON file.

        The file holds `{"class": <class name>, "config": <get_config() without the
        vocabulary>, "vocabulary": [<token>, ...]}`; `load_tokenizer` (or `load` on the
        class) reads it back.

        Args:
            path: A file path (string or path-like); its folder must exist.

        Returns:
            None.

        Example:

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "tokenizer.json")
        ...     CharTokenizer(["a"]).save(path)
        ...     print(load_tokenizer(path) == CharTokenizer(["a"]))
        True
        """
        config = self.get_config()
        vocabulary = config.pop("vocabulary")
        payload = {"class": type(self).__name__, "config": config, "vocabulary": vocabulary}
        with open(os.fspath(path), "w", encoding="utf-8") as file:
            json.dump(payload, file, ensure_ascii=False, indent=1)
            file.write("\n")

    @classmethod
    def load(cls, path):
        """Load a tokenizer saved by `save`.

        Called on `Tokenizer`, this loads whatever tokenizer class the file names (as
        `load_tokenizer` does); called on a subclass, the file must name that class or one of
        its subclasses, or `ValueError` is raised.

        Args:
            path: A file path (string or path-like).

        Returns:
            A tokenizer equal to the one saved.

        Example:

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "tokenizer.json")
        ...     WordTokenizer(["hi"]).save(path)
        ...     print(WordTokenizer.load(path).vocabulary)
        ['<pad>', '<unk>', '<s>', '</s>', 'hi']
        """
        path = os.fspath(path)
        with open(path, encoding="utf-8") as file:
            try:
                payload = json.load(file)
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"{path} is not a tokenizer file (invalid JSON: {error}).") from None
        if (not isinstance(payload, dict) or
                not {"class", "config", "vocabulary"} <= set(payload)):
            raise ValueError(f"{path} is not a tokenizer file: it must hold a JSON object with "
                             "the keys 'class', 'config' and 'vocabulary'.")
        name = payload["class"]
        if name not in _REGISTRY:
            raise ValueError(f"{path} names the tokenizer class {name!r}, which is not one of "
                             f"{sorted(_REGISTRY)}.")
        saved_cls = _REGISTRY[name]
        if not issubclass(saved_cls, cls):
            raise ValueError(f"{path} holds a {name}, not a {cls.__name__}; use "
                             "`load_tokenizer` to load any tokenizer.")
        return saved_cls.from_config({**payload["config"], "vocabulary": payload["vocabulary"]})

    # ----------------------------------------------------------------------- dunders

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        return self.get_config() == other.get_config()

    __hash__ = None  # Equality is by value and the object is not frozen.

    def __repr__(self):
        options = {k: v for k, v in self.get_config().items() if k != "vocabulary"}
        args = ", ".join(f"{k}={v!r}" for k, v in options.items())
        return f"{type(self).__name__}(vocabulary_size={self.vocabulary_size}, {args})"


# --------------------------------------------------------------------------- characters


class CharTokenizer(Tokenizer):
    """A character tokenizer: every character (spaces included) is one piece.

    `tokenize(text)` is `list(text)`, after `text.lower()` when `lowercase`. `decode` joins
    the pieces with `""`, so `decode(encode(text))` is `text` (lowercased when `lowercase`)
    when every character of `text` is in the vocabulary. The special tokens are never matched
    in text: `"<s>"` is the three pieces `"<"`, `"s"`, `">"`.

    Args:
        vocabulary: List of single characters, optionally preceded by the four special tokens
            (see `Tokenizer`).
        lowercase: Whether to lowercase text (`str.lower`) before splitting it.
        reverse: Whether ids run right to left (see `Tokenizer`).

    Example:

    >>> tokenizer = CharTokenizer.build(["hello", "world"])
    >>> tokenizer.vocabulary
    ['<pad>', '<unk>', '<s>', '</s>', 'l', 'o', 'd', 'e', 'h', 'r', 'w']
    >>> tokenizer.encode("hold!")
    [8, 5, 4, 6, 1]
    >>> tokenizer.decode([2, 8, 5, 4, 6, 3, 0])
    'hold'
    """

    def _check_vocabulary(self, tokens):
        for token in tokens:
            if len(token) != 1:
                raise ValueError("Argument `vocabulary` of a CharTokenizer must hold single "
                                 f"characters. Received: {token!r}")

    def tokenize(self, text):
        """Split a string into its characters, after lowercasing if `lowercase`.

        Args:
            text: A string.

        Returns:
            A list of one-character strings.

        Example:

        >>> CharTokenizer([], lowercase=True).tokenize("Ab c")
        ['a', 'b', ' ', 'c']
        """
        text = _check_text(text)
        return list(text.lower() if self._lowercase else text)

    def _detokenize(self, tokens):
        return "".join(tokens)


# --------------------------------------------------------------------------- words


class WordTokenizer(Tokenizer):
    """A word tokenizer: runs of word characters, and each other non-space character alone.

    `tokenize(text)` is `re.findall(r"\\w+|[^\\w\\s]", text)` (Unicode-aware, after
    `text.lower()` when `lowercase`): whitespace separates words and is dropped, and every
    punctuation mark or symbol is a piece of its own. `decode` joins the pieces as a writer
    spaces them (`keras_s2s.data.detokenize`: no space before a comma or after an opening
    bracket, apostrophes and numbers joined), so `decode(encode(text))` gives back text with
    ordinary spacing when every piece is in the vocabulary (e.g. `"Hi,you !"` -> `"Hi, you!"`).
    The special tokens are never matched in text: `"<s>"` is the three pieces `"<"`, `"s"`,
    `">"`.

    Args:
        vocabulary: List of words (without whitespace), optionally preceded by the four
            special tokens (see `Tokenizer`).
        lowercase: Whether to lowercase text (`str.lower`) before splitting it.
        reverse: Whether ids run right to left (see `Tokenizer`).

    Example:

    >>> tokenizer = WordTokenizer.build(["the cat sat.", "The dog sat!"])
    >>> tokenizer.vocabulary
    ['<pad>', '<unk>', '<s>', '</s>', 'sat', '!', '.', 'The', 'cat', 'dog', 'the']
    >>> tokenizer.encode("the dog ran.")
    [10, 9, 1, 6]
    >>> tokenizer.decode(tokenizer.encode("the  dog sat."))
    'the dog sat.'
    """

    def _check_vocabulary(self, tokens):
        for token in tokens:
            if any(char.isspace() for char in token):
                raise ValueError("Argument `vocabulary` of a WordTokenizer must hold tokens "
                                 f"without whitespace. Received: {token!r}")

    def tokenize(self, text):
        """Split a string into words and punctuation marks, after lowercasing if `lowercase`.

        Args:
            text: A string.

        Returns:
            A list of strings: the matches of `\\w+|[^\\w\\s]`.

        Example:

        >>> WordTokenizer([], lowercase=True).tokenize("Don't stop!")
        ['don', "'", 't', 'stop', '!']
        """
        text = _check_text(text)
        return _WORD_PATTERN.findall(text.lower() if self._lowercase else text)

    def _detokenize(self, tokens):
        return detokenize(tokens)


# --------------------------------------------------------------------------- WordPiece


def _check_suffix_indicator(suffix_indicator):
    if not isinstance(suffix_indicator, str) or not suffix_indicator:
        raise TypeError("Argument `suffix_indicator` must be a non-empty string. "
                        f"Received: {suffix_indicator!r}")
    for char in suffix_indicator:
        # keras-hub splits words on these characters, so no word can start with the indicator
        # and `decode` can tell suffix pieces apart from whole words.
        if char not in string.punctuation and not unicodedata.category(char).startswith("P"):
            raise ValueError("Argument `suffix_indicator` must consist of punctuation "
                             f"characters (e.g. '##'). Received: {suffix_indicator!r}")
    return suffix_indicator


class SubwordTokenizer(Tokenizer):
    """A WordPiece tokenizer, trained and run by keras-hub (tensorflow-text underneath).

    Text is first split into words the way keras-hub's `WordPieceTokenizer` does it: on ASCII
    whitespace and control or format characters (`Cc`, `Cf`; other Unicode spaces such as
    U+00A0 stay inside words), with every punctuation mark (ASCII non-alphanumeric or
    Unicode `P*`) and every CJK ideograph a word of its own, after lowercasing (Unicode
    NFKC case folding, e.g. `"ß"` -> `"ss"`) when `lowercase` and removing accents when
    `strip_accents`. Each word is then split greedily, longest match first, into vocabulary
    pieces, where every piece after the first of a word carries `suffix_indicator` (`"##"`):
    `"unhappy"` -> `["un", "##happy"]`. A word that cannot be split that way, or is longer
    than 100 UTF-8 bytes, becomes one `<unk>`. The special token strings (`"<pad>"`,
    `"<unk>"`, `"<s>"`, `"</s>"`, case-sensitive) are never split, so they map to ids 0 to 3
    even inside text.

    `decode` glues a suffix piece (one that starts with `suffix_indicator` and is longer
    than it) to the piece before it without the indicator, as
    `keras_hub.tokenizers.WordPieceTokenizer.detokenize` does for the same ids, then joins
    the words and punctuation as a writer spaces them (`keras_s2s.data.detokenize`). So
    `decode(encode(text))` is `text` with ordinary spacing (`"Hi,you !"` -> `"Hi, you!"`,
    lowercased and accent-stripped when configured) when every word is in the vocabulary's
    reach, with `<pad>`/`<s>` left out and anything from a literal `"</s>"` on cut off.

    `keras_hub_tokenizer` is the underlying keras-hub layer (int32 ids): it can be mapped over
    a `tf.data` pipeline, where it runs tensorflow-text's `FastWordpieceTokenizer`. Called
    eagerly (as `encode` does), keras-hub 0.32 runs its pure-Python equivalent, which is
    about 200 times faster per string and gives the same ids.

    Args:
        vocabulary: List of WordPiece tokens, optionally preceded by the four special tokens
            (see `Tokenizer`).
        lowercase: Whether to lowercase text (NFKC case folding) before splitting it.
        strip_accents: Whether to remove accents (NFD, then drop `Mn` marks) first.
        suffix_indicator: The prefix of non-initial pieces; punctuation characters only.
        reverse: Whether ids run right to left (see `Tokenizer`).

    Example:

    >>> tokenizer = SubwordTokenizer(["un", "##happy", "happy", "!"])
    >>> tokenizer.tokenize("unhappy! happy")
    ['un', '##happy', '!', 'happy']
    >>> tokenizer.encode("unhappy sad")
    [4, 5, 1]
    >>> tokenizer.decode([2, 4, 5, 6, 7, 3])
    'unhappy happy!'

    Reference:
        - [Schuster and Nakajima, 2012](https://research.google/pubs/pub37842/)
        - [Wu et al., 2016](https://arxiv.org/abs/1609.08144)
        - [Song et al., 2021](https://arxiv.org/abs/2012.15524)
    """

    def __init__(self, vocabulary, lowercase=False, strip_accents=False,
                 suffix_indicator="##", reverse=False):
        super().__init__(vocabulary, lowercase=lowercase, reverse=reverse)
        self._strip_accents = _check_bool(strip_accents, "strip_accents")
        self._suffix_indicator = _check_suffix_indicator(suffix_indicator)
        self._layer = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_layer"] = None  # Rebuilt on first use; keras layers do not pickle cleanly.
        return state

    @property
    def strip_accents(self):
        """Whether accents are removed before splitting."""
        return self._strip_accents

    @property
    def suffix_indicator(self):
        """The prefix of non-initial pieces of a word (`"##"` by default)."""
        return self._suffix_indicator

    @property
    def keras_hub_tokenizer(self):
        """The `keras_hub.tokenizers.WordPieceTokenizer` that runs this tokenizer (int32 ids).

        It is created on first use with this tokenizer's vocabulary and options,
        `oov_token="<unk>"`, and the special tokens protected from splitting.

        Returns:
            A `keras_hub.tokenizers.WordPieceTokenizer` layer.

        Example:

        >>> tokenizer = SubwordTokenizer(["a", "##b"])
        >>> [int(i) for i in tokenizer.keras_hub_tokenizer("ab")]
        [4, 5]
        """
        if self._layer is None:
            import keras_hub  # Lazily: it imports TensorFlow and tensorflow-text.

            self._layer = keras_hub.tokenizers.WordPieceTokenizer(
                vocabulary=list(self._vocabulary),
                lowercase=self._lowercase,
                strip_accents=self._strip_accents,
                split=True,
                split_on_cjk=True,
                suffix_indicator=self._suffix_indicator,
                oov_token=SPECIAL_TOKENS[UNK_ID],
                special_tokens=list(SPECIAL_TOKENS),
                special_tokens_in_strings=True,
                dtype="int32",
            )
        return self._layer

    def _encode(self, text):
        return np.asarray(self.keras_hub_tokenizer.tokenize(text)).reshape(-1).tolist()

    def tokenize(self, text):
        """Split a string into WordPiece pieces (unknown words become `"<unk>"`).

        Args:
            text: A string.

        Returns:
            A list of vocabulary tokens.

        Example:

        >>> SubwordTokenizer(["a", "##b"]).tokenize("ab, ba")
        ['a', '##b', '<unk>', '<unk>']
        """
        return [self._vocabulary[i] for i in self._encode(_check_text(text))]

    def _detokenize(self, tokens):
        words = []
        indicator = self._suffix_indicator
        for token in tokens:
            if words and len(token) > len(indicator) and token.startswith(indicator):
                words[-1] += token[len(indicator):]
            else:
                words.append(token)
        return detokenize(words)

    def get_config(self):
        """The constructor arguments, the vocabulary included, as JSON-friendly values.

        Returns:
            A dict; `SubwordTokenizer.from_config(config)` rebuilds an equal tokenizer.

        Example:

        >>> sorted(SubwordTokenizer(["a"]).get_config())
        ['lowercase', 'reverse', 'strip_accents', 'suffix_indicator', 'vocabulary']
        """
        return {**super().get_config(), "strip_accents": self._strip_accents,
                "suffix_indicator": self._suffix_indicator}

    @classmethod
    def build(cls, texts, min_frequency=1, max_vocabulary_size=None, **options):
        """Train a WordPiece vocabulary on a corpus and return its tokenizer.

        The texts are split into words as `tokenize` does (same lowercasing, accent
        stripping, punctuation and CJK splitting; special token strings are left out), the
        words seen fewer than `min_frequency` times are dropped, and the rest, with their
        counts, train the vocabulary with `keras_hub.tokenizers.compute_word_piece_vocabulary`
        (tensorflow-text's learner) with the four special tokens reserved at ids 0 to 3.

        The learner always keeps every character of the training words, alone and as a
        suffix piece, and adds longer pieces by frequency; its own defaults leave out words
        longer than 50 characters and words with characters outside the 1000 most frequent.
        When even the characters do not fit in `max_vocabulary_size`, keras-hub cuts the
        vocabulary at that size, which drops suffix characters first: a warning is logged,
        since words containing them then encode to `<unk>`.

        Args:
            texts: An iterable of strings.
            min_frequency: Int >= 1, the least count for a word to be used for training.
            max_vocabulary_size: None (8000) or int >= 5: the target and upper bound of the
                vocabulary size, the special tokens included. The learner aims within 5%
                below it and gives fewer tokens when the corpus has fewer pieces to offer.
            **options: `lowercase`, `strip_accents`, `suffix_indicator`.

        Returns:
            A `SubwordTokenizer`.

        Example:

        >>> tokenizer = SubwordTokenizer.build(["bat sat pat"] * 20)
        >>> tokenizer.vocabulary[:8]
        ['<pad>', '<unk>', '<s>', '</s>', 'a', 'b', 'p', 's']
        >>> tokenizer.vocabulary[8:]
        ['t', 'bat', 'pat', 'sat', '##a', '##b', '##p', '##s', '##t']
        >>> tokenizer.tokenize("bats tap")
        ['bat', '##s', 't', '##a', '##p']
        """
        texts = _check_texts(texts)
        min_frequency = _check_int(min_frequency, "min_frequency", 1)
        max_vocabulary_size = _check_int(max_vocabulary_size, "max_vocabulary_size", 5,
                                         allow_none=True)
        if max_vocabulary_size is None:
            max_vocabulary_size = DEFAULT_SUBWORD_VOCABULARY_SIZE
        probe = cls(SPECIAL_TOKENS, **options)  # Checks `options` before any work.
        counts = probe._count_words(texts)
        kept = sorted(((word, count) for word, count in counts.items()
                       if count >= min_frequency and word not in SPECIAL_TOKENS),
                      key=lambda item: (-item[1], item[0]))
        if not kept:
            return cls(list(SPECIAL_TOKENS), **options)

        import keras_hub
        import tensorflow as tf

        words = [word for word, count in kept for _ in range(count)]
        vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
            tf.data.Dataset.from_tensor_slices(words).batch(4096),
            vocabulary_size=max_vocabulary_size,
            lowercase=False,  # Already applied to the counted words.
            strip_accents=False,
            split=False,
            suffix_indicator=probe.suffix_indicator,
            reserved_tokens=list(SPECIAL_TOKENS),
        )
        if tuple(vocabulary[:len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise RuntimeError("compute_word_piece_vocabulary did not put the special tokens "
                               f"first: {vocabulary[:len(SPECIAL_TOKENS)]}")
        tokenizer = cls(vocabulary, **options)
        tokenizer._warn_uncovered(kept)
        return tokenizer

    def _count_words(self, texts):
        """Word counts, splitting `texts` as keras-hub's WordPiece pre-tokenizer does.

        Whitespace separates words and every punctuation or symbol character is a word of its
        own; lowercasing is NFKC case folding and accent stripping drops combining marks, as
        in keras-hub. Written here because keras-hub has no public function for it; the counts
        only choose the vocabulary, the tokenizer itself runs keras-hub's own splitting.
        """
        counts = collections.Counter()
        for text in texts:
            if self._lowercase:
                text = unicodedata.normalize("NFKC", text).casefold()
            if self._strip_accents:
                text = "".join(c for c in unicodedata.normalize("NFD", text)
                               if unicodedata.category(c) != "Mn")
            for word in _WORDPIECE_SPLIT.findall(text):
                if word not in SPECIAL_TOKENS:
                    counts[word] += 1
        return counts

    def _warn_uncovered(self, word_counts):
        vocabulary = set(self._vocabulary)
        missing = set()
        for word, _ in word_counts:
            if len(word) > 50:  # The learner skips these words.
                continue
            if word[0] not in vocabulary:
                missing.add(word[0])
            missing.update(self._suffix_indicator + char for char in word[1:]
                           if self._suffix_indicator + char not in vocabulary)
        if missing:
            log.warning(
                "SubwordTokenizer.build: %d character pieces of the training words did not fit "
                "in the vocabulary of %d tokens (e.g. %s); words containing them encode to "
                "<unk>. Raise max_vocabulary_size to keep them.", len(missing),
                self.vocabulary_size, sorted(missing)[:5])


# --------------------------------------------------------------------------- loading


def load_tokenizer(path):
    """Load any tokenizer saved by `Tokenizer.save`, whatever its class.

    The JSON file names the class (`"CharTokenizer"`, `"WordTokenizer"`,
    `"SubwordTokenizer"`, or any other `Tokenizer` subclass defined before loading).

    Args:
        path: A file path (string or path-like).

    Returns:
        A tokenizer equal to the one saved.

    Example:

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "tokenizer.json")
    ...     WordTokenizer(["hi"], lowercase=True).save(path)
    ...     print(load_tokenizer(path))
    WordTokenizer(vocabulary_size=5, lowercase=True, reverse=False)
    """
    return Tokenizer.load(path)
