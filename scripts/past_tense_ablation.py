"""Why `luong_bilstm` with default settings loses to the suffix rule on `past_tense`.

    python scripts/past_tense_ablation.py run [SETTING ...] [--seeds 0 1 2] [--jobs 2]
    python scripts/past_tense_ablation.py render           # print the RESULTS.md section

The "your own data" table (`scripts/own_data_results.py`) has `past_tense` as the one task
where the default model loses to the most-frequent-suffix rule. Its test split has already
been decoded by earlier runs, so this script never reads it: every setting below is trained
through the CLI on the task's training TSV and scored on its **validation** TSV only, next to
the suffix rule fitted on the same training pairs.

For each setting it records:
- the validation exact-match accuracy of the epoch that `train` chose (greedy, as `train`
  measures it every epoch);
- how many **training** verbs the chosen model gets wrong when it decodes them, split into
  regular verbs (a past form made by `-ed`/`-d`, `y -> ied` or a doubled final consonant) and
  the rest (irregular: `give -> gave`, `tell -> told`).

The question it answers: whether the gap is a training setting (rate, schedule, dropout,
label smoothing, width, length of training), a property of the model on this data, or
the noise of 323 validation verbs (`--seeds`); `copy_bilstm` rows show the same model with a
copy switch, and the hint, exemplar and edit-script rows whether giving the model what the
rule knows (its answer, the training pair it follows, its edit) closes the gap. Seed 0 unless `--seeds` says more, on this 2-core CPU with `--jobs` runs side
by side. Results go to
`zoo/results/past_tense_ablation.json`; `scripts/g2p_results.py render` puts the section in
`zoo/RESULTS.md`.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import own_data_results  # noqa: E402
from results_io import load_json, save_json  # noqa: E402

ROOT = own_data_results.ROOT
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "past_tense_ablation.json")
FOLDER = os.path.join(ROOT, "runs", "past_tense_ablation")
TASK = "past_tense"
MODEL = own_data_results.MODEL
# the defaults before 2026-12-04, when `train` gave a small task this budget too; the runs
# recorded before then were made without these flags, which `train` then filled in alike
PLATEAU = ["--schedule", "plateau", "--epochs", "30"]
# name -> extra `keras-s2s train` flags; today's defaults for this task are the "targets right
# to left, cosine over 80 epochs" row (`keras_s2s.training.defaults.choose_budget` and
# `choose_target_order`). Every setting runs with `--target-order left-to-right`, the only
# order when most rows were recorded; the right-to-left rows reverse the TSVs' targets instead
# (`REVERSED`), as they were recorded before `--target-order` existed.
SETTINGS = {
    "plateau defaults": PLATEAU,
    "dropout 0.3": PLATEAU + ["--dropout", "0.3"],
    "cosine schedule": ["--schedule", "cosine"],
    "no label smoothing": PLATEAU + ["--label-smoothing", "0"],
    "cosine over 80 epochs": ["--schedule", "cosine", "--epochs", "80", "--no-early-stopping"],
    "no label smoothing, cosine over 80 epochs": [
        "--label-smoothing", "0", "--schedule", "cosine", "--epochs", "80",
        "--no-early-stopping"],
    "units 256, dropout 0.3, up to 60 epochs": [
        "--units", "256", "--dropout", "0.3", "--epochs", "60"],
    "up to 120 epochs, patience 40": ["--epochs", "120", "--patience", "40"],
    "dropout 0.3, cosine over 80 epochs": [
        "--dropout", "0.3", "--schedule", "cosine", "--epochs", "80", "--no-early-stopping"],
    "units 256, dropout 0.4, cosine over 80 epochs": [
        "--units", "256", "--dropout", "0.4", "--schedule", "cosine", "--epochs", "80",
        "--no-early-stopping"],
    "copy_bilstm, plateau defaults": PLATEAU,
    "copy_bilstm, cosine over 80 epochs": [
        "--schedule", "cosine", "--epochs", "80", "--no-early-stopping"],
    "targets right to left, cosine over 80 epochs": [
        "--schedule", "cosine", "--epochs", "80", "--no-early-stopping"],
    "copy_bilstm, targets right to left, cosine over 80 epochs": [
        "--schedule", "cosine", "--epochs", "80", "--no-early-stopping"],
}
# settings that train another entry than MODEL (with the flags above)
MODELS = {"copy_bilstm, plateau defaults": "copy_bilstm",
          "copy_bilstm, cosine over 80 epochs": "copy_bilstm",
          "copy_bilstm, targets right to left, cosine over 80 epochs": "copy_bilstm"}
# settings trained on TSVs whose target columns are written right to left (the past form's
# ending first); their outputs are turned back before they are scored
REVERSED = {"targets right to left, cosine over 80 epochs",
            "copy_bilstm, targets right to left, cosine over 80 epochs",
            "suffix-rule hint in the source, targets right to left, cosine over 80 epochs",
            "analogy exemplar in the source, targets right to left, cosine over 80 epochs"}
# settings whose sources carry what the suffix rule would do (`SuffixHints`): "hint" appends
# the rule's past form (`uphold|upheld`), "exemplar" the training pair the rule takes it from
# (`uphold|withhold>withheld`, the analogy input of Liu & Hulden 2020); each training verb's
# hint comes from the other training pairs, so it is as often wrong as on new verbs
HINTS = {"suffix-rule hint in the source, targets right to left, cosine over 80 epochs": "hint",
         "analogy exemplar in the source, targets right to left, cosine over 80 epochs":
             "exemplar"}
# settings whose targets are the rule's edit script, `k|s`: strip the last k letters, append s
# (`uphold -> upheld` is `3|eld`), so that no stem is ever written
EDITS = {"edit-script targets, cosine over 80 epochs"}
# entries whose attention reads the source in order (Raffel et al.'s monotonic attention,
# Luong's local-m window at p_t = t), with targets left to right, as their alignment needs
# (and right to left, as `--target-order auto` chose for them until it asked the attention)
ALIGNED = {"luong_monotonic_bilstm, cosine over 80 epochs": "luong_monotonic_bilstm",
           "luong_local_m_bilstm, cosine over 80 epochs": "luong_local_m_bilstm",
           "luong_monotonic_bilstm, targets right to left, cosine over 80 epochs":
               "luong_monotonic_bilstm",
           "luong_local_m_bilstm, targets right to left, cosine over 80 epochs":
               "luong_local_m_bilstm"}
MODELS.update(ALIGNED)
REVERSED.update(n for n in ALIGNED if "right to left" in n)
# See et al.'s coverage (the attention reads the sum of its earlier weights, and a loss
# penalises attending twice), against the stem's skipped and repeated letters
COVERAGE = "copy_bilstm with coverage, targets right to left, cosine over 80 epochs"
MODELS[COVERAGE] = "copy_bilstm"
REVERSED.add(COVERAGE)
for _name in [*HINTS, *EDITS, *ALIGNED]:  # in this order in the table
    SETTINGS[_name] = ["--schedule", "cosine", "--epochs", "80", "--no-early-stopping"]
SETTINGS[COVERAGE] = ["--model-option", "coverage=true", "--schedule", "cosine", "--epochs",
                      "80", "--no-early-stopping"]


def _rewritten_tsv(path, folder, source_of=None, target_of=None):
    """A copy of TSV `path` in `folder` whose source is `source_of(source)` and whose every
    target is `target_of(source, target)` (unchanged where a function is None)."""
    out = os.path.join(folder, os.path.basename(path))
    with open(path, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for line in f.read().splitlines():
            source, *targets = line.split("\t")
            if target_of is not None:
                targets = [target_of(source, t) for t in targets]
            g.write("\t".join([source_of(source) if source_of else source] + targets) + "\n")
    return out


class SuffixHints:
    """What `keras_s2s.baselines.SuffixRule` does to a word, learned from the other words.

    For a word that is not among the training pairs this is exactly the rule's prediction;
    a training word's own pairs are left out of the counts (leave-one-out), so that a model
    trained on hinted sources meets hints as reliable as those of new words.

    Args:
        train_pairs: `[(source, references), ...]`.
        max_suffix_length: As for `SuffixRule`.

    Example:

    >>> hints = SuffixHints([("hold", ["held"]), ("behold", ["beheld"]), ("fold", ["folded"])])
    >>> hints.hint("uphold")
    ('upheld', ('hold', 'held'))
    >>> hints.source("uphold", "exemplar")
    'uphold|hold>held'
    """

    def __init__(self, train_pairs, max_suffix_length=5):
        import collections

        from keras_s2s.baselines import SuffixRule

        self.max_suffix_length = max_suffix_length
        self.rewrite = SuffixRule.rewrite
        self.counts = collections.defaultdict(collections.Counter)
        self.pairs = collections.defaultdict(lambda: collections.defaultdict(list))
        self.own = collections.defaultdict(collections.Counter)
        for source, references in train_pairs:
            for target in references:
                rule = self.rewrite(source, target)
                self.own[source][rule] += 1
                for n in range(min(max_suffix_length, len(source)) + 1):
                    ending = source[len(source) - n:]
                    self.counts[ending][rule] += 1
                    self.pairs[ending][rule].append((source, target))

    def hint(self, source):
        """`(the rule's output, the training pair it follows)` for `source`."""
        own = self.own.get(source, {})
        for n in range(min(self.max_suffix_length, len(source)), -1, -1):
            ending = source[len(source) - n:]
            ranked = [(count - own.get(rule, 0), -i, rule)
                      for i, (rule, count) in enumerate(self.counts.get(ending, {}).items())
                      if rule[0] <= len(source)]
            ranked = [r for r in ranked if r[0] > 0]
            if ranked:  # the most frequent rewrite, the first seen on ties
                k, append = max(ranked)[2]
                exemplar = next(p for p in self.pairs[ending][(k, append)] if p[0] != source)
                return source[:len(source) - k] + append, exemplar
        return source, (source, source)

    def source(self, source, form):
        """The hinted source: `form` "hint" (`word|past`) or "exemplar" (`word|lemma>past`)."""
        past, (lemma, lemma_past) = self.hint(source)
        return f"{source}|{past}" if form == "hint" else f"{source}|{lemma}>{lemma_past}"


def edit_script(source, target):
    """`target` as the edit `k|s` of `source`: strip its last k letters, append s.

    Example:

    >>> edit_script("uphold", "upheld"), apply_edit("uphold", "3|eld")
    ('3|eld', 'upheld')
    """
    from keras_s2s.baselines import SuffixRule

    k, append = SuffixRule.rewrite(source, target)
    return f"{k}|{append}"


def apply_edit(source, edit):
    """`source` with the edit script `edit` applied; an output that is not an edit script
    which fits `source` comes back as it is (and is scored as wrong)."""
    k, bar, append = edit.partition("|")
    if not bar or not k.isdigit() or int(k) > len(source):
        return edit
    return source[:len(source) - int(k)] + append


def is_regular(source, target):
    """Whether `target` is `source` plus the regular English past-tense spelling.

    Example:

    >>> [is_regular(*p) for p in [("walk", "walked"), ("bake", "baked"), ("try", "tried"),
    ...                            ("stop", "stopped"), ("give", "gave")]]
    [True, True, True, True, False]
    """
    forms = {source + "ed", source + "d"}
    if source.endswith("y"):
        forms.add(source[:-1] + "ied")
    if source:
        forms.add(source + source[-1] + "ed")
    return target in forms


def _pairs(paths):
    """`{split: [(source, references), ...]}` of the training and validation TSVs, read as
    the own-data table reads them (`keras_s2s.data.from_tsv`, several references a line)."""
    task = own_data_results._baseline_task(TASK, paths)
    return {split: [(s, tuple(r)) for s, r in zip(*task.references(split))]
            for split in ("train", "validation")}


def _decode(run_dir, sources, folder):
    """Greedy outputs of the run's chosen model for `sources`, through `keras-s2s decode`."""
    inputs = os.path.join(folder, "sources.txt")
    with open(inputs, "w", encoding="utf-8") as f:
        f.write("\n".join(sources) + "\n")
    result = subprocess.run(own_data_results._cli("decode", run_dir, "--input", inputs),
                            capture_output=True, text=True, check=True)
    outputs = result.stdout.split("\n")[:len(sources)]
    if len(outputs) != len(sources):
        raise RuntimeError(f"{run_dir}: {len(outputs)} outputs for {len(sources)} sources")
    return outputs


