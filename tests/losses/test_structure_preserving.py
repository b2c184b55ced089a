import numpy as np

from tfembed.losses.structure_preserving import structure_preserving_loss, within_view_loss
from tfembed.losses.bidirectional_ranking import bidirectional_ranking_loss


def slow_within(sim, ids, margin, top_k):
    out = []
    for a in range(len(ids)):
        for p in range(len(ids)):
            if p == a or ids[p] != ids[a]:
                continue
            v = [max(0.0, margin - sim[a, p] + sim[a, n]) for n in range(len(ids)) if ids[n] != ids[a]]
            out.append(sum(sorted(v, reverse=True)[:top_k]))
    return np.array(out)


def test_within_view_exact_values():
    # texts 0, 1 of image A, text 2 of image B
    sim = np.array([[1.0, 0.5, 0.7], [0.5, 1.0, 0.2], [0.7, 0.2, 1.0]], np.float32)
    loss = within_view_loss(sim, [0, 0, 1], margin=0.1, top_k=1).numpy()
    # (0,1): [.1 - .5 + .7] = .3 ; (1,0): [.1 - .5 + .2] = 0
    np.testing.assert_allclose(loss, [0.3, 0.0], atol=1e-6)


def test_within_view_matches_loop_reference():
    rng = np.random.default_rng(0)
    ids = np.repeat(np.arange(4), 3)
    sim = rng.normal(size=(12, 12)).astype(np.float32)
    np.testing.assert_allclose(within_view_loss(sim, ids, 0.2, 3).numpy(),
                               slow_within(sim, ids, 0.2, 3), rtol=1e-5, atol=1e-6)


def test_total_combines_cross_and_within_terms():
    rng = np.random.default_rng(2)
    img_ids, txt_ids = np.arange(3), np.repeat(np.arange(3), 2)
    s = rng.normal(size=(3, 6)).astype(np.float32)
    tt = rng.normal(size=(6, 6)).astype(np.float32)
    total = structure_preserving_loss(s, tt, img_ids, txt_ids, margin=0.1, top_k=2,
                                      weights=(1.0, 2.0), within_weight=0.5).numpy()
    cross = bidirectional_ranking_loss(s, img_ids, txt_ids, 0.1, "top_k", 2, (1.0, 2.0)).numpy()
    within = slow_within(tt, txt_ids, 0.1, 2)
    np.testing.assert_allclose(total, cross.mean() + 0.5 * within.mean(), rtol=1e-5)


def test_no_neighbours_means_no_within_term():
    s = np.eye(3, dtype=np.float32)
    total = structure_preserving_loss(s, np.zeros((3, 3), np.float32), np.arange(3), np.arange(3),
                                      margin=0.1, within_weight=10.0).numpy()
    np.testing.assert_allclose(total, 0.0, atol=1e-7)
