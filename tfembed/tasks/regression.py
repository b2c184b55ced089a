"""DEM's least-squares task (Zhang et al. 2017 Eq. 1) as a score-matrix task."""

import tensorflow as tf

from tfembed.tasks.base import Task


class LeastSquares(Task):
    """mean_n ||phi(v_n) - f(s_n)||^2 from the `neg_sq_distance` scores of the positive pairs
    (score = -||v - t||^2, so the loss is minus the positive score). The weight decay of
    Eq. 1 is the text tower's kernel regulariser, added by the model."""

    def __init__(self, name=None):
        super().__init__(name=name or "least_squares")

    def compute(self, scores, positive, y_true, y_pred):
        positive = tf.cast(positive, scores.dtype)
        return -tf.math.divide_no_nan(tf.reduce_sum(scores * positive, axis=1),
                                      tf.reduce_sum(positive, axis=1))