def _errors(pairs, outputs):
    wrong = [(s, refs, o) for (s, refs), o in zip(pairs, outputs) if o not in refs]
    irregular = [w for w in wrong if not any(is_regular(w[0], r) for r in w[1])]
    return wrong, irregular


def train_on_pairs(model, folder, pairs, validation_path, *flags, tokenizers=("char", "char")):
    """`train_tsv_run` on `pairs` (`(source, references)`), written to `folder/train.tsv`,
    into `folder/run`; returns `(run directory, command, seconds)`."""
    from keras_s2s.data.task import Example

    os.makedirs(folder, exist_ok=True)
    train_path = os.path.join(folder, "train.tsv")
    own_data_results._tsv(train_path, [Example(s, refs) for s, refs in pairs])
    out = os.path.join(folder, "run")
    command, seconds = train_tsv_run(model, train_path, validation_path, out, folder, *flags,
                                     tokenizers=tokenizers)
    return out, command, seconds


def train_tsv_run(model, train_path, validation_path, out, folder, *flags,
                  tokenizers=("char", "char")):
    """`keras-s2s train MODEL` on TSVs (several references a line; `tokenizers`: the source
    and target tokenizers, characters by default) into `out`, one TensorFlow thread, its log
    in `folder/train.log`; returns `(command, seconds)`."""
    command = own_data_results._cli(
        "train", model, "--train", train_path, "--validation", validation_path,
        "--source-tokenizer", tokenizers[0], "--target-tokenizer", tokenizers[1],
        "--multiple-references", "--out", out, "--overwrite", *flags)
    start = time.perf_counter()
    with open(os.path.join(folder, "train.log"), "w") as log:
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=True,
                       env={**os.environ, "TF_NUM_INTEROP_THREADS": "1",
                            "TF_NUM_INTRAOP_THREADS": "1"})
    return command, time.perf_counter() - start


