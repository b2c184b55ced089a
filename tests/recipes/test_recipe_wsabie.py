"""wsabie recipe: caption-term annotation + semantic-retrieval ranking on synthetic scenes,
class-label annotation on synthetic birds; every metric carries its chance."""

import json

import pytest
import tensorflow as tf

from tfembed.recipe import run_recipe


def _run(tmp_path, *args):
    assert run_recipe("wsabie", ["--smoke", "--workdir", str(tmp_path), *args]) == 0
    return json.loads((tmp_path / "results.json").read_text())


def test_caption_terms_smoke(tmp_path):
    res = _run(tmp_path, "--export")
    m, c = res["metrics"], res["chance"]
    assert res["protocol"] == "tfidf_caption_relevance" and set(m) == set(c)
    for key in ("annotation_p@1", "annotation_p@5", "ndcg_auc", "pcc_auc", "ndcg_auc_wsabie",
                "ndcg_auc_raw_features"):
        assert key in m
    assert 0 < c["annotation_p@5"] < 1 and c["ndcg_auc"] == m["ndcg_auc_random"]
    loaded = tf.saved_model.load(str(tmp_path / "export" / "1"))
    png = tf.io.encode_png(tf.zeros([32, 32, 3], tf.uint8))
    out = loaded.signatures["classify_prototypes"](image=tf.stack([png]))
    assert out["classes"].shape == (1,) and f"({out['scores'].shape[1]})" in res["notes"][0]


def test_class_labels_smoke(tmp_path):
    res = _run(tmp_path / "birds", "--data", "synthetic_birds")
    assert res["protocol"] == "annotation_per_class"
    assert res["chance"]["annotation_top1_per_class"] == pytest.approx(1 / 8)
    assert "ndcg_auc" not in res["metrics"]
