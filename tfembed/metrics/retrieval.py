"""Retrieval metrics: Reed 2016's AP@k (a precision@k), truncated mean AP@k, and
image-text Recall@K (Karpathy 2015, Wang 2016, VSE++).  Pure NumPy; higher score =
more similar.

Tie rule used everywhere in this package: items with equal score are ranked
by item index ascending (what a stable sort of ``-score`` gives).  It is
deterministic and never optimistic in bulk (a collapsed model whose scores
are all equal scores about chance, not 100%).

Image-text protocols (all computed by :func:`image_text_recall`):
  * ``flickr_1k``     -- Flickr30K 1,000 test images x their 5,000 captions.
  * ``coco_5k``       -- MS-COCO 5,000 test images x 25,000 captions, one matrix.
  * ``coco_1k_5fold`` -- the same 5K split cut into five 1K-image folds
    (images 0..999, 1000..1999, ... with their captions); metrics averaged
    over the folds (see :func:`coco_1k_5fold`).
"""

import numpy as np

PROTOCOLS = ("flickr_1k", "coco_1k_5fold", "coco_5k")


def top_k_order(scores, k):
    """The first k columns of ``np.argsort(-scores, axis=1, kind="stable")`` (ties by index
    ascending) without sorting whole rows: partition, then sort only the k chosen."""
    scores = np.asarray(scores)
    n = scores.shape[1]
    if k >= n or k * 8 > n:  # small rows: a full sort is as cheap
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]
    key = -scores
    kth = np.partition(key, k - 1, axis=1)[:, k - 1:k]  # the k-th smallest key of each row
    below = key < kth
    tied = key == kth
    # all items strictly better, then the lowest-index items tied with the k-th: exactly k
    need = k - below.sum(axis=1, keepdims=True)
    chosen = below | (tied & (np.cumsum(tied, axis=1) <= need))
    cols = np.nonzero(chosen)[1].reshape(len(scores), k)  # ascending index within each row
    order = np.argsort(np.take_along_axis(key, cols, axis=1), axis=1, kind="stable")
    return np.take_along_axis(cols, order, axis=1)


def _top_k_relevance(scores, relevant, k):
    """(relevance of each query's top min(k, N) items in rank order, relevant as bool)."""
    scores, relevant = np.asarray(scores), np.asarray(relevant, dtype=bool)
    if scores.ndim != 2 or scores.shape != relevant.shape:
        raise ValueError(f"scores {scores.shape} / relevant {relevant.shape} must be equal 2-D")
    if k < 1:
        raise ValueError("k must be >= 1")
    return np.take_along_axis(relevant, top_k_order(scores, k), axis=1), relevant


def average_precision_at_k(scores, relevant, k):
    """Per-query truncated average precision, ``np.ndarray[Q]``.

    Items are ranked by score (ties by item index ascending) and
    ``AP@k = sum_{i<=k} P@i * rel_i / min(k, R)`` with ``R`` the number of
    relevant items of the query.  A perfect ranking gives 1.  Queries with
    ``R == 0`` give ``nan`` (excluded by :func:`mean_ap_at_k`).  This is *not*
    what Reed et al. 2016 call AP@50: see :func:`precision_at_k`.  Reported as
    ``retrieval_map@K``.
    """
    rel, relevant = _top_k_relevance(scores, relevant, k)
    hits = np.cumsum(rel, axis=1)
    prec = hits / np.arange(1, rel.shape[1] + 1)
    n_rel = relevant.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = (prec * rel).sum(axis=1) / np.minimum(k, n_rel)
    return np.where(n_rel > 0, ap, np.nan)


def precision_at_k(scores, relevant, k):
    """Per-query precision@k, ``np.ndarray[Q]``: the fraction of the top
    ``min(k, N)`` items (ties by item index ascending) that are relevant.

    This is Reed et al. 2016's "AP@k" (Table 1/2, "AP@50"): their evaluation
    code (reedscot/cvpr2016 ``util/util_retrieval.lua``, ``retrieval_at_k``)
    sorts the images of all test classes by score for each class query, marks
    the images of the query's class, and returns
    ``torch.mean(matches:narrow(2, 1, k))`` -- the mean over queries of the
    fraction of matches in the top k.  Queries with no relevant item score 0
    (Reed averages over every query).
    """
    return _top_k_relevance(scores, relevant, k)[0].mean(axis=1)


def mean_precision_at_k(scores, relevant, k):
    """Mean precision@k over all queries (Reed 2016's AP@k); nan with no query."""
    p = precision_at_k(scores, relevant, k)
    return float(p.mean()) if p.size else float("nan")


