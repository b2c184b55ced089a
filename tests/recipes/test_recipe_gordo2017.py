"""gordo2017 recipe: smoke run on synthetic scenes with export (text, image + text queries),
baselines, tf-idf oracle and chance in results.json, human judgements scored by hand, a short
training that beats random, the real flickr8k features smoke run."""

import json

import numpy as np
import tensorflow as tf

from tfembed.towers.stem_tfidf import stem_tfidf_tower
from tfembed.recipe import run_recipe


def _run(tmp_path, *args):
    assert run_recipe("gordo2017", ["--smoke", "--workdir", str(tmp_path), *args]) == 0
    return json.loads((tmp_path / "results.json").read_text())


def _tfidf_pick(rows_to_judge):
    """Hand check: the tf-idf choice on the smoke scenes (train captions fit the idf)."""
    from tfembed.data import relevance
    from tfembed.data.sources import synthetic_scenes

    ds = synthetic_scenes.load(num_train=48, num_val=0, num_test=24, captions_per_image=5)
    tfidf = relevance.CaptionTfidf([ds.texts[r] for r in ds.splits["train"]])
    rel = relevance.similarity(tfidf.vectors(ds.texts))
    return [None if rel[q, a] == rel[q, b] else int(rel[q, b] > rel[q, a])
            for q, a, b in rows_to_judge]


def test_synthetic_smoke_with_export(tmp_path):
    judged = tmp_path / "judged.csv"  # smoke test images are scene_00048 .. scene_00071
    # The "human" agrees with tf-idf on the first triplet and not on the second, so the tf-idf
    # oracle's human agreement (the paper's 'Caption tf-idf' US row) is 0.5 by hand.
    pick = _tfidf_pick([(48, 49, 50), (51, 52, 53)])
    assert None not in pick
    judged.write_text(f"scene_00048,scene_00049,scene_00050,{pick[0]}\n"
                      f"scene_00051,scene_00052,scene_00053,{1 - pick[1]}\n")
    res = _run(tmp_path, "--export", "--set", f"relevance.human_triplets={judged}")
    assert res["protocol"] == "tfidf_caption_relevance"
    m, c = res["metrics"], res["chance"]
    for key in ("ndcg_auc", "pcc_auc", "user_study_agreement", "human_triplet_agreement"):
        for name in ("", "_v_v", "_vt_v", "_vt_vt", "_raw_features", "_random", "_tfidf_oracle"):
            assert key + name in m and key + name in c
    assert m["ndcg_auc"] == m["ndcg_auc_vt_v"] and c["ndcg_auc"] == m["ndcg_auc_random"]
    assert m["ndcg_auc_tfidf_oracle"] == 1.0 and m["pcc_auc_tfidf_oracle"] == 1.0
    assert m["user_study_agreement_tfidf_oracle"] == 1.0  # the tf-idf judge against itself
    assert m["human_triplet_agreement_tfidf_oracle"] == 0.5
    # The R axis is written out: 24 test images -> a database of 23 -> R = 1..22.
    curves = json.loads((tmp_path / "curves.json").read_text())
    assert curves["vt_v"]["r"][0] == 1 and curves["vt_v"]["r"][-1] == 22
    assert len(curves["vt_v"]["ndcg"]) == len(curves["vt_v"]["r"])
    assert any("over log R" in n and "R = 1..22" in n for n in res["notes"])
    assert res["config"]["eval.r_max"] == 1000
    from tfembed.data import relevance
    ids = {f"scene_{i:05d}": i - 48 for i in range(48, 72)}
    study, _ = relevance.load_triplet_judgements(str(tmp_path / "user_study_triplets.csv"), ids)
    assert len(study) > 100

    loaded = tf.saved_model.load(str(tmp_path / "export" / "1"))
    png = tf.io.encode_png(tf.zeros([32, 32, 3], tf.uint8))
    emb = loaded.signatures["embed_text"](text=tf.constant(["a red circle", "zzz"]))["embedding"]
    np.testing.assert_allclose(np.linalg.norm(emb[0]), 1.0, rtol=1e-5)
    out = loaded.signatures["retrieve_image_text"](image=tf.stack([png]),
                                                   text=tf.constant(["a blue square"]))
    assert out["ids"].shape == (1, 10) and out["scores"].shape == (1, 10)
    assert loaded.signatures["retrieve"](text=tf.constant(["circle"]))["ids"].shape == (1, 10)
    assert loaded.signatures["embed_image"](image=tf.stack([png]))["embedding"].shape == (1, 16)


