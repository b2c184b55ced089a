"""`tfembed export RUN_DIR`: export a finished run from its config.json and checkpoints."""

import importlib
import json
import os

from tfembed.errors import ConfigError


def export_run(run_dir, version=None):
    """Rebuild the run's model, restore its latest checkpoint and publish a new version."""
    path = os.path.join(run_dir, "config.json")
    if not os.path.exists(path):
        raise ConfigError(f"{path} not found: not a tfembed run directory")
    with open(path) as f:
        saved = json.load(f)
    experiment = importlib.import_module(saved["experiment"])
    if not hasattr(experiment, "export_run"):
        raise ConfigError(f"runs of {saved['experiment']} cannot be re-exported yet; "
                          f"use the recipe's --export flag")
    import tensorflow as tf
    out = experiment.export_run(saved["config"], run_dir, tf.distribute.get_strategy(), version)
    return {"export": out}
