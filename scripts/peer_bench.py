"""CPU cost side by side: our `luong_bilstm` G2P recipe and JoeyNMT 2.3 at equal settings.

    python scripts/peer_bench.py [--venv PATH] [--epochs 4] [--max-train-words 40000]
                                  [--threads 1] [--seeds 0 1 2]
                                                      # writes zoo/results/peer_bench.json
    python scripts/peer_bench.py --quick              # smoke check -> runs/peer_bench/quick.json
    python scripts/peer_bench.py render [--json F]    # the BENCHMARKS.md section, from the JSON
    python scripts/peer_bench.py paired [--quick]     # word by word against JoeyNMT, from the
                                                      # output files a run left (no training)

Issue 21 asks for our CPU time to be at most 0.8x JoeyNMT's at equal or better test WER.
One run of this script trains, for each seed, JoeyNMT and then ours twice: with the recipe as
it is (XLA-compiled steps, `jit`, the default) and with `jit = false` (what `keras-s2s train
--no-jit` does: TensorFlow's graph executor, no XLA compiles), all on the same data, one
after the other. It records for each training: CPU seconds (user + system) and wall seconds
of the training subprocess (`os.wait4`, so the child and whatever it waited for), CPU seconds
per epoch,
target tokens per CPU second and per wall second (real target tokens of the training pairs,
phonemes plus one end-of-sequence token, times epochs), its peak resident memory, and test
WER/PER with beam 5 scored by our `keras_s2s.text_metrics.metric_function` on both output
files, against every reference pronunciation. Training CPU time includes each program's
start-up, XLA compiles (ours) and the per-epoch validation, as a real training does; test
decoding is timed separately. Both processes get the same thread limits (`--threads`, 1 by
default): OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS (PyTorch and oneDNN) and
TF_NUM_INTRAOP_THREADS, TF_NUM_INTEROP_THREADS (TensorFlow, whose pools our CLI does not
otherwise limit). `--seeds` (default: the recipe's, 0) sets the seed of both frameworks
(JoeyNMT's `random_seed`, our recipe's `seed`); the table shows means over the seeds, the
JSON each seed's run, and the goal is judged on the means. The load average is recorded
before and after each training, since a busy machine inflates wall time (and somewhat CPU
time).

JoeyNMT is a peer, never a dependency: it is installed once into its own virtual
environment (`--venv`, default `runs/peer_bench/venv`) with a CPU-only PyTorch: the newest
`+cpu` torch that pip can reach through its configured indexes, else PyTorch's CPU index,
else PyPI's default torch (with CUDA libraries, several GB; `--torch SPEC` pins one), then
`joeynmt==2.3.0 importlib_metadata`.

The data. `load_task("g2p")` with the recipe's task options (seed 0); the training words are
the first `--max-train-words` of its train split, as `keras-s2s train --recipe` takes them
(`task.splits["train"][:max_train_examples]`), expanded into one pair per pronunciation,
exactly the pairs our pipeline trains on. JoeyNMT reads them as space-separated letters ->
space-separated phonemes (`level: word`, no length filter). Per epoch both validate (loss
and greedy decode) on the same first `max_eval_examples` (1,000) words of the validation
split: ours through the g2p task option `max_validation_words` (so its validation loss is
not computed over the whole split, 5,875 words, as the recipe alone would; runs before
5 December did that extra work), scored against every pronunciation for the recipe's WER;
JoeyNMT with each word's first pronunciation as its reference.
The test split (5,874 words) is decoded by both with beam 5, no length penalty and at least
one output token (`MIN_LENGTH`: JoeyNMT's `min_output_length`, 1 by default there, and our
`--min-length`; runs before 5 December 21:40 UTC decoded ours with 0, which left two test
words of one seed with empty outputs).

Equal settings (from `zoo/recipes/g2p/luong_bilstm.toml`): embeddings 64, one bidirectional
LSTM encoder layer of 128 per direction, one LSTM decoder layer of 128 with Luong's
"general" attention (`h_tᵀ W m_s`, W without bias, keys precomputed) queried by the new
decoder state, input feeding (the attentional vector ã_{t-1} = tanh(W_c [c; h]) of size 128
joins the next input), softmax over ã_t; dropout 0.1; Adam, peak rate 3e-3, batches of 64
sentences, label smoothing 0.1 (loss averaged over target tokens: JoeyNMT `normalization:
tokens`), gradient norm clipped at 1; embeddings N(0, 1) (JoeyNMT `embed_initializer:
normal`, weight 1.0), Glorot/Xavier-uniform kernels, orthogonal recurrent kernels, forget
gate bias 1 (JoeyNMT sets both of PyTorch's LSTM biases, so `lstm_forget_gate: 0.5`).

What still differs (JoeyNMT 2.3's recurrent model has no switch for these):

- Bridge: ours (`bridge="dense"`) projects all four final encoder states [h→; c→; h←; c←]
  linearly to the decoder's h_0 and c_0; JoeyNMT (`init_hidden: bridge`) uses
  tanh(Linear([h→; h←])) as both h_0 and c_0 (the encoder cells are dropped).
- Biases: our W_c has no bias and the output projection has one; JoeyNMT's W_c has a bias
  and its output layer none.
- Dropout: ours is variational (one mask per sequence) on the encoder LSTM inputs, on the
  decoder LSTM inputs [y_{t-1}; ã_{t-1}] and on ã_t before the output projection;
  JoeyNMT's is per position, on the encoder embeddings, on the decoder RNN input
  [y_{t-1}; ã_{t-1}], and on [h_t; c_t] before W_c (`hidden_dropout`) instead of on ã_t.
- Clipping: Keras' `clipnorm=1` clips each weight's gradient separately; JoeyNMT's
  `clip_grad_norm: 1` clips the global norm.
- Learning-rate schedule: ours warms up linearly for 200 steps, then cosine-decays to 0 per
  step. JoeyNMT 2.3 has no cosine schedule, its `plateau` one crashes on current PyTorch
  (`ReduceLROnPlateau(verbose=...)`), and its `warmupexponentialdecay` is built without its
  optimizer, so it gets `exponential` (per epoch): the decay is chosen so that the mean
  rate over the run equals our schedule's, and its start rate is the peak over the decay,
  because JoeyNMT steps the scheduler before the first epoch (epoch k trains at
  3e-3 · decay^(k-1)).
- Label smoothing: ours spreads 0.1 over every target class; JoeyNMT over all but two.
- Model selection: ours keeps the epoch with the best validation WER; JoeyNMT can only
  select on loss, perplexity, token accuracy, BLEU or chrF, and selects on token accuracy.
- Batching: ours buckets pairs by length (at most 8 padded shapes, one XLA compile each);
  JoeyNMT draws random batches padded to their longest pair. The random streams differ, so
  equal seeds do not mean equal batches or initial weights.
- Decoding length limit: ours 2·source + 10 tokens, JoeyNMT 1.5 · the batch's longest source.
- Execution: ours runs XLA-compiled TensorFlow graphs (`jit`, the recipe's default) or,
  in the second row, TensorFlow graphs without XLA; JoeyNMT eager PyTorch (one step at a
  time in the decoder). At this size on one CPU thread a step costs about the same either
  way, but each of the XLA row's batch shapes (3 training, 3 validation, and the validation
  decode's) costs several CPU seconds of compiling, a large share of a 4-epoch run. Test
  decoding uses `keras-s2s decode`'s default (XLA) for both rows.

The dense bridge is most of the parameter difference (ours about 585k, JoeyNMT about 489k).

`--quick` (1 epoch on 2,000 words, 200 validation words decoded per epoch, 200 test words;
our warm-up scaled to the recipe's share of the run, 2 steps) is a smoke check of the whole
pipeline, dominated by start-up and compile time; it writes `runs/peer_bench/quick.json`,
never `zoo/results`. Work files (data, configs, logs, both models, both test outputs) go to
`runs/peer_bench/{full,quick}/`, replaced on each run.
"""

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
RECIPE = os.path.join(ROOT, "zoo", "recipes", "g2p", "luong_bilstm.toml")
MIN_LENGTH = 1  # the fewest output tokens a test decode may give, both systems
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "peer_bench.json")
WORK = os.path.join(ROOT, "runs", "peer_bench")
QUICK_JSON = os.path.join(WORK, "quick.json")
DEFAULT_VENV = os.path.join(WORK, "venv")
JOEYNMT = "joeynmt==2.3.0"
EXTRA_PACKAGES = ["importlib_metadata"]
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
GOAL_RATIO = 0.8
QUICK = {"epochs": 1, "max_train_words": 2000, "max_eval_examples": 200, "max_test_words": 200}
NAMES = {"joeynmt": "JoeyNMT 2.3", "ours": "keras-s2s luong_bilstm (XLA, the default)",
         "ours_no_jit": "keras-s2s luong_bilstm, jit = false"}
