"""Scorers: two embedding sets [N, D], [M, D] -> score matrix [N, M] (higher = more similar)."""

import tensorflow as tf

from tfembed.errors import ConfigError


def dot(a, b):
    return tf.matmul(a, b, transpose_b=True)


def cosine(a, b):
    return dot(tf.math.l2_normalize(a, axis=-1), tf.math.l2_normalize(b, axis=-1))


def neg_sq_distance(a, b):
    """-||a_i - b_j||^2, the nearest-neighbour score of DEM (Zhang et al. 2017)."""
    a2 = tf.reduce_sum(tf.square(a), axis=-1, keepdims=True)
    b2 = tf.reduce_sum(tf.square(b), axis=-1, keepdims=True)
    return 2.0 * dot(a, b) - a2 - tf.transpose(b2)


def alignment(regions, words):
    """Karpathy & Fei-Fei 2015 Eq. 8, S_kl = sum_t max_i v_i^T s_t, over *sequences*: regions
    [N, R, D], words [M, L, D] -> [N, M]. Padded words must be zero vectors (they add
    max_i v_i^T 0 = 0) and missing regions repeat a real one (tfembed/layers/alignment.py)."""
    dots = tf.einsum("nrd,mld->nmrl", regions, words)
    return tf.reduce_sum(tf.reduce_max(dots, axis=2), axis=2)


SCORERS = {"dot": dot, "cosine": cosine, "neg_sq_distance": neg_sq_distance,
           "alignment": alignment}


def get(name):
    if name not in SCORERS:
        raise ConfigError(f"unknown scorer {name!r}; known: {', '.join(SCORERS)}")
    return SCORERS[name]