def run_setting(name, flags, paths, pairs, model=MODEL, reverse=False, hints=None,
                edits=False):
    """Train one setting (`model` with `flags`) through the CLI and score it on `pairs`
    (`_pairs(paths)`); returns its record. `reverse`: trained on right-to-left targets;
    `hints`: on sources with the suffix rule's hint (`"hint"` or `"exemplar"`, `SuffixHints`);
    `edits`: on edit-script targets (`edit_script`)."""
    folder = os.path.join(FOLDER, name.replace(" ", "_").replace(",", ""))
    os.makedirs(folder, exist_ok=True)
    source_of = target_of = None
    if hints:
        suffix_hints = SuffixHints(pairs["train"])
        source_of = lambda s: suffix_hints.source(s, hints)  # noqa: E731
    if reverse:
        target_of = lambda s, t: t[::-1]  # noqa: E731
    elif edits:
        target_of = edit_script
    if source_of or target_of:
        paths = {k: _rewritten_tsv(paths[k], folder, source_of, target_of)
                 for k in ("train", "validation")}
    out = os.path.join(folder, "run")
    command, seconds = train_tsv_run(model, paths["train"], paths["validation"], out, folder,
                                      "--target-order", "left-to-right", *flags)
    with open(os.path.join(out, "best.json")) as f:
        best = json.load(f)
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    train, validation = pairs["train"], pairs["validation"]
    # one decode (one model load) for both splits
    sources = [s for s, _ in validation + train]
    outputs = _decode(out, [source_of(s) for s in sources] if source_of else sources, folder)
    if reverse:
        outputs = [o[::-1] for o in outputs]
    elif edits:
        outputs = [apply_edit(s, o) for s, o in zip(sources, outputs)]
    val_wrong, _ = _errors(validation, outputs[:len(validation)])
    train_wrong, train_irregular = _errors(train, outputs[len(validation):])
    return {
        "flags": flags,
        "command": " ".join(["keras-s2s", *command[1:]]).replace(ROOT + "/", ""),
        "epochs_run": config.get("results", {}).get("epochs_run"),
        "best_epoch": best["epoch"],
        "train_seconds": seconds,
        "validation_accuracy": 1 - len(val_wrong) / len(validation),
        "validation_errors": [[s, list(r), o] for s, r, o in val_wrong],
        "train_errors": len(train_wrong),
        "train_irregular_errors": len(train_irregular),
        "train_irregular_examples": [[s, list(r), o] for s, r, o in train_irregular[:12]],
    }


