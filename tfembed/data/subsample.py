"""Smaller copies of a loaded data set (smoke runs on real data).

A smoke run on real data should still read and check every file of the data set, then train
and evaluate on a few images only: `tfembed.data.load(..., max_images_per_split=N)` applies
`cap_splits` after the source has loaded (and validated) everything.
"""

import numpy as np

from tfembed.errors import ConfigError


def cap_splits(dataset, max_images):
    """`dataset` with at most `max_images` images picked from each split.

    Within a split, images are taken round-robin over its classes in class order (first the
    first image of every class, then the second, ...), so a split keeps as many of its classes
    as the cap allows; within a class the earliest rows come first. A row picked for one split
    stays in every split that lists it (trainval keeps the rows picked for train and val), and
    rows in no split are dropped. The class list is unchanged. The cap and the sizes before and
    after go to `meta["subsampled"]`.
    """
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 1:
        raise ConfigError(f"max_images_per_split must be a positive integer, got {max_images!r}")
    keep = set()
    for rows in dataset.splits.values():
        rows = np.asarray(rows, dtype=np.int64)
        labels = dataset.labels[rows]
        # rank of each row among the rows of its class in this split, then round-robin order
        order = np.lexsort((rows, labels))
        ranks = np.empty(len(rows), np.int64)
        _, first = np.unique(labels[order], return_index=True)
        starts = np.repeat(first, np.diff(np.append(first, len(rows))))
        ranks[order] = np.arange(len(rows)) - starts
        picked = np.lexsort((labels, ranks))[:max_images]
        keep.update(int(r) for r in rows[picked])
    subset = dataset.subset(sorted(keep))
    subset.meta = dict(dataset.meta, subsampled={
        "max_images_per_split": max_images, "images": subset.num_images,
        "images_before": dataset.num_images})
    return subset
