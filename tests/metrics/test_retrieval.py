"""AP@k and image-text recall: hand-made matrices and slow loop references."""

import itertools
import math

import numpy as np
import pytest

from tfembed.metrics import retrieval as R


# ---------------------------------------------------------------- references
def ranking(row):
    """Item order by score descending, ties by index ascending (slow)."""
    return sorted(range(len(row)), key=lambda j: (-row[j], j))


def ap_ref(row, rel, k):
    order = ranking(row)
    n_rel = sum(bool(x) for x in rel)
    if n_rel == 0:
        return float("nan")
    hits, total = 0, 0.0
    for i, j in enumerate(order[:k], start=1):
        if rel[j]:
            hits += 1
            total += hits / i
    return total / min(k, n_rel)


def vsepp_ref(sim, t2i, ks=(1, 5, 10)):
    """Port of VSE++ evaluation.py i2t/t2i loops, any captions per image,
    with the package tie rule (stable sort of -score instead of argsort[::-1])."""
    n_img, n_txt = sim.shape
    i2t = []
    for index in range(n_img):
        caps = [t for t in range(n_txt) if t2i[t] == index]
        if not caps:
            continue
        inds = ranking(sim[index])
        i2t.append(min(inds.index(c) for c in caps))  # 0-based like VSE++
    t2i_r = [ranking(sim[:, t]).index(t2i[t]) for t in range(n_txt)]
    out = {}
    for name, ranks in (("i2t", np.array(i2t)), ("t2i", np.array(t2i_r))):
        for k in ks:
            out[f"{name}_r@{k}"] = 100.0 * len(np.where(ranks < k)[0]) / len(ranks)
        out[f"{name}_medr"] = np.floor(np.median(ranks)) + 1
        out[f"{name}_meanr"] = ranks.mean() + 1
    out["rsum"] = sum(out[f"{d}_r@{k}"] for d in ("i2t", "t2i") for k in ks)
    return out


def assert_dict_close(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key] == pytest.approx(b[key], abs=1e-9), key


# ---------------------------------------------------------------- AP@k
def test_ap_perfect_and_all_wrong():
    scores = np.array([[0.9, 0.8, 0.1, 0.0]])
    assert R.average_precision_at_k(scores, [[1, 1, 0, 0]], 2)[0] == 1.0
    assert R.average_precision_at_k(scores, [[0, 0, 1, 1]], 2)[0] == 0.0


def test_ap_hand_mixed_and_denominator():
    # Ranked relevance 1,0,1,0,0,1 (R = 3).
    scores = np.array([[6, 5, 4, 3, 2, 1.0]])
    rel = np.array([[1, 0, 1, 0, 0, 1]], bool)
    # k=4: (1/1 + 2/3) / min(4, 3) = 5/9
    assert R.average_precision_at_k(scores, rel, 4)[0] == pytest.approx(5 / 9)
    # k=2: 1 / min(2, 3) = 1/2; dividing by R would give 1/3.
    assert R.average_precision_at_k(scores, rel, 2)[0] == pytest.approx(0.5)
    # k=6: (1 + 2/3 + 3/6) / 3
    assert R.average_precision_at_k(scores, rel, 6)[0] == pytest.approx(13 / 18)


def test_ap_ties_by_index_ascending():
    scores = np.zeros((1, 3))
    rel = np.array([[0, 0, 1]], bool)
    # Ranking is 0,1,2 -> relevant at position 3; reversed argsort would give 1.
    assert R.average_precision_at_k(scores, rel, 3)[0] == pytest.approx(1 / 3)
    assert R.average_precision_at_k(scores, rel, 2)[0] == 0.0


def test_ap_no_relevant_is_nan_and_excluded():
    scores = np.array([[1.0, 0.0], [1.0, 0.0]])
    rel = np.array([[0, 0], [1, 0]], bool)
    ap = R.average_precision_at_k(scores, rel, 2)
    assert np.isnan(ap[0]) and ap[1] == 1.0
    assert R.mean_ap_at_k(scores, rel, 2) == 1.0
    assert np.isnan(R.mean_ap_at_k(scores, np.zeros((2, 2), bool), 2))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 3, 50])
def test_ap_matches_loop(seed, k):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, size=(12, 20)).astype(float)  # many ties
    rel = rng.random((12, 20)) < 0.2
    got = R.average_precision_at_k(scores, rel, k)
    ref = np.array([ap_ref(scores[q], rel[q], k) for q in range(12)])
    np.testing.assert_allclose(got, ref, equal_nan=True)


@pytest.mark.parametrize("levels", [3, 1000, None])  # heavy ties, some, none (floats)
def test_top_k_order_equals_the_stable_full_sort(levels):
    rng = np.random.default_rng(levels or 7)
    scores = rng.random((40, 500)) if levels is None else rng.integers(0, levels, (40, 500))
    scores = scores.astype(float)
    scores[3] = 1.0  # a row of equal scores
    for k in (1, 5, 50, 62, 500):
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(R.top_k_order(scores, k), expected)


