"""Sec. 3.1.4 MRF phrase alignment: the exact DP against brute force over all M^N assignments."""

import itertools

import numpy as np
import pytest

from tfembed.layers.mrf_alignment import align_phrases, mrf_energy, segments


def brute_force(scores, beta):
    """(best energy, lexicographically first assignment reaching it) over all M^N."""
    n, m = scores.shape
    best, best_a = -np.inf, None
    for a in itertools.product(range(m), repeat=n):  # lexicographic order
        e = sum(scores[j, a[j]] for j in range(n)) + beta * sum(a[j] == a[j + 1]
                                                               for j in range(n - 1))
        if e > best:
            best, best_a = e, a
    return best, np.array(best_a)


@pytest.mark.parametrize("seed", range(60))
def test_matches_brute_force_on_random_scores(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    scores = rng.normal(size=(n, m)) * rng.uniform(0.1, 3)
    beta = float(rng.choice([0.0, rng.uniform(0, 1), rng.uniform(1, 5)]))
    a, segs = align_phrases(scores, beta)
    want, _ = brute_force(scores, beta)
    assert mrf_energy(scores, a, beta) == pytest.approx(want, abs=1e-9)
    assert segs == segments(a)


@pytest.mark.parametrize("seed", range(60))
def test_ties_give_the_lexicographically_first_optimum(seed):
    """Small integer scores and beta: many exact ties, and exact arithmetic on both sides."""
    rng = np.random.default_rng(1000 + seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    scores = rng.integers(-2, 3, size=(n, m)).astype(float)
    beta = float(rng.integers(0, 3))
    a, _ = align_phrases(scores, beta)
    want_e, want_a = brute_force(scores, beta)
    assert mrf_energy(scores, a, beta) == want_e
    np.testing.assert_array_equal(a, want_a)


@pytest.mark.parametrize("seed", range(10))
def test_beta_zero_is_the_per_word_argmax(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(-3, 4, size=(12, 5)).astype(float)  # ties: argmax takes the first
    a, _ = align_phrases(scores, 0.0)
    np.testing.assert_array_equal(a, np.argmax(scores, axis=1))


def test_large_beta_gives_one_segment_on_the_best_summed_region():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(9, 4))
    beta = 10 * (scores.max() - scores.min()) * scores.shape[0]
    a, segs = align_phrases(scores, beta)
    best = int(np.argmax(scores.sum(axis=0)))
    assert segs == [(0, 9, best)]
    # ... while beta = 0 scatters these words over several regions (the test can fail).
    assert len(align_phrases(scores, 0.0)[1]) > 1


def test_hand_computed_three_words():
    # word:      r0   r1
    scores = np.array([[2.0, 0.0],   # "a"      prefers r0 by 2
                       [0.0, 1.0],   # "red"    prefers r1 by 1
                       [0.0, 3.0]])  # "circle" prefers r1 by 3
    # beta = 0: argmax per word -> (0, 1, 1), E = 2 + 1 + 3 = 6.
    a, segs = align_phrases(scores, 0.0)
    assert a.tolist() == [0, 1, 1] and segs == [(0, 1, 0), (1, 3, 1)]
    # beta = 1.5: (0,1,1): 6 + 1.5 = 7.5; (1,1,1): 0 + 1 + 3 + 3 = 7; (0,0,1): 2 + 0 + 3 + 1.5
    # = 6.5; (0,0,0): 2 + 3 = 5 -> still (0, 1, 1).
    a, _ = align_phrases(scores, 1.5)
    assert a.tolist() == [0, 1, 1] and mrf_energy(scores, a, 1.5) == 7.5
    # beta = 2.5: (1,1,1): 4 + 5 = 9 beats (0,1,1): 6 + 2.5 = 8.5 -> one phrase on r1.
    a, segs = align_phrases(scores, 2.5)
    assert a.tolist() == [1, 1, 1] and segs == [(0, 3, 1)] and mrf_energy(scores, a, 2.5) == 9


def test_maximises_not_minimises_the_energy():
    """The paper writes 'minimize'; its beta limits only hold for the maximum (see module)."""
    scores = np.array([[0.0, 5.0], [0.0, 5.0]])
    assert align_phrases(scores, 1.0)[0].tolist() == [1, 1]


def test_edge_cases_and_errors():
    a, segs = align_phrases(np.zeros((0, 3)), 1.0)
    assert a.shape == (0,) and segs == []
    assert align_phrases(np.array([[1.0], [2.0]]), 0.5)[1] == [(0, 2, 0)]
    assert segments([2, 2, 0, 2]) == [(0, 2, 2), (2, 3, 0), (3, 4, 2)]
    for bad_beta in (-0.1, np.nan, np.inf):
        with pytest.raises(ValueError, match="beta"):
            align_phrases(np.zeros((2, 2)), bad_beta)
    with pytest.raises(ValueError, match="finite"):
        align_phrases(np.array([[np.nan, 0.0]]), 1.0)
    with pytest.raises(ValueError, match="at least one region"):
        align_phrases(np.zeros((2, 0)), 1.0)
    with pytest.raises(ValueError, match=r"\[N_words, M_regions\]"):
        align_phrases(np.zeros(3), 1.0)
