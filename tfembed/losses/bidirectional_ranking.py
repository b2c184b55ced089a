"""Bidirectional ranking loss over an image x text score matrix (Karpathy & Fei-Fei 2015,
Eq. 8; Wang et al. 2016, Eq. 1-2; Faghri et al. 2018, VSE++).

positive[i, t] = image_ids[i] == text_image_ids[t], so a batch may hold several captions per
image (and an image twice). For every positive pair (i, t):
  image -> text  h(i, t, t') = [margin - S[i, t] + S[i, t']]_+  over negative texts t'
  text -> image  h(i, t, i') = [margin - S[i, t] + S[i', t]]_+  over negative images i'
reduced over the negatives with `violation`: "sum" (Karpathy), "max" (hardest negative, VSE++)
or "top_k" (sum of the `top_k` largest violations, Wang), weighted by `weights` (i2t, t2i).
"""

import tensorflow as tf


def positive_mask(image_ids, text_image_ids):
    return tf.equal(tf.reshape(image_ids, [-1, 1]), tf.reshape(text_image_ids, [1, -1]))


def reduce_violations(violations, violation="sum", top_k=1):
    """[P, N] non-negative violations -> [P]."""
    if violation == "sum":
        return tf.reduce_sum(violations, axis=1)
    if violation == "max":
        return tf.reduce_max(violations, axis=1)
    if violation == "top_k":
        k = tf.minimum(int(top_k), tf.shape(violations)[1])
        return tf.reduce_sum(tf.math.top_k(violations, k=k).values, axis=1)
    raise ValueError(f"violation must be 'sum', 'max' or 'top_k', got {violation!r}")


def pair_violations(scores, positive):
    """For each positive pair (row i, column t): (pair index [P, 2], i2t hinges-before-relu
    [P, N_txt] over row i, t2i [P, N_img] over column t, negatives masks of both)."""
    pairs = tf.where(positive)
    rows, cols = pairs[:, 0], pairs[:, 1]
    pos = tf.gather_nd(scores, pairs)[:, None]
    row_scores, col_scores = tf.gather(scores, rows), tf.gather(tf.transpose(scores), cols)
    row_neg = tf.logical_not(tf.gather(positive, rows))
    col_neg = tf.logical_not(tf.gather(tf.transpose(positive), cols))
    return pos, row_scores, col_scores, row_neg, col_neg


def bidirectional_ranking_loss(scores, image_ids, text_image_ids, margin=0.2, violation="sum",
                               top_k=1, weights=(1.0, 1.0)):
    """Per-positive-pair loss [P] (pairs in row-major order of the positive mask).

    scores: [N_img, N_txt] (higher = more similar); image_ids [N_img], text_image_ids [N_txt].
    """
    scores = tf.convert_to_tensor(scores)
    positive = positive_mask(image_ids, text_image_ids)
    pos, row_scores, col_scores, row_neg, col_neg = pair_violations(scores, positive)
    zero = tf.zeros_like(row_scores)
    i2t = tf.where(row_neg, tf.nn.relu(margin - pos + row_scores), zero)
    t2i = tf.where(col_neg, tf.nn.relu(margin - pos + col_scores), tf.zeros_like(col_scores))
    return (weights[0] * reduce_violations(i2t, violation, top_k)
            + weights[1] * reduce_violations(t2i, violation, top_k))
