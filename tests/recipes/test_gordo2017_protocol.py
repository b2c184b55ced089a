"""Gordo & Larlus 2017 evaluation protocol (issue 13 items 2 and 4): (V+T,V+T) queries with
image + text against a database of visual embeddings only, the exported retrieve_image_text
ranking (through the run bundle, as `tfembed export RUN_DIR`) equal to the evaluation's, and
the user-study triplets drawn from the query's nearest neighbours in the raw features."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfembed import metrics
from tfembed.data import pipeline, relevance
from tfembed.data.sources import synthetic_scenes
from tfembed.experiments import semantic_retrieval as sr
from tfembed.experiments import semantic_retrieval_parts as parts
from tfembed.export import run_bundle
from tfembed.metrics import ranking as K


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def tiny():
    """A few synthetic scenes with precomputed 'features' (their 8x8 pixels), the caption tf-idf
    and an untrained joint model with fixed random weights."""
    ds = synthetic_scenes.load(num_train=40, num_val=0, num_test=14, captions_per_image=3,
                               image_size=8)
    ds.features = ds.images.reshape(ds.num_images, -1).astype(np.float32) / 255.0
    ds.images = None
    train, test = ds.splits["train"], ds.splits["test"]
    text = parts.fit_text(ds, train)
    vectors = text.tfidf.vectors(ds.texts)
    load_image, kind = pipeline.image_source(ds, np.arange(ds.num_images))
    keras.utils.set_random_seed(3)  # deterministic initial weights
    model = parts.build_model({}, kind, text, 6, margin=0.1, text_weight=1.0)
    data = sr.Data(ds, text, vectors, load_image, kind)
    cfg = {"seed": 0, "relevance": {"human_triplets": None}, "recipe": "gordo2017",
           "export": {"top_k": len(test)},
           "eval": {"r_max": 1000, "r_points": 20, "study_triplets": 500, "study_neighbours": 5}}
    return cfg, data, model, test


def _by_hand(model, ds, vectors, rows):
    """phi(I) = l2(W_v x + b_v), theta(t) = l2(W_t^T t) from the layer weights in NumPy."""
    w, b = model.image_tower.get_layer("projection").get_weights()
    phi = _unit(ds.features[rows].astype(np.float64) @ w + b)
    (wt,) = model.text_tower.get_layer("text_projection").get_weights()
    theta = _unit(vectors[rows].astype(np.float64) @ wt)
    return phi, theta


def test_vt_vt_queries_with_image_and_text_against_a_visual_only_database(tiny):
    # Section 6: "In all cases, the database consists only of images represented with visual
    # embeddings, with no textual information."  (V+T,V+T): query l2(phi + theta), database phi.
    cfg, data, model, rows = tiny
    ds, vectors = data.dataset, data.vectors
    by_name, curves = sr.evaluate(cfg, data, {"vt_vt": model, "vt_v": model}, rows)
    rs = np.asarray(curves["vt_vt"]["r"])

    def auc(pred):
        return K.area_under_curve(rs, K.curve(K.ndcg_at_r, pred, true_rel, rs))
    phi, theta = _by_hand(model, ds, vectors, rows)
    true_rel = vectors[rows].astype(np.float64) @ vectors[rows].T.astype(np.float64)
    want = auc(_unit(phi + theta) @ phi.T)
    assert by_name["vt_vt"]["ndcg_auc"] == pytest.approx(want, abs=1e-6)
    # The old evaluation put the text on the database side too (both = l2(phi + theta)).
    both = _unit(phi + theta)
    assert abs(auc(both @ both.T) - want) > 1e-3
    # (V+T,V) queries with the image alone.
    assert by_name["vt_v"]["ndcg_auc"] == pytest.approx(auc(phi @ phi.T), abs=1e-6)
    assert rs.tolist() == K.r_axis(len(rows) - 1).tolist()


def test_exported_retrieve_image_text_ranks_as_the_evaluation(tiny, tmp_path):
    cfg, data, model, rows = tiny
    ds, vectors = data.dataset, data.vectors
    sr.save_bundle(cfg, str(tmp_path), model, data, rows)
    path = run_bundle.export_run(str(tmp_path))  # from the bundle alone, no data set
    serve = tf.saved_model.load(path).signatures["retrieve_image_text"]
    out = serve(features=tf.constant(ds.features[rows]),  # image + all its captions as text
                text=tf.constant([" ".join(ds.texts[r]) for r in rows]))
    ids = out["ids"].numpy().astype(str)
    position = {ds.image_ids[r]: i for i, r in enumerate(rows)}
    exported = np.zeros((len(rows), len(rows)))
    for q in range(len(rows)):
        for name, score in zip(ids[q], out["scores"].numpy()[q]):
            exported[q, position[name]] = score
    phi, theta = _by_hand(model, ds, vectors, rows)
    np.testing.assert_allclose(exported, _unit(phi + theta) @ phi.T, atol=1e-5)
    # The evaluation scores exactly the exported ranking (the query's own image left out).
    by_name, curves = sr.evaluate(cfg, data, {"vt_vt": model}, rows)
    rs = np.asarray(curves["vt_vt"]["r"])
    true_rel = relevance.similarity(vectors[rows]).astype(np.float64)
    assert by_name["vt_vt"]["ndcg@10"] == pytest.approx(K.ndcg_at_r(exported, true_rel, 10),
                                                        abs=1e-4)
    got = K.area_under_curve(rs, K.curve(K.ndcg_at_r, exported, true_rel, rs))
    assert by_name["vt_vt"]["ndcg_auc"] == pytest.approx(got, abs=1e-4)
    evaluated = sr.similarity_matrix(sr.setting_embeddings(model, "vt_vt", data, rows))
    np.testing.assert_allclose(exported, evaluated, atol=1e-5)


def test_user_study_triplets_are_hard_near_neighbour_ones():
    # 4 topics of 60 images; the raw features place each topic in its own corner (plus noise),
    # so the query's 50 nearest neighbours are all of its topic.  An embedding that only knows
    # the topic (identical vector within a topic) ties on every such triplet: agreement 0.5
    # exactly by the tie rule.  On uniformly random candidates (the old protocol) one is of the
    # query's topic and the other not in 2 * 1/4 * 3/4 = 3/8 of the triplets, which it gets
    # right; the rest tie: 3/8 + 5/8 * 0.5 = 0.6875.  The tf-idf oracle agrees by construction.
    rng = np.random.default_rng(0)
    topic = np.repeat(np.arange(4), 60)
    raw = np.eye(4)[topic] * 5 + rng.normal(size=(240, 4)) * 0.3
    raw = np.concatenate([raw, rng.normal(size=(240, 4))], axis=1)
    words = rng.random((240, 30)) * (rng.random((240, 30)) < 0.3)
    words[:, :4] += np.eye(4)[topic] * 3  # the topic word dominates the relevance
    rel = _unit(words) @ _unit(words).T
    embeddings = {"raw_features": raw, "random": _unit(rng.normal(size=(240, 16))),
                  "topic_only": np.eye(4)[topic].astype(float)}
    by_name, _ = sr.score_embeddings(embeddings, rel, seed=0, ev={"study_triplets": 3000})
    assert by_name["topic_only"]["user_study_agreement"] == 0.5
    assert by_name["tfidf_oracle"]["user_study_agreement"] == 1.0
    assert abs(by_name["random"]["user_study_agreement"] - 0.5) < 0.05
    # Same embedding on uniformly random candidates, judged by the same tf-idf relevance:
    uniform = np.random.default_rng(0).integers(0, 240, (3000, 3))
    uniform = uniform[(uniform[:, 0] != uniform[:, 1]) & (uniform[:, 0] != uniform[:, 2])]
    trip, choice = relevance.judge_by_relevance(uniform, rel)
    easy = metrics.triplet_agreement(sr.similarity_matrix(embeddings["topic_only"]), trip, choice)
    assert easy == pytest.approx(0.6875, abs=0.03)


def test_human_judgements_score_every_row_including_the_tfidf_oracle(tiny):
    cfg, data, model, rows = tiny
    ds = data.dataset
    rel = relevance.similarity(data.vectors[rows])
    # Two judged triplets: the human agrees with tf-idf on the first, not on the second.
    t = [(0, 1, 2), (3, 4, 5)]
    pick = [int(rel[q, b] > rel[q, a]) for q, a, b in t]
    human = (np.asarray(t), np.asarray([pick[0], 1 - pick[1]]))
    by_name, _ = sr.score_embeddings({"raw_features": ds.features[rows],
                                      "random": sr.random_embedding(len(rows))},
                                     rel, 0, cfg["eval"], human)
    assert by_name["tfidf_oracle"]["human_triplet_agreement"] == 0.5
    assert set(by_name) == {"raw_features", "random", "tfidf_oracle"}
