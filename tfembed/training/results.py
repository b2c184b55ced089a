"""results.json: recipe, data set, protocol, metrics with chance levels, timing, versions."""

import json
import os
import platform
import sys


def library_versions():
    versions = {"python": platform.python_version()}
    for name in ("tensorflow", "keras", "numpy", "tensorflow_text", "gensim", "keras_tuner"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = getattr(module, "__version__", "?")
    return versions


def write_results(workdir, recipe, dataset, protocol, metrics, chance, config, timing, notes=()):
    """Write `<workdir>/results.json` and return the dict."""
    results = {
        "recipe": recipe, "dataset": dataset, "protocol": protocol,
        "metrics": {k: round(float(v), 6) for k, v in metrics.items()},
        "chance": {k: round(float(v), 6) for k, v in chance.items()},
        "timing": timing, "config": config, "notes": list(notes),
        "versions": library_versions(),
        # The command line as given (relative paths are relative to `cwd`): REPRODUCTION.md.
        "command": list(sys.argv), "cwd": os.getcwd(),
    }
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=2, sort_keys=True, default=str)
    return results


def add_notes(workdir, notes):
    """Append `notes` to an existing `<workdir>/results.json` (e.g. the plots made after it)."""
    path = os.path.join(workdir, "results.json")
    with open(path) as f:
        results = json.load(f)
    results["notes"] = list(results.get("notes", [])) + list(notes)
    with open(path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True, default=str)
    return results

