"""Hinge rank loss of DeViSE (Frome et al. 2013): for an image whose projection is Mv and
label y, sum over the other labels j of max(0, margin - t_y.Mv + t_j.Mv)."""

import tensorflow as tf


def hinge_rank_loss(scores, labels, margin=0.1):
    """`scores` [B, C] = projected image . label vectors, `labels` [B] -> [B]."""
    labels = tf.cast(labels, tf.int32)
    true = tf.gather(scores, labels, axis=1, batch_dims=1)[:, None]
    violation = tf.nn.relu(margin - true + scores)
    others = 1.0 - tf.one_hot(labels, tf.shape(scores)[1], dtype=scores.dtype)
    return tf.reduce_sum(violation * others, axis=1)
