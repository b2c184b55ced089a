"""Least-squares embedding loss and L2 penalty against hand values and gradients."""

import numpy as np
import tensorflow as tf

from tfembed.losses.least_squares import l2_weight_penalty, least_squares_loss


def test_per_example_squared_distance_by_hand():
    pred = np.array([[1.0, 2.0], [0.0, 0.0]], np.float32)
    target = np.array([[1.0, 0.0], [3.0, 4.0]], np.float32)
    np.testing.assert_allclose(least_squares_loss(pred, target).numpy(), [4.0, 25.0])


def test_zero_when_prediction_matches_and_gradient_points_to_target():
    target = tf.constant([[0.5, -1.0, 2.0]])
    pred = tf.Variable([[0.0, 0.0, 0.0]])
    assert float(least_squares_loss(target, target)[0]) == 0.0
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(least_squares_loss(pred, target))
    grad = tape.gradient(loss, pred).numpy()
    np.testing.assert_allclose(grad, -2.0 * target.numpy())  # d/dp ||t - p||^2 = -2(t - p)


def test_l2_penalty_by_hand_and_disabled():
    w = [tf.constant([[1.0, 2.0]]), tf.constant([3.0])]
    assert np.isclose(float(l2_weight_penalty(w, 0.1)), 0.1 * (1 + 4 + 9))
    assert float(l2_weight_penalty(w, 0.0)) == 0.0
    assert float(l2_weight_penalty([], 0.5)) == 0.0
