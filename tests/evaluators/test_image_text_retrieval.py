"""Image-text retrieval evaluator: a 2-image / 3-caption score matrix worked out by hand
(metrics and exact chance), a port of VSE++'s i2t / t2i loops (Faghri et al. 2018,
vsepp/evaluation.py) on random scores, embeddings + score function scored in blocks, the
coco_1k_5fold protocol as the mean of its folds, and the protocol names."""

import numpy as np
import pytest

from tfembed.evaluators import image_text_retrieval as itr
from tfembed.scorers import dot

# Texts 0, 1 describe image 0; text 2 describes image 1.
SCORES = np.array([[0.9, 0.1, 0.5],
                   [0.2, 0.8, 0.7]])
T2I = np.array([0, 0, 1])


def test_hand_computed_metrics_and_chance():
    m, c = itr.evaluate(T2I, SCORES)
    # i2t: image 0 ranks t0, t2, t1 -> its best caption (t0) at 1; image 1 ranks t1, t2, t0 ->
    # t2 at 2. t2i: t0 -> image 0 at 1, t1 -> image 0 at 2, t2 -> image 1 at 1.
    want = {"i2t_r@1": 50.0, "i2t_r@5": 100.0, "i2t_r@10": 100.0, "i2t_medr": 1.0,
            "i2t_meanr": 1.5, "t2i_r@1": 200 / 3, "t2i_r@5": 100.0, "t2i_r@10": 100.0,
            "t2i_medr": 1.0, "t2i_meanr": 4 / 3}
    want["rsum"] = sum(v for k, v in want.items() if "_r@" in k)
    assert m == pytest.approx(want)
    # chance: t2i uniform over 2 images; i2t image 0 (2 of 3 captions) hits at 1 with
    # 1 - (2/3)(1/2) = 2/3, image 1 with 1/3; E[best rank] = (n + 1)/(m + 1): 4/3 and 2;
    # median best rank: image-typical m = 1 (int of median 1.5): P(rank <= 2) = 2/3 >= 1/2.
    want_c = {"i2t_r@1": 50.0, "i2t_r@5": 100.0, "i2t_r@10": 100.0, "i2t_medr": 2.0,
              "i2t_meanr": (4 / 3 + 2) / 2, "t2i_r@1": 50.0, "t2i_r@5": 100.0,
              "t2i_r@10": 100.0, "t2i_medr": 1.0, "t2i_meanr": 1.5}
    want_c["rsum"] = sum(v for k, v in want_c.items() if "_r@" in k)
    assert c == pytest.approx(want_c) and set(c) == set(m)


def _vsepp(sim, per_image=5):
    """VSE++ evaluation.py i2t / t2i on a score matrix [N, 5N] (captions 5i..5i+4 of image i)."""
    n = sim.shape[0]
    ranks = np.zeros(n)
    for index in range(n):
        inds = np.argsort(sim[index])[::-1]
        ranks[index] = min(np.where(inds == i)[0][0]
                           for i in range(per_image * index, per_image * index + per_image))
    out = {}
    for name, r in (("i2t", ranks), ("t2i", None)):
        if r is None:
            r = np.zeros(per_image * n)
            for index in range(n):
                for i in range(per_image):
                    inds = np.argsort(sim[:, per_image * index + i])[::-1]
                    r[per_image * index + i] = np.where(inds == index)[0][0]
        for k in (1, 5, 10):
            out[f"{name}_r@{k}"] = 100.0 * len(np.where(r < k)[0]) / len(r)
        out[f"{name}_medr"] = np.floor(np.median(r)) + 1
        out[f"{name}_meanr"] = r.mean() + 1
    return out


def test_matches_the_vsepp_loops_on_random_scores():
    rng = np.random.default_rng(0)
    images, texts = rng.normal(size=(40, 6)), rng.normal(size=(200, 6))
    t2i = np.repeat(np.arange(40), 5)
    texts = texts + 1.5 * images[t2i]  # better than chance, not perfect
    sim = images @ texts.T
    m, _ = itr.evaluate(t2i, sim)
    want = _vsepp(sim)
    assert {k: m[k] for k in want} == pytest.approx(want)
    assert 0 < m["i2t_r@1"] < 100 and 0 < m["t2i_r@1"] < 100  # the check can fail
    # embeddings + a score function, scored a few images at a time: the same numbers
    blocks, _ = itr.evaluate(t2i, image_embeddings=images.astype(np.float32),
                             text_embeddings=texts.astype(np.float32), score_fn=dot, chunk=7)
    assert blocks == pytest.approx(m, rel=1e-5)


def test_coco_1k_5fold_is_the_mean_of_its_folds():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(5000, 4)).astype(np.float32)
    t2i = np.repeat(np.arange(5000), 2)
    texts = (rng.normal(size=(10000, 4)) + 2.0 * images[t2i]).astype(np.float32)
    m, c = itr.evaluate(t2i, image_embeddings=images, text_embeddings=texts, score_fn=dot,
                        protocol="coco_1k_5fold", chunk=500)
    folds = [itr.evaluate(np.repeat(np.arange(1000), 2),
                          images[f * 1000:(f + 1) * 1000] @ texts[f * 2000:(f + 1) * 2000].T)[0]
             for f in range(5)]
    assert m == pytest.approx({k: np.mean([f[k] for f in folds]) for k in m}, rel=1e-5)
    assert c["t2i_r@1"] == pytest.approx(100 / 1000)  # chance of one 1,000-image fold
    assert c["i2t_r@1"] == pytest.approx(100 * 2 / 2000)


def test_protocol_names():
    assert itr.protocol_name("flickr_1k", 1000) == "flickr_1k"
    assert itr.protocol_name("flickr_1k", 24) == "flickr_subset_24"
    assert itr.protocol_name("coco_1k_5fold", 5000) == "coco_1k_5fold"
    assert itr.protocol_name("coco_5k", 4000) == "coco_subset_4000"
    assert itr.protocol_name("flickr_1k_val", 500) == "flickr_subset_500_val"
