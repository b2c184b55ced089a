"""GBU zero-shot evaluation (Xian et al. 2018, "Zero-Shot Learning - The Good, the Bad and the
Ugly", Sec. 4.2 / Eq. 7-8) of any scorer, plus hubness (Zhang et al. 2017, Sec. 4.3).

`score_fn(rows, classes)` returns scores [len(rows), len(classes)] (higher = better).
ZSL: test_unseen images against the unseen classes, per-class averaged top-1. GZSL: test_seen
and test_unseen images against all classes (gzsl_u / gzsl_s / gzsl_h = harmonic mean).
Hubness: skewness of the N1 distribution of the unseen class prototypes, the test images being
the queries. `evaluate` builds `score_fn` from an embedding model (anything with `score`).
"""

import numpy as np

from tfembed import metrics, progress
from tfembed.errors import ConfigError

# A recipe's data.splits key -> the GBU role it plays (xlsa17's split names, Xian et al. 2018):
# train = the classes the final model is fitted on, val_train / val = the class-disjoint pair
# used for model selection, test = unseen test images, test_seen = GZSL's seen test images.
GBU_ROLES = {"train": "trainval", "val_train": "train", "val": "val", "test": "test_unseen",
             "test_seen": "test_seen"}


def gbu_roles(dataset, splits, need=("trainval", "test_unseen")):
    """{GBU role: rows} from data.splits (a split set to None plays no role: e.g. no GZSL in
    the tuning protocol); a needed role naming a split the data set lacks is a ConfigError."""
    names = {GBU_ROLES[k]: v for k, v in splits.items() if k in GBU_ROLES and v is not None}
    missing = [f"data.splits.{k}={names.get(role)!r}" for k, role in GBU_ROLES.items()
               if role in need and names.get(role) not in dataset.splits]
    if missing:
        raise ConfigError(f"{dataset.name} lacks {', '.join(missing)} (its splits: "
                          f"{', '.join(sorted(dataset.splits))}); the GBU protocol needs "
                          f"{', '.join(need)}")
    return {role: dataset.splits[n] for role, n in names.items() if n in dataset.splits}


def class_top1(score_fn, labels, rows):
    """Per-class top-1 of `rows` among the classes present in `rows` (val or test)."""
    classes = np.unique(labels[rows])
    return metrics.top1_per_class(score_fn(rows, classes), np.searchsorted(classes, labels[rows]))


def random_hubness(shape, seed=0):
    """N1 skewness of uniformly random scores: the chance level of the hubness metric."""
    return metrics.n_k_skewness(np.random.default_rng(seed).random(shape), 1)


def gbu_metrics(score_fn, labels, splits, seen, unseen, suffix="", seed=0):
    """ZSL, GZSL and hubness metrics (keys carry `suffix`) and their chance levels.

    splits: {"test_unseen": rows, optional "test_seen": rows (no GZSL without it)}."""
    with progress.stage(f"evaluate GBU{suffix} ({len(unseen)} unseen classes)"):
        return _gbu_metrics(score_fn, labels, splits, seen, unseen, suffix, seed)


def _gbu_metrics(score_fn, labels, splits, seen, unseen, suffix, seed):
    u_rows = splits["test_unseen"]
    scores = score_fn(u_rows, unseen)
    out = {"zsl_top1_per_class": metrics.top1_per_class(
               scores, np.searchsorted(unseen, labels[u_rows])),
           "hubness_n1_skewness": metrics.n_k_skewness(scores, 1)}
    chance = {"zsl_top1_per_class": metrics.chance_top1(len(unseen)),
              "hubness_n1_skewness": random_hubness(scores.shape, seed)}
    s_rows = splits.get("test_seen")
    if s_rows is not None and len(s_rows):
        every = np.union1d(seen, unseen)
        rows = np.concatenate([s_rows, u_rows])
        gz = metrics.gzsl(score_fn(rows, every), np.searchsorted(every, labels[rows]),
                          np.searchsorted(every, seen), np.searchsorted(every, unseen),
                          np.arange(len(s_rows)), np.arange(len(s_rows), len(rows)))
        out.update(gz)
        chance.update({k: metrics.chance_top1(len(every)) for k in gz})
    return ({k + suffix: float(v) for k, v in out.items()},
            {k + suffix: float(v) for k, v in chance.items()})


def embedding_score_fn(score, image_embeddings, class_embeddings):
    """score_fn(rows, classes) over precomputed embeddings: image row r is
    image_embeddings[r], class c is class_embeddings[c]; `score` is a scorer (model.score)."""
    def score_fn(rows, classes):
        return np.asarray(score(image_embeddings[np.asarray(rows)],
                                class_embeddings[np.asarray(classes)]))
    return score_fn


def evaluate(model, image_embeddings, class_embeddings, labels, splits, seen, unseen, suffix="",
             seed=0, scorer=None):
    """`gbu_metrics` of an embedding model on embeddings: image_embeddings [N, D] indexed by
    row, class_embeddings [C, D] indexed by class id (the prototypes), scored by
    `scorer` (default `model.score`; e.g. tfembed.scorers.cosine for DEM's cosine variant)."""
    score = model.score if scorer is None else scorer
    return gbu_metrics(embedding_score_fn(score, image_embeddings, class_embeddings), labels,
                       splits, np.asarray(seen), np.asarray(unseen), suffix, seed)
