"""How each exported scorer maps onto a vector index, and exact scores for re-ranking.

The exported `retrieve` ranks gallery items by the model's scorer (tfembed.scorers); an index
must rank by the same quantity or its answers are not the model's answers:
dot -> inner product; cosine -> inner product of unit vectors; neg_sq_distance -> L2.
"""

import numpy as np

from tfembed.errors import ConfigError

METRICS = ("dot", "cosine", "neg_sq_distance")


def check_metric(metric):
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; an index can reproduce the scorers "
                          f"{', '.join(METRICS)} (alignment scores such as Karpathy's S_kl are "
                          f"not a single-vector similarity: use the in-graph retrieve)")
    return metric


def prepare(vectors, metric):
    """float32, C-contiguous, unit length for cosine (so inner product == cosine)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ConfigError(f"expected a [N, D] matrix of embeddings, got shape {vectors.shape}")
    if not np.all(np.isfinite(vectors)):
        bad = int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])
        raise ConfigError(f"embedding row {bad} is not finite (NaN or inf)")
    if metric == "cosine":
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.maximum(norms, 1e-12)
    return vectors


def exact_scores(queries, candidates, metric):
    """queries [N, D] (prepared), candidates [N, C, D] (prepared) -> scores [N, C]."""
    if metric == "neg_sq_distance":
        return -np.sum(np.square(candidates - queries[:, None, :]), axis=-1)
    return np.einsum("nd,ncd->nc", queries, candidates)


def score_matrix(queries, gallery, metric):
    """queries [N, D], gallery [M, D] (both prepared) -> scores [N, M], in blocks of rows."""
    scores = queries @ gallery.T
    if metric == "neg_sq_distance":
        scores = 2.0 * scores - np.sum(queries ** 2, axis=1, keepdims=True) \
            - np.sum(gallery ** 2, axis=1)[None, :]
    return scores


def top_k(scores, k):
    """Row-wise top-k of a score matrix: (indices [N, k], scores [N, k]), best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(part_scores, order, axis=1)
