"""What a search leaves in the workdir: best_hyperparameters.json and trials.csv."""

import csv
import json
import os

from tfembed.errors import ConfigError

BEST_FILE, TRIALS_FILE = "best_hyperparameters.json", "trials.csv"


def write_trials_csv(oracle, path):
    """One row per trial: id, status, objective value, then every hyper-parameter."""
    trials = [oracle.trials[t] for t in sorted(oracle.trials, key=int)]
    names = sorted({k for t in trials for k in t.hyperparameters.values})
    objective = oracle.objective.name
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["trial_id", "status", objective] + names)
        for t in trials:
            score = "" if t.score is None else t.score
            writer.writerow([t.trial_id, t.status, score]
                            + [t.hyperparameters.values.get(n, "") for n in names])


def write_best(tuner, workdir):
    """best_hyperparameters.json: the best trial, its values and its config overrides."""
    best = tuner.oracle.get_best_trials(1)
    if not best or best[0].score is None:
        raise ConfigError(f"tuning: no trial under {workdir} finished with a score")
    trial, objective = best[0], tuner.oracle.objective
    record = {"recipe": tuner.hypermodel.name, "objective": objective.name,
              "direction": objective.direction, "value": trial.score,
              "trial_id": trial.trial_id, "trial_dir": tuner.trial_dir(trial.trial_id),
              "metrics": {k: trial.metrics.get_last_value(k) for k in trial.metrics.metrics},
              "hyperparameters": dict(trial.hyperparameters.values),
              "overrides": tuner.hypermodel.overrides(trial.hyperparameters)}
    with open(os.path.join(workdir, BEST_FILE), "w") as f:
        json.dump(record, f, indent=2, default=str)
    return record


def read_best(workdir):
    path = os.path.join(workdir, BEST_FILE)
    if not os.path.exists(path):
        raise ConfigError(f"--retrain-best: {path} does not exist; run --tune first")
    with open(path) as f:
        return json.load(f)