OURS = ("ours", "ours_no_jit")


class BenchError(Exception):
    """A one-line error for the user."""


def say(message):
    print(f"[peer_bench] {message}", flush=True)


def _last_line(text, default="no message"):
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else default


def _pip_error(text):
    """pip's first `ERROR:` line (the reason, before the advice), else its last line."""
    errors = [line.strip() for line in (text or "").splitlines() if line.startswith("ERROR:")]
    return errors[0] if errors else _last_line(text, "pip failed")


def _show(path):
    """A path relative to the repository when it lies inside it."""
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


# ---------------------------------------------------------------------------------- install

def _venv_python(venv):
    return os.path.join(venv, "bin", "python")


def _pip(python, *args):
    return subprocess.run([python, "-m", "pip", *args], capture_output=True, text=True)


def _cpu_torch_spec(python):
    """`torch==X+cpu` for the newest CPU-only torch that pip's indexes offer, or None."""
    found = _pip(python, "index", "versions", "torch")
    match = re.search(r"Available versions:\s*(.+)", found.stdout or "")
    if found.returncode != 0 or not match:
        return None
    versions = [v.strip() for v in match.group(1).split(",")]
    cpu = [v for v in versions if v.endswith("+cpu")]  # listed newest first
    return f"torch=={cpu[0]}" if cpu else None


def _install_torch(python, spec):
    if spec:
        say(f"installing {spec} ...")
        pip = _pip(python, "install", "-q", spec)
        if pip.returncode != 0:
            raise BenchError(f"could not install {spec} ({_pip_error(pip.stderr)})")
        return
    spec = _cpu_torch_spec(python)
    if spec:
        say(f"installing {spec} (CPU-only) ...")
        pip = _pip(python, "install", "-q", spec)
        if pip.returncode == 0:
            return
        say(f"{spec} failed: {_pip_error(pip.stderr)}")
    say(f"no CPU-only torch on pip's indexes; trying {TORCH_CPU_INDEX} ...")
    pip = _pip(python, "install", "-q", "torch", "--index-url", TORCH_CPU_INDEX)
    if pip.returncode == 0:
        return
    say("PyTorch's CPU index is out of reach; installing the registry's default torch "
        "(with its CUDA libraries: several GB) ...")
    pip = _pip(python, "install", "-q", "torch")
    if pip.returncode != 0:
        raise BenchError(f"could not install torch ({_pip_error(pip.stderr)}); "
                         "give a reachable one with --torch SPEC")


