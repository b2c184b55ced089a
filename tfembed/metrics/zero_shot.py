"""Zero-shot classification metrics over score matrices (pure NumPy).

``scores[n, c]`` is the compatibility of test image ``n`` with class ``c``
(higher = more similar).  Predictions are ``argmax`` over the candidate
columns; on ties NumPy's ``argmax`` picks the lowest column index.

Protocols:
  * ``reed_per_image`` -- :func:`top1_per_image`, micro average (Reed 2016).
  * ``gbu_per_class``  -- :func:`top1_per_class`, mean of per-class accuracy
    (Xian et al. "The Good, the Bad and the Ugly", GBU).
  * ``gbu_gzsl``       -- :func:`gzsl`, generalized ZSL u / s / harmonic mean.
"""

import numpy as np


def _labels(labels, n):
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"labels must have shape [{n}], got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("labels must be integers")
    return labels.astype(np.int64)


def _scores(scores):
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D [N, C], got {scores.shape}")
    return scores


def class_means(embeddings, labels, num_classes):
    """Mean embedding of each class, ``[num_classes, D]``.

    Used for Reed 2016 class embeddings (mean text embedding of a class).
    Rows of classes absent from ``labels`` are all zeros.
    """
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must be 2-D [N, D], got {embeddings.shape}")
    labels = _labels(labels, embeddings.shape[0])
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes})")
    dtype = np.result_type(embeddings.dtype, np.float32)
    sums = np.zeros((num_classes, embeddings.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, embeddings)  # unbuffered: repeated labels accumulate
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    return (sums / np.maximum(counts, 1.0)[:, None]).astype(dtype)


def top1_per_image(scores, labels):
    """Top-1 accuracy averaged over images (micro average, ``reed_per_image``)."""
    scores = _scores(scores)
    labels = _labels(labels, scores.shape[0])
    if labels.size == 0:
        return float("nan")
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def _per_class_acc(pred, labels):
    # Mean over the classes that occur in ``labels`` of that class's accuracy.
    classes, inverse = np.unique(labels, return_inverse=True)
    if classes.size == 0:
        return float("nan")
    hits = np.bincount(inverse, weights=(pred == labels), minlength=classes.size)
    counts = np.bincount(inverse, minlength=classes.size)
    return float(np.mean(hits / counts))


def top1_per_class(scores, labels):
    """Mean over classes present in ``labels`` of per-class top-1 accuracy
    (``gbu_per_class`` protocol).  Classes with no test image do not count."""
    scores = _scores(scores)
    labels = _labels(labels, scores.shape[0])
    return _per_class_acc(np.argmax(scores, axis=1), labels)


def _rows(rows, n):
    rows = np.asarray(rows)
    if rows.dtype == bool:
        if rows.shape != (n,):
            raise ValueError(f"boolean row mask must have shape [{n}]")
        return np.flatnonzero(rows)
    return rows.astype(np.int64).reshape(-1)


def gzsl(scores, labels, seen_classes, unseen_classes, test_seen_rows, test_unseen_rows):
    """Generalized zero-shot metrics (GBU, Xian et al.).

    Each image is classified over the candidate set ``seen ∪ unseen`` columns
    (normally all ``C_all`` columns; other columns are ignored).  ``gzsl_u``
    is the per-class accuracy on ``test_unseen_rows``, ``gzsl_s`` on
    ``test_seen_rows`` (rows: integer indices or boolean masks of length N),
    ``gzsl_h = 2us/(u+s)`` (0 when both are 0).

    Returns ``dict(gzsl_u=..., gzsl_s=..., gzsl_h=...)`` of Python floats.
    """
    scores = _scores(scores)
    n, c_all = scores.shape
    labels = _labels(labels, n)
    cand = np.union1d(np.asarray(seen_classes, dtype=np.int64).reshape(-1),
                      np.asarray(unseen_classes, dtype=np.int64).reshape(-1))
    if cand.size == 0 or cand.min() < 0 or cand.max() >= c_all:
        raise ValueError(f"class ids must be non-empty and lie in [0, {c_all})")
    # Predict over the union only; ``cand`` is sorted so ties -> lowest class id.
    pred = cand[np.argmax(scores[:, cand], axis=1)]
    u_rows, s_rows = _rows(test_unseen_rows, n), _rows(test_seen_rows, n)
    u = _per_class_acc(pred[u_rows], labels[u_rows])
    s = _per_class_acc(pred[s_rows], labels[s_rows])
    h = 0.0 if u + s == 0 else 2.0 * u * s / (u + s)
    return {"gzsl_u": u, "gzsl_s": s, "gzsl_h": float(h)}


def chance_top1(num_candidate_classes):
    """Top-1 accuracy of a uniformly random guess among the candidate classes."""
    if num_candidate_classes < 1:
        raise ValueError("num_candidate_classes must be >= 1")
    return 1.0 / float(num_candidate_classes)
