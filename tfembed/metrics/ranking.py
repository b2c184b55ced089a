"""Semantic-retrieval ranking metrics (Gordo & Larlus, CVPR 2017, section 6 and Table 2).

``pred[q, n]`` is the model similarity of query ``q`` to database item ``n``;
``true_rel[q, n] >= 0`` the ground-truth relevance (tf-idf similarity of the
captions).  Items are ranked by ``pred`` with ties broken by item index
ascending (stable sort of ``-pred``), as everywhere in ``tfembed.metrics``.

With ``exclude_self=True`` and a square matrix (queries = database, the
leave-one-out setting) the query's own item is removed from its ranking and
from its ideal ranking.  Queries whose metric is undefined (see each
function) are skipped; the mean over no query is ``nan``.

How the paper's Table 2 numbers are read (what these functions reproduce):

* NDCG@R and PCC@R are the plain metrics of Fig. 2 (left, centre): "NDCG and
  PCC achieved by the different models as a function of the number of
  retrieved images R, where the ground truth is determined by the tf-idf
  similarity".  Nothing is subtracted: Table 2's text-oracle row (the tf-idf
  similarity ranking itself) scores NDCG AUC = PCC AUC = 100, i.e. 1 at every
  R, and its random row is 10.2 / -0.2, not 0 / 0: a chance-corrected
  ``(m - random) / (1 - random)`` would put random at 0, so the plain ratio to
  the ideal DCG is what the table reports.  Random NDCG is then about
  ``E[rel of an unrelated image] / E[rel of the best images]`` of the data
  (see :func:`ndcg_at_r`), random PCC is 0.
* The x axis of Fig. 2 is R from 1 to 1,000 on a log scale; the "AUC of the
  NDCG and PCC curves" (Table 2 caption) is the area under those curves as
  plotted, divided by the width of the axis, so a curve equal to 1 everywhere
  has AUC 1 (Table 2 prints x 100).  See :func:`r_axis` and
  :func:`area_under_curve`.
"""

import numpy as np

#: Fig. 2 of the paper plots R = 1 .. 1,000.
PAPER_R_MAX = 1000


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
    """Mean NDCG@R (Gordo & Larlus 2017, Fig. 2 left; Jarvelin & Kekalainen 2002, with
    the usual log2(i + 1) discount and the relevance itself as the gain).

    For a query, with ``g_i`` the ground-truth relevance (tf-idf similarity, used
    as the gain as is) of the item ranked ``i``-th by ``pred``::

        DCG@R  = sum_{i=1..R} g_i / log2(i + 1)
        NDCG@R = DCG@R / IDCG@R

    ``IDCG@R`` is the DCG@R of the ideal ranking: the R most relevant items of
    the whole database (not of the retrieved R), so NDCG@R = 1 for the tf-idf
    oracle at every R (Table 2, text oracle: 100) and nothing is subtracted.
    For a uniformly random ranking the expectation is exact per query,
    ``E[NDCG@R] = mean(g) * sum_{i<=R} 1/log2(i+1) / IDCG@R``, about the mean
    relevance over the relevance of the best items: a property of the data
    (Table 2's random row, 10.2, is this on Visual Genome), not of a method.
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
    """Mean PCC@R (Gordo & Larlus 2017, Fig. 2 centre): the Pearson correlation
    between ``pred`` and ``true_rel`` over each query's top-R items by ``pred``,
    averaged over queries.

    The tf-idf oracle (pred = true_rel) scores 1 (Table 2: 100); a random
    ranking 0 in expectation (Table 2: -0.2 +- 0.7 on the x100 scale).  A query
    is skipped when ``pred`` or ``true_rel`` has zero variance over its top-R
    items (correlation undefined; this includes ``R == 1``).
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


def r_axis(n_database, r_max=PAPER_R_MAX, points=20):
    """The R values of the NDCG@R / PCC@R curves: Fig. 2's axis, R = 1 .. ``r_max``
    (1,000 in the paper), log-spaced integers, capped at ``n_database - 1`` so a
    small test set never ranks its whole database (where every ranking has the
    same PCC and an NDCG near 1: the old R = N - 1 end made random score high).

    ``n_database`` is the number of items each query ranks (N - 1 for a
    leave-one-out test set of N images).  Needs ``n_database >= 2``.
    """
    top = min(int(r_max), int(n_database) - 1)
    if top < 1:
        raise ValueError(f"need at least 2 database items for an R axis, got {n_database}")
    return np.unique(np.round(np.geomspace(1, top, points)).astype(np.int64))


def area_under_curve(rs, values, log_axis=True):
    """Area under ``values(rs)`` divided by the axis width: the mean height of the
    curve, so a metric equal to 1 at every R gives 1.0 (Table 2's x100 scale
    gives 100).

    ``log_axis=True`` (``ndcg_auc``, ``pcc_auc``): trapezoids over ``log R``, the
    axis Fig. 2 plots the curves on (R = 1 .. 1,000 log-scale), i.e.
    ``sum_k (v_k + v_{k+1}) / 2 * log(R_{k+1} / R_k) / log(R_last / R_first)``;
    each decade of R weighs the same, so the top of the ranking is not drowned
    by the large-R end.  ``log_axis=False``: trapezoids over R itself.
    ``rs`` must be strictly increasing (and positive on the log axis); a single
    point returns its value; any nan value gives nan.
    """
    rs, values = np.asarray(rs, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if rs.ndim != 1 or rs.shape != values.shape or rs.size == 0:
        raise ValueError("rs and values must be equal-length non-empty 1-D")
    if rs.size == 1:
        return float(values[0])
    if np.any(np.diff(rs) <= 0):
        raise ValueError("rs must be strictly increasing")
    if log_axis:
        if rs[0] <= 0:
            raise ValueError("rs must be positive on a log axis")
        rs = np.log(rs)
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
