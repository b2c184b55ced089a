"""Semantic ranking evaluator (Gordo & Larlus 2017 Table 2 / Fig. 2) on a 4-image case whose
NDCG@R, PCC@R, their areas over log R and the triplet agreement are worked out by hand."""

import numpy as np
import pytest

from tfembed.evaluators import semantic_ranking as sr

# Unit embeddings; cosines: 01 0.8, 02 0, 03 -1, 12 0.6, 13 -0.8, 23 0.
E = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])
REL = np.array([[1.0, 0.5, 0.2, 0.1],
                [0.5, 1.0, 0.4, 0.35],
                [0.2, 0.4, 1.0, 0.3],
                [0.1, 0.35, 0.3, 1.0]])
L3 = np.log2(3.0)  # the discount of rank 2


def test_ndcg_pcc_and_areas_by_hand():
    # 4 images -> each query ranks 3 others -> R axis 1..2 (capped below the database size).
    # q0 ranks 1, 2, 3 (gains .5 .2 .1 = ideal): NDCG@1 = NDCG@2 = 1, PCC@2 = +1.
    # q1 ranks 0, 2, 3 (gains .5 .4 .35 = ideal): 1, 1, +1.
    # q2 ranks 1 (.6), then 0 and 3 tie at 0 -> index order 0, 3: gains .4 .2; ideal .4 .3:
    #    NDCG@1 = 1, NDCG@2 = (.4 + .2/L3) / (.4 + .3/L3); PCC@2 over (.6, 0) vs (.4, .2) = +1.
    # q3 ranks 2 (0), 1 (-.8), 0 (-1): gains .3 .35; ideal .35 .3:
    #    NDCG@1 = .3/.35, NDCG@2 = (.3 + .35/L3) / (.35 + .3/L3); PCC@2 = -1.
    by_name, curves = sr.score_embeddings({"model": E, "raw_features": E,
                                           "random": sr.random_embedding(4)}, REL, seed=0)
    ndcg1 = (1 + 1 + 1 + .3 / .35) / 4
    ndcg2 = (1 + 1 + (.4 + .2 / L3) / (.4 + .3 / L3) + (.3 + .35 / L3) / (.35 + .3 / L3)) / 4
    assert curves["model"]["r"] == [1, 2] and curves["model"]["pcc_r"] == [2]
    assert curves["model"]["ndcg"] == pytest.approx([ndcg1, ndcg2])
    # Two points on the log axis: the area is their mean; PCC has the single point R = 2.
    assert by_name["model"]["ndcg_auc"] == pytest.approx((ndcg1 + ndcg2) / 2)
    assert by_name["model"]["pcc_auc"] == pytest.approx((1 + 1 + 1 - 1) / 4)
    assert "ndcg@10" not in by_name["model"]  # the database is smaller than 10
    # The tf-idf oracle ranks by the relevance itself: 1 everywhere.
    assert by_name["tfidf_oracle"]["ndcg_auc"] == 1.0 and by_name["tfidf_oracle"]["pcc_auc"] == 1.0
    assert by_name["tfidf_oracle"]["user_study_agreement"] == 1.0


def test_triplet_agreement_and_chance_by_hand():
    # Human judgements: (0; 1 vs 2) picks 1 -> model .8 > 0 agrees: 1.
    # (2; 0 vs 3) picks 3 -> model ties 0 = 0: 0.5.  (3; 1 vs 2) picks 1 -> model -.8 < 0: 0.
    human = (np.array([[0, 1, 2], [2, 0, 3], [3, 1, 2]]), np.array([0, 1, 0]))
    rand = sr.random_embedding(4, seed=3)
    metrics, chance, _ = sr.evaluate({"model": E, "raw_features": E, "random": rand}, REL,
                                     primary="model", human=human)
    assert metrics["human_triplet_agreement"] == pytest.approx(0.5)
    assert metrics["human_triplet_agreement_model"] == metrics["human_triplet_agreement"]
    # Chance of every key = the random embedding's value of that metric.
    cos = rand @ rand.T
    want = np.mean([0.5 if cos[q, a] == cos[q, b] else float((cos[q, b] > cos[q, a]) == c)
                    for (q, a, b), c in zip(*human)])
    assert chance["human_triplet_agreement"] == pytest.approx(want)
    assert chance["ndcg_auc"] == metrics["ndcg_auc_random"] == chance["ndcg_auc_tfidf_oracle"]


def test_query_database_pair_and_image_text_queries():
    class Identity:  # a tiny embedding model: the text tower is the identity
        def encode_text(self, t):
            return np.asarray(t, np.float64)

    phi = np.array([[1.0, 0.0], [0.0, 1.0]])
    theta = np.array([[0.0, 1.0], [0.0, 1.0]])
    q = sr.image_text_queries(Identity(), phi, theta)
    s = 1 / np.sqrt(2)
    np.testing.assert_allclose(q, [[s, s], [0, 1]])
    # (query, database) pair: queries l2(phi + theta) against phi alone.
    np.testing.assert_allclose(sr.similarity_matrix((q, phi)), [[s, s], [0, 1]])
    np.testing.assert_allclose(sr.similarity_matrix(phi * 3), np.eye(2))
