"""Closed-form baselines under the GBU protocol: hyper-parameters chosen on train -> val,
refit on trainval, evaluated on the test splits with the same metrics as the trained models."""

import itertools

import numpy as np

from tfembed.baselines import BASELINES
from tfembed.experiments.gbu_eval import class_top1, gbu_metrics


def select(cls, features, labels, semantics, train_rows, val_rows):
    """Best grid point by val per-class top-1 -> (params, val accuracy, all trials)."""
    names = sorted(cls.grid)
    trials = []
    for values in itertools.product(*(cls.grid[n] for n in names)):
        params = dict(zip(names, values))
        model = cls(**params).fit(features[train_rows], labels[train_rows], semantics)
        acc = class_top1(lambda r, c: model.scores(features[r], semantics[c]), labels, val_rows)
        trials.append((acc, params))
    acc, params = max(trials, key=lambda t: t[0])
    return params, acc, [{"val_zsl_top1_per_class": a, **p} for a, p in trials]


def run_baseline(name, features, labels, semantics, splits, seen, unseen, seed=0):
    """-> (metrics, chance, notes) of one baseline."""
    cls = BASELINES[name]
    params, val_acc, _ = select(cls, features, labels, semantics, splits["train"], splits["val"])
    model = cls(**params).fit(features[splits["trainval"]], labels[splits["trainval"]], semantics)
    metrics, chance = gbu_metrics(lambda r, c: model.scores(features[r], semantics[c]),
                                  labels, splits, np.asarray(seen), np.asarray(unseen), seed=seed)
    notes = [f"{name}: {params} chosen on train->val (val per-class top-1 {val_acc:.4f}); "
             f"nearest neighbours searched in the {cls.space} space"]
    return metrics, chance, notes
