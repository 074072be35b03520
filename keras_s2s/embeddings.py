"""Pretrained word vectors into a model's embedding layer (word2vec, GloVe, NumPy files).

Three steps, each usable on its own:

1. `load_vectors(path)` reads vectors into a `{token: vector}` dict: the word2vec/GloVe text
   format (`token v1 v2 ...` per line, with or without word2vec's `count dim` header line) or a
   NumPy `.npz` file holding a `tokens` and a `vectors` array.
2. `embedding_matrix(tokenizer, vectors)` lines them up with a tokenizer's vocabulary: one row per
   id, vectors where the token was found, small random rows elsewhere, zeros for `<pad>`.
3. `set_embedding(model, "encoder_embedding", matrix, trainable=False)` writes a
   `(vocabulary_size, embedding_dim)` matrix into a named embedding layer of a zoo model (any
   `keras.layers.Embedding`, keras-hub's `ReversibleEmbedding` included), optionally frozen.

A matrix already in vocabulary order (e.g. `np.load("vectors.npy")`) goes straight to step 3.

Example:

>>> vectors = load_vectors("vectors.txt")
>>> matrix, found = embedding_matrix(task.source_tokenizer, vectors)
>>> print(f"{found.sum()} of {len(found)} tokens have a pretrained vector")
>>> set_embedding(model, "encoder_embedding", matrix, trainable=False)
>>> model.compile(...)  # compile after changing `trainable`

References:
    - Mikolov et al., 2013. Distributed Representations of Words and Phrases and their
      Compositionality. arXiv:1310.4546.
    - Pennington, Socher & Manning, 2014. GloVe: Global Vectors for Word Representation. EMNLP.
"""

import os

import keras
import numpy as np

__all__ = ["load_vectors", "embedding_matrix", "set_embedding"]


def load_vectors(path, encoding="utf-8"):
    """Read pretrained vectors into a dict `{token: float32 vector}`.

    Args:
        path: A text file in the word2vec/GloVe text format (one `token v1 v2 ... vd` per line,
            separated by spaces; an optional first line `count dim`, as word2vec writes it),
            or a `.npz` file with a `tokens` array of strings and a `vectors` array
            `(len(tokens), dim)`. Blank lines are skipped; a token listed twice keeps its first
            vector.
        encoding: Encoding of a text file.

    Returns:
        A dict from token to a float32 NumPy vector; all vectors have one size.

    Raises:
        ValueError: if the vectors have different sizes, a value is not a number, or an
            `.npz` file lacks `tokens` or `vectors` or their lengths differ.

    Example:

    >>> with open("v.txt", "w") as f:
    ...     _ = f.write("the 0.1 0.2\\ncat 0.3 0.4\\n")
    >>> load_vectors("v.txt")["cat"]
    array([0.3, 0.4], dtype=float32)
    """
    path = os.fspath(path)
    if path.endswith(".npz"):
        return _load_npz(path)
    vectors, dim = {}, None
    with open(path, encoding=encoding) as f:
        for number, line in enumerate(f, start=1):
            parts = line.rstrip("\r\n").rstrip(" ").split(" ")
            if parts == [""]:
                continue
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                dim = int(parts[1])  # word2vec's header: count dim
                continue
            if len(parts) < 2:
                raise ValueError(f"{path}, line {number}: expected `token v1 v2 ...`, got "
                                 f"{line.strip()!r}.")
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise ValueError(f"{path}, line {number}: token {parts[0]!r} has "
                                 f"{len(parts) - 1} values; the vectors before it have {dim}.")
            try:
                vector = np.asarray(parts[1:], dtype="float32")
            except ValueError:
                raise ValueError(f"{path}, line {number}: the values of token {parts[0]!r} are "
                                 "not all numbers.") from None
            vectors.setdefault(parts[0], vector)
    return vectors


def _load_npz(path):
    with np.load(path, allow_pickle=False) as data:
        missing = sorted({"tokens", "vectors"} - set(data.files))
        if missing:
            raise ValueError(f"{path} must hold the arrays 'tokens' and 'vectors'; it lacks "
                             f"{missing} (it has {sorted(data.files)}).")
        tokens, matrix = data["tokens"], np.asarray(data["vectors"], dtype="float32")
    if matrix.ndim != 2 or len(tokens) != len(matrix):
        raise ValueError(f"{path}: 'vectors' must be 2-D with one row per token; got "
                         f"{len(tokens)} tokens and vectors of shape {matrix.shape}.")
    vectors = {}
    for token, row in zip(tokens.tolist(), matrix):
        vectors.setdefault(str(token), row)
    return vectors