def rule_record(pairs):
    """The suffix rule on the validation verbs, and on the training verbs it was fitted on."""
    from keras_s2s.baselines import SuffixRule

    train, validation = pairs["train"], pairs["validation"]
    rule = SuffixRule().fit([(s, r) for s, refs in train for r in refs])
    val_wrong, _ = _errors(validation, rule.predict([s for s, _ in validation]))
    train_wrong, train_irregular = _errors(train, rule.predict([s for s, _ in train]))
    irregular = sum(not any(is_regular(s, r) for r in refs) for s, refs in train)
    return {"validation_accuracy": 1 - len(val_wrong) / len(validation),
            "validation_errors": [[s, list(r), o] for s, r, o in val_wrong],
            "train_errors": len(train_wrong), "train_irregular_errors": len(train_irregular),
            "train_verbs": len(train), "train_irregular_verbs": irregular,
            "validation_verbs": len(validation)}


def _key(name, seed):
    """The record key of a setting's run with `seed` (seed 0 is the setting's name)."""
    return name if seed == 0 else f"{name}, seed {seed}"


def _runs_of(settings, name):
    """`(key, record)` of setting `name`'s runs, seed 0 first."""
    keys = [k for k in settings if k == name or k.startswith(f"{name}, seed ")]
    return [(k, settings[k]) for k in sorted(keys, key=lambda k: (k != name, k))]