@pytest.mark.parametrize("n,r,k", [(6, 2, 3), (6, 4, 2), (5, 1, 5), (5, 5, 5), (1, 1, 1)])
def test_chance_ap_exact_by_enumeration(n, r, k):
    rel = np.array([1] * r + [0] * (n - r), bool)
    aps = [ap_ref([0] * n, rel[list(p)], k) for p in itertools.permutations(range(n))]
    assert R.chance_ap_at_k(rel[None], k) == pytest.approx(np.mean(aps))


def test_chance_ap_averages_queries_like_mean_ap():
    rel = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]], bool)
    expect = np.mean([R.chance_ap_at_k(rel[:1], 2), R.chance_ap_at_k(rel[1:2], 2)])
    assert R.chance_ap_at_k(rel, 2) == pytest.approx(expect)


# ---------------------------------------------------------------- recall
def test_recall_perfect():
    t2i = np.array([0, 0, 1, 1, 2, 2])
    sim = (t2i[None, :] == np.arange(3)[:, None]).astype(float)
    out = R.image_text_recall(sim, t2i, chunk_size=2)
    for d in ("i2t", "t2i"):
        assert out[f"{d}_r@1"] == 100.0 and out[f"{d}_medr"] == 1 and out[f"{d}_meanr"] == 1
    assert out["rsum"] == 600.0


def test_recall_all_ties_not_optimistic():
    t2i = np.array([0, 0, 1, 1, 2, 2])
    out = R.image_text_recall(np.zeros((3, 6)), t2i, ks=(1, 2))
    i2t, t2i_r = R.image_ranks(np.zeros((3, 6)), t2i)
    np.testing.assert_array_equal(i2t, [1, 3, 5])  # first caption index + 1
    np.testing.assert_array_equal(t2i_r, [1, 1, 2, 2, 3, 3])  # image index + 1
    assert out["t2i_r@1"] == pytest.approx(100 * 2 / 6)
    assert out["i2t_r@2"] == pytest.approx(100 / 3)


def test_recall_hand_mixed():
    # 2 images; captions 0,1 -> image 0, caption 2 -> image 1.
    sim = np.array([[0.1, 0.5, 0.9],
                    [0.2, 0.0, 0.3]])
    out = R.image_text_recall(sim, [0, 0, 1], ks=(1, 2))
    # i2t: image0 ranks 2,1,0 -> best own caption (1) at rank 2; image1: 2,0,1 -> rank 1.
    # t2i: cap0 -> image1 first -> rank 2; cap1 rank 1; cap2 rank 2.
    assert out["i2t_r@1"] == 50.0 and out["i2t_r@2"] == 100.0
    assert out["t2i_r@1"] == pytest.approx(100 / 3) and out["t2i_meanr"] == pytest.approx(5 / 3)
    assert out["i2t_medr"] == 1.0 and out["t2i_medr"] == 2.0


def test_recall_minus_inf_scores():
    # Image 0's own captions (1, 2) both score -inf; caption 0 (of image 1) must
    # not be mistaken for its best caption.
    sim = np.array([[0.0, -np.inf, -np.inf], [1.0, 0.0, 0.0]])
    i2t, t2i = R.image_ranks(sim, [1, 0, 0])
    np.testing.assert_array_equal(i2t, [2, 1])
    np.testing.assert_array_equal(t2i, [1, 2, 2])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("chunk", [1, 3, 1024])
def test_recall_matches_vsepp_loop(seed, chunk):
    rng = np.random.default_rng(seed)
    n_img = 9
    caps = rng.integers(0, 4, size=n_img)  # uneven, some images without caption
    caps[0] = max(caps[0], 1)
    t2i = np.repeat(np.arange(n_img), caps)
    rng.shuffle(t2i)
    sim = rng.normal(size=(n_img, t2i.size))
    if seed % 2:
        sim = np.round(sim)  # heavy ties
    got = R.image_text_recall(sim, t2i, ks=(1, 2, 5), chunk_size=chunk)
    assert_dict_close(got, vsepp_ref(sim, t2i, ks=(1, 2, 5)))


def test_recall_chance_exact():
    t2i = np.array([0, 0, 0, 1, 2, 2])
    out = R.recall_chance(4, 6, t2i, ks=(1, 2))
    # Image with m captions among 6: 1 - C(6-m, K)/C(6, K); image 3 has none.
    p = lambda m, k: 1 - math.comb(6 - m, k) / math.comb(6, k)
    assert out["i2t_r@2"] == pytest.approx(100 * (p(3, 2) + p(1, 2) + p(2, 2)) / 3)
    assert out["t2i_r@1"] == 25.0 and out["t2i_r@2"] == 50.0
    assert out["i2t_meanr"] == pytest.approx((7 / 4 + 7 / 2 + 7 / 3) / 3)
    assert out["t2i_meanr"] == 2.5


