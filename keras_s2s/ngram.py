"""Count-based n-gram language models over token ids, and `perplexity`.

`NGramLanguageModel` is a classic count-based language model over integer
token sequences, meant as a quick, training-free baseline next to the neural
language models of the zoo (and as a sanity check of their perplexities). It
supports interpolated Kneser-Ney smoothing (the default) and add-k
(Lidstone/Laplace) smoothing, exact probabilities and full next-token
distributions, corpus perplexity, sampling, and a JSON save format.

Token ids follow the library's fixed special tokens (see
`keras_s2s.data.tokenizers`): `0` is `<pad>`, `1` is `<unk>`, `2` is `<s>` and
`3` is `</s>`. Sequences passed to the model hold only real tokens (no `<s>`,
no `</s>`, no padding); the model itself pads every sequence with `n - 1`
`<s>` on the left and one `</s>` on the right, so it predicts every token of
the sequence and then the end of the sequence. `<pad>` and `<s>` are never
predicted and always get probability 0; the other `vocabulary_size - 2` ids
(including `<unk>` and `</s>`) are the *predictable* ids.

`perplexity` turns per-sequence log-probabilities of any language model into a
perplexity.

The module is pure Python and NumPy: it imports neither TensorFlow nor Keras
and works with every Keras backend.
"""

import json
import math
import os
from collections import Counter, defaultdict

import numpy as np

__all__ = ["NGramLanguageModel", "perplexity"]

# The library's fixed special ids (`keras_s2s.data.tokenizers`). They are
# repeated here, rather than imported, so that this module never pulls in the
# TensorFlow-based `keras_s2s.data` package.
from keras_s2s.constants import BOS_ID, EOS_ID, PAD_ID, UNK_ID  # noqa: F401
from keras_s2s.constants import NUM_SPECIAL_TOKENS as _NUM_SPECIALS  # noqa: E402

_SMOOTHINGS = ("kneser_ney", "add_k")
_FORMAT = "keras_s2s.NGramLanguageModel"
_FORMAT_VERSION = 1


