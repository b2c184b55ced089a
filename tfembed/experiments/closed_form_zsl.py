"""Closed-form baselines under the GBU protocol: hyper-parameters chosen on train -> val,
refit on trainval, evaluated on the test splits with the same evaluator as DEM
(tfembed.evaluators.gbu). The fits stay closed-form NumPy (tfembed.baselines); the scoring
goes through tfembed.scorers, in the space each baseline searches its nearest neighbours in."""

import itertools

import numpy as np

from tfembed import progress, scorers
from tfembed.baselines import BASELINES
from tfembed.evaluators import gbu

# The space of a baseline (`cls.space`) -> its scorer: ridge visual -> semantic compares by
# cosine, DEM's linear ablation by Euclidean distance in the visual space, ESZSL x^T V s.
SPACE_SCORERS = {"semantic": "cosine", "visual": "neg_sq_distance", "bilinear": "dot"}


def embed(model, features, semantics):
    """(image embeddings [N, d], class embeddings [C, d], scorer) of a fitted baseline."""
    x, s = np.asarray(features, np.float64), np.asarray(semantics, np.float64)
    if model.space == "semantic":  # VisualToSemanticRegression
        return x @ model.w, s, scorers.get(SPACE_SCORERS["semantic"])
    if model.space == "visual":  # SemanticToVisualRegression: mapped class prototypes
        return x, model.prototypes(s), scorers.get(SPACE_SCORERS["visual"])
    return x @ model.v, s, scorers.get(SPACE_SCORERS[model.space])  # ESZSL


def score_fn(model, features, semantics):
    """score_fn(rows, classes) of the GBU evaluator for a fitted baseline."""
    def scores(rows, classes):
        images, prototypes, scorer = embed(model, features[rows], semantics[classes])
        return np.asarray(scorer(images, prototypes))
    return scores


def select(cls, features, labels, semantics, train_rows, val_rows):
    """Best grid point by val per-class top-1 -> (params, val accuracy, all trials)."""
    names = sorted(cls.grid)
    grid = list(itertools.product(*(cls.grid[n] for n in names)))
    trials = []
    with progress.stage(f"grid search {cls.__name__}", total=len(grid), unit="points") as bar:
        for values in grid:
            params = dict(zip(names, values))
            model = cls(**params).fit(features[train_rows], labels[train_rows], semantics)
            acc = gbu.class_top1(score_fn(model, features, semantics), labels, val_rows)
            trials.append((acc, params))
            bar.update()
    acc, params = max(trials, key=lambda t: t[0])
    return params, acc, [{"val_zsl_top1_per_class": a, **p} for a, p in trials]


def run_baseline(name, features, labels, semantics, splits, seen, unseen, seed=0):
    """-> (metrics, chance, notes) of one baseline."""
    cls = BASELINES[name]
    params, val_acc, _ = select(cls, features, labels, semantics, splits["train"], splits["val"])
    model = cls(**params).fit(features[splits["trainval"]], labels[splits["trainval"]], semantics)
    metrics, chance = gbu.gbu_metrics(score_fn(model, features, semantics), labels, splits,
                                      np.asarray(seen), np.asarray(unseen), seed=seed)
    notes = [f"{name}: {params} chosen on train->val (val per-class top-1 {val_acc:.4f}); "
             f"nearest neighbours searched in the {cls.space} space"]
    return metrics, chance, notes
