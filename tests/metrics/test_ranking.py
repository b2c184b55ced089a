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
    # Linear-R trapezoid over non-uniform R: ((1+0)/2*1 + (0+0.5)/2*3) / 4 = 0.3125
    assert K.area_under_curve([1, 2, 5], [1.0, 0.0, 0.5], log_axis=False) == pytest.approx(0.3125)
    assert K.area_under_curve([7], [0.4]) == 0.4
    with pytest.raises(ValueError):
        K.area_under_curve([2, 1], [0.0, 1.0])


def test_auc_is_the_mean_height_over_log_r_as_in_fig2():
    # Fig. 2 plots R on a log axis: each decade weighs the same.  R = 1, 10, 100 are equally
    # spaced there: ((1 + 0)/2 + (0 + 0.5)/2) / 2 = 0.375.  (Over linear R it is
    # ((1+0)/2*9 + (0+0.5)/2*90) / 99 = 0.2727: the old definition.)
    assert K.area_under_curve([1, 10, 100], [1.0, 0.0, 0.5]) == pytest.approx(0.375)
    # Uneven on the log axis: log2 widths 1 (1->2) and 2 (2->8): ((1+0)/2*1 + (0+1)/2*2) / 3
    assert K.area_under_curve([1, 2, 8], [1.0, 0.0, 1.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        K.area_under_curve([0, 1], [0.0, 1.0])


def test_r_axis_is_fig2_axis_capped_below_the_database():
    # Fig. 2: R = 1..1,000 log-spaced.  A 1,000-image leave-one-out test set ranks 999 items:
    # the axis stops at 998 (never the whole database, where any ranking scores high).
    rs = K.r_axis(999)
    assert rs[0] == 1 and rs[-1] == 998 and np.all(np.diff(rs) > 0) and len(rs) <= 20
    assert K.r_axis(49_999)[-1] == 1000 and K.r_axis(1001)[-1] == 1000
    assert K.r_axis(23).tolist()[-1] == 22 and K.r_axis(2).tolist() == [1]
    ratios = np.diff(np.log(K.r_axis(49_999)))[-5:]  # log-spaced at the large end
    assert np.ptp(ratios) < 0.02
    with pytest.raises(ValueError):
        K.r_axis(1)


def expected_random_ndcg_loop(rel, rs):
    """[E[NDCG@R] for R in rs] of a uniformly random ranking, written from the definition:
    at every position i <= R the expected gain is the query's mean relevance (every item is
    equally likely there), so E[DCG@R] = mean(rel) * sum_i 1/log2(i+1), over the fixed
    IDCG@R; averaged over the queries (leave-one-out: the query's own item is not ranked)."""
    per_query = []
    for q in range(rel.shape[0]):
        g = [rel[q, j] for j in range(rel.shape[1]) if j != q]
        ideal, mean = sorted(g, reverse=True), sum(g) / len(g)
        idcg, edcg, at = 0.0, 0.0, {}
        for i in range(len(g)):
            idcg += ideal[i] / math.log2(i + 2)
            edcg += mean / math.log2(i + 2)
            at[i + 1] = edcg / idcg
        per_query.append([at[min(int(r), len(g))] for r in rs])
    return np.mean(per_query, axis=0)


def test_exact_random_expectation_by_enumeration():
    # One query, items of relevance 1, 0, 0: over the 6 orders NDCG@1 is 1 in 2 of them and
    # NDCG@2 averages (1 + 1/log2 3) / 3; the loop's formula gives the same.
    import itertools

    rel = np.array([[1.0, 0, 0]])
    pred = np.array([[0.3, 0.2, 0.1]])
    for r, want in ((1, 1 / 3), (2, (1 + 1 / math.log2(3)) / 3)):
        vals = [K.ndcg_at_r(pred[:, list(p)], rel, r, exclude_self=False)
                for p in itertools.permutations(range(3))]
        assert np.mean(vals) == pytest.approx(want)
        square = np.array([[0, 1.0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
        assert expected_random_ndcg_loop(square[:1], [r])[0] == pytest.approx(want)


def test_random_ranking_auc_is_the_chance_level_of_the_data_not_near_1():
    # A sparse, Visual-Genome-like relevance: each of 400 images shares topic words with the
    # ~10 of its topic (relevance ~0.5) and little with the rest (~0.03).  A random embedding's
    # ndcg_auc over the Fig. 2 axis must match the exact expectation of a random ranking (the
    # slow loop above): 0.21 here, with NDCG@1 ~0.09 (Table 2's random row: 10.2).  The old
    # area (linear R up to N - 1) scored the same random ranking 0.42.
    rng = np.random.default_rng(0)
    n = 400
    topic = rng.integers(0, 40, n)
    rel = np.where(topic[:, None] == topic[None, :], 0.5, 0.02) + rng.uniform(0, 0.02, (n, n))
    rel = (rel + rel.T) / 2
    rs = K.r_axis(n - 1)
    assert rs[-1] == 398
    want = K.area_under_curve(rs, expected_random_ndcg_loop(rel, rs))
    x = rng.normal(size=(n, 64))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    pred = x @ x.T
    got = K.area_under_curve(rs, K.curve(K.ndcg_at_r, pred, rel, rs))
    assert got == pytest.approx(want, abs=0.01) and got == pytest.approx(0.207, abs=0.01)
    assert K.ndcg_at_r(pred, rel, 1) == pytest.approx(0.086, abs=0.01)
    old_rs = np.unique(np.geomspace(1, n - 1, 16).astype(int))
    old = K.area_under_curve(old_rs, K.curve(K.ndcg_at_r, pred, rel, old_rs), log_axis=False)
    assert old > 0.4
    prs = rs[rs >= 2]
    pcc = K.area_under_curve(prs, K.curve(K.pcc_at_r, pred, rel, prs))
    assert abs(pcc) < 0.03  # Table 2: -0.2 +- 0.7 (x100)
    oracle = K.area_under_curve(rs, K.curve(K.ndcg_at_r, rel, rel, rs))
    assert oracle == 1.0  # Table 2's text oracle: 100
