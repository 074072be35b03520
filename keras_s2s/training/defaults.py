"""Training settings chosen from the data when the user gives none.

`keras-s2s train luong_bilstm --train my.tsv --out run` must train well without flags. What
is chosen, and why, is printed and stored in the run's `config.json` under `"chosen"`:

- the validation metric, by what the targets are (`choose_metric`);
- the model's width, by the number of training pairs and the vocabulary (`choose_size`);
- the learning-rate policy and the stopping rule (`keras_s2s.training.plateau`), with
  patiences counted in optimizer steps as well as epochs (`patience_for`).
"""

from keras_s2s import zoo


def target_shape(task, split="train", max_examples=5000):
    """`"words"` when the targets are single words or symbol strings, else `"sentences"`.

    A target is a sentence when it has three or more whitespace-separated words; the task is a
    sentence task when at least a quarter of its (first `max_examples`) targets are, and its
    targets use 100 distinct words or more. Strings of a small symbol set, such as the 39
    phonemes of G2P targets, are "words" however many symbols each has.

    Example:

    >>> target_shape(load_task("g2p"))   # "HH AH L OW": phonemes, not a sentence
    'words'
    """
    targets = [t for e in task.splits[split][:max_examples] for t in e.targets]
    if not targets:
        return "words"
    sentences = sum(len(t.split()) >= 3 for t in targets)
    distinct = len({w for t in targets for w in t.split()})
    return "sentences" if sentences >= len(targets) / 4 and distinct >= 100 else "words"


def choose_metric(task):
    """The validation metric that picks the best epoch, and why.

    A built-in task names its own (`task.metrics[0]`: `wer` for G2P). For user data, single
    words or symbol strings are scored by exact match (`sequence_accuracy`), where BLEU reads
    0 on one-token targets; sentences by chrF, which (unlike BLEU) stays informative while a
    model is still poor and rewards partly right words, so that early epochs are compared
    fairly. BLEU is still reported by `keras-s2s evaluate`.

    Returns:
        `(metric, reason)`.

    Example:

    >>> choose_metric(from_tsv("inflection.tsv"))
    ('sequence_accuracy', 'targets are single words: exact-match accuracy')
    """
    from keras_s2s.data.files import USER_METRICS

    if tuple(task.metrics) != USER_METRICS:
        return task.metrics[0], f"the {task.name} task's own metric"
    if target_shape(task) == "words":
        return "sequence_accuracy", "targets are single words: exact-match accuracy"
    return "chrf", "targets are sentences: chrF (BLEU is reported by evaluate)"


def _accepts(model_name, key):
    spec = zoo.get_spec(model_name)
    return key in spec.defaults


def choose_size(model_name, task, given=None):
    """Model widths from the data, for the arguments the user did not give.

    Recurrent entries (`units`, `embedding_dim`): the width grows with the number of training
    pairs, so that a 2k-pair task is not given a model that only memorises it and a 100k-pair
    task is not starved: units 64 below 2k pairs, 128 below 20k, 256 from there; the
    embedding is 64 for vocabularies under 200 symbols (characters, phonemes) and 128 for
    larger ones (words, subwords). Other entries keep their defaults.

    Args:
        model_name: The zoo entry.
        task: The task (its training pairs and tokenizers).
        given: The model arguments the user gave; they are never overridden.

    Returns:
        `(kwargs, reason)`: the chosen arguments (empty when nothing was chosen) and a line
        saying why.

    Example:

    >>> choose_size("luong_bilstm", from_tsv("inflection.tsv"))
    ({'units': 256, 'embedding_dim': 64}, '70000 training pairs, vocabularies 61/58')
    """
    given = given or {}
    pairs = sum(len(e.targets) for e in task.splits["train"])
    vocab = max(task.source_tokenizer.vocabulary_size, task.target_tokenizer.vocabulary_size)
    chosen = {}
    if _accepts(model_name, "units") and "units" not in given:
        chosen["units"] = 64 if pairs < 2000 else 128 if pairs < 20000 else 256
    if _accepts(model_name, "embedding_dim") and "embedding_dim" not in given:
        chosen["embedding_dim"] = 64 if vocab < 200 else 128
    reason = (f"{pairs} training pairs, vocabularies {task.source_tokenizer.vocabulary_size}/"
              f"{task.target_tokenizer.vocabulary_size}")
    return chosen, reason


def warmup_steps_for(steps_per_epoch):
    """Warm-up length of the default schedule: one epoch, at most 1000 steps, at least 1."""
    return max(1, min(1000, int(steps_per_epoch)))



# Patience of the default policy, in optimizer steps: an epoch of a 6k-pair task is under 100
# steps, so "3 epochs without a better validation value" would stop it after a few hundred
# updates, on a validation metric that moves by one example. Both patiences are the larger
# of an epoch count and these step counts (large tasks: the epoch counts).
PLATEAU_STEPS = 500
STOP_STEPS = 1500


def patience_for(steps_per_epoch, epochs, steps):
    """Epochs to wait: `epochs`, or more when that is fewer than `steps` optimizer steps.

    Example:

    >>> patience_for(94, 3, STOP_STEPS)     # a 6k-pair task, batch 64
    16
    >>> patience_for(1768, 3, STOP_STEPS)   # a 113k-pair task
    3
    """
    steps_per_epoch = max(1, int(steps_per_epoch))
    return max(int(epochs), -(-int(steps) // steps_per_epoch))
