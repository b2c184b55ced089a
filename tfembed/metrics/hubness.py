"""Hubness metrics (Radovanović et al. 2010; used by Zhang et al. 2017 DEM).

``scores[q, n]``: similarity of query ``q`` (e.g. a test image) to item ``n``
(e.g. a class prototype).  The k nearest items of a query are its top-k by
score with ties broken by item index ascending, as everywhere in
``tfembed.metrics``, so every query contributes exactly ``k`` occurrences.
"""

import numpy as np
from scipy import stats


def k_occurrence(scores, k=1, chunk_size=1024):
    """``N_k[n]``: number of queries having item ``n`` among their top-k.

    Exact with ties and O(Q*N) (partition, not a full sort); processes
    ``chunk_size`` queries at a time to bound memory.
    """
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError("scores must be 2-D [Q, N]")
    q, n = scores.shape
    if not 1 <= k <= n:
        raise ValueError(f"k must lie in [1, {n}], got {k}")
    counts = np.zeros(n, dtype=np.int64)
    chunk_size = max(1, int(chunk_size))
    for i0 in range(0, q, chunk_size):
        block = scores[i0:i0 + chunk_size]
        kth = -np.partition(-block, k - 1, axis=1)[:, k - 1:k]  # k-th largest score
        above = block > kth
        tied = block == kth
        # Fill the remaining slots with the lowest-index items tied at the k-th score.
        need = k - above.sum(axis=1, keepdims=True)
        chosen = above | (tied & (np.cumsum(tied, axis=1) <= need))
        counts += chosen.sum(axis=0)
    return counts


def n_k_skewness(scores, k=1, bias=True):
    """Skewness of the ``N_k`` distribution over items (hubness measure).

    Zhang et al. 2017 (DEM), Sec. 4.3, after Radovanović et al. 2010:
    ``S_{N_k} = (sum_{i=1..l} (N_k(i) - E[N_k])^3 / l) / Var[N_k]^{3/2}`` over the
    ``l`` items -- the plain (population) skewness, ``scipy.stats.skew(N_k,
    bias=True)``, the default here.  ``bias=False`` gives the adjusted
    Fisher-Pearson sample skewness, larger by ``sqrt(l(l-1))/(l-2)`` (1.19 at l=10
    classes): not the paper's number.  A constant ``N_k`` (no hubs at all) gives
    0.0; fewer than 3 items gives nan for ``bias=False``.
    """
    occ = k_occurrence(scores, k).astype(np.float64)
    if occ.size and np.all(occ == occ[0]):
        return 0.0  # scipy would warn and return nan for zero variance
    if not bias and occ.size < 3:
        return float("nan")
    return float(stats.skew(occ, bias=bias))
