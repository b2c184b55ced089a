"""WARP loss (Weston, Bengio, Usunier 2011), vectorised with a pre-drawn sample sequence.

For a (example, positive label y) pair, negatives are drawn one at a time until one violates
the margin (1 - f_y + f_j > 0); if that happens at trial N, the rank of y is estimated as
floor(#negatives / N) (Y - 1 with one positive) and the loss is L(rank) * (1 - f_y + f_j) with L(k) = sum_{i<=k} 1/i.
Here the T candidates of each pair are drawn up front (`sample_candidates`); candidates that
are themselves positive labels are skipped, as in the sequential procedure.
"""

import tensorflow as tf


def sample_candidates(batch_size, num_labels, trials, seed):
    """[B, T] label indices, uniform, from a stateless seed (a pair of ints)."""
    return tf.random.stateless_uniform([batch_size, trials], seed, 0, num_labels, tf.int32)


def rank_weight(k):
    """L(k) = sum_{i=1..k} 1/i (0 for k = 0), for float k >= 0."""
    return tf.math.digamma(k + 1.0) + 0.5772156649015329


def warp_loss(scores, positive, candidates, label_index, margin=1.0):
    """`scores` [B, Y]; `positive` [B, Y] 0/1; `label_index` [B] the positive label y of each
    row; `candidates` [B, T]. Returns [B] (0 where no candidate violates)."""
    positive = tf.cast(positive, scores.dtype)
    num_negatives = tf.cast(tf.shape(scores)[1], scores.dtype) - tf.reduce_sum(positive, axis=1)
    f_y = tf.gather(scores, label_index, axis=1, batch_dims=1)
    f_c = tf.gather(scores, candidates, axis=1, batch_dims=1)
    is_neg = tf.gather(positive, candidates, axis=1, batch_dims=1) < 0.5
    hinge = margin - f_y[:, None] + f_c
    violates = tf.logical_and(is_neg, hinge > 0)
    any_violation = tf.reduce_any(violates, axis=1)
    first = tf.argmax(tf.cast(violates, tf.int32), axis=1, output_type=tf.int32)
    # Only negatives count as trials: positives are never drawn in the sequential procedure.
    trials = tf.gather(tf.cumsum(tf.cast(is_neg, scores.dtype), axis=1), first, axis=1,
                       batch_dims=1)
    rank = tf.floor(num_negatives / tf.maximum(trials, 1.0))
    violation = tf.gather(hinge, first, axis=1, batch_dims=1)
    loss = rank_weight(tf.stop_gradient(rank)) * violation
    return tf.where(any_violation, loss, tf.zeros_like(loss))
