"""`tfembed export RUN_DIR`: export a finished run from what it saved (tfembed.export.run_bundle:
the model, its text preprocessor and the baked-in arrays), without reloading the data set."""

import json
import os

from tfembed.errors import ConfigError
from tfembed.export import run_bundle


def export_run(run_dir, version=None):
    """Publish a new version of RUN_DIR's trained model under RUN_DIR/export/."""
    if not os.path.exists(os.path.join(run_dir, "config.json")):
        raise ConfigError(f"{os.path.join(run_dir, 'config.json')} not found: not a tfembed "
                          f"run directory")
    if not os.path.isdir(os.path.join(run_dir, run_bundle.DIRNAME)):
        with open(os.path.join(run_dir, "config.json")) as f:
            recipe = json.load(f)["config"].get("recipe", "the recipe")
        raise ConfigError(f"{run_dir} has no {run_bundle.DIRNAME}/ (written when a run "
                          f"finishes): finish the run first (rerun {recipe} with the same "
                          f"--workdir; it resumes), then export")
    return {"export": run_bundle.export_run(run_dir, version)}
