"""Scorers (tfembed.scorers): every entry of the [N, M] score matrix against a loop written from
the definition, and the error for an unknown name."""

import numpy as np
import pytest

from tfembed import scorers
from tfembed.errors import ConfigError


def _pairs():
    rng = np.random.default_rng(0)
    # rows of very different norms: a scorer that forgot to normalise (or normalised) shows it
    a = rng.normal(size=(4, 8)) * np.array([[0.1], [1.0], [3.0], [10.0]])
    b = rng.normal(size=(5, 8)) * np.array([[2.0], [0.5], [1.0], [7.0], [0.2]])
    return a.astype(np.float32), b.astype(np.float32)


def _loop(f, a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return np.array([[f(a[i], b[j]) for j in range(len(b))] for i in range(len(a))])


def _dot(x, y):
    return sum(float(x[d] * y[d]) for d in range(len(x)))


def _cosine(x, y):
    return _dot(x, y) / (np.sqrt(_dot(x, x)) * np.sqrt(_dot(y, y)))


def _neg_sq_distance(x, y):
    return -sum(float((x[d] - y[d]) ** 2) for d in range(len(x)))


@pytest.mark.parametrize("name,by_hand", [("dot", _dot), ("cosine", _cosine),
                                          ("neg_sq_distance", _neg_sq_distance)])
def test_score_matrix_equals_the_definition(name, by_hand):
    a, b = _pairs()
    got = np.asarray(scorers.get(name)(a, b))
    want = _loop(by_hand, a, b)
    assert got.shape == (4, 5)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def test_scorers_differ_where_norms_differ():
    # The three are not interchangeable on these rows: each test above pins its own one.
    a, b = _pairs()
    dot, cos, dist = (np.asarray(scorers.get(n)(a, b)) for n in ("dot", "cosine", "neg_sq_distance"))
    assert np.abs(cos).max() <= 1.0 + 1e-6 < np.abs(dot).max()
    assert not np.allclose(dist, dot) and not np.allclose(dist, cos)
    # the nearest b under -||a-b||^2 is not always the one of largest dot product
    assert (dist.argmax(1) != dot.argmax(1)).any()


def test_neg_sq_distance_is_zero_on_identical_rows_and_negative_elsewhere():
    a, _ = _pairs()
    got = np.asarray(scorers.neg_sq_distance(a, a))
    np.testing.assert_allclose(np.diag(got), 0.0, atol=1e-2)  # |a|^2 up to 100: float32 rounding
    off = got[~np.eye(len(a), dtype=bool)]
    assert (off < -1e-3).all()


def test_cosine_ignores_scale_and_dot_does_not():
    a, b = _pairs()
    np.testing.assert_allclose(np.asarray(scorers.cosine(3.0 * a, b)),
                               np.asarray(scorers.cosine(a, b)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(scorers.dot(3.0 * a, b)),
                               3.0 * np.asarray(scorers.dot(a, b)), rtol=1e-5, atol=1e-5)


def test_registry_names_and_unknown_name_error():
    # the three vector scorers (the registry may hold more, e.g. Karpathy's region-word one)
    assert {"dot", "cosine", "neg_sq_distance"} <= set(scorers.SCORERS)
    for name in ("dot", "cosine", "neg_sq_distance"):
        assert scorers.get(name) is scorers.SCORERS[name]
    with pytest.raises(ConfigError, match=r"unknown scorer 'euclid'.*dot.*cosine.*neg_sq_distance"):
        scorers.get("euclid")
