"""Least-squares embedding loss with L2 weight regularisation (Zhang, Xiang, Gong 2017, Eq. 1).

The semantic side s of each training image's class is mapped into the visual feature space by
f, and f(s_y) is pulled onto the image's feature vector phi(v):
    L = 1/N sum_n ||phi(v_n) - f(s_{y_n})||^2  +  lambda * sum_W ||W||^2
Pure functions over tensors, like every loss module.
"""

import tensorflow as tf


def least_squares_loss(predicted, target):
    """Per-example squared Euclidean distance ||target_n - predicted_n||^2 -> [N]."""
    predicted = tf.convert_to_tensor(predicted)
    target = tf.cast(target, predicted.dtype)
    return tf.reduce_sum(tf.square(target - predicted), axis=-1)


def l2_weight_penalty(weights, weight_decay):
    """lambda * sum of squared entries of `weights` (kernels; biases are left out as is usual)."""
    if not weights or not weight_decay:
        return tf.constant(0.0)
    return weight_decay * tf.add_n([tf.reduce_sum(tf.square(w)) for w in weights])