def run(names, jobs, seeds=(0,)):
    paths = own_data_results.export(TASK)
    results = load_json(RESULTS_JSON, {"settings": {}})
    pairs = _pairs(paths)
    results["rule"] = rule_record(pairs)
    results["machine"] = {"cpus": os.cpu_count(), "jobs": jobs,
                          "date": datetime.date.today().isoformat()}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(run_setting, _key(n, seed),
                               SETTINGS[n] + (["--seed", str(seed)] if seed else []), paths,
                               pairs, MODELS.get(n, MODEL), n in REVERSED, HINTS.get(n),
                               n in EDITS):
                   _key(n, seed) for n in names for seed in seeds}
        for future in concurrent.futures.as_completed(futures):
            name = futures[future]
            results["settings"][name] = future.result()
            save_json(RESULTS_JSON, results)
            record = results["settings"][name]
            print(f"{name}: validation {record['validation_accuracy']:.4f}, training "
                  f"verbs wrong {record['train_errors']} ({record['train_irregular_errors']} "
                  f"irregular), {record['train_seconds'] / 60:.1f} min", flush=True)


def section():
    """The markdown lines of the RESULTS.md section (empty without results)."""
    results = load_json(RESULTS_JSON, {"settings": {}})
    if not results["settings"]:
        return []
    rule = results["rule"]
    n_val, n_train = rule["validation_verbs"], rule["train_verbs"]
    lines = [
        "## `past_tense` settings, on validation only",
        "",
        f"`python scripts/past_tense_ablation.py run`: `{MODEL}` trained through the CLI on "
        f"the `past_tense` training TSV with one setting changed at a time from the defaults "
        f"before 2026-12-04 (\"plateau defaults\"; since then `train` gives a task this "
        f"small the \"cosine over 80 epochs\" budget by default, and since 2026-12-05 it "
        f"writes this task's targets right to left by default, the \"targets right to "
        f"left, cosine over 80 epochs\" row; the `copy_bilstm` rows "
        f"train that entry instead: the same model with See et al.'s copy switch; the "
        f"\"targets right to left\" rows train on TSVs whose targets are spelled backwards, "
        f"so that the past form's ending is generated first, and their outputs are turned "
        f"back before they are scored; the \"suffix-rule hint\" rows give each source what "
        f"the suffix rule makes of it, `uphold|upheld`, and the \"analogy exemplar\" rows "
        f"the training pair that the rule follows, `uphold|withhold>withheld` (Liu & "
        f"Hulden 2020), a training verb's hint computed from the other training verbs; the "
        f"\"edit-script targets\" row writes each target as the rule's edit, `3|eld`: strip "
        f"three letters, append `eld`, so that no stem is copied; the "
        f"`luong_monotonic_bilstm` and `luong_local_m_bilstm` rows train those entries, "
        f"whose attention only moves forward through the source: Raffel et al.'s "
        f"monotonic attention, Luong's local window at p_t = t; left to right, as "
        f"`--target-order auto` has trained them since 2026-12-05, and right to left, as it "
        f"chose for them before; the \"copy_bilstm with coverage\" rows add See et al.'s "
        f"coverage to `copy_bilstm`, `--model-option coverage=true`), and "
        f"scored on the {n_val} validation verbs only (the test split is never "
        f"read). One row per run (seed 0 unless it says otherwise), "
        f"{results['machine']['jobs']} runs side by side on the {results['machine']['cpus']}"
        f"-core CPU ({results['machine']['date']}). \"Training verbs wrong\": the chosen "
        f"model decoding the {n_train} verbs it trained on; irregular means a past form not "
        f"made by `-ed`/`-d`, `y -> ied` or a doubled final consonant "
        f"({rule['train_irregular_verbs']} training verbs).",
        "",
        "| setting | val. acc. | val. verbs wrong | training verbs wrong (irregular) | "
        "epochs (best) | train min |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| suffix rule (`keras-s2s baseline`) | {100 * rule['validation_accuracy']:.1f} | "
        f"{len(rule['validation_errors'])} | {rule['train_errors']} "
        f"({rule['train_irregular_errors']}) | | |",
    ]
    groups = {}  # setting -> its runs' validation errors, in SETTINGS order
    for name in SETTINGS:
        for key, r in _runs_of(results["settings"], name):
            groups.setdefault(name, []).append(len(r["validation_errors"]))
            lines.append(
                f"| {key} | {100 * r['validation_accuracy']:.1f} | "
                f"{len(r['validation_errors'])} | {r['train_errors']} "
                f"({r['train_irregular_errors']}) | {r['epochs_run']} ({r['best_epoch']}) | "
                f"{r['train_seconds'] / 60:.1f} |")
    defaults = results["settings"].get("plateau defaults")
    if defaults is not None:
        examples = ", ".join(f"{s} -> {o}" for s, _, o in
                             defaults["train_irregular_examples"][:6])
        lines += [
            "",
            f"With the plateau defaults, `train` chose epoch {defaults['best_epoch']} (on "
            f"validation exact match), and that model mis-spells {defaults['train_errors']} "
            f"of the verbs it trained on, {defaults['train_irregular_errors']} of them irregular "
            f"({examples}): it still regularises. The rule keeps each ending's most frequent "
            f"rewrite (`-stand -> -stood`), which also carries over to prefixed irregular "
            f"verbs (`misunderstand`, `retell`, `undersell` among the validation verbs).",
        ]
    rule_errors = len(rule["validation_errors"])
    best = min(groups, key=lambda n: sum(groups[n]) / len(groups[n]))
    errors = groups[best]
    mean = sum(errors) / len(errors)
    if mean < rule_errors:
        verdict = f"{rule_errors - mean:.1f} verb(s) fewer than the rule's {rule_errors}"
    elif mean > rule_errors:
        verdict = f"{mean - rule_errors:.1f} verb(s) more than the rule's {rule_errors}"
    else:
        verdict = "as many as the rule"
    spread = max(max(e) - min(e) for e in groups.values())
    means = [sum(e) / len(e) for e in groups.values()]
    if len(errors) == 1:
        noise = " One seed: another could move it by a verb or two."
    elif spread:
        noise = (f" The seeds of one setting differ by up to {spread} verbs; the settings' "
                 f"means span {max(means) - min(means):.1f}.")
    else:
        noise = ""
    lines += [
        "",
        f"The best setting on average, \"{best}\", gets {mean:.1f} validation verbs wrong "
        f"over {len(errors)} seed(s) ({', '.join(map(str, errors))}): {verdict}. "
        f"{_paired_with_rule(results, best)}The "
        f"own-data table above has the test split's result for today's defaults.{noise}",
    ]
    lines += _aligned_paragraph(results)
    import past_tense_folds  # its own results file; imported here, since it imports this

    lines += past_tense_folds.paragraph() + [""]
    return lines


