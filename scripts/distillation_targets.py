"""How much a distilled recipe's teachers say beyond the training labels: their averaged
distributions over the training words' target positions, as `keras-s2s train --teacher` reads
them (`keras_s2s.training.distillation.teacher_targets`), against the true phonemes.

    python scripts/distillation_targets.py location_bilstm_256_distilled
        # writes zoo/results/distillation_targets.json (one entry per recipe)

Token-level distillation can only teach what the soft targets hold beyond the labels: when
the teachers put nearly all their mass on the true token of words they were trained on, the
student hears the labels again (Sun et al. 2019 distil on unlabelled words too).
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from results_io import load_json, save_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_JSON = os.path.join(ROOT, "zoo", "results", "distillation_targets.json")


def measure(stem, folder="g2p_standard"):
    from keras_s2s.constants import EOS_ID
    from keras_s2s.data import load_task
    from keras_s2s.training import distillation
    from keras_s2s.training.recipes import load_recipe

    recipe = load_recipe(os.path.join(ROOT, "zoo", "recipes", folder, f"{stem}.toml"))
    training = recipe["training"]
    if not training.get("teachers"):
        raise SystemExit(f"distillation_targets: error: recipe {stem} names no teachers")
    task = load_task(recipe["task"], **recipe["task_options"])
    os.chdir(ROOT)  # the recipe's teachers are paths from the repository's root
    begin = time.perf_counter()
    teachers = distillation.load_teachers(training["teachers"], task)
    targets = distillation.teacher_targets(teachers, task, "train",
                                           top_k=training.get("teacher_top_k", 8))
    _, pairs, _ = task.encode_pairs("train")
    true = np.concatenate([t + [EOS_ID] for t in pairs])  # (positions,)
    rows = np.concatenate(targets.rows)
    ids, probs = targets.ids[rows], targets.probs[rows]
    on_true = (probs * (ids == true[:, None])).sum(-1)
    right = ids[:, 0] == true
    ends = np.cumsum([len(t) + 1 for t in pairs])
    words_right = np.logical_and.reduceat(right, np.concatenate([[0], ends[:-1]]))
    return {"recipe": f"zoo/recipes/{folder}/{stem}.toml", "teachers": training["teachers"],
            "top_k": targets.top_k, "pairs": len(pairs), "positions": int(len(true)),
            "mean_probability_on_true": float(on_true.mean()),
            "positions_true_on_top": float(right.mean()),
            "positions_over_0.9_on_true": float((on_true > 0.9).mean()),
            "pairs_true_on_top_everywhere": float(words_right.mean()),
            "seconds": round(time.perf_counter() - begin, 1),
            "date": time.strftime("%Y-%m-%d")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stem", help="a recipe of zoo/recipes/g2p_standard with teachers")
    args = parser.parse_args(argv)
    result = measure(args.stem)
    results = load_json(RESULTS_JSON, {})
    results[args.stem] = result
    save_json(RESULTS_JSON, results)
    for key in ("mean_probability_on_true", "positions_true_on_top",
                "positions_over_0.9_on_true", "pairs_true_on_top_everywhere"):
        print(f"{key}: {100 * result[key]:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