def chance_precision_at_k(relevant, k):
    """Exact expected precision@k of a uniformly random ranking: each of the top
    ``min(k, N)`` positions holds a relevant item w.p. ``R/N``, so
    ``E[P@k] = R/N`` per query, averaged over queries like
    :func:`mean_precision_at_k`."""
    relevant = np.asarray(relevant, dtype=bool)
    if relevant.ndim != 2:
        raise ValueError("relevant must be 2-D [Q, N]")
    if relevant.size == 0:
        return float("nan")
    return float(np.mean(relevant.sum(axis=1) / relevant.shape[1]))


def mean_ap_at_k(scores, relevant, k):
    """Mean AP@k over queries with at least one relevant item (nan if none)."""
    ap = average_precision_at_k(scores, relevant, k)
    return float(np.nanmean(ap)) if np.any(~np.isnan(ap)) else float("nan")


def chance_ap_at_k(relevant, k):
    """Exact expected AP@k of a uniformly random ranking (no Monte-Carlo).

    For a query with ``R`` relevant among ``N`` items, position ``i`` holds a
    relevant item w.p. ``R/N`` and two fixed positions both do w.p.
    ``R(R-1)/(N(N-1))``, so ``E[rel_i * hits_i] = R/N + (i-1)R(R-1)/(N(N-1))``
    and ``E[AP@k] = sum_{i<=min(k,N)} E[rel_i hits_i] / i / min(k, R)``.
    Averaged over queries with ``R > 0`` like :func:`mean_ap_at_k`.
    """
    relevant = np.asarray(relevant, dtype=bool)
    if relevant.ndim != 2:
        raise ValueError("relevant must be 2-D [Q, N]")
    n = relevant.shape[1]
    n_rel = relevant.sum(axis=1)
    n_rel = n_rel[n_rel > 0]
    if n_rel.size == 0:
        return float("nan")
    i = np.arange(1, min(k, n) + 1, dtype=np.float64)
    vals = {}
    for r in np.unique(n_rel):  # one closed form per distinct R
        pair = 0.0 if n == 1 else r * (r - 1) / (n * (n - 1.0))
        vals[r] = np.sum((r / n + (i - 1) * pair) / i) / min(k, r)
    return float(np.mean([vals[r] for r in n_rel]))


def _recall_dict(prefix, ranks, ks):
    out = {f"{prefix}_r@{k}": float(100.0 * np.mean(ranks <= k)) for k in ks}
    # floor(median) of 1-based ranks == VSE++'s floor(median(0-based)) + 1
    out[f"{prefix}_medr"] = float(np.floor(np.median(ranks)))
    out[f"{prefix}_meanr"] = float(np.mean(ranks))
    return out


def _check_t2i(text_to_image, n_img, n_txt):
    t2i = np.asarray(text_to_image)
    if t2i.shape != (n_txt,) or not np.issubdtype(t2i.dtype, np.integer):
        raise ValueError(f"text_to_image must be integer with shape [{n_txt}]")
    if n_txt and (t2i.min() < 0 or t2i.max() >= n_img):
        raise ValueError(f"text_to_image values must lie in [0, {n_img})")
    return t2i.astype(np.int64)


def image_ranks(sim, text_to_image, chunk_size=1024):
    """1-based ranks ``(i2t[N_img], t2i[N_txt])`` used by :func:`image_text_recall`.

    i2t rank of an image = best rank among its captions (VSE++ ``i2t``); nan
    for an image without captions.  t2i rank of a caption = rank of its image.
    Works over ``chunk_size`` image rows at a time, so the extra memory is a
    few ``chunk_size x N_txt`` temporaries, never a full copy of ``sim``.
    """
    sim = np.asarray(sim)
    if sim.ndim != 2:
        raise ValueError("sim must be 2-D [N_img, N_txt]")
    n_img, n_txt = sim.shape
    t2i = _check_t2i(text_to_image, n_img, n_txt)
    cols = np.arange(n_txt)
    gt_score = sim[t2i, cols]  # score of each caption with its own image
    t2i_rank = np.ones(n_txt, dtype=np.int64)
    i2t_rank = np.full(n_img, np.nan)
    chunk_size = max(1, int(chunk_size))
    for i0 in range(0, n_img, chunk_size):
        block = sim[i0:i0 + chunk_size]
        rows = np.arange(i0, i0 + block.shape[0])
        # t2i: images beating the ground truth, plus tied images of lower index.
        t2i_rank += (block > gt_score).sum(axis=0)
        t2i_rank += ((block == gt_score) & (rows[:, None] < t2i)).sum(axis=0)
        # i2t: the best caption of image r is its first-index max-score caption.
        own = np.flatnonzero((t2i >= i0) & (t2i < rows[-1] + 1))
        if own.size == 0:
            continue
        mask = t2i[own][None, :] == rows[:, None]
        sub = block[:, own]
        top = np.where(mask, sub, -np.inf).max(axis=1, keepdims=True)
        best = own[np.argmax(mask & (sub == top), axis=1)]  # first True = lowest index
        has = mask.any(axis=1)
        s_best = block[np.arange(block.shape[0]), best][:, None]
        rank = 1 + (block > s_best).sum(axis=1) + ((block == s_best) & (cols < best[:, None])).sum(axis=1)
        i2t_rank[rows[has]] = rank[has]
    return i2t_rank, t2i_rank