def perplexity(log_probs, num_tokens):
    """Perplexity from natural-log probabilities and a token count.

    Computes `exp(-sum(log_probs) / num_tokens)`. It works for any language
    model whose per-sequence log-probabilities you have (an n-gram model, a
    neural decoder scored with teacher forcing, ...): pass the natural-log
    probability of every sequence and the total number of predicted tokens,
    which usually counts the end-of-sequence token of every sequence too.

    Log-probabilities must be `<= 0`. A positive value almost always means
    that losses (negative log-probabilities) were passed, so it raises a
    `ValueError` instead of silently returning a perplexity below 1.

    Args:
        log_probs: A float (a corpus log-probability) or a non-empty sequence
            or array of floats (one log-probability per sequence), in nats.
            `-inf` is allowed and gives an infinite perplexity.
        num_tokens: The total number of predicted tokens, a number `> 0`.

    Returns:
        The perplexity, a Python float in `[1, inf]`.

    Example:

    >>> perplexity([-2.0, -4.0], num_tokens=3)  # exp(6 / 3)
    7.38905609893065
    >>> perplexity([math.log(1 / 4)] * 5, num_tokens=5)
    4.0
    """
    if isinstance(num_tokens, bool) or not isinstance(
        num_tokens, (int, float, np.integer, np.floating)
    ):
        raise ValueError(
            f"perplexity: `num_tokens` must be a number > 0, got {num_tokens!r}."
        )
    if not (num_tokens > 0) or not math.isfinite(num_tokens):
        raise ValueError(
            f"perplexity: `num_tokens` must be a finite number > 0, got {num_tokens!r}."
        )
    try:
        values = np.asarray(log_probs, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(
            "perplexity: `log_probs` must be a float or a sequence of floats, "
            f"got {type(log_probs).__name__}."
        ) from None
    if values.size == 0:
        raise ValueError("perplexity: `log_probs` is empty.")
    if np.isnan(values).any():
        raise ValueError("perplexity: `log_probs` contains NaN.")
    if (values > 1e-9).any():
        raise ValueError(
            "perplexity: log-probabilities must be <= 0, got "
            f"{float(values.max())!r}. Did you pass losses (negative "
            "log-probabilities)? Negate them first."
        )
    mean_nll = -float(np.sum(np.minimum(values, 0.0))) / float(num_tokens)
    try:
        return math.exp(mean_nll)
    except OverflowError:
        return math.inf


class NGramLanguageModel:
    """A count-based n-gram language model over token ids.

    The model estimates `P(w | h)`, the probability of the next token `w`
    given the `n - 1` previous tokens `h`, from n-gram counts. Every sequence
    is padded with `n - 1` `<s>` (id 2) on the left and one `</s>` (id 3) on
    the right, so the first token is predicted from `<s> ... <s>` and the
    sequence ends by predicting `</s>`. Probabilities are spread over the
    `V' = vocabulary_size - 2` predictable ids: every id except `<pad>` (0)
    and `<s>` (2), which always get probability 0.

    Two smoothings are available:

    - `"add_k"`: `P(w | h) = (c(h w) + k) / (c(h) + k V')` with the counts of
      the highest order; an unseen context gives the uniform distribution.
    - `"kneser_ney"`: interpolated Kneser-Ney with one absolute discount `D`
      for every order (Chen & Goodman, 1998; Jurafsky & Martin, ch. 3):
      `P(w | h) = max(a(h w) - D, 0) / a(h) + D N1+(h .) / a(h) P(w | h')`,
      where `h'` drops the oldest token of `h`, `a(h) = sum_w a(h w)` and
      `N1+(h .)` is the number of distinct `w` with `a(h w) > 0`. The
      highest order uses raw counts `a = c`; lower orders use continuation
      counts `a(h w) = N1+(. h w)`, the number of distinct tokens seen just
      before `h w`, except for n-grams that start with `<s>`, which have no
      real left context and keep their raw counts (as in KenLM, Heafield et
      al., 2013). The unigram level interpolates with the uniform
      distribution `1 / V'`, so every predictable id, seen or not, gets
      non-zero probability. When a context was never seen, the model backs
      off fully to the next lower order.

    Either way, `distribution(context)` sums to 1 over the predictable ids
    for every context, seen or unseen.

    Args:
        n: The order of the model (`1` for unigrams, `3` for trigrams), an
            int `>= 1`.
        smoothing: `"kneser_ney"` (default) or `"add_k"`.
        k: The pseudo-count of add-k smoothing, a float `> 0` (`1.0` is
            Laplace smoothing). Only used by `"add_k"`.
        discount: The absolute discount `D` of Kneser-Ney smoothing, in the
            open interval `(0, 1)`. Only used by `"kneser_ney"`.

    Example:

    >>> corpus = [[4, 5], [4, 6], [5]]
    >>> lm = NGramLanguageModel(n=2).fit(corpus, vocabulary_size=8)
    >>> round(lm.prob(5, context=[4]), 6)  # P(5 | 4)
    0.34375
    >>> float(lm.distribution([4]).sum())
    1.0
    >>> round(lm.perplexity([[4, 5]]), 4)  # (23/48 * 11/32 * 47/64) ** (-1/3)
    2.022

    Reference:

    - [Chen & Goodman, 1998](https://dash.harvard.edu/handle/1/25104739)
      (An Empirical Study of Smoothing Techniques for Language Modeling)
    - [Jurafsky & Martin, Speech and Language Processing, ch. 3](
      https://web.stanford.edu/~jurafsky/slp3/)
    - [Heafield et al., 2013](https://aclanthology.org/P13-2121/)
      (adjusted counts of n-grams that start with `<s>`)
    """

    def __init__(self, n=3, smoothing="kneser_ney", k=1.0, discount=0.75):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"NGramLanguageModel: `n` must be an int >= 1, got {n!r}.")
        if smoothing not in _SMOOTHINGS:
            raise ValueError(
                f"NGramLanguageModel: unknown `smoothing` {smoothing!r}; "
                f"expected one of {list(_SMOOTHINGS)}."
            )
        k = _as_float(k, "k")
        if not (k > 0) or not math.isfinite(k):
            raise ValueError(f"NGramLanguageModel: `k` must be a finite number > 0, got {k!r}.")
        discount = _as_float(discount, "discount")
        if not (0.0 < discount < 1.0):
            raise ValueError(
                "NGramLanguageModel: `discount` must be in the open interval (0, 1), "
                f"got {discount!r}."
            )
        self.n = int(n)
        self.smoothing = smoothing
        self.k = k
        self.discount = discount
        self.vocabulary_size = None
        self._ngram_counts = None

    def __repr__(self):
        fitted = f", vocabulary_size={self.vocabulary_size}" if self.is_fitted else ""
        return (
            f"NGramLanguageModel(n={self.n}, smoothing={self.smoothing!r}, "
            f"k={self.k}, discount={self.discount}{fitted})"
        )

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------

    @property
    def is_fitted(self):
        """Whether `fit` (or `load`) has given the model its counts.

        Returns:
            A bool.

        Example:

        >>> NGramLanguageModel().is_fitted
        False
        """
        return self._ngram_counts is not None

    def fit(self, sequences, vocabulary_size):
        """Counts the n-grams of every order `1..n` in a corpus.

        Each sequence is padded with `n - 1` `<s>` and one `</s>`, and every
        n-gram ending at a predicted position (each real token and the final
        `</s>`) is counted; lower-order counts are the suffixes of these
        n-grams. Fitting again replaces the previous counts. Empty sequences
        are allowed (they only predict `</s>`), but the corpus must hold at
        least one sequence.

        Every id must be a real token id in `[1, vocabulary_size)` other than
        `<s>` (2) and `</s>` (3), which the model adds itself; `<pad>` (0)
        never belongs in fitted data. A bad id raises a `ValueError` naming
        the id and the index of its sequence.

        Args:
            sequences: An iterable of sequences of int token ids (lists,
                tuples or 1-D integer arrays), without `<s>`, `</s>` or
                padding.
            vocabulary_size: The number of ids of the vocabulary, special
                tokens included (an int `>= 4`); ids range over
                `[0, vocabulary_size)`.

        Returns:
            The model itself, so that calls can be chained.

        Example:

        >>> lm = NGramLanguageModel(n=2, smoothing="add_k")
        >>> lm.fit([[4, 5], [4]], vocabulary_size=6) is lm
        True
        """
        vocabulary_size = _check_vocabulary_size(vocabulary_size)
        if isinstance(sequences, (str, bytes)):
            raise ValueError("NGramLanguageModel.fit: `sequences` must hold sequences of int ids.")
        counts = Counter()
        pad = (BOS_ID,) * (self.n - 1)
        num_sequences = 0
        for index, sequence in enumerate(sequences):
            tokens = _check_sequence(sequence, index, vocabulary_size, "fit")
            padded = pad + tokens + (EOS_ID,)
            for end in range(self.n, len(padded) + 1):
                counts[padded[end - self.n:end]] += 1
            num_sequences += 1
        if num_sequences == 0:
            raise ValueError("NGramLanguageModel.fit: `sequences` is empty; nothing to count.")
        self._build(counts, vocabulary_size)
        return self

    def _build(self, ngram_counts, vocabulary_size):
        """Derives every table used for scoring from the highest-order counts."""
        n = self.n
        self.vocabulary_size = vocabulary_size
        self._ngram_counts = dict(ngram_counts)
        self._num_predictable = vocabulary_size - 2
        mask = np.ones(vocabulary_size, dtype=bool)
        mask[[PAD_ID, BOS_ID]] = False
        self._predictable_mask = mask

        # raw[m]: counts of the m-grams that end at a predicted position.
        raw = {n: Counter(self._ngram_counts)}
        for m in range(n - 1, 0, -1):
            lower = Counter()
            for gram, count in raw[m + 1].items():
                lower[gram[1:]] += count
            raw[m] = lower
        self._raw_counts = raw

        if self.smoothing == "add_k":
            totals = Counter()
            for gram, count in raw[n].items():
                totals[gram[:-1]] += count
            self._context_totals = totals
            followers = defaultdict(list)
            for gram in raw[n]:
                followers[gram[:-1]].append(gram[-1])
            self._add_k_followers = dict(followers)
            return

        # Kneser-Ney adjusted counts: raw counts at the highest order and for
        # n-grams starting with <s>; continuation counts N1+(. g) otherwise.
        adjusted = {n: raw[n]}
        for m in range(n - 1, 0, -1):
            continuation = Counter(gram[1:] for gram in raw[m + 1])
            adjusted[m] = Counter(
                {
                    gram: (count if gram[0] == BOS_ID else continuation[gram])
                    for gram, count in raw[m].items()
                }
            )
        # tables[m][context] = (followers {w: a(h w)}, a(h), N1+(h .)).
        tables = {}
        for m in range(1, n + 1):
            followers = defaultdict(dict)
            for gram, count in adjusted[m].items():
                followers[gram[:-1]][gram[-1]] = count
            tables[m] = {
                context: (words, sum(words.values()), len(words))
                for context, words in followers.items()
            }
        self._tables = tables
        # The unigram level as a vector, interpolated with the uniform one.
        words, total, types = tables[1][()]
        unigram = np.zeros(vocabulary_size, dtype=np.float64)
        unigram[mask] = self.discount * types / total / self._num_predictable
        ids = np.fromiter(words.keys(), dtype=np.int64, count=types)
        values = np.fromiter(words.values(), dtype=np.float64, count=types)
        unigram[ids] += (values - self.discount) / total
        self._unigram = unigram

    # ------------------------------------------------------------------
    # Scoring
    # ------------------------------------------------------------------

    def _require_fitted(self, method):
        if not self.is_fitted:
            raise ValueError(
                f"NGramLanguageModel.{method}: the model is not fitted yet; "
                "call `fit(sequences, vocabulary_size)` or `NGramLanguageModel.load(path)` first."
            )

    def _history(self, context, method):
        """Validates a context and returns its last `n - 1` ids, <s>-padded."""
        try:
            ids = tuple(int(i) for i in context)
        except (TypeError, ValueError):
            raise ValueError(
                f"NGramLanguageModel.{method}: `context` must be a sequence of int ids, "
                f"got {context!r}."
            ) from None
        for token in ids:
            if not 1 <= token < self.vocabulary_size:
                raise ValueError(
                    f"NGramLanguageModel.{method}: invalid id {token} in `context`; ids must be "
                    f"in [1, {self.vocabulary_size}) (0 is <pad>)."
                )
        width = self.n - 1
        if width == 0:
            return ()
        ids = ids[-width:]
        return (BOS_ID,) * (width - len(ids)) + ids

    def _prob(self, token, history):
        """`P(token | history)` for a validated, full-length history."""
        if token in (PAD_ID, BOS_ID):
            return 0.0
        if self.smoothing == "add_k":
            count = self._raw_counts[self.n].get(history + (token,), 0)
            total = self._context_totals.get(history, 0)
            return (count + self.k) / (total + self.k * self._num_predictable)
        discount = self.discount
        p = 1.0 / self._num_predictable
        for m in range(1, self.n + 1):
            entry = self._tables[m].get(history[len(history) - (m - 1):] if m > 1 else ())
            if entry is None:  # unseen context: back off fully to order m - 1
                continue
            words, total, types = entry
            p = max(words.get(token, 0) - discount, 0.0) / total + discount * types / total * p
        return p

    def prob(self, token, context=()):
        """The probability of `token` following `context`.

        Only the last `n - 1` ids of `context` matter. A context shorter than
        that is the start of a sequence and is padded with `<s>` on the left,
        so `prob(w)` (empty context) is the probability that a sequence starts
        with `w`, and `prob(3, seq)` the probability that `seq` ends there.
        Contexts may also spell out the `<s>` padding themselves.

        Args:
            token: The id to score, in `[0, vocabulary_size)`. `<pad>` (0) and
                `<s>` (2) always get `0.0`.
            context: A sequence of preceding ids in `[1, vocabulary_size)`.

        Returns:
            The probability, a Python float in `[0, 1]`.

        Example:

        >>> lm = NGramLanguageModel(n=2, smoothing="add_k", k=1.0)
        >>> lm = lm.fit([[4, 5], [4]], vocabulary_size=6)
        >>> lm.prob(5, context=[4])  # (1 + 1) / (2 + 1 * 4)
        0.3333333333333333
        """
        self._require_fitted("prob")
        token = _as_id(token, self.vocabulary_size, "prob")
        return self._prob(token, self._history(context, "prob"))

    def distribution(self, context=()):
        """The next-token distribution after `context`, over the whole vocabulary.

        Entry `i` is `prob(i, context)`. `<pad>` (0) and `<s>` (2) get 0 and
        the predictable ids sum to 1, for every context, seen or unseen.

        Args:
            context: A sequence of preceding ids in `[1, vocabulary_size)`,
                read as in `prob`.

        Returns:
            A float64 NumPy array of shape `(vocabulary_size,)`.

        Example:

        >>> lm = NGramLanguageModel(n=2).fit([[4, 5], [4, 6]], vocabulary_size=7)
        >>> dist = lm.distribution([4])
        >>> dist.shape, float(dist[0]), float(dist[2]), round(float(dist.sum()), 12)
        ((7,), 0.0, 0.0, 1.0)
        """
        self._require_fitted("distribution")
        history = self._history(context, "distribution")
        if self.smoothing == "add_k":
            dist = np.zeros(self.vocabulary_size, dtype=np.float64)
            total = self._context_totals.get(history, 0)
            denominator = total + self.k * self._num_predictable
            dist[self._predictable_mask] = self.k / denominator
            counts = self._raw_counts[self.n]
            for token in self._add_k_followers.get(history, ()):
                dist[token] = (counts[history + (token,)] + self.k) / denominator
            return dist
        discount = self.discount
        dist = self._unigram.copy()
        for m in range(2, self.n + 1):
            entry = self._tables[m].get(history[len(history) - (m - 1):])
            if entry is None:
                continue
            words, total, types = entry
            dist *= discount * types / total
            ids = np.fromiter(words.keys(), dtype=np.int64, count=types)
            values = np.fromiter(words.values(), dtype=np.float64, count=types)
            dist[ids] += (values - discount) / total
        return dist

    def log_prob(self, sequence):
        """The natural-log probability of a whole sequence.

        The sum of `log P(w_i | w_{i-n+1} ... w_{i-1})` over every token of the
        sequence and the final `</s>`, with the sequence padded by `n - 1`
        `<s>` on the left. Both smoothings give every predictable id non-zero
        probability, so the result is always finite.

        Args:
            sequence: A sequence of int ids, as given to `fit` (no `<s>`,
                `</s>` or padding).

        Returns:
            The log-probability in nats, a Python float `<= 0`.

        Example:

        >>> lm = NGramLanguageModel(n=2, smoothing="add_k").fit([[4]], vocabulary_size=5)
        >>> # P(4 | <s>) = 2 / 4, P(</s> | 4) = 2 / 4
        >>> round(lm.log_prob([4]), 6) == round(2 * math.log(0.5), 6)
        True
        """
        self._require_fitted("log_prob")
        tokens = _check_sequence(sequence, 0, self.vocabulary_size, "log_prob", indexed=False)
        return self._log_prob(tokens)

    def _log_prob(self, tokens):
        width = self.n - 1
        padded = (BOS_ID,) * width + tokens + (EOS_ID,)
        total = 0.0
        for i in range(width, len(padded)):
            p = self._prob(padded[i], padded[i - width:i])
            if p <= 0.0:
                return -math.inf
            total += math.log(p)
        return total

    def perplexity(self, sequences):
        """The perplexity of the model on a corpus.

        `exp(-L / T)`, where `L` is the summed `log_prob` of the sequences and
        `T` the number of predicted tokens: the length of every sequence plus
        one for its `</s>`. Lower is better; a model that is uniform over the
        `V'` predictable ids has perplexity `V'`.

        Args:
            sequences: A non-empty iterable of sequences of int ids, as given
                to `fit`.

        Returns:
            The perplexity, a Python float `>= 1`.

        Example:

        >>> lm = NGramLanguageModel(n=1, smoothing="add_k").fit([[1, 4, 5]], vocabulary_size=6)
        >>> round(lm.perplexity([[5, 4, 1]]), 6)  # uniform over 1, 3, 4, 5
        4.0
        """
        self._require_fitted("perplexity")
        if isinstance(sequences, (str, bytes)):
            raise ValueError(
                "NGramLanguageModel.perplexity: `sequences` must hold sequences of int ids."
            )
        log_probs = []
        num_tokens = 0
        for index, sequence in enumerate(sequences):
            tokens = _check_sequence(sequence, index, self.vocabulary_size, "perplexity")
            log_probs.append(self._log_prob(tokens))
            num_tokens += len(tokens) + 1
        if not log_probs:
            raise ValueError("NGramLanguageModel.perplexity: `sequences` is empty.")
        return perplexity(log_probs, num_tokens)

    # ------------------------------------------------------------------
    # Sampling
    # ------------------------------------------------------------------

    def generate(self, context=(), max_length=20, seed=None, temperature=1.0):
        """Samples a continuation of `context`, token by token.

        Each token is drawn from `distribution(context + generated)` with its
        probabilities raised to the power `1 / temperature` and renormalised.
        Sampling stops at `</s>` (which is not returned) or after `max_length`
        tokens. The same `seed` gives the same tokens.

        Args:
            context: The ids to continue, as in `prob` (empty: start a new
                sequence).
            max_length: The maximum number of tokens to generate, an int
                `>= 0`.
            seed: An int seed, a `numpy.random.Generator`, or `None` for fresh
                randomness; passed to `numpy.random.default_rng`.
            temperature: A float `> 0`. Below 1 sharpens the distribution
                (close to 0 is nearly greedy), above 1 flattens it.

        Returns:
            A list of generated ids (without `context` and without `</s>`),
            never containing `<pad>`, `<s>` or `</s>`.

        Example:

        >>> lm = NGramLanguageModel(n=2).fit([[4, 5, 6]] * 3, vocabulary_size=7)
        >>> lm.generate(seed=0) == lm.generate(seed=0)
        True
        >>> lm.generate(max_length=3, temperature=0.01)
        [4, 5, 6]
        """
        self._require_fitted("generate")
        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)):
            raise ValueError(
                "NGramLanguageModel.generate: `max_length` must be an int >= 0, "
                f"got {max_length!r}."
            )
        if max_length < 0:
            raise ValueError(
                f"NGramLanguageModel.generate: `max_length` must be >= 0, got {max_length}."
            )
        temperature = _as_float(temperature, "temperature")
        if not (temperature > 0) or not math.isfinite(temperature):
            raise ValueError(
                "NGramLanguageModel.generate: `temperature` must be a finite number > 0, "
                f"got {temperature!r}."
            )
        history = list(self._history(context, "generate"))
        rng = np.random.default_rng(seed)
        width = self.n - 1
        generated = []
        for _ in range(int(max_length)):
            dist = self.distribution(history[len(history) - width:] if width else ())
            if temperature != 1.0:
                positive = dist > 0
                logits = np.log(dist[positive]) / temperature
                logits -= logits.max()
                dist = np.zeros_like(dist)
                dist[positive] = np.exp(logits)
            dist /= dist.sum()
            token = int(rng.choice(self.vocabulary_size, p=dist))
            if token == EOS_ID:
                break
            generated.append(token)
            history.append(token)
        return generated

    # ------------------------------------------------------------------
    # Serialization
    # ------------------------------------------------------------------

    def get_config(self):
        """The constructor arguments of the model.

        Returns:
            A JSON-serializable dict with `n`, `smoothing`, `k` and
            `discount`; `NGramLanguageModel.from_config(config)` builds an
            unfitted copy.

        Example:

        >>> NGramLanguageModel(n=2, smoothing="add_k", k=0.5).get_config()
        {'n': 2, 'smoothing': 'add_k', 'k': 0.5, 'discount': 0.75}
        """
        return {"n": self.n, "smoothing": self.smoothing, "k": self.k, "discount": self.discount}

    @classmethod
    def from_config(cls, config):
        """Builds an unfitted model from `get_config()`.

        Args:
            config: A dict as returned by `get_config`.

        Returns:
            A new, unfitted `NGramLanguageModel`.

        Example:

        >>> lm = NGramLanguageModel.from_config({"n": 2, "smoothing": "add_k", "k": 0.5})
        >>> lm.n, lm.smoothing, lm.k
        (2, 'add_k', 0.5)
        """
        return cls(**config)

    def save(self, path):
        """Saves the fitted model to a JSON file.

        The file holds the config, the vocabulary size and the counts of the
        highest order (every lower-order and continuation count is derived
        from them), so `load` gives back exactly the same probabilities.

        Args:
            path: The file path to write (conventionally ending in `.json`).

        Returns:
            `None`.

        Example:

        >>> import os, tempfile
        >>> lm = NGramLanguageModel(n=2).fit([[4, 5]], vocabulary_size=6)
        >>> path = os.path.join(tempfile.mkdtemp(), "lm.json")
        >>> lm.save(path)
        >>> NGramLanguageModel.load(path).prob(5, [4]) == lm.prob(5, [4])
        True
        """
        self._require_fitted("save")
        payload = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "config": self.get_config(),
            "vocabulary_size": self.vocabulary_size,
            "ngram_counts": [
                [*gram, count] for gram, count in sorted(self._ngram_counts.items())
            ],
        }
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            json.dump(payload, f)

    @classmethod
    def load(cls, path):
        """Loads a model written by `save`.

        Args:
            path: The JSON file path.

        Returns:
            A fitted `NGramLanguageModel`.

        Example:

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "lm.json")
        >>> NGramLanguageModel(n=1).fit([[4]], vocabulary_size=5).save(path)
        >>> NGramLanguageModel.load(path).n
        1
        """
        with open(os.fspath(path), encoding="utf-8") as f:
            payload = json.load(f)
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"NGramLanguageModel.load: {path} is not a saved NGramLanguageModel.")
        if payload.get("version") != _FORMAT_VERSION:
            raise ValueError(
                f"NGramLanguageModel.load: unsupported format version {payload.get('version')!r} "
                f"in {path} (expected {_FORMAT_VERSION})."
            )
        model = cls.from_config(payload["config"])
        vocabulary_size = _check_vocabulary_size(payload["vocabulary_size"])
        counts = {}
        for row in payload["ngram_counts"]:
            if not isinstance(row, list) or len(row) != model.n + 1 or int(row[-1]) < 1:
                raise ValueError(
                    f"NGramLanguageModel.load: malformed n-gram count {row!r} in {path}."
                )
            gram = tuple(int(i) for i in row[:-1])
            if any(not 1 <= i < vocabulary_size for i in gram):
                raise ValueError(
                    f"NGramLanguageModel.load: invalid id in n-gram {row!r} in {path}."
                )
            counts[gram] = int(row[-1])
        if not counts:
            raise ValueError(f"NGramLanguageModel.load: {path} holds no n-gram counts.")
        model._build(counts, vocabulary_size)
        return model


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------


