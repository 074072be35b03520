"""Recipe files: one TOML (or JSON) file that reproduces a zoo result.

A recipe names the zoo entry, the task and every setting of the run, so that
`keras-s2s train --recipe zoo/recipes/g2p/luong_bilstm.toml` retrains an entry of
`zoo/RESULTS.md` exactly. Example (`zoo/recipes/g2p/luong_bilstm.toml`):

```toml
task = "g2p"
out = "runs/g2p/luong_bilstm"        # run directory (the CLI's --out overrides it)

[task_options]                       # keyword arguments of load_task
seed = 0

[model]                              # the zoo entry and keyword arguments of zoo.build
name = "luong_bilstm"
units = 128
embedding_dim = 64

[training]                           # keyword arguments of keras_s2s.training.recipe.train
epochs = 10
batch_size = 64
learning_rate = 3e-3
schedule = "cosine"                  # constant | cosine | inverse_sqrt | wsd
warmup_steps = 0
label_smoothing = 0.1
clipnorm = 1.0
seed = 0
metric = "wer"                       # validation metric that picks the best epoch
max_eval_examples = 1000
# target_order = "right-to-left"     # or "auto" (train's choice); left out: the task's order
# teachers = ["runs/g2p/a", "runs/g2p/b"]   # distil from trained runs (teacher_weight = 0.5)

[evaluation]                         # how zoo/RESULTS.md decodes the test split
beam_width = 5
length_penalty = 0.0
```
"""

import json
import os
import tomllib

SCHEDULES = ("constant", "cosine", "inverse_sqrt", "plateau", "wsd")
TOP_KEYS = {"model", "task", "out", "description", "task_options", "training", "evaluation"}
TRAINING_KEYS = {"epochs", "batch_size", "learning_rate", "schedule", "warmup_steps",
                 "label_smoothing", "clipnorm", "seed", "metric", "max_eval_examples",
                 "max_train_examples", "jit", "mixed_precision", "side", "mask_rate",
                 "patience", "max_minutes", "keep_epochs", "devices",
                 "model_axis", "target_order", "max_buckets", "final", "teachers",
                 "teacher_weight", "teacher_top_k"}
EVALUATION_KEYS = {"beam_width", "length_penalty", "coverage_penalty", "split"}


def load_recipe(path):
    """Read and check a recipe file (`.toml` or `.json`).

    Returns:
        A dict with `model` (entry name), `task`, `out`, `task_options`, `model_kwargs`,
        `training` and `evaluation` (the last four are dicts, empty when absent), and `path`.

    Raises:
        ValueError: naming the file and the problem: unreadable TOML/JSON, a missing `model`
            or `task`, an unknown section or key (with the keys that exist), an unknown zoo
            entry, or an unknown schedule.

    Example:

    >>> recipe = load_recipe("zoo/recipes/g2p/luong_bilstm.toml")
    >>> recipe["model"], recipe["training"]["epochs"]
    ('luong_bilstm', 18)
    """
    from keras_s2s import zoo

    if not os.path.exists(path):
        raise FileNotFoundError(f"no such recipe file: {path}")
    try:
        if path.endswith(".json"):
            with open(path) as f:
                raw = json.load(f)
        else:
            with open(path, "rb") as f:
                raw = tomllib.load(f)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a valid recipe file: {error}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a recipe is a table of settings, got {type(raw).__name__}")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise ValueError(f"{path}: unknown recipe key(s) {sorted(unknown)}; a recipe has "
                         f"{sorted(TOP_KEYS)}")
    model = raw.get("model")
    # `model = "name"`, or a [model] table with the entry's `name` and its kwargs
    model_kwargs = {}
    if isinstance(model, dict):
        model_kwargs = dict(model)
        model = model_kwargs.pop("name", None)
    if not isinstance(model, str):
        raise ValueError(f"{path}: name the zoo entry: `name = \"luong_bilstm\"` in the "
                         "[model] table (or `model = \"luong_bilstm\"` without one)")
    zoo.get_spec(model)  # unknown names raise with close matches
    if not isinstance(raw.get("task"), str):
        raise ValueError(f"{path}: give the built-in task as `task = \"g2p\"`")
    sections = {}
    for name, allowed in (("task_options", None), ("training", TRAINING_KEYS),
                          ("evaluation", EVALUATION_KEYS)):
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ValueError(f"{path}: [{name}] must be a table")
        if allowed is not None and set(table) - allowed:
            raise ValueError(f"{path}: unknown key(s) {sorted(set(table) - allowed)} in "
                             f"[{name}]; allowed: {sorted(allowed)}")
        sections[name] = dict(table)
    schedule = sections["training"].get("schedule", "constant")
    if schedule not in SCHEDULES:
        raise ValueError(f"{path}: unknown schedule {schedule!r}; choose one of {SCHEDULES}")
    stem = os.path.splitext(os.path.basename(path))[0]
    return {"path": path, "model": model, "task": raw["task"],
            "out": raw.get("out", os.path.join("runs", raw["task"], stem)),
            "description": raw.get("description", ""),
            "task_options": sections["task_options"], "model_kwargs": model_kwargs,
            "training": sections["training"], "evaluation": sections["evaluation"]}


def train_recipe(recipe, out=None, log_dir=None, resume=False, verbose="auto", overwrite=False,
                 devices=None, model_axis=None):
    """Train the run a recipe describes (what `keras-s2s train --recipe FILE` does).

    Args:
        recipe: A path, or a dict from `load_recipe`.
        out: Run directory; the recipe's `out` by default.
        log_dir: TensorBoard directory.
        resume: Continue an interrupted run.
        overwrite: Replace the run already in `out` (see `keras_s2s.training.recipe.train`).
        verbose: Keras progress bar setting.
        devices: Train data-parallel on this many devices (see `keras_s2s.distribution`);
            overrides the recipe's `devices` (default 1).
        model_axis: Shard the model over this many of the devices (JAX; see
            `keras_s2s.distribution.model_parallel`); overrides the recipe's `model_axis`.

    Returns:
        The run's config dict (see `keras_s2s.training.recipe.train`); `config["recipe"]`
        holds the recipe.

    Example:

    >>> config = train_recipe("zoo/recipes/g2p/luong_bilstm.toml", out="runs/lb")
    """
    from keras_s2s.data import load_task
    from keras_s2s.training import recipe as recipe_lib

    if isinstance(recipe, (str, os.PathLike)):
        recipe = load_recipe(str(recipe))
    # A recipe says everything: what it leaves out takes the values recipes had before
    # `train` chose settings from the data (constant rate, 10 epochs, no early stopping,
    # the entry's own widths), so that every recipe file reproduces its recorded result.
    training = {"schedule": "constant", "warmup_steps": 0, "epochs": 10,
                "learning_rate": 1e-3, "patience": None, "auto_size": False,
                **recipe["training"]}
    if devices is not None:  # properties of the machine, not of the recipe
        training["devices"] = devices
    if model_axis is not None:
        training["model_axis"] = model_axis
    max_train = training.pop("max_train_examples", None)
    task = load_task(recipe["task"], **recipe["task_options"])
    if max_train:
        task.splits["train"] = task.splits["train"][:max_train]
    return recipe_lib.train(
        recipe["model"], task, out or recipe["out"], model_kwargs=recipe["model_kwargs"],
        task_spec={"name": recipe["task"], "options": recipe["task_options"]},
        log_dir=log_dir, resume=resume, overwrite=overwrite, verbose=verbose,
        recipe={k: v for k, v in recipe.items() if k != "path"} | {"file": recipe["path"]},
        **training)