def image_text_recall(sim, text_to_image, ks=(1, 5, 10), chunk_size=1024):
    """Image<->text retrieval metrics from ``sim[N_img, N_txt]``.

    ``text_to_image[t]`` is the ground-truth image of caption ``t`` (any number
    of captions per image).  Returns ``i2t_r@K`` / ``t2i_r@K`` in percent
    (0-100), ``*_medr`` (floor of the median rank) and ``*_meanr`` (1-based),
    and ``rsum`` = sum of all R@K.  Images without captions are skipped in i2t.
    """
    i2t_rank, t2i_rank = image_ranks(sim, text_to_image, chunk_size)
    out = _recall_dict("i2t", i2t_rank[~np.isnan(i2t_rank)], ks)
    out.update(_recall_dict("t2i", t2i_rank, ks))
    out["rsum"] = float(sum(out[f"{d}_r@{k}"] for d in ("i2t", "t2i") for k in ks))
    return out


def recall_chance(n_img, n_txt, text_to_image, ks=(1, 5, 10)):
    """Exact expected R@K (percent), meanr and rsum of a uniformly random ranking.

    t2i: ``P(rank <= K) = min(K, n_img)/n_img``.  i2t for an image with ``m``
    captions: ``1 - C(n_txt - m, K) / C(n_txt, K)`` (hypergeometric), and
    ``E[best rank] = (n_txt + 1)/(m + 1)``; averaged over captioned images.
    """
    t2i = _check_t2i(text_to_image, n_img, n_txt)
    m = np.bincount(t2i, minlength=n_img)
    m = m[m > 0].astype(np.float64)
    if m.size == 0:
        raise ValueError("text_to_image is empty")
    j = np.arange(int(m.max()))[None, :]
    out = {}
    for k in ks:
        # P(no caption of the image in the top K) = prod_j (n-K-j)/(n-j), j < m
        miss = np.clip((n_txt - k - j) / (n_txt - j), 0.0, 1.0)
        miss = np.prod(np.where(j < m[:, None], miss, 1.0), axis=1)
        out[f"i2t_r@{k}"] = float(100.0 * np.mean(1.0 - miss))
    out["i2t_meanr"] = float(np.mean((n_txt + 1.0) / (m + 1.0)))
    for k in ks:
        out[f"t2i_r@{k}"] = float(100.0 * min(k, n_img) / n_img)
    out["t2i_meanr"] = (n_img + 1.0) / 2.0
    out["rsum"] = float(sum(out[f"{d}_r@{k}"] for d in ("i2t", "t2i") for k in ks))
    return out


def coco_1k_5fold(sim, text_to_image, ks=(1, 5, 10), chunk_size=1024, n_folds=5, fold_size=1000):
    """``coco_1k_5fold`` protocol: mean of :func:`image_text_recall` dicts over
    folds of ``fold_size`` consecutive images (0..999, 1000..1999, ...) with
    their captions (every key, medr/meanr included, is averaged as in VSE++).

    ``sim`` is either the full ``[n_folds*fold_size, N_txt]`` matrix or a
    callable ``sim(image_indices, text_indices) -> [n_i, n_t]`` so that only
    one fold's block is ever computed.
    """
    n_img = n_folds * fold_size
    t2i = _check_t2i(text_to_image, n_img, np.shape(text_to_image)[0])
    if not callable(sim) and np.shape(sim)[0] != n_img:
        raise ValueError(f"sim must have {n_img} image rows, got {np.shape(sim)[0]}")
    results = []
    for f in range(n_folds):
        img = np.arange(f * fold_size, (f + 1) * fold_size)
        txt = np.flatnonzero((t2i >= img[0]) & (t2i <= img[-1]))
        block = sim(img, txt) if callable(sim) else np.asarray(sim)[img[0]:img[-1] + 1][:, txt]
        results.append(image_text_recall(block, t2i[txt] - img[0], ks, chunk_size))
    return {key: float(np.mean([r[key] for r in results])) for key in results[0]}