def test_recall_chance_vs_monte_carlo():
    rng = np.random.default_rng(0)
    t2i = np.array([0, 0, 0, 1, 2, 2, 3])
    runs = [R.image_text_recall(rng.random((4, 7)), t2i, ks=(1, 3)) for _ in range(1500)]
    chance = R.recall_chance(4, 7, t2i, ks=(1, 3))
    for key in ("i2t_r@1", "i2t_r@3", "t2i_r@1", "t2i_r@3", "i2t_meanr", "t2i_meanr"):
        mc = np.mean([r[key] for r in runs])
        assert mc == pytest.approx(chance[key], rel=0.06), key


def test_coco_1k_5fold_folds_and_callable():
    rng = np.random.default_rng(5)
    n_folds, fold = 5, 4
    t2i = np.repeat(np.arange(n_folds * fold), 3)
    sim = rng.normal(size=(n_folds * fold, t2i.size))
    sim[t2i[None, :] // fold != np.arange(n_folds * fold)[:, None] // fold] = 99.0  # off-fold
    expect = [R.image_text_recall(sim[f * fold:(f + 1) * fold][:, t2i // fold == f],
                                  t2i[t2i // fold == f] - f * fold) for f in range(n_folds)]
    expect = {k: np.mean([e[k] for e in expect]) for k in expect[0]}
    got = R.coco_1k_5fold(sim, t2i, n_folds=n_folds, fold_size=fold)
    assert_dict_close(got, expect)
    assert got["i2t_r@1"] < 100  # off-fold 99s must not leak in
    via_fn = R.coco_1k_5fold(lambda i, t: sim[np.ix_(i, t)], t2i, n_folds=n_folds, fold_size=fold)
    assert_dict_close(via_fn, expect)
    with pytest.raises(ValueError):
        R.coco_1k_5fold(sim[:-1], t2i[:-3], n_folds=n_folds, fold_size=fold)


# ---------------------------------------------------------------- Reed's AP@k (precision@k)
def reed_retrieval_at_k_ref(scores, matches, k):
    """Slow port of reedscot/cvpr2016 util/util_retrieval.lua `retrieval_at_k`: sort each
    query's images by score (descending; ties by index here), keep the match flags of the
    first k, and average them over queries and positions (`torch.mean(matches:narrow(2,1,k))`)."""
    rows = []
    for q in range(len(scores)):
        order = ranking(scores[q])
        rows.append([float(matches[q][j]) for j in order[:k]])
    return float(np.mean(rows))


def test_reed_ap_is_precision_at_k_by_hand():
    # Ranked relevance 1,0,1,0,0,1 (R = 3): 2 of the top 4 match -> 0.5.
    scores = np.array([[6, 5, 4, 3, 2, 1.0]])
    rel = np.array([[1, 0, 1, 0, 0, 1]], bool)
    assert R.precision_at_k(scores, rel, 4)[0] == pytest.approx(0.5)  # truncated AP: 5/9
    assert R.precision_at_k(scores, rel, 2)[0] == pytest.approx(0.5)
    assert R.precision_at_k(scores, rel, 1)[0] == 1.0
    # k beyond N: precision over all N items, like narrowing to what there is.
    assert R.precision_at_k(scores, rel, 50)[0] == pytest.approx(0.5)
    # A query with no relevant item scores 0 and still counts in the mean (Reed averages
    # over every class query).
    two = np.vstack([scores, scores])
    assert R.mean_precision_at_k(two, np.vstack([rel, np.zeros_like(rel)]), 4) == 0.25


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 5, 50])
def test_reed_ap_matches_the_lua_loop(seed, k):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 5, size=(10, 60)).astype(float)  # many ties
    rel = rng.random((10, 60)) < 0.15
    assert R.mean_precision_at_k(scores, rel, k) == pytest.approx(
        reed_retrieval_at_k_ref(scores, rel, k))


@pytest.mark.parametrize("n,r,k", [(6, 2, 3), (6, 4, 2), (5, 1, 5), (5, 5, 5), (4, 1, 9)])
def test_chance_precision_exact_by_enumeration(n, r, k):
    rel = np.array([1] * r + [0] * (n - r), bool)
    ps = [R.precision_at_k(np.zeros((1, n)), rel[list(p)][None], k)[0]
          for p in itertools.permutations(range(n))]
    assert R.chance_precision_at_k(rel[None], k) == pytest.approx(np.mean(ps))
    assert R.chance_precision_at_k(rel[None], k) == pytest.approx(r / n)
