"""Structure-preserving ranking loss (Wang, Li & Lazebnik, CVPR 2016, Eq. 1-6).

Cross-view: the bidirectional ranking constraints with the top-K violators per positive pair
and direction weights (`bidirectional_ranking`). Within-view: for an anchor text t and a
neighbour t+ (a caption of the same image), every non-neighbour t- must satisfy
  sim(t, t+) >= sim(t, t-) + margin,
again penalising the top-K violators; the same for images when `image_scores` is given (an
image's neighbours are other batch rows with the same id). Similarities replace the paper's
distances: on L2-normalised embeddings d^2 = 2 - 2 sim, so the orderings agree.
loss = mean over positive pairs of the cross-view term + within_weight * mean over
neighbour pairs of the within-view terms.
"""

import tensorflow as tf

from tfembed.losses.bidirectional_ranking import (
    bidirectional_ranking_loss, positive_mask, reduce_violations)


def within_view_loss(similarities, ids, margin=0.1, top_k=10):
    """Per-neighbour-pair loss [Q] from one view's [N, N] similarities and ids [N]."""
    similarities = tf.convert_to_tensor(similarities)
    n = tf.shape(similarities)[0]
    same = positive_mask(ids, ids)
    neighbours = tf.logical_and(same, tf.logical_not(tf.eye(n, dtype=tf.bool)))
    pairs = tf.where(neighbours)
    pos = tf.gather_nd(similarities, pairs)[:, None]
    row = tf.gather(similarities, pairs[:, 0])
    negatives = tf.logical_not(tf.gather(same, pairs[:, 0]))
    hinge = tf.where(negatives, tf.nn.relu(margin - pos + row), tf.zeros_like(row))
    return reduce_violations(hinge, "top_k", top_k)


def _mean(x):
    return tf.math.divide_no_nan(tf.reduce_sum(x), tf.cast(tf.size(x), x.dtype))


def structure_preserving_loss(scores, text_scores, image_ids, text_image_ids, image_scores=None,
                              margin=0.1, top_k=10, weights=(1.0, 2.0), within_weight=0.1):
    """Scalar loss. scores [N_img, N_txt]; text_scores [N_txt, N_txt]; image_scores [N_img, N_img]."""
    cross = bidirectional_ranking_loss(scores, image_ids, text_image_ids, margin, "top_k",
                                       top_k, weights)
    within = _mean(within_view_loss(text_scores, text_image_ids, margin, top_k))
    if image_scores is not None:
        within += _mean(within_view_loss(image_scores, image_ids, margin, top_k))
    return _mean(cross) + within_weight * within
