"""k-occurrence and N_k skewness (hubness) against hand values and loops."""

import numpy as np
import pytest

from tfembed.metrics import hubness as H


def k_occ_ref(scores, k):
    counts = [0] * scores.shape[1]
    for row in scores:
        for j in sorted(range(len(row)), key=lambda j: (-row[j], j))[:k]:
            counts[j] += 1
    return counts


def test_k_occurrence_hand_with_ties():
    scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.2, 0.2], [0.0, 0.7, 0.7]])
    np.testing.assert_array_equal(H.k_occurrence(scores, 1), [2, 1, 0])
    np.testing.assert_array_equal(H.k_occurrence(scores, 2), [2, 2, 2])
    np.testing.assert_array_equal(H.k_occurrence(scores, 3), [3, 3, 3])
    with pytest.raises(ValueError):
        H.k_occurrence(scores, 4)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("chunk", [1, 4, 1024])
def test_k_occurrence_matches_loop(seed, k, chunk):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, size=(15, 8)).astype(np.float32)  # heavy ties
    got = H.k_occurrence(scores, k, chunk_size=chunk)
    np.testing.assert_array_equal(got, k_occ_ref(scores, k))
    assert got.sum() == 15 * k  # every query contributes exactly k


def test_skewness_hand():
    # All 3 queries pick item 0 among 4 items: N_1 = [3, 0, 0, 0].
    scores = np.array([[1.0, 0, 0, 0]] * 3)
    # population skewness m3 / m2^1.5 = 2/sqrt(3); adjusted = that * sqrt(12)/2 = 2.
    assert H.n_k_skewness(scores) == pytest.approx(2.0)
    assert H.n_k_skewness(scores, bias=True) == pytest.approx(2 / np.sqrt(3))


def test_skewness_no_hubs_and_too_few_items():
    assert H.n_k_skewness(np.eye(4)) == 0.0  # every item once
    assert np.isnan(H.n_k_skewness(np.array([[1.0, 0], [1.0, 0]])))
