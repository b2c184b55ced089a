"""DeViSE hinge rank loss against a loop over the wrong labels."""

import numpy as np
import tensorflow as tf

from tfembed.losses.hinge_rank import hinge_rank_loss


def test_hinge_rank_matches_loop():
    rng = np.random.default_rng(1)
    scores = rng.normal(scale=0.2, size=(6, 5)).astype(np.float32)
    labels = rng.integers(0, 5, 6)
    want = [sum(max(0.0, 0.1 - scores[i, labels[i]] + scores[i, j]) for j in range(5)
                if j != labels[i]) for i in range(6)]
    got = hinge_rank_loss(tf.constant(scores), tf.constant(labels), margin=0.1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
