"""Reading and writing the results files of `zoo/results/` (shared by the results scripts).

Example:

    results = load_json(RESULTS_JSON, {"runs": {}})
    results["runs"]["name"] = record
    save_json(RESULTS_JSON, results)
"""

import json
import os


def load_json(path, empty=None):
    """The JSON file at `path`, or `empty` (a fresh copy of it) when there is none yet."""
    if not os.path.exists(path):
        return json.loads(json.dumps(empty))
    with open(path) as f:
        return json.load(f)


def save_json(path, data, indent=2, sort_keys=True):
    """Write `data` to `path` whole or not at all (a temporary file, then a rename)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    partial = f"{path}.partial"
    with open(partial, "w") as f:
        json.dump(data, f, indent=indent, sort_keys=sort_keys)
    os.replace(partial, path)