def _aligned_paragraph(results):
    """What the entries whose attention reads the source in order did in both target orders
    (the `ALIGNED` rows), or nothing before they ran."""
    settings = results["settings"]
    models = sorted(set(ALIGNED.values()))
    wrong = {}
    for name, model in ALIGNED.items():
        if name in settings:
            order = "right to left" if name in REVERSED else "left to right"
            wrong[model, order] = len(settings[name]["validation_errors"])
    if len(wrong) < 2 * len(models):
        return []
    plain = [len(r["validation_errors"]) for _, r in
             _runs_of(settings, "targets right to left, cosine over 80 epochs")]
    parts = "; ".join(f"`{m}` {wrong[m, 'left to right']} left to right, "
                      f"{wrong[m, 'right to left']} right to left" for m in models)
    return ["", (
        f"Attention that only moves forward through the source is no lever here, and it must "
        f"not be written backwards: validation verbs wrong, {parts} (seed 0), against "
        f"{', '.join(map(str, plain))} for `{MODEL}` right to left. Right to left, the "
        f"target's first letters align with the source's last, which a forward-only "
        f"alignment cannot follow; since 2026-12-05 `--target-order auto` keeps such an "
        f"entry left to right (`keras_s2s.training.defaults.reads_source_in_order`).")]


