"""`--tune` and `--retrain-best` of the shared recipe command line."""

import os

import keras_tuner

from tfembed.errors import ConfigError
from tfembed.tuning import protocol, records
from tfembed.tuning.hypermodel import RecipeHyperModel
from tfembed.tuning.tuner import RecipeTuner, _TrialConfigError, make_oracle


def objective_of(recipe_module, cfg):
    """The recipe's TUNE_OBJECTIVE (a metric name, or (name, "min"|"max")), else its
    train.select_metric; maximised unless stated."""
    spec = getattr(recipe_module, "TUNE_OBJECTIVE", None) or cfg["train"].get("select_metric")
    if not spec:
        raise ConfigError(f"{cfg['recipe']}: no TUNE_OBJECTIVE and no train.select_metric")
    name, direction = (spec, "max") if isinstance(spec, str) else spec
    return keras_tuner.Objective(name, direction=direction)


def _hypermodel(recipe_module, cfg, run):
    search_space = getattr(recipe_module, "search_space", None)
    if search_space is None:
        raise ConfigError(f"{cfg['recipe']}: the recipe declares no search_space(hp, cfg)")
    return RecipeHyperModel(cfg, protocol.validation_config(cfg, recipe_module), search_space, run)


def tune(recipe_module, cfg, run, workdir, strategy, algorithm, max_trials):
    """Search (resuming any search already in <workdir>/tuner); writes the records and
    returns the best record."""
    if max_trials < 1:
        raise ConfigError(f"--max-trials must be >= 1, got {max_trials}")
    hypermodel = _hypermodel(recipe_module, cfg, run)
    protocol.check_disjoint(cfg, hypermodel.val_cfg)
    oracle = make_oracle(algorithm, objective_of(recipe_module, cfg), max_trials, cfg["seed"])
    os.makedirs(workdir, exist_ok=True)
    tuner = RecipeTuner(oracle, hypermodel, strategy, workdir, overwrite=False)
    try:
        tuner.search()
    except _TrialConfigError as err:
        raise err.__cause__ or ConfigError(str(err)) from None
    records.write_trials_csv(tuner.oracle, os.path.join(workdir, records.TRIALS_FILE))
    best = records.write_best(tuner, workdir)
    print(f"best trial {best['trial_id']}: {best['objective']} = {best['value']:.4f} "
          f"({best['hyperparameters']})")
    return best


def retrain_best(recipe_module, cfg, run, workdir, strategy, export=False):
    """Train the full recipe protocol (train split incl. val, test split) with the best
    hyper-parameters into <workdir>/best/; Hyperband's budget keys are dropped: the recipe's
    own train.steps is the retraining length."""
    best = records.read_best(workdir)
    hypermodel = _hypermodel(recipe_module, cfg, run)
    hp = keras_tuner.HyperParameters()
    hp.values.update({k: v for k, v in best["hyperparameters"].items()
                      if not k.startswith("tuner/")})
    full = hypermodel.build(_Fixed(hp), cfg)
    return run(full, os.path.join(workdir, "best"), strategy, export=export)


class _Fixed(keras_tuner.HyperParameters):
    """HyperParameters that answer every declaration with the recorded value."""

    def __init__(self, source):
        super().__init__()
        self.values.update(source.values)

    def _retrieve(self, hp):
        if hp.name not in self.values and not hp.conditions:
            raise ConfigError(f"--retrain-best: hyper-parameter {hp.name!r} is not in "
                              f"{records.BEST_FILE} (was the search space changed?)")
        return super()._retrieve(hp)