def _as_float(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"NGramLanguageModel: `{name}` must be a number, got {value!r}.")
    return float(value)


def _check_vocabulary_size(vocabulary_size):
    if (
        isinstance(vocabulary_size, bool)
        or not isinstance(vocabulary_size, (int, np.integer))
        or vocabulary_size < _NUM_SPECIALS
    ):
        raise ValueError(
            "NGramLanguageModel: `vocabulary_size` must be an int >= 4 (ids 0-3 are "
            f"<pad>, <unk>, <s>, </s>), got {vocabulary_size!r}."
        )
    return int(vocabulary_size)


def _as_id(token, vocabulary_size, method):
    if isinstance(token, bool) or not isinstance(token, (int, np.integer)):
        raise ValueError(f"NGramLanguageModel.{method}: `token` must be an int id, got {token!r}.")
    token = int(token)
    if not 0 <= token < vocabulary_size:
        raise ValueError(
            f"NGramLanguageModel.{method}: `token` {token} is outside [0, {vocabulary_size})."
        )
    return token


def _check_sequence(sequence, index, vocabulary_size, method, indexed=True):
    """Validates one sequence of real token ids and returns it as a tuple."""
    where = f"sequence {index}" if indexed else "the sequence"
    if isinstance(sequence, (str, bytes)):
        raise ValueError(
            f"NGramLanguageModel.{method}: {where} is a string; pass token ids "
            "(encode the text with a tokenizer first)."
        )
    try:
        items = list(sequence)
    except TypeError:
        raise ValueError(
            f"NGramLanguageModel.{method}: {where} must be a sequence of int ids, "
            f"got {type(sequence).__name__}."
        ) from None
    tokens = []
    for token in items:
        if isinstance(token, bool) or not isinstance(token, (int, np.integer)):
            raise ValueError(
                f"NGramLanguageModel.{method}: {where} holds a non-integer id {token!r}."
            )
        token = int(token)
        if token == PAD_ID:
            raise ValueError(
                f"NGramLanguageModel.{method}: id 0 (<pad>) in {where}; strip padding first."
            )
        if token in (BOS_ID, EOS_ID):
            raise ValueError(
                f"NGramLanguageModel.{method}: id {token} ({'<s>' if token == BOS_ID else '</s>'}) "
                f"in {where}; pass sequences without <s>/</s>, the model adds them itself."
            )
        if not 1 <= token < vocabulary_size:
            raise ValueError(
                f"NGramLanguageModel.{method}: invalid id {token} in {where}; ids must be in "
                f"[1, {vocabulary_size})."
            )
        tokens.append(token)
    return tuple(tokens)
