"""WARP: the vectorised loss equals the sequential sampling procedure given the same draws."""

import numpy as np
import tensorflow as tf

from tfembed.losses.warp import rank_weight, sample_candidates, warp_loss


def _looped(scores, positive, candidates, label_index, margin=1.0):
    out = []
    for b in range(scores.shape[0]):
        y = label_index[b]
        negatives = scores.shape[1] - positive[b].sum()
        trials, loss = 0, 0.0
        for j in candidates[b]:
            if positive[b, j]:
                continue  # never drawn: only negatives are sampled
            trials += 1
            hinge = margin - scores[b, y] + scores[b, j]
            if hinge > 0:
                rank = int(negatives // trials)
                loss = sum(1.0 / i for i in range(1, rank + 1)) * hinge
                break
        out.append(loss)
    return np.array(out)


def test_matches_sequential_reference_with_fixed_seed():
    rng = np.random.default_rng(0)
    b, y, t = 16, 23, 9
    scores = rng.normal(size=(b, y)).astype(np.float32)
    positive = (rng.random((b, y)) < 0.15).astype(np.float32)
    label_index = np.array([rng.choice(np.flatnonzero(p)) if p.any() else 0 for p in positive])
    positive[np.arange(b), label_index] = 1.0
    candidates = sample_candidates(b, y, t, (3, 4)).numpy()
    got = warp_loss(tf.constant(scores), tf.constant(positive), tf.constant(candidates),
                    tf.constant(label_index)).numpy()
    want = _looped(scores, positive.astype(bool), candidates, label_index)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert (want > 0).any()  # the reference is not trivially zero


def test_rank_weight_and_no_violation():
    np.testing.assert_allclose(rank_weight(tf.constant([0.0, 1.0, 3.0])).numpy(),
                               [0.0, 1.0, 1 + 0.5 + 1 / 3], atol=1e-5)
    scores = tf.constant([[5.0, 0.0, 0.0]])
    loss = warp_loss(scores, tf.constant([[1.0, 0, 0]]), tf.constant([[1, 2]]), tf.constant([0]))
    assert float(loss[0]) == 0.0
    # First draw violates: rank = 2 negatives / 1 trial -> L(2) = 1.5.
    loss = warp_loss(tf.constant([[0.5, 0.2, 0.0]]), tf.constant([[1.0, 0, 0]]),
                     tf.constant([[1, 2]]), tf.constant([0]))
    np.testing.assert_allclose(float(loss[0]), 1.5 * 0.7, rtol=1e-6)


def test_sampling_is_deterministic():
    a = sample_candidates(4, 10, 5, (1, 2)).numpy()
    assert (a == sample_candidates(4, 10, 5, (1, 2)).numpy()).all() and a.max() < 10
