"""Triplet ranking loss on l2-normalised embeddings (Gordo et al. 2016/2017):
L = 1/2 max(0, m - q.p + q.n), one value per triplet."""

import tensorflow as tf


def triplet_loss(query, positive, negative, margin=0.1):
    """`query`, `positive`, `negative`: [B, D] (rows compared by dot product) -> [B]."""
    pos = tf.reduce_sum(query * positive, axis=-1)
    neg = tf.reduce_sum(query * negative, axis=-1)
    return 0.5 * tf.nn.relu(margin - pos + neg)