def test_flickr8k_features_smoke(shared_data, tmp_path):
    root = shared_data / "flickr8k"
    res = _run(tmp_path, "--data", "flickr8k", "--data-dir", str(root),
               "--set", f"data.features={root / 'lite0_features.npz'}",
               "--set", "model.settings=['vt_v']")
    assert set(res["timing"]) == {"joint"}
    assert res["dataset"] == "flickr8k" and "ndcg_auc_vt_v" in res["metrics"]
    assert "ndcg_auc_v_v" not in res["metrics"]
    # Pretrained features carry caption semantics: the raw-feature cosine beats random.
    assert res["metrics"]["ndcg_auc_raw_features"] > res["metrics"]["ndcg_auc_random"]


def test_short_training_beats_random_by_a_margin(tmp_path):
    # 150 steps of (V,V) on 400 synthetic scenes: the learned embedding must beat the random
    # one clearly on both the NDCG area and the user-study triplets (measured: 0.84 vs 0.70
    # and 0.65 vs 0.52), and the raw pixels on the NDCG area.
    res = _run(tmp_path, "--set", "data.num_train=400", "--set", "data.num_test=120",
               "--set", "train.steps=150", "--set", "train.batch_size=32",
               "--set", "model.embed_dim=32", "--set", "relevance.top_k=10",
               "--set", "model.settings=['v_v']", "--set", "model.primary=v_v",
               "--set", "train.checkpoint_every=1000")
    m = res["metrics"]
    assert m["ndcg_auc_v_v"] > m["ndcg_auc_random"] + 0.07
    assert m["ndcg_auc_v_v"] > m["ndcg_auc_raw_features"] + 0.03
    assert m["pcc_auc_v_v"] > m["pcc_auc_random"] + 0.1
    assert m["user_study_agreement_v_v"] > m["user_study_agreement_random"] + 0.07


def test_unknown_pooling_is_a_config_error(tmp_path, capsys):
    code = run_recipe("gordo2017", ["--smoke", "--workdir", str(tmp_path), "--set", "image.pooling=avg"])
    assert code == 2 and "image.pooling" in capsys.readouterr().err
    code = run_recipe("gordo2017", ["--smoke", "--workdir", str(tmp_path), "--set", "model.settings=['v_v']"])
    assert code == 2 and "model.primary" in capsys.readouterr().err


def test_joint_triplet_loss_by_hand_in_graph():
    from tfembed.experiments import semantic_retrieval_parts as parts

    from types import SimpleNamespace

    from tfembed.models import JointEmbedding

    visual = parts.visual_encoder({}, ("features", 5), 3)
    textual = stem_tfidf_tower([0, 1, 2], [1.0, 1.0, 1.0], 3)  # word counts [N, 4] -> theta
    model = JointEmbedding(visual, textual, task="triplet",
                           task_options={"margin": 0.5, "text_weight": 1.0})
    rng = np.random.default_rng(0)
    batch = {k: rng.normal(size=(6, 5)).astype(np.float32) for k in ("query", "positive", "negative")}
    batch.update({k + "_text": rng.random((6, 4)).astype(np.float32)
                  for k in ("query", "positive", "negative")})
    v = {k: visual(batch[k]).numpy() for k in ("query", "positive", "negative")}
    t = {k: textual(batch[k + "_text"]).numpy() for k in ("query", "positive", "negative")}

    def hinge(a, p, n):
        return 0.5 * np.maximum(0, 0.5 - (a * p).sum(1) + (a * n).sum(1))
    want = (hinge(v["query"], v["positive"], v["negative"])
            + hinge(v["query"], t["positive"], t["negative"])
            + hinge(t["query"], v["positive"], v["negative"])).mean()
    got = tf.function(lambda b: model.compute_batch_loss(b, training=False))(batch)
    np.testing.assert_allclose(float(got), want, rtol=1e-5)
    text = parts.Text(SimpleNamespace(idf=[1.0, 1.0, 1.0]), None, [0, 1, 2], None)
    assert not parts.build_model({}, ("features", 5), text, 3, margin=0.5, text_weight=0.0) \
        .text_tower.trainable_variables