def install(venv, torch_spec=None):
    """The venv's python, with JoeyNMT and a CPU torch installed there first when missing."""
    python = _venv_python(venv)
    if os.path.exists(venv) and not os.path.isdir(venv):
        raise BenchError(f"--venv {venv} is a file, not a directory")
    if not os.path.exists(python):
        say(f"creating the JoeyNMT virtual environment {_show(venv)} ...")
        made = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True,
                              text=True)
        if made.returncode != 0 or not os.path.exists(python):
            raise BenchError(f"could not create a virtual environment in {venv} "
                             f"({_last_line(made.stderr or made.stdout, 'venv failed')})")
    check = [python, "-c", "import importlib.metadata as m, torch, joeynmt; "
             "print(m.version('joeynmt'))"]
    found = subprocess.run(check, capture_output=True, text=True)
    if found.returncode == 0 and found.stdout.strip() == JOEYNMT.split("==")[1]:
        return python
    has_torch = subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0
    if not has_torch or torch_spec:
        _install_torch(python, torch_spec)
    say(f"installing {JOEYNMT} {' '.join(EXTRA_PACKAGES)} ...")
    pip = _pip(python, "install", "-q", JOEYNMT, *EXTRA_PACKAGES)
    if pip.returncode != 0:
        raise BenchError(f"could not install {JOEYNMT} into {venv} "
                         f"({_pip_error(pip.stderr)})")
    found = subprocess.run(check, capture_output=True, text=True)
    if found.returncode != 0:
        raise BenchError(f"{JOEYNMT} was installed into {venv} but does not import "
                         f"({_last_line(found.stderr)})")
    return python