def paired_with_rule(record, rule):
    """`(model alone right, rule alone right, McNemar's exact p)` on the validation verbs,
    from the two records' lists of wrong verbs."""
    from keras_s2s.significance import mcnemar_exact_p

    model_wrong = {e[0] for e in record["validation_errors"]}
    rule_wrong = {e[0] for e in rule["validation_errors"]}
    model_only, rule_only = len(rule_wrong - model_wrong), len(model_wrong - rule_wrong)
    return model_only, rule_only, mcnemar_exact_p(model_only, rule_only)


def _paired_with_rule(results, name):
    """The sentence on `name`'s runs against the rule, verb by verb."""
    from keras_s2s.significance import p_phrase

    parts = []
    for key, record in _runs_of(results["settings"], name):
        model_only, rule_only, p = paired_with_rule(record, results["rule"])
        parts.append(f"{key.rpartition(', ')[2] if key != name else 'seed 0'}: "
                     f"{model_only} against {rule_only} (p {p_phrase(p)})")
    return ("Verb by verb against the rule (validation verbs only the model gets right "
            "against those only the rule gets right, McNemar's exact test, "
            f"`keras_s2s.significance`): {'; '.join(parts)}. ")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run")
    p.add_argument("settings", nargs="*", help=f"of {list(SETTINGS)} (default: all)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--seeds", type=int, nargs="+", default=[0],
                   help="train each setting once per seed (default: 0)")
    sub.add_parser("render")
    args = parser.parse_args(argv)
    if args.command == "run":
        unknown = [n for n in args.settings if n not in SETTINGS]
        if unknown:
            parser.error(f"unknown setting {unknown[0]!r}; choose from {list(SETTINGS)}")
        run(args.settings or list(SETTINGS), args.jobs, args.seeds)
    print("\n".join(section()))


if __name__ == "__main__":
    main()
