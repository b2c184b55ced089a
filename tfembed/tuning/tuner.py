"""`RecipeTuner`: a keras_tuner.Tuner whose trials run a recipe's experiment (its own Trainer,
not `model.fit`) into <workdir>/trials/<trial_id>/ and report whole-split validation metrics."""

import os
import shutil

import keras
import keras_tuner

from tfembed.errors import ConfigError, TfembedError
from tfembed.tuning.hypermodel import HYPERBAND_MAX_EPOCHS

ALGORITHMS = ("random", "bayesian", "hyperband")


class _TrialConfigError(keras_tuner.errors.FatalError):
    """A TfembedError inside a trial: a bad config fails every trial, so stop the search."""


def make_oracle(algorithm, objective, max_trials, seed):
    if algorithm == "random":
        return keras_tuner.oracles.RandomSearchOracle(objective, max_trials=max_trials, seed=seed)
    if algorithm == "bayesian":
        return keras_tuner.oracles.BayesianOptimizationOracle(
            objective, max_trials=max_trials, num_initial_points=min(3, max_trials), seed=seed)
    if algorithm == "hyperband":
        oracle = keras_tuner.oracles.HyperbandOracle(
            objective, max_epochs=HYPERBAND_MAX_EPOCHS, factor=3, seed=seed)
        oracle.max_trials = max_trials  # Hyperband has no cap of its own; --max-trials still holds
        return oracle
    raise ConfigError(f"--tune: unknown algorithm {algorithm!r}; valid: {', '.join(ALGORITHMS)}")


class RecipeTuner(keras_tuner.Tuner):
    def __init__(self, oracle, hypermodel, strategy, workdir, **kwargs):
        self.workdir, self.strategy = workdir, strategy
        super().__init__(oracle, hypermodel, distribution_strategy=strategy,
                         directory=workdir, project_name="tuner", **kwargs)

    def trial_dir(self, trial_id):
        return os.path.join(self.workdir, "trials", str(trial_id))

    def run_trial(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        run_dir = self.trial_dir(trial.trial_id)
        try:
            cfg = self.hypermodel.build(hp)
            self._continue_from_parent(hp, run_dir)
            keras.backend.clear_session()
            keras.utils.set_random_seed(cfg["seed"])
            metrics = self.hypermodel.fit(hp, cfg, run_dir, self.strategy)
        except TfembedError as err:
            raise _TrialConfigError(str(err)) from err
        name = self.oracle.objective.name
        if name not in metrics:
            raise _TrialConfigError(str(ConfigError(
                f"tuning objective {name!r} is not a metric of the run; it reports "
                f"{', '.join(sorted(metrics))}")))
        return metrics

    def _continue_from_parent(self, hp, run_dir):
        """Hyperband's later rounds continue a parent trial: start from its checkpoints (the
        Trainer resumes from the latest one and trains on to the larger step budget)."""
        parent = hp.values.get("tuner/trial_id")
        source = os.path.join(self.trial_dir(parent), "checkpoints") if parent else None
        target = os.path.join(run_dir, "checkpoints")
        if source and os.path.isdir(source) and not os.path.exists(target):
            shutil.copytree(source, target)
