"""NDCG@R, PCC@R, curves/AUC and triplet agreement (Gordo & Larlus 2017)."""

import math

import numpy as np
import pytest

from tfembed.metrics import ranking as K


def order(row):
    return sorted(range(len(row)), key=lambda j: (-row[j], j))


def ndcg_ref(pred, rel, r, exclude_self=True):
    vals = []
    for q in range(pred.shape[0]):
        items = [j for j in range(pred.shape[1]) if not (exclude_self and pred.shape[0] == pred.shape[1] and j == q)]
        p, g = [pred[q, j] for j in items], [rel[q, j] for j in items]
        dcg = sum(g[j] / math.log2(i + 2) for i, j in enumerate(order(p)[:r]))
        idcg = sum(x / math.log2(i + 2) for i, x in enumerate(sorted(g, reverse=True)[:r]))
        if idcg > 0:
            vals.append(dcg / idcg)
    return np.mean(vals)


def pcc_ref(pred, rel, r):
    vals = []
    for q in range(pred.shape[0]):
        items = [j for j in range(pred.shape[1]) if not (pred.shape[0] == pred.shape[1] and j == q)]
        top = [items[i] for i in order([pred[q, j] for j in items])[:r]]
        x, y = pred[q, top], rel[q, top]
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            vals.append(np.corrcoef(x, y)[0, 1])
    return np.mean(vals)


def test_ndcg_hand_wikipedia_example():
    # Ranked gains 3,2,3,0,1,2 -> DCG 6.8611, ideal 3,3,2,2,1,0 -> 7.1410.
    pred = np.array([[6, 5, 4, 3, 2, 1.0]])
    rel = np.array([[3, 2, 3, 0, 1, 2.0]])
    assert K.ndcg_at_r(pred, rel, 6) == pytest.approx(0.9608, abs=1e-4)
    # R=2: (3 + 2/log2 3) / (3 + 3/log2 3)
    assert K.ndcg_at_r(pred, rel, 2) == pytest.approx((3 + 2 / math.log2(3)) / (3 + 3 / math.log2(3)))
    assert K.ndcg_at_r(rel, rel, 4) == 1.0  # perfect


def test_ndcg_ties_and_exclude_self():
    rel = np.array([[0, 1.0, 0, 0]])
    assert K.ndcg_at_r(np.zeros((1, 4)), rel, 1) == 0.0  # tie -> item 0 first
    # Square: each self item has the top pred and top rel; it must be dropped.
    pred = np.array([[9, 1, 2.0], [1, 9, 2], [1, 2, 9]])
    rel = np.array([[5, 1, 0.0], [0, 5, 1], [1, 0, 5]])
    # Query 0 ranks 2 (rel 0) then 1 (rel 1): ndcg@1 = 0; query 1 ranks 2 first (rel 1): 1; query 2: 1 then 0 -> 0.
    assert K.ndcg_at_r(pred, rel, 1) == pytest.approx(1 / 3)
    assert K.ndcg_at_r(pred, rel, 1, exclude_self=False) == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("r", [1, 4, 30])
def test_ndcg_pcc_match_loop(seed, r):
    rng = np.random.default_rng(seed)
    pred = np.round(rng.normal(size=(10, 10)), 1)  # ties
    rel = np.maximum(rng.normal(size=(10, 10)), 0)
    rel[3] = 0  # query with no relevant item: skipped
    assert K.ndcg_at_r(pred, rel, r) == pytest.approx(ndcg_ref(pred, rel, r))
    assert K.ndcg_at_r(pred[:6], rel[:6], r) == pytest.approx(ndcg_ref(pred[:6], rel[:6], r))
    if r > 1:
        assert K.pcc_at_r(pred, rel, r) == pytest.approx(pcc_ref(pred, rel, r))


def test_pcc_hand_and_zero_variance():
    pred = np.array([[3, 2, 1, 0.0], [1, 1, 1, 1], [4, 3, 2, 1], [0.1, 0.1, 0.1, 0.1]])
    rel = np.array([[1, 0, 2, 9.0], [1, 2, 3, 4], [0.7, 0.7, 0.7, 0], [1, 2, 3, 4]])
    # Query 0 top-3: x = 3,2,1, y = 1,0,2 -> r = -1 / sqrt(2 * 2) = -0.5.
    # Queries 1 and 3 (constant pred; 0.1 - mean(0.1s) != 0 in floats) and
    # query 2 (constant top-3 rel) are skipped.
    assert K.pcc_at_r(pred, rel, 3, exclude_self=False) == pytest.approx(-0.5)
    assert np.isnan(K.pcc_at_r(pred[1:], rel[1:], 3, exclude_self=False))
    assert np.isnan(K.pcc_at_r(pred, rel, 1, exclude_self=False))


def test_curve_and_auc():
    pred = np.array([[3, 2, 1.0]])
    rs = [1, 2, 3]
    vals = K.curve(K.ndcg_at_r, pred, pred, rs, exclude_self=False)
    assert vals == [1.0, 1.0, 1.0] and K.area_under_curve(rs, vals) == 1.0
    # Trapezoid over non-uniform R: ((1+0)/2*1 + (0+0.5)/2*3) / 4 = 0.3125
    assert K.area_under_curve([1, 2, 5], [1.0, 0.0, 0.5]) == pytest.approx(0.3125)
    assert K.area_under_curve([7], [0.4]) == 0.4
    with pytest.raises(ValueError):
        K.area_under_curve([2, 1], [0.0, 1.0])


def test_triplet_agreement():
    pred = np.array([[0, 0.9, 0.1], [0.5, 0, 0.5]])
    trip = np.array([[0, 1, 2], [0, 1, 2], [1, 0, 2]])
    # model: a, a, tie -> agree with human 0, disagree with 1, tie 0.5
    assert K.triplet_agreement(pred, trip, [0, 1, 1]) == pytest.approx(0.5)
    assert K.triplet_agreement(pred, trip[:1], [0]) == 1.0
    assert K.triplet_agreement(np.zeros((2, 3)), trip, [0, 1, 0]) == 0.5
