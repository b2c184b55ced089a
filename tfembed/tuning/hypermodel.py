"""`RecipeHyperModel`: the one keras_tuner.HyperModel every recipe shares.

`build(hp)` turns the recipe's declared search space (`search_space(hp, cfg) -> {dotted key:
value}`) into the trial's config; `fit(hp, cfg, ...)` runs the recipe's own experiment on it and
returns its validation metrics. The Keras model itself is built inside the experiment, which
also needs the data and the distribution strategy.

Hyperband budgets: `tuner/epochs` (1..max_epochs) becomes train.steps = epochs x
steps_per_epoch, with steps_per_epoch = ceil(recipe steps / max_epochs), so the largest
Hyperband budget is the recipe's own training length.
"""

import math
import numbers

import keras_tuner

from tfembed.config import apply_overrides
from tfembed.errors import ConfigError

HYPERBAND_MAX_EPOCHS = 9


class RecipeHyperModel(keras_tuner.HyperModel):
    def __init__(self, base_cfg, val_cfg, search_space, run):
        super().__init__(name=base_cfg.get("recipe", "recipe"))
        self.base_cfg, self.val_cfg = base_cfg, val_cfg
        self.search_space, self.run = search_space, run
        self.steps_per_epoch = math.ceil(base_cfg["train"]["steps"] / HYPERBAND_MAX_EPOCHS)

    def overrides(self, hp):
        """Dotted config overrides of the search space for `hp` (without Hyperband's keys)."""
        out = dict(self.search_space(hp, self.base_cfg))
        bad = [k for k in out if not isinstance(k, str) or "." not in k]
        if bad:
            raise ConfigError(f"search_space of {self.name}: keys must be dotted config paths, "
                              f"got {bad}")
        return out

    def build(self, hp, cfg=None):
        """The trial config: `cfg` (default: the validation config) + the overrides."""
        cfg = apply_overrides(self.val_cfg if cfg is None else cfg, self.overrides(hp))
        if "tuner/epochs" in hp.values:
            cfg["train"]["steps"] = int(hp.values["tuner/epochs"]) * self.steps_per_epoch
        return cfg

    def fit(self, hp, cfg, trial_dir=None, strategy=None, **kwargs):
        """Run the experiment on the validation protocol; numeric metrics of its results."""
        results = self.run(cfg, trial_dir, strategy, export=False)
        metrics = results.get("metrics") if isinstance(results, dict) else None
        if not metrics:
            raise ConfigError(f"{self.name}: run() returned no 'metrics' to tune on")
        return {k: float(v) for k, v in metrics.items()
                if isinstance(v, numbers.Number) and not isinstance(v, bool)}
