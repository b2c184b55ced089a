import numpy as np

from tfembed.layers.alignment import alignment_scores, best_regions, flat_alignment_scorer


def slow_scores(regions, words):
    out = np.zeros((len(regions), len(words)))
    for k, v in enumerate(regions):
        for l, s in enumerate(words):
            out[k, l] = sum(max(float(vi @ st) for vi in v) for st in s)
    return out


def test_hand_computed_score():
    regions = np.array([[[1.0, 0.0], [0.0, 2.0]]], np.float32)   # one image, two regions
    words = np.array([[[3.0, 1.0], [0.0, 1.0], [0.0, 0.0]]], np.float32)  # 2 words + padding
    # word 1: max(3, 2) = 3 ; word 2: max(0, 2) = 2 ; padding adds 0
    np.testing.assert_allclose(alignment_scores(regions, words).numpy(), [[5.0]])
    np.testing.assert_array_equal(best_regions(regions[0], words[0, :2]).numpy(), [0, 1])


def test_matches_loop_chunked_and_flat():
    rng = np.random.default_rng(0)
    regions = rng.normal(size=(7, 3, 4)).astype(np.float32)
    words = rng.normal(size=(5, 6, 4)).astype(np.float32)
    ref = slow_scores(regions, words)
    np.testing.assert_allclose(alignment_scores(regions, words).numpy(), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(alignment_scores(regions, words, chunk=3).numpy(), ref, rtol=1e-5, atol=1e-5)
    flat = flat_alignment_scorer(4)(regions.reshape(7, -1), words.reshape(5, -1)).numpy()
    np.testing.assert_allclose(flat, ref, rtol=1e-5, atol=1e-5)


def test_repeated_region_padding_changes_nothing():
    rng = np.random.default_rng(1)
    regions = rng.normal(size=(2, 2, 3)).astype(np.float32)
    words = rng.normal(size=(3, 4, 3)).astype(np.float32)
    padded = np.concatenate([regions, regions[:, :1], regions[:, :1]], axis=1)
    np.testing.assert_allclose(alignment_scores(padded, words).numpy(),
                               alignment_scores(regions, words).numpy(), rtol=1e-6)
