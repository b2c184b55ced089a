"""Semantic-retrieval ranking metrics (Gordo & Larlus 2017).

``pred[q, n]`` is the model similarity of query ``q`` to database item ``n``;
``true_rel[q, n] >= 0`` the ground-truth relevance (tf-idf similarity of the
captions).  Items are ranked by ``pred`` with ties broken by item index
ascending (stable sort of ``-pred``), as everywhere in ``tfembed.metrics``.

With ``exclude_self=True`` and a square matrix (queries = database, the
leave-one-out setting) the query's own item is removed from its ranking and
from its ideal ranking.  Queries whose metric is undefined (see each
function) are skipped; the mean over no query is ``nan``.
"""

import numpy as np


def _prepare(pred, true_rel, exclude_self):
    pred, true_rel = np.asarray(pred), np.asarray(true_rel, dtype=np.float64)
    if pred.ndim != 2 or pred.shape != true_rel.shape:
        raise ValueError(f"pred {pred.shape} / true_rel {true_rel.shape} must be equal 2-D")
    q, n = pred.shape
    if exclude_self and q == n:
        keep = ~np.eye(n, dtype=bool)  # row-major: keeps the other items in index order
        pred, true_rel = pred[keep].reshape(q, n - 1), true_rel[keep].reshape(q, n - 1)
    return pred, true_rel


def _nanmean(values):
    values = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


def ndcg_at_r(pred, true_rel, r, exclude_self=True):
    """Mean NDCG@R.

    ``DCG@R = sum_{i<=R} true_rel_i / log2(i + 1)`` over the top-R items by
    ``pred``, divided by the ideal DCG@R (top-R of ``true_rel`` itself).
    ``R`` larger than the number of items is clamped.  A query whose ideal
    DCG is 0 (no relevant item) is skipped.
    """
    pred, true_rel = _prepare(pred, true_rel, exclude_self)
    if r < 1:
        raise ValueError("r must be >= 1")
    order = np.argsort(-pred, axis=1, kind="stable")[:, :r]
    gains = np.take_along_axis(true_rel, order, axis=1)
    ideal = -np.sort(-true_rel, axis=1)[:, :r]
    disc = 1.0 / np.log2(np.arange(2, gains.shape[1] + 2))
    dcg, idcg = gains @ disc, ideal @ disc
    with np.errstate(invalid="ignore", divide="ignore"):
        return _nanmean(np.where(idcg > 0, dcg / idcg, np.nan))


def pcc_at_r(pred, true_rel, r, exclude_self=True):
    """Mean Pearson correlation between ``pred`` and ``true_rel`` over each
    query's top-R items by ``pred``.

    A query is skipped when ``pred`` or ``true_rel`` has zero variance over its
    top-R items (correlation undefined; this includes ``R == 1``).
    """
    pred, true_rel = _prepare(pred, true_rel, exclude_self)
    if r < 1:
        raise ValueError("r must be >= 1")
    order = np.argsort(-pred, axis=1, kind="stable")[:, :r]
    x = np.take_along_axis(pred, order, axis=1).astype(np.float64)
    y = np.take_along_axis(true_rel, order, axis=1)
    # Exact constancy test (max == min), not a float tolerance on the variance.
    ok = (np.ptp(x, axis=1) > 0) & (np.ptp(y, axis=1) > 0)
    x -= x.mean(axis=1, keepdims=True)
    y -= y.mean(axis=1, keepdims=True)
    sxx, syy = (x * x).sum(axis=1), (y * y).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (x * y).sum(axis=1) / np.sqrt(sxx * syy)
    return _nanmean(np.where(ok, np.clip(rho, -1.0, 1.0), np.nan))


def curve(metric_fn, pred, true_rel, rs, **kwargs):
    """``[metric_fn(pred, true_rel, r, **kwargs) for r in rs]`` as floats."""
    return [float(metric_fn(pred, true_rel, int(r), **kwargs)) for r in rs]


def area_under_curve(rs, values):
    """Trapezoid area under ``values(rs)`` divided by ``rs[-1] - rs[0]``, i.e. the
    mean height of the curve, so a metric equal to 1 at every R gives 1.0
    (``ndcg_auc``, ``pcc_auc``).  ``rs`` must be strictly increasing; a single
    point returns its value; any nan value gives nan.
    """
    rs, values = np.asarray(rs, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if rs.ndim != 1 or rs.shape != values.shape or rs.size == 0:
        raise ValueError("rs and values must be equal-length non-empty 1-D")
    if rs.size == 1:
        return float(values[0])
    if np.any(np.diff(rs) <= 0):
        raise ValueError("rs must be strictly increasing")
    area = np.sum((values[1:] + values[:-1]) * np.diff(rs)) / 2.0
    return float(area / (rs[-1] - rs[0]))


def triplet_agreement(pred, triplets, human_choice):
    """Fraction of triplets ``(q, a, b)`` where the model agrees with humans.

    The model picks ``a`` (0) if ``pred[q, a] > pred[q, b]``, ``b`` (1) if
    smaller; a tie counts 0.5 (the expected agreement of a coin flip), so a
    constant model scores exactly 0.5.
    """
    pred = np.asarray(pred)
    triplets = np.asarray(triplets, dtype=np.int64).reshape(-1, 3)
    choice = np.asarray(human_choice).reshape(-1)
    if choice.shape[0] != triplets.shape[0] or not np.all((choice == 0) | (choice == 1)):
        raise ValueError("human_choice must be 0/1 with one entry per triplet")
    if triplets.shape[0] == 0:
        return float("nan")
    q, a, b = triplets.T
    sa, sb = pred[q, a], pred[q, b]
    agree = np.where(sa == sb, 0.5, ((sb > sa).astype(np.int64) == choice).astype(float))
    return float(np.mean(agree))
