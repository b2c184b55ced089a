import numpy as np
import pytest

from tfembed.losses.bidirectional_ranking import bidirectional_ranking_loss


def vsepp_contrastive_loss(scores, margin, max_violation):
    """Slow port of VSE++ ContrastiveLoss (one caption per image, positives on the diagonal)."""
    n = scores.shape[0]
    total = 0.0
    for i in range(n):
        cost_s = [max(0.0, margin + scores[i, j] - scores[i, i]) for j in range(n) if j != i]
        cost_im = [max(0.0, margin + scores[j, i] - scores[i, i]) for j in range(n) if j != i]
        total += (max(cost_s) + max(cost_im)) if max_violation else (sum(cost_s) + sum(cost_im))
    return total


def slow_loss(scores, image_ids, text_ids, margin, violation, top_k, weights):
    out = []
    for i in range(scores.shape[0]):
        for t in range(scores.shape[1]):
            if image_ids[i] != text_ids[t]:
                continue
            a = [max(0.0, margin - scores[i, t] + scores[i, u])
                 for u in range(scores.shape[1]) if text_ids[u] != image_ids[i]]
            b = [max(0.0, margin - scores[i, t] + scores[j, t])
                 for j in range(scores.shape[0]) if image_ids[j] != text_ids[t]]
            red = {"sum": sum, "max": max,
                   "top_k": lambda v: sum(sorted(v, reverse=True)[:top_k])}[violation]
            out.append(weights[0] * red(a) + weights[1] * red(b))
    return np.array(out)


def test_exact_values_on_a_hand_built_batch():
    # 2 images, 3 captions: captions 0, 1 of image 7, caption 2 of image 9.
    s = np.array([[0.9, 0.5, 0.6], [0.2, 0.8, 0.1]], np.float32)
    loss = bidirectional_ranking_loss(s, [7, 9], [7, 7, 9], margin=0.2).numpy()
    # (0,0): i2t [.2-.9+.6]+=0 ; t2i [.2-.9+.2]+=0         -> 0
    # (0,1): i2t [.2-.5+.6]=.3 ; t2i [.2-.5+.8]=.5         -> .8
    # (1,2): i2t [.2-.1+.2]=.3 + [.2-.1+.8]=.9 ; t2i [.2-.1+.6]=.7 -> 1.9
    np.testing.assert_allclose(loss, [0.0, 0.8, 1.9], atol=1e-6)
    hard = bidirectional_ranking_loss(s, [7, 9], [7, 7, 9], margin=0.2, violation="max").numpy()
    np.testing.assert_allclose(hard, [0.0, 0.8, 1.6], atol=1e-6)


@pytest.mark.parametrize("max_violation", [False, True])
def test_matches_vsepp_contrastive_loss(max_violation):
    s = np.random.default_rng(0).normal(size=(6, 6)).astype(np.float32)
    ours = bidirectional_ranking_loss(s, np.arange(6), np.arange(6), margin=0.3,
                                      violation="max" if max_violation else "sum").numpy().sum()
    np.testing.assert_allclose(ours, vsepp_contrastive_loss(s, 0.3, max_violation), rtol=1e-5)


@pytest.mark.parametrize("violation", ["sum", "max", "top_k"])
def test_matches_loop_reference_with_several_captions_and_repeated_images(violation):
    rng = np.random.default_rng(1)
    image_ids = np.array([0, 1, 2, 1, 3])  # image 1 twice in the batch
    text_ids = np.array([0, 0, 1, 1, 2, 3, 3, 2])
    s = rng.normal(size=(5, 8)).astype(np.float32)
    ours = bidirectional_ranking_loss(s, image_ids, text_ids, 0.5, violation, 2, (1.0, 2.0)).numpy()
    ref = slow_loss(s, image_ids, text_ids, 0.5, violation, 2, (1.0, 2.0))
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_perfectly_separated_scores_give_zero_loss():
    s = np.eye(4, dtype=np.float32) * 2.0
    assert bidirectional_ranking_loss(s, np.arange(4), np.arange(4), 1.0).numpy().sum() == 0.0


def test_gradient_flows_to_the_violating_scores():
    import tensorflow as tf
    s = tf.Variable([[1.0, 0.9], [0.0, 1.0]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(bidirectional_ranking_loss(s, [0, 1], [0, 1], 0.2))
    g = tape.gradient(loss, s).numpy()
    # only pair (0,0) -> text 1 violates: d/dS[0,0] = -1, d/dS[0,1] = +1 (i2t) ; t2i of text 1:
    # [.2 - 1 + .9] = .1 > 0 -> d/dS[1,1] = -1, d/dS[0,1] += 1
    np.testing.assert_allclose(g, [[-1.0, 2.0], [0.0, -1.0]])
