"""Training settings chosen from the data when the user gives none.

`keras-s2s train luong_bilstm --train my.tsv --out run` must train well without flags. What
is chosen, and why, is printed and stored in the run's `config.json` under `"chosen"`:

- the validation metric, by what the targets are (`choose_metric`);
- the model's width, by the number of training pairs and the vocabulary (`choose_size`);
- the learning-rate policy and the stopping rule (`keras_s2s.training.plateau`), with
  patiences counted in optimizer steps as well as epochs (`patience_for`);
- for a small task, a longer fixed budget on a cosine decay instead (`choose_budget`);
- the order in which the decoder writes a target (`choose_target_order`).
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


TARGET_ORDERS = ("left-to-right", "right-to-left")
# `choose_target_order`: right to left when the pairs share at least this many leading
# characters on average (a copied stem, not the chance matches of unrelated strings), and
# more than twice as many as trailing ones
MIN_SHARED_START = 2.0


def _shared_ends(source, target):
    """`(p, q)`: how many leading (p) and trailing (q) characters two strings share."""
    p = 0
    while p < min(len(source), len(target)) and source[p] == target[p]:
        p += 1
    q = 0
    while (q < min(len(source), len(target)) - p and source[-1 - q] == target[-1 - q]):
        q += 1
    return p, q


def reads_source_in_order(model_name, task, model_kwargs=None):
    """Whether entry `model_name`'s attention only moves forward through the source, so that
    its targets must keep the source's order: Raffel et al.'s monotonic attention, Luong's
    local-m window at p_t = t (the attention layers' `reads_in_order`).

    It builds a tiny instance (`ModelSpec.tiny`, with `model_kwargs`' other arguments) for
    `task` and asks its attention layers, so that any entry or option built on them counts.

    Example:

    >>> reads_source_in_order("luong_monotonic_bilstm", load_task("past_tense"))
    True
    """
    from keras_s2s.training.recipe import build_for_task

    spec = zoo.get_spec(model_name)
    model = build_for_task(model_name, task, **{**(model_kwargs or {}), **spec.tiny})
    return any(getattr(getattr(layer, "attention", None), "reads_in_order", False)
               for layer in model.layers)


def choose_target_order(task, max_examples=5000, model_name=None, model_kwargs=None):
    """The order in which the decoder writes the targets, and why.

    Right to left when source and target are both character strings (character tokenizers)
    and the training pairs whose target differs from the source share at least
    `MIN_SHARED_START` (2) leading characters on average, and more than twice as many
    leading as trailing characters: the target changes its source at the end (`walk ->
    walked`, `Häuser -> Haus`), and writing the end first makes that change the decoder's
    first decision, read from the source alone, before any of the copied stem. Writing the
    copied stem first makes it depend on the stem's beginning: `make` then reads differently
    from the `remake -> remade` it learned from. On `past_tense`'s 323 validation verbs (`scripts/past_tense_ablation.py`, three
    seeds each) `luong_bilstm` got 10, 13 and 13 wrong right to left against 13, 14 and 15
    left to right. Otherwise (different alphabets, sentences, changes at the start) left to
    right.

    An entry whose attention reads the source in order (`reads_source_in_order`) keeps left
    to right: written backwards, its targets would align with the source backwards, which a
    forward-only alignment cannot follow.

    Args:
        task: A `keras_s2s.data.Task`.
        max_examples: How many training pairs to measure.
        model_name: The entry to be trained (None: any entry).
        model_kwargs: Its arguments.

    Returns:
        `(order, reason)`: `"left-to-right"` or `"right-to-left"`, and why.

    Example:

    >>> choose_target_order(from_tsv("past_tense.tsv"))[0]
    'right-to-left'
    """
    from keras_s2s.data.tokenizers import CharTokenizer

    if not (type(task.source_tokenizer) is CharTokenizer
            and type(task.target_tokenizer) is CharTokenizer):
        return "left-to-right", "source and target are not both character strings"
    # where a target changes its source: pairs whose target is the source tell nothing
    pairs = [(e.source, t) for e in task.splits["train"][:max_examples] for t in e.targets[:1]
             if t != e.source]
    if not pairs:
        return "left-to-right", "no training target differs from its source"
    ends = [_shared_ends(s, t) for s, t in pairs]
    p = sum(e[0] for e in ends) / len(ends)
    q = sum(e[1] for e in ends) / len(ends)
    shared = (f"source and target share {p:.1f} leading and {q:.1f} trailing characters on "
              "average where they differ")
    if p >= MIN_SHARED_START and p > 2 * q:
        if model_name and reads_source_in_order(model_name, task, model_kwargs):
            return "left-to-right", (f"{shared}, but {model_name}'s attention reads the "
                                     "source in order, so the target keeps its order")
        return "right-to-left", f"{shared}: the end changes, so it is written first"
    return "left-to-right", shared


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


# A task whose default 30 epochs are fewer optimizer steps than this is "small": it trains
# this many steps (at most MAX_SMALL_TASK_EPOCHS epochs) on a cosine decay, without early
# stopping. Measured on `past_tense` (5,996 pairs, 96 steps per epoch), validation only, three
# seeds each (`scripts/past_tense_ablation.py`, zoo/RESULTS.md): the plateau defaults got 20,
# 16 and 14 of 323 validation verbs wrong, a cosine decay over 80 epochs (7,680 steps) 13, 14
# and 15, against the suffix rule's 15.
DEFAULT_EPOCHS = 30
SMALL_TASK_STEPS = 7680
MAX_SMALL_TASK_EPOCHS = 100


def choose_budget(steps_per_epoch, epochs="auto", schedule="auto", patience="auto"):
    """The epochs, learning-rate schedule and patience that `train`'s `"auto"` values become.

    A task is small when `DEFAULT_EPOCHS` epochs are fewer than `SMALL_TASK_STEPS` optimizer
    steps. When `epochs`, `schedule` and `patience` are all `"auto"` and the task is small,
    it trains `SMALL_TASK_STEPS` steps (whole epochs, at most `MAX_SMALL_TASK_EPOCHS`) on a
    cosine decay to 0, without early stopping (and publishes the average of its last
    epochs, `choose_final`): the plateau policy stopped such tasks after a lucky early
    epoch, before the model had learned the rare patterns of its training data. Otherwise `"auto"` epochs are
    `DEFAULT_EPOCHS` and an `"auto"` schedule is `"plateau"`; values given are kept.

    Args:
        steps_per_epoch: Optimizer steps in one epoch.
        epochs: `"auto"` or the number given.
        schedule: `"auto"` or the schedule given.
        patience: `"auto"`, None or the number given.

    Returns:
        `(epochs, schedule, patience, chosen)`: `chosen` maps what was chosen for the small
        task to `{"value": ..., "why": ...}` (empty otherwise).

    Example:

    >>> choose_budget(96)[:3]        # a 6k-pair task, batch 64
    (80, 'cosine', None)
    >>> choose_budget(1768)[:3]      # a 113k-pair task
    (30, 'plateau', 'auto')
    """
    steps_per_epoch = max(1, int(steps_per_epoch))
    small = DEFAULT_EPOCHS * steps_per_epoch < SMALL_TASK_STEPS
    if not (small and epochs == schedule == patience == "auto"):
        return (DEFAULT_EPOCHS if epochs == "auto" else epochs,
                "plateau" if schedule == "auto" else schedule, patience, {})
    epochs = min(MAX_SMALL_TASK_EPOCHS, -(-SMALL_TASK_STEPS // steps_per_epoch))
    why = (f"a small task: {DEFAULT_EPOCHS} epochs of {steps_per_epoch} steps are under "
           f"{SMALL_TASK_STEPS} steps")
    chosen = {
        "epochs": {"value": epochs, "why": f"{why}; {epochs * steps_per_epoch} steps" + (
            f" ({SMALL_TASK_STEPS} capped at {MAX_SMALL_TASK_EPOCHS} epochs)"
            if epochs == MAX_SMALL_TASK_EPOCHS else "")},
        "schedule": {"value": "cosine", "why": f"{why}: the rate decays to 0 over all "
                                               f"{epochs} epochs"},
        "patience": {"value": None, "why": "a small task trains every epoch"},
    }
    return epochs, "cosine", None, chosen


FINALS = ("best", "average")


def choose_final(final, small_task, keep_epochs):
    """Which weights a run publishes: `"best"` (the epoch with the best validation value) or
    `"average"` (the mean of its `keep_epochs` kept epochs).

    `"auto"` becomes `"average"` for a small task's cosine budget (`choose_budget`) when at
    least 2 epochs are kept, and `"best"` otherwise (`train` also publishes the best epoch
    when `--max-minutes` stops such a run before its budget's end). The cosine budget
    decays the rate to 0, so its last epochs are close to one another and to the end of training, while picking
    one of its 100 epochs on a few hundred validation examples picks noise. Measured on
    `past_tense` without its test split (`scripts/past_tense_folds.py`, 5 folds of its 5,821
    training verbs): the average of the last 5 epochs got 98 held-out verbs right that the
    epoch chosen on validation got wrong, against 40 the other way (McNemar p < 0.001).

    Args:
        final: `"auto"`, `"best"` or `"average"`.
        small_task: Whether `choose_budget` gave the small-task cosine budget.
        keep_epochs: How many epochs' weights the run keeps.

    Returns:
        `(final, chosen)`: `chosen` is `{"value": ..., "why": ...}` when `"auto"` was
        resolved for a small task, else None.

    Example:

    >>> choose_final("auto", small_task=True, keep_epochs=5)[0]
    'average'
    >>> choose_final("auto", small_task=False, keep_epochs=5)[0]
    'best'
    """
    if final not in ("auto",) + FINALS:
        raise ValueError(f"Argument `final` must be one of {['auto', *FINALS]}. Received: "
                         f"final={final!r}")
    if final == "average" and keep_epochs < 1:
        raise ValueError("Argument `final=\"average\"` averages the kept epochs, and "
                         "`keep_epochs` is 0; keep some (the default is 5) or publish "
                         "`final=\"best\"`")
    if final != "auto":
        return final, None
    if not small_task:
        return "best", None
    if keep_epochs < 2:
        return "best", {"value": "best", "why": (
            f"a small task's cosine budget publishes the average of its kept epochs, and "
            f"{keep_epochs} kept epoch(s) are too few to average")}
    return "average", {"value": "average", "why": (
        f"a small task's cosine budget ends with the rate near 0: the run publishes the "
        f"average of its last {keep_epochs} epochs, not one epoch picked on validation")}