def _peer_versions(python):
    code = ("import json, platform, importlib.metadata as m, torch; print(json.dumps({"
            "'torch': torch.__version__, 'joeynmt': m.version('joeynmt'), "
            "'python': platform.python_version()}))")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True,
                         env=_thread_env(1))
    if out.returncode != 0:
        raise BenchError(f"the JoeyNMT environment does not start ({_last_line(out.stderr)})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _our_versions():
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("keras", "tensorflow", "keras-s2s"):
        try:
            out[name.replace("-", "_")] = version(name)
        except PackageNotFoundError:
            out[name.replace("-", "_")] = None
    return out


# ------------------------------------------------------------------------------------ data

def load_recipe():
    with open(RECIPE, "rb") as f:
        return tomllib.load(f)


def export_data(recipe, data_dir, max_train_words, max_eval_examples, max_test_words):
    """Write the splits as JoeyNMT's plain files; returns the task, test examples and counts."""
    from keras_s2s.data import load_task

    task = load_task(recipe["task"], **recipe.get("task_options", {}))
    train = task.splits["train"][:max_train_words]
    dev = task.splits["validation"][:max_eval_examples]
    test = task.splits["test"][:max_test_words] if max_test_words else task.splits["test"]
    os.makedirs(data_dir)

    def write(name, pairs):
        with open(os.path.join(data_dir, f"{name}.src"), "w", encoding="utf-8") as src, \
                open(os.path.join(data_dir, f"{name}.trg"), "w", encoding="utf-8") as trg:
            for source, target in pairs:
                src.write(" ".join(source) + "\n")
                trg.write(target + "\n")

    write("train", [(e.source, t) for e in train for t in e.targets])
    write("dev", [(e.source, e.targets[0]) for e in dev])
    write("test", [(e.source, e.targets[0]) for e in test])
    with open(os.path.join(data_dir, "test_words.txt"), "w", encoding="utf-8") as f:
        f.write("".join(e.source + "\n" for e in test))
    pairs = sum(len(e.targets) for e in train)
    counts = {"train_words": len(train), "train_pairs": pairs,
              "train_target_tokens": sum(len(t.split()) + 1 for e in train for t in e.targets),
              "validation_words_decoded": len(dev), "test_words": len(test)}
    return task, test, counts


# ---------------------------------------------------------------------------------- schedules

def cosine_mean(steps, warmup):
    """Mean of Keras' warm-up + cosine schedule (peak 1) over `steps` steps."""
    total = 0.0
    decay = max(1, steps - warmup)
    for step in range(steps):
        if step < warmup:
            total += step / warmup
        else:
            total += 0.5 * (1 + math.cos(math.pi * min(step - warmup, decay) / decay))
    return total / steps


def exponential_decay(epochs, mean):
    """The per-epoch decay d with mean(d^0 ... d^(epochs-1)) == mean (1.0 for one epoch)."""
    if epochs == 1 or mean >= 1:
        return 1.0
    low, high = 1e-6, 1.0
    for _ in range(100):
        mid = (low + high) / 2
        if sum(mid ** k for k in range(epochs)) / epochs < mean:
            low = mid
        else:
            high = mid
    return round((low + high) / 2, 4)


# ----------------------------------------------------------------------------------- configs

def joeynmt_config(recipe, settings, data_dir, model_dir, test=False):
    """JoeyNMT's config (a dict for `to_yaml`) for training or for testing."""
    model, training = recipe["model"], recipe["training"]
    evaluation = recipe.get("evaluation", {})
    steps = settings["steps_per_epoch"]
    logging_freq = max(d for d in range(1, min(steps, 100) + 1) if steps % d == 0)
    side = {"level": "word", "lowercase": False, "max_length": -1, "voc_min_freq": 1,
            "voc_limit": 1000}
    data = {"train": os.path.join(data_dir, "train"), "dataset_type": "plain",
            "src": {"lang": "src", **side}, "trg": {"lang": "trg", **side}}
    if test:
        data = {**data, "test": os.path.join(data_dir, "test")}
    else:
        data = {**data, "dev": os.path.join(data_dir, "dev")}
    dropout = model.get("dropout", 0.0)
    return {
        "name": "peer_bench_g2p",
        "joeynmt_version": JOEYNMT.split("==")[1],
        "use_cuda": False, "fp16": False, "num_workers": 0,
        "random_seed": settings["seed"],
        "data": data,
        "testing": {"beam_size": evaluation.get("beam_width", 5),
                    "beam_alpha": evaluation.get("length_penalty", 0.0) or -1,
                    "min_output_length": settings["min_length"],
                    "batch_size": 64, "batch_type": "sentence",
                    "max_output_length": -1, "eval_metrics": ["sequence_accuracy"]},
        "training": {
            "model_dir": model_dir, "overwrite": True,
            "optimizer": "adam", "adam_betas": [0.9, 0.999],
            "learning_rate": settings["joeynmt_learning_rate"],
            "scheduling": "exponential", "decrease_factor": settings["joeynmt_decay"],
            "learning_rate_min": 1.0e-9,
            "loss": "crossentropy", "label_smoothing": training.get("label_smoothing", 0.0),
            "normalization": "tokens", "clip_grad_norm": training.get("clipnorm"),
            "batch_size": training.get("batch_size", 64), "batch_type": "sentence",
            "epochs": settings["epochs"], "shuffle": True,
            "validation_freq": steps, "logging_freq": logging_freq,
            "early_stopping_metric": "acc", "keep_best_ckpts": 1,
            "print_valid_sents": [],
        },
        "model": {
            "initializer": "xavier_uniform", "init_gain": 1.0,
            "embed_initializer": "normal", "embed_init_weight": 1.0,
            "bias_initializer": "zeros", "init_rnn_orthogonal": True,
            "lstm_forget_gate": 0.5,  # PyTorch's LSTM has two biases: 0.5 + 0.5
            "tied_embeddings": False, "tied_softmax": False,
            "encoder": {"type": "recurrent", "rnn_type": "lstm", "bidirectional": True,
                        "hidden_size": model["units"], "num_layers": 1, "dropout": dropout,
                        "embeddings": {"embedding_dim": model["embedding_dim"],
                                       "scale": False, "dropout": dropout}},
            "decoder": {"type": "recurrent", "rnn_type": "lstm", "hidden_size": model["units"],
                        "num_layers": 1, "attention": "luong", "input_feeding": True,
                        "init_hidden": "bridge", "dropout": dropout,
                        "hidden_dropout": dropout,
                        "embeddings": {"embedding_dim": model["embedding_dim"],
                                       "scale": False, "dropout": dropout}},
        },
    }


def _yaml_scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        text = repr(value)
        # PyYAML (YAML 1.1) reads "1e-09" as a string: the mantissa needs a dot
        mantissa, e, exponent = text.partition("e")
        return (mantissa if "." in mantissa else mantissa + ".0") + (e + exponent if e else "")
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def to_yaml(value, indent=0):
    """A small YAML writer for a config of dicts, lists and scalars (JSON-quoted strings)."""
    pad = " " * indent
    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{pad}{key}:")
            lines.append(to_yaml(item, indent + 2))
        elif isinstance(item, (list, tuple)):
            lines.append(f"{pad}{key}: [{', '.join(_yaml_scalar(v) for v in item)}]")
        else:
            lines.append(f"{pad}{key}: {_yaml_scalar(item)}")
    return "\n".join(lines)


def our_recipe(recipe, settings, path, jit=True):
    """The recipe to train: a JSON copy of the recipe file with our sizes, the seed, `jit`
    and the validation words."""
    training = recipe["training"]
    ours = {"epochs": settings["epochs"], "max_train_examples": settings["max_train_words"],
            "max_eval_examples": settings["max_eval_examples"],
            "warmup_steps": settings["warmup_steps"], "seed": settings["seed"],
            "jit": training.get("jit", True) and jit}
    # validate on the very words JoeyNMT validates on: the first max_eval_examples
    task_options = {**recipe.get("task_options", {}),
                    "max_validation_words": settings["max_eval_examples"]}
    changed = {**recipe, "task_options": task_options, "training": {**training, **ours}}
    with open(path, "w") as f:
        json.dump(changed, f, indent=2)
    return path


# ----------------------------------------------------------------------------------- running

def _thread_env(threads):
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        env[name] = str(threads)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["KERAS_BACKEND"] = "tensorflow"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPATH", None)
    return env


def run_timed(label, command, log_path, env, show=None, stdout_path=None):
    """Run `command`, logging its output; returns wall and CPU seconds and peak RSS (MiB).

    Lines matching `show` are echoed as progress. With `stdout_path`, stdout goes to that
    file and only stderr is logged and scanned.
    """
    start = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        out_file = open(stdout_path, "w", encoding="utf-8") if stdout_path else None
        try:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, text=True,
                                    stdout=out_file or subprocess.PIPE,
                                    stderr=subprocess.PIPE if out_file else subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as error:
            raise BenchError(f"{label}: could not start {command[0]} ({error})") from None
        stream = proc.stderr if out_file else proc.stdout
        tail = []
        try:
            for line in stream:
                log.write(line)
                tail = (tail + [line])[-30:]
                if show is not None and show.search(line):
                    text = re.sub(r"^\S+ \S+ - \w+ - [\w.]+ - ", "", line.rstrip())
                    print(f"    {label}: {text.strip()}", flush=True)
            stream.close()
            _, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            raise BenchError(f"interrupted during {label}") from None
        finally:
            if out_file:
                out_file.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        error = [line.strip() for line in tail
                 if re.search(r"Error|error:|Exception", line)]
        raise BenchError(f"{label} failed with exit code {proc.returncode}: "
                         f"{error[-1] if error else _last_line(''.join(tail))} (log: "
                         f"{os.path.relpath(log_path, ROOT)})")
    return {"wall_seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "user_seconds": usage.ru_utime, "system_seconds": usage.ru_stime,
            "peak_rss_mib": usage.ru_maxrss / 1024}


def score(task, test, outputs):
    from keras_s2s.text_metrics import metric_function

    missing = max(0, len(test) - len(outputs))
    outputs = _normalized(outputs, len(test))
    references = [list(e.targets) for e in test]
    scores = {m: float(metric_function(m, task)(outputs, references)) for m in ("wer", "per")}
    return {**scores, "missing_outputs": missing + sum(not o for o in outputs),
            "samples": [{"word": e.source, "references": list(e.targets), "output": o}
                        for e, o in list(zip(test, outputs))[:5]]}


def _read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


JOEY_PROGRESS = re.compile(r"Total params|EPOCH|Epoch\s+\d+,|Evaluation result|Hooray|"
                           r"Training ended|Decoding on")
OUR_PROGRESS = re.compile(r"^[Ee]poch \d+|^\d+/\d+ - |^trained |XLA compiles|^training ")


def run_joeynmt(python, recipe, settings, data_dir, work, task, test, env):
    model_dir = os.path.join(work, "joeynmt")
    train_cfg, test_cfg = (os.path.join(work, f"joeynmt_{m}.yaml") for m in ("train", "test"))
    for path, is_test in ((train_cfg, False), (test_cfg, True)):
        with open(path, "w") as f:
            f.write(to_yaml(joeynmt_config(recipe, settings, data_dir, model_dir,
                                           test=is_test)) + "\n")
    say(f"JoeyNMT: training {settings['epochs']} epoch(s) on {settings['train_words']:,} "
        f"words ({settings['train_pairs']:,} pairs) ...")
    load_before = os.getloadavg()
    train = run_timed("JoeyNMT train", [python, "-m", "joeynmt", "train", train_cfg,
                                        "--skip-test"],
                      os.path.join(work, "joeynmt_train.log"), env, JOEY_PROGRESS)
    load_after = os.getloadavg()
    say(f"JoeyNMT: decoding {len(test):,} test words (beam {settings['beam']}) ...")
    hyps = os.path.join(work, "joeynmt_hyps")
    decode = run_timed("JoeyNMT test", [python, "-m", "joeynmt", "test", test_cfg,
                                        "--output-path", hyps],
                       os.path.join(work, "joeynmt_test.log"), env)
    with open(os.path.join(work, "joeynmt_train.log"), encoding="utf-8") as f:
        params = re.search(r"Total params: (\d+)", f.read())
    return {"train": train, "decode": decode, "load_average_before": load_before,
            "load_average_after": load_after,
            "parameters": int(params.group(1)) if params else None,
            "commands": [f"python -m joeynmt train {os.path.relpath(train_cfg, ROOT)} "
                         "--skip-test",
                         f"python -m joeynmt test {os.path.relpath(test_cfg, ROOT)} "
                         f"--output-path {os.path.relpath(hyps, ROOT)}"],
            **score(task, test, _read_lines(hyps + ".test"))}


def run_ours(recipe, settings, data_dir, work, task, test, env, key="ours"):
    run_dir = os.path.join(work, key)
    recipe_file = our_recipe(recipe, settings, os.path.join(work, f"{key}_recipe.json"),
                             jit=key == "ours")
    cli = [sys.executable, "-m", "keras_s2s.cli"]
    say(f"{key}: keras-s2s train --recipe {os.path.relpath(recipe_file, ROOT)} ...")
    load_before = os.getloadavg()
    train = run_timed(f"{key} train", [*cli, "train", "--recipe", recipe_file, "--out",
                                       run_dir],
                      os.path.join(work, f"{key}_train.log"), env, OUR_PROGRESS)
    load_after = os.getloadavg()
    say(f"{key}: decoding {len(test):,} test words (beam {settings['beam']}) ...")
    hyps = os.path.join(work, f"{key}_hyps.test")
    beam = ["--beam", str(settings["beam"]), "--min-length", str(settings["min_length"])]
    if settings["length_penalty"]:
        beam += ["--length-penalty", str(settings["length_penalty"])]
    decode = run_timed(f"{key} decode", [*cli, "decode", run_dir, *beam, "--input",
                                         os.path.join(data_dir, "test_words.txt")],
                       os.path.join(work, f"{key}_decode.log"), env, stdout_path=hyps)
    with open(os.path.join(run_dir, "config.json")) as f:
        config = json.load(f)
    return {"train": train, "decode": decode, "load_average_before": load_before,
            "load_average_after": load_after, "parameters": config.get("parameters"),
            "best_epoch": config.get("results", {}).get("best_epoch"),
            "commands": [f"keras-s2s train --recipe {os.path.relpath(recipe_file, ROOT)} "
                         f"--out {os.path.relpath(run_dir, ROOT)}",
                         f"keras-s2s decode {os.path.relpath(run_dir, ROOT)} "
                         f"{' '.join(beam)} --input test_words.txt"],
            **score(task, test, _read_lines(hyps))}


def compare(ours, joeynmt):
    """Ours against JoeyNMT: the CPU-time ratio of the (mean) trainings and the WER check."""
    ratio = ours["train"]["cpu_seconds"] / joeynmt["train"]["cpu_seconds"]
    quality = ours["wer"] <= joeynmt["wer"]
    return {"cpu_ratio": ratio, "goal_ratio": GOAL_RATIO, "cpu_goal_met": ratio <= GOAL_RATIO,
            "wer_equal_or_better": quality, "goal_met": ratio <= GOAL_RATIO and quality}


def _normalized(outputs, n):
    """`n` outputs, whitespace-normalised; missing ones are empty."""
    lines = [" ".join(o.split()) for o in outputs[:n]]
    return lines + [""] * (n - len(lines))


def _outputs(path, n):
    """A system's test outputs as `score` reads them."""
    return _normalized(_read_lines(path), n)


def paired_with_joeynmt(work, seeds, test, rows):
    """Each of our rows against JoeyNMT, word by word, per seed: the words only one of the two
    gets right and McNemar's exact p-value (`keras_s2s.significance`). G2P WER is the share
    of words wrong, so this is the test of whether a WER difference is more than chance.
    Reads the output files of the run in `work`; refuses files that do not score the WER
    the run recorded."""
    from keras_s2s.significance import paired_exact_match

    references = [list(e.targets) for e in test]
    paired = {}
    for key in OURS:
        paired[key] = {}
        for seed, ours_row, joey_row in zip(seeds, rows[key]["seeds"], rows["joeynmt"]["seeds"]):
            folder = os.path.join(work, f"seed_{seed}")
            result = paired_exact_match(
                _outputs(os.path.join(folder, f"{key}_hyps.test"), len(test)),
                _outputs(os.path.join(folder, "joeynmt_hyps.test"), len(test)), references)
            for side, row in (("a", ours_row), ("b", joey_row)):
                if abs(1 - result[f"accuracy_{side}"] - row["wer"]) > 1e-9:
                    raise BenchError(f"the output files in {_show(folder)} do not score the "
                                     "recorded WER: they are from another run")
            paired[key][str(seed)] = result
    return paired


def mean_row(seed_rows):
    """One system's row: the means over its seeds' runs of every number the table shows
    (training and decoding times, rates, WER, PER), with the runs themselves under "seeds"."""
    def mean(values):
        return sum(values) / len(values)

    first = seed_rows[0]
    row = {"seeds": seed_rows, "parameters": first.get("parameters")}
    for part in ("train", "decode"):
        row[part] = {k: mean([r[part][k] for r in seed_rows]) for k in first[part]}
    for key in ("wer", "per", "cpu_seconds_per_epoch", "wall_seconds_per_epoch",
                "tokens_per_cpu_second", "tokens_per_wall_second"):
        row[key] = mean([r[key] for r in seed_rows])
    return row


def _rates(row, settings):
    train, tokens = row["train"], settings["train_target_tokens"] * settings["epochs"]
    row["cpu_seconds_per_epoch"] = train["cpu_seconds"] / settings["epochs"]
    row["wall_seconds_per_epoch"] = train["wall_seconds"] / settings["epochs"]
    row["tokens_per_cpu_second"] = tokens / train["cpu_seconds"]
    row["tokens_per_wall_second"] = tokens / train["wall_seconds"]
    return row


def _cpu_model():
    from keras_s2s.bench.suite import cpu_model

    return cpu_model() or platform.processor() or None


def benchmark(args):
    from keras_s2s.cli import _xla

    recipe = load_recipe()
    training = recipe["training"]
    quick = args.quick
    epochs = QUICK["epochs"] if quick else args.epochs or training["epochs"]
    words = QUICK["max_train_words"] if quick else (args.max_train_words
                                                     or training["max_train_examples"])
    max_eval = QUICK["max_eval_examples"] if quick else training.get("max_eval_examples", 1000)
    max_test = QUICK["max_test_words"] if quick else None
    json_path = QUICK_JSON if quick else RESULTS_JSON
    seeds = args.seeds or [training.get("seed", 0)]
    work = os.path.join(WORK, "quick" if quick else "full")
    date = time.strftime("%Y-%m-%d %H:%M:%S %z")

    python = install(os.path.abspath(args.venv), args.torch)
    say(f"JoeyNMT environment: {_show(args.venv)}")
    peer_versions = _peer_versions(python)
    if os.path.isdir(work):
        shutil.rmtree(work)
    data_dir = os.path.join(work, "data")
    say(f"exporting the g2p splits to {os.path.relpath(data_dir, ROOT)} ...")
    task, test, counts = export_data(recipe, data_dir, words, max_eval, max_test)
    batch = training.get("batch_size", 64)
    steps = math.ceil(counts["train_pairs"] / batch)
    warmup = int(training.get("warmup_steps", 0))
    if quick and warmup:  # the recipe's share of the run, not 200 steps of a 34-step run
        warmup = max(1, round(warmup * epochs * words
                              / (training["epochs"] * training["max_train_examples"])))
    mean = cosine_mean(steps * epochs, warmup) if training.get("schedule") == "cosine" else 1.0
    decay = exponential_decay(epochs, mean)
    evaluation = recipe.get("evaluation", {})
    settings = {
        "quick": quick, "task": recipe["task"], "task_options": recipe.get("task_options", {}),
        "recipe": os.path.relpath(RECIPE, ROOT), "epochs": epochs, "max_train_words": words,
        "max_eval_examples": max_eval, **counts, "steps_per_epoch": steps,
        "embedding_dim": recipe["model"]["embedding_dim"], "units": recipe["model"]["units"],
        "dropout": recipe["model"].get("dropout", 0.0), "batch_size": batch,
        "learning_rate": training["learning_rate"], "schedule": training.get("schedule"),
        "warmup_steps": warmup,
        "schedule_mean_fraction": round(mean, 4),
        "joeynmt_schedule": "exponential", "joeynmt_decay": decay,
        "joeynmt_learning_rate": training["learning_rate"] / decay,
        "label_smoothing": training.get("label_smoothing", 0.0),
        "clipnorm": training.get("clipnorm"), "beam": evaluation.get("beam_width", 5),
        "min_length": MIN_LENGTH,
        "length_penalty": evaluation.get("length_penalty", 0.0),
        "seeds": seeds, "threads": args.threads,
        "target_tokens": "phonemes + 1 end-of-sequence token per training pair",
        # what our training compiles with: the caller's XLA_FLAGS, else keras-s2s's own
        # LLVM level 1 (keras_s2s/cli/_xla.py; runs before 6 December did not record it)
        "xla_flags": os.environ.get("XLA_FLAGS") or f"{_xla.FLAG}={_xla.LEVEL} (keras-s2s)",
    }
    say(f"{counts['train_words']:,} training words, {counts['train_pairs']:,} pairs, "
        f"{counts['train_target_tokens']:,} target tokens; {epochs} epoch(s); "
        f"{args.threads} thread(s) each; JoeyNMT decay {decay} per epoch")
    env = _thread_env(args.threads)
    machine = {"cpu_model": _cpu_model(), "cpu_count": os.cpu_count(),
               "cpus_usable": len(os.sched_getaffinity(0)), "platform": platform.platform(),
               "load_average_start": os.getloadavg(), "date": date}
    runs = {key: [] for key in ("joeynmt", *OURS)}
    for seed in seeds:
        seeded = {**settings, "seed": seed}
        seed_work = os.path.join(work, f"seed_{seed}")
        os.makedirs(seed_work)
        say(f"seed {seed}")
        runs["joeynmt"].append(run_joeynmt(python, recipe, seeded, data_dir, seed_work, task,
                                           test, env))
        for key in OURS:
            runs[key].append(run_ours(recipe, seeded, data_dir, seed_work, task, test, env,
                                      key))
        for key in runs:
            runs[key][-1]["seed"] = seed
            _rates(runs[key][-1], settings)
    machine["load_average_end"] = os.getloadavg()
    rows = {key: mean_row(seed_rows) for key, seed_rows in runs.items()}
    paired = paired_with_joeynmt(work, seeds, test, rows)
    results = {
        "settings": settings, "machine": machine,
        "versions": {"joeynmt_env": peer_versions, "ours": _our_versions()},
        "command": "python scripts/peer_bench.py" + (" --quick" if quick else "") + (
            f" --epochs {epochs} --max-train-words {words}" if not quick and (
                epochs != training["epochs"] or words != training["max_train_examples"])
            else "") + (f" --threads {args.threads}" if args.threads != 1 else "") + (
            f" --seeds {' '.join(map(str, seeds))}" if args.seeds else ""),
        "systems": rows,
        "comparisons": {key: compare(rows[key], rows["joeynmt"]) for key in OURS},
        "paired": paired,
    }
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    print()
    print(table(results))
    say(f"wrote {os.path.relpath(json_path, ROOT)}")
    return 0


# ---------------------------------------------------------------------------------- reports

def _row_values(row):
    return [f"{row['train']['cpu_seconds']:,.0f}", f"{row['cpu_seconds_per_epoch']:,.1f}",
            f"{row['train']['wall_seconds']:,.0f}", f"{row['tokens_per_cpu_second']:,.0f}",
            f"{row['tokens_per_wall_second']:,.0f}", f"{100 * row['wer']:.1f}%",
            f"{100 * row['per']:.1f}%"]


HEADERS = ["train CPU s", "CPU s/epoch", "train wall s", "tokens/CPU s", "tokens/wall s",
           "test WER", "test PER"]


def _missed(comparison):
    """What failed the goal, e.g. " (CPU time, WER)"; empty when it was met."""
    missed = [what for what, ok in (("CPU time", comparison["cpu_goal_met"]),
                                    ("WER", comparison["wer_equal_or_better"])) if not ok]
    return f" ({', '.join(missed)})" if missed else ""


def _verdict(results):
    lines = []
    for key in OURS:
        c = results["comparisons"][key]
        lines.append(f"{NAMES[key]} / JoeyNMT training CPU time: {c['cpu_ratio']:.2f}x (goal "
                     f"<= {c['goal_ratio']:g}x at equal or better WER): "
                     + ("PASS" if c["goal_met"] else "FAIL" + _missed(c)))
    return "\n".join(lines)


def _systems(results):
    return [k for k in ("joeynmt", *OURS) if k in results["systems"]]


def table(results):
    """A plain-text table for the terminal."""
    rows = [["", *HEADERS]] + [[NAMES[k], *_row_values(results["systems"][k])]
                               for k in _systems(results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w)
                       for i, (cell, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join(lines + ["", _verdict(results)])


def render(results):
    """The BENCHMARKS.md section "## Side by side with JoeyNMT" of a result dict."""
    s, m, v = results["settings"], results["machine"], results["versions"]
    rows = results["systems"]
    seeds = s["seeds"]
    joey, ours = v["joeynmt_env"], v["ours"]
    out = ["## Side by side with JoeyNMT", ""]
    if s.get("quick"):
        out += ["**Smoke check (`--quick`), not a benchmark.**", ""]
    out += [
        f"`{results['command']}` trains JoeyNMT {joey['joeynmt']} (PyTorch {joey['torch']}) "
        f"and our `luong_bilstm` (Keras {ours['keras']}, TensorFlow {ours['tensorflow']}; "
        "with XLA as the recipe has it"
        + (f" (`XLA_FLAGS`: `{s['xla_flags']}`)" if s.get("xla_flags") else "")
        + ", and again with `jit = false`) one "
        f"after the other on the same {s['train_words']:,} G2P training words "
        f"({s['train_pairs']:,} pairs, {s['train_target_tokens']:,} target tokens) for "
        f"{s['epochs']} epoch(s): embeddings {s['embedding_dim']}, a bidirectional LSTM "
        f"encoder and an LSTM decoder of {s['units']} with Luong (general) attention and input "
        f"feeding, dropout {s['dropout']:g}, batches of {s['batch_size']}, Adam at "
        f"{s['learning_rate']:g} (ours: {s['warmup_steps']} warm-up steps then cosine; "
        + (f"JoeyNMT: ×{s['joeynmt_decay']:g} per epoch, the same mean rate)"
           if s["joeynmt_decay"] != 1 else "JoeyNMT: constant over the one epoch)")
        + f", label smoothing "
        f"{s['label_smoothing']:g}, gradient norm {s['clipnorm']:g}, "
        f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}, "
        f"{s['threads']} thread(s) each. Both validate every epoch on the same "
        f"{s['validation_words_decoded']:,} words. Test: {s['test_words']:,} words, beam "
        f"{s['beam']}"
        + (f", at least {s['min_length']} output token(s)" if s.get("min_length") else
           " (JoeyNMT at least one output token, ours none)")
        + ", WER and PER by our metric code on both output files. CPU seconds are "
        "user + system time of the training process, start-up and compiles included; "
        "tokens are real target tokens (phonemes + end of sequence) times epochs. The "
        "remaining architecture differences are listed in `scripts/peer_bench.py`."
        + (f" Each number is the mean over the {len(seeds)} seeds' runs." if len(seeds) > 1
           else ""), "",
        "| | " + " | ".join(HEADERS) + " | parameters |",
        "| --- |" + " ---: |" * (len(HEADERS) + 1)]
    for key in _systems(results):
        row = rows[key]
        params = f"{row['parameters']:,}" if row.get("parameters") else "—"
        out.append(f"| {NAMES[key]} | " + " | ".join(_row_values(row)) + f" | {params} |")
    out.append("")
    for key in OURS:
        c = results["comparisons"][key]
        out += [f"{NAMES[key]} / JoeyNMT training CPU time: **{c['cpu_ratio']:.2f}×**; goal "
                f"≤ {c['goal_ratio']:g}× at equal or better test WER: "
                + ("met." if c["goal_met"] else f"**not met**{_missed(c)}."), ""]
    if len(seeds) > 1:
        out += ["Test WER per seed (" + ", ".join(map(str, seeds)) + "): " + "; ".join(
            f"{NAMES[key]} " + ", ".join(f"{100 * r['wer']:.1f}%" for r in rows[key]["seeds"])
            for key in _systems(results)) + ".", ""]
    if results.get("paired"):
        out += [_paired_sentence(results), ""]
    runs = "one run" + (f" per seed, {len(seeds)} seeds" if len(seeds) > 1 else ", one seed")
    out += [f"Measured {m['date']} on {m['cpu_count']} CPU(s) "
            f"({m['cpu_model'] or 'model unknown'}), "
            f"load average {m['load_average_start'][0]:.2f} at the start and "
            f"{m['load_average_end'][0]:.2f} at the end; {runs}."]
    return "\n".join(out) + "\n"


def _paired_sentence(results):
    from keras_s2s.significance import p_phrase

    parts = []
    for key in OURS:
        each = ", ".join(
            f"seed {seed}: {r['a_only']} against {r['b_only']} (p {p_phrase(r['p_value'])})"
            for seed, r in results["paired"][key].items())
        parts.append(f"{NAMES[key]}: {each}")
    significant = [f"{NAMES[key]} seed {seed}"
                   for key in OURS for seed, r in results["paired"][key].items()
                   if r["significant"]]
    verdict = ("no difference is significant at 0.05: the test words cannot tell the WERs "
               "apart" if not significant else "significant at 0.05: " + ", ".join(significant))
    return ("Word by word against JoeyNMT (`python scripts/peer_bench.py paired`; test words "
            "only ours gets right against those only JoeyNMT gets right, McNemar's exact test, "
            "`keras_s2s.significance`): " + "; ".join(parts) + f". {verdict[0].upper()}"
            f"{verdict[1:]}.")


def pair_command(args):
    """Recompute `"paired"` of a results file from the output files its run left."""
    from keras_s2s.data import load_task

    path = QUICK_JSON if args.quick else RESULTS_JSON
    if not os.path.exists(path):
        raise BenchError(f"no results at {os.path.relpath(path, ROOT)}; run "
                         "`python scripts/peer_bench.py` first")
    with open(path) as f:
        results = json.load(f)
    settings = results["settings"]
    task = load_task(settings["task"], **settings.get("task_options", {}))
    test = task.splits["test"][:settings["test_words"]]
    work = os.path.join(WORK, "quick" if args.quick else "full")
    results["paired"] = paired_with_joeynmt(work, settings["seeds"], test, results["systems"])
    with open(path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    print(_paired_sentence(results))
    say(f"wrote {os.path.relpath(path, ROOT)}")
    return 0


def render_command(args):
    path = args.json or (QUICK_JSON if args.quick else RESULTS_JSON)
    if not os.path.exists(path):
        raise BenchError(f"no results at {os.path.relpath(path, ROOT)}; run "
                         "`python scripts/peer_bench.py` first")
    try:
        with open(path) as f:
            results = json.load(f)
        print(render(results), end="")
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise BenchError(f"{path} is not a peer_bench result ({error!r})") from None
    return 0


def main(argv=None):
    from keras_s2s.cli._common import positive

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=["run", "render", "paired"],
                        default="run",
                        help="run the benchmark (default), print the BENCHMARKS.md section, or "
                             "recompute the word-by-word comparison from the last run's outputs")
    parser.add_argument("--venv", default=DEFAULT_VENV,
                        help="JoeyNMT's virtual environment (made once; default "
                             "runs/peer_bench/venv)")
    parser.add_argument("--epochs", type=positive(int), help="default: the recipe's (4)")
    parser.add_argument("--max-train-words", type=positive(int),
                        help="default: the recipe's max_train_examples (40,000)")
    parser.add_argument("--threads", type=positive(int), default=1,
                        help="CPU threads each framework may use (default 1)")
    parser.add_argument("--seeds", type=int, nargs="+",
                        help="train each system once per seed (default: the recipe's, 0); "
                             "the table shows the means")
    parser.add_argument("--torch", metavar="SPEC",
                        help="the torch requirement to install into the venv (default: the "
                             "newest CPU-only one pip can reach)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke check: 1 epoch on 2,000 words, 200 test words; writes "
                             "runs/peer_bench/quick.json")
    parser.add_argument("--json", help="render: the results file (default: "
                                       "zoo/results/peer_bench.json, or quick.json with --quick)")
    args = parser.parse_args(argv)
    try:
        if args.command == "render":
            return render_command(args)
        if args.command == "paired":
            return pair_command(args)
        if args.json:
            parser.error("--json is for render")
        if args.quick and (args.epochs or args.max_train_words):
            parser.error("--quick sets its own --epochs and --max-train-words")
        return benchmark(args)
    except BenchError as error:
        print(f"peer_bench: error: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:  # unreadable or missing files, the task's data
        print(f"peer_bench: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("peer_bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
