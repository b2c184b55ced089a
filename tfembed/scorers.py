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


SCORERS = {"dot": dot, "cosine": cosine, "neg_sq_distance": neg_sq_distance}


def get(name):
    if name not in SCORERS:
        raise ConfigError(f"unknown scorer {name!r}; known: {', '.join(SCORERS)}")
    return SCORERS[name]