def embedding_matrix(tokenizer, vectors, scale=None, seed=0):
    """One row per vocabulary id: the pretrained vector where the token has one.

    Tokens without a vector get random normal rows with standard deviation `scale` (by default
    the standard deviation of the pretrained values), so they start at the size of the others;
    `<pad>` (id 0) gets zeros, unless the vectors hold `"<pad>"`.

    Args:
        tokenizer: A `keras_s2s.data` tokenizer (anything with `vocabulary`, ids in order).
        vectors: `{token: vector}`, e.g. from `load_vectors`.
        scale: Standard deviation of the random rows; None takes the pretrained vectors'.
        seed: Seed of the random rows.

    Returns:
        `(matrix, found)`: a float32 array `(vocabulary_size, dim)` and a bool array
        `(vocabulary_size,)` that is True where the row is a pretrained vector.

    Raises:
        ValueError: if `vectors` is empty or its vectors have different sizes.

    Example:

    >>> tokenizer = keras_s2s.data.CharTokenizer(list("abc"))
    >>> matrix, found = embedding_matrix(tokenizer, {"a": np.ones(3), "b": np.zeros(3)})
    >>> matrix.shape, int(found.sum())
    ((7, 3), 2)
    """
    if not vectors:
        raise ValueError("Argument `vectors` is empty: there is nothing to copy.")
    sizes = {np.shape(v) for v in vectors.values()}
    if len(sizes) != 1 or len(next(iter(sizes))) != 1:
        raise ValueError(f"All vectors must be 1-D and of one size; got shapes {sorted(sizes)}.")
    (dim,) = sizes.pop()
    if scale is None:
        scale = float(np.std(np.stack(list(vectors.values())))) or 0.05
    vocabulary = list(tokenizer.vocabulary)
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, scale, size=(len(vocabulary), dim)).astype("float32")
    matrix[0] = 0.0  # <pad>
    found = np.zeros(len(vocabulary), dtype=bool)
    for i, token in enumerate(vocabulary):
        if token in vectors:
            matrix[i] = vectors[token]
            found[i] = True
    return matrix, found


def set_embedding(model, layer_name, matrix, trainable=True):
    """Write a matrix into a model's embedding layer, and freeze the layer or not.

    Args:
        model: A Keras model, e.g. from `keras_s2s.zoo.build`.
        layer_name: Name of an embedding layer: `"encoder_embedding"` or
            `"decoder_embedding"` in the zoo (a tied decoder embedding is also the output
            projection, and a Transformer with `share_embeddings` has only the decoder one).
        matrix: `(vocabulary_size, embedding_dim)` array, row i for token id i.
        trainable: Whether training may change the embeddings. Compile the model after
            changing it (Keras reads `trainable` when it compiles).

    Returns:
        The embedding layer.

    Raises:
        ValueError: if the model has no such layer, the layer holds no embeddings, or the
            matrix does not have the layer's shape (vocabulary size or embedding dimension).

    Example:

    >>> model = keras_s2s.zoo.build("vanilla_lstm", source_vocab_size=7, target_vocab_size=7,
    ...                             embedding_dim=3, units=8)
    >>> layer = set_embedding(model, "encoder_embedding", matrix, trainable=False)
    >>> layer.trainable
    False
    """
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        embeddings = [n for n in names if "embedding" in n]
        raise ValueError(f"Model '{model.name}' has no layer named {layer_name!r}. Its embedding "
                         f"layers: {embeddings}.")
    layer = model.get_layer(layer_name)
    variable = getattr(layer, "embeddings", None)
    if variable is None:
        raise ValueError(f"Layer {layer_name!r} ({type(layer).__name__}) holds no `embeddings` "
                         "weight; pass the name of an Embedding layer.")
    matrix = np.asarray(matrix, dtype="float32")
    expected = tuple(variable.shape)
    if matrix.ndim != 2:
        raise ValueError(f"Argument `matrix` must be 2-D (vocabulary_size, embedding_dim); got "
                         f"shape {matrix.shape}.")
    if matrix.shape[1] != expected[1]:
        raise ValueError(
            f"Dimension mismatch: the vectors have {matrix.shape[1]} dimensions but layer "
            f"{layer_name!r} has embedding_dim {expected[1]}. Build the model with "
            f"embedding_dim={matrix.shape[1]} (hidden_dim for a Transformer).")
    if matrix.shape[0] != expected[0]:
        raise ValueError(
            f"Vocabulary mismatch: the matrix has {matrix.shape[0]} rows but layer "
            f"{layer_name!r} embeds {expected[0]} ids. Build the matrix from the tokenizer the "
            "model was built for (`embedding_matrix(tokenizer, vectors)`).")
    variable.assign(keras.ops.convert_to_tensor(matrix, dtype=variable.dtype))
    layer.trainable = bool(trainable)
    return layer
