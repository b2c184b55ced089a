"""Hyper-parameter search for every recipe with keras-tuner (`--tune`, `--retrain-best`).

A recipe declares `search_space(hp, cfg) -> {dotted config key: value}` and optionally
`TUNE_OBJECTIVE` (default: train.select_metric) and `validation_config(cfg)`; the shared
`RecipeHyperModel` and `RecipeTuner` do the rest.
"""

from tfembed.tuning.hypermodel import HYPERBAND_MAX_EPOCHS, RecipeHyperModel
from tfembed.tuning.search import retrain_best, tune
from tfembed.tuning.tuner import ALGORITHMS, RecipeTuner

__all__ = ["ALGORITHMS", "HYPERBAND_MAX_EPOCHS", "RecipeHyperModel", "RecipeTuner",
           "retrain_best", "tune"]
