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
    # All 3 queries pick item 0 among 4 items: N_1 = [3, 0, 0, 0], mean 3/4.
    scores = np.array([[1.0, 0, 0, 0]] * 3)
    # DEM's formula: m3 = (2.25^3 - 3 * 0.75^3) / 4 = 81/32,
    # Var = (2.25^2 + 3 * 0.75^2) / 4 = 27/16, skew = (81/32) / (27/16)^1.5 = 2/sqrt(3).
    assert H.n_k_skewness(scores) == pytest.approx(2 / np.sqrt(3))
    # The adjusted sample skewness is larger by sqrt(4*3)/2: not the paper's definition.
    assert H.n_k_skewness(scores, bias=False) == pytest.approx(2.0)


def test_skewness_is_dem_formula_by_loop():
    # Zhang et al. 2017 Sec. 4.3: sum((N - E[N])^3)/l / Var[N]^(3/2), written out.
    rng = np.random.default_rng(3)
    scores = rng.random((40, 7)) ** np.arange(1, 8)  # uneven: some items are hubs
    n1 = k_occ_ref(scores, 1)
    mean = sum(n1) / len(n1)
    var = sum((x - mean) ** 2 for x in n1) / len(n1)
    expect = sum((x - mean) ** 3 for x in n1) / len(n1) / var ** 1.5
    assert H.n_k_skewness(scores, 1) == pytest.approx(expect)


def test_skewness_no_hubs_and_too_few_items():
    assert H.n_k_skewness(np.eye(4)) == 0.0  # every item once
    assert np.isnan(H.n_k_skewness(np.array([[1.0, 0], [1.0, 0]]), bias=False))
