"""A disk cache of tokenizers trained on a corpus.

Training the translation task's two WordPiece vocabularies takes about 40 s per side on two
CPU cores (tensorflow-text's learner is pure Python), and every `keras-s2s train`, `evaluate`
and results script loads the task anew. `build_cached` keys a built tokenizer by its class,
its build arguments, the library versions that shape the result and every training text, and
keeps it as a tokenizer JSON file (`Tokenizer.save`) under the cache folder:

- `$KERAS_S2S_CACHE` when set (`off` or `0` turns the cache off);
- else `$XDG_CACHE_HOME/keras_s2s`, else `~/.cache/keras_s2s`.

A file is written under a temporary name and renamed into place, so concurrent builders never
read half a file; an unreadable file is rebuilt, and a folder that can't be written (a
read-only home, a full disk) only costs the rebuild next time, with a warning.
"""

import hashlib
import json
import logging
import os
import tempfile

log = logging.getLogger("keras_s2s")

_VERSIONED = ("keras-hub", "tensorflow-text")  # the WordPiece learner's packages


def cache_dir():
    """The cache folder, or None when `KERAS_S2S_CACHE` turns the cache off.

    Example:

    >>> os.environ["KERAS_S2S_CACHE"] = "/tmp/s2s_cache"
    >>> cache_dir()
    '/tmp/s2s_cache'
    >>> del os.environ["KERAS_S2S_CACHE"]
    """
    folder = os.environ.get("KERAS_S2S_CACHE")
    if folder is not None:
        return None if folder.strip().lower() in ("", "0", "off", "false", "no") else folder
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keras_s2s")


def _versions():
    from importlib import metadata

    from keras_s2s import __version__

    versions = {"keras_s2s": __version__}
    for package in _VERSIONED:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def cache_key(cls, texts, build_arguments):
    """The hex digest that names a built tokenizer: class, arguments, versions and texts."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"class": cls.__name__, "arguments": build_arguments,
                              "versions": _versions()}, sort_keys=True).encode("utf-8"))
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def build_cached(cls, texts, **build_arguments):
    """`cls.build(texts, **build_arguments)`, or the same tokenizer read from the cache.

    Args:
        cls: A tokenizer class with `build` and `load` (`SubwordTokenizer`, `WordTokenizer`).
        texts: The training texts (an iterable of strings).
        **build_arguments: JSON-serializable arguments of `cls.build`.

    Returns:
        A tokenizer equal to `cls.build(texts, **build_arguments)`.

    Example:

    >>> from keras_s2s.data.tokenizers import WordTokenizer
    >>> os.environ["KERAS_S2S_CACHE"] = tempfile.mkdtemp()
    >>> first = build_cached(WordTokenizer, ["a b", "b c"])
    >>> build_cached(WordTokenizer, ["a b", "b c"]) == first  # read back from the cache
    True
    >>> del os.environ["KERAS_S2S_CACHE"]
    """
    texts = list(texts)
    folder = cache_dir()
    if folder is None:
        return cls.build(texts, **build_arguments)
    folder = os.path.join(folder, "tokenizers")
    path = os.path.join(folder, f"{cls.__name__}-{cache_key(cls, texts, build_arguments)[:40]}"
                                ".json")
    if os.path.exists(path):
        try:
            tokenizer = cls.load(path)
            log.debug("tokenizer read from the cache: %s", path)
            return tokenizer
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("the cached tokenizer %s could not be read (%s); building it again",
                        path, error)
    tokenizer = cls.build(texts, **build_arguments)
    temporary = None
    try:
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        os.close(handle)
        tokenizer.save(temporary)
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        log.warning("could not cache the tokenizer in %s (%s); it is built again next time "
                    "(KERAS_S2S_CACHE chooses the folder)", folder, error)
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)
    return tokenizer
