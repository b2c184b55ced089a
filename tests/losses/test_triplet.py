"""Triplet loss 1/2 max(0, m - q.p + q.n) by hand."""

import numpy as np
import tensorflow as tf

from tfembed.losses.triplet import triplet_loss


def test_triplet_loss_by_hand():
    q = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    p = np.array([[0.6, 0.8], [0.0, 1.0]], np.float32)
    n = np.array([[0.8, 0.6], [1.0, 0.0]], np.float32)
    got = triplet_loss(tf.constant(q), tf.constant(p), tf.constant(n), margin=0.1).numpy()
    np.testing.assert_allclose(got, [0.5 * (0.1 - 0.6 + 0.8), 0.0], atol=1e-6)
