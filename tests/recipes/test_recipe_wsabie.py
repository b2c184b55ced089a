"""wsabie recipe: caption-term annotation + semantic-retrieval ranking on synthetic scenes,
class-label annotation on synthetic birds; every metric carries its chance; the run bundle
re-exports (`tfembed export RUN_DIR`) the model that was evaluated."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tfembed.experiments import label_embedding
from tfembed.export import run_bundle
from tfembed.export.run_export import export_run
from tfembed.recipe import run_recipe

from tests.recipes.label_export_checks import assert_serves_like


@pytest.fixture
def trained(monkeypatch):
    """The in-process model of the run (captured where the run writes its bundle)."""
    seen, save = {}, run_bundle.save

    def capture(run_dir, model, *args, **kwargs):
        seen.update(model=model, **kwargs)
        return save(run_dir, model, *args, **kwargs)
    monkeypatch.setattr(label_embedding.run_bundle, "save", capture)
    return seen


def _run(tmp_path, *args):
    assert run_recipe("wsabie", ["--smoke", "--workdir", str(tmp_path), *args]) == 0
    return json.loads((tmp_path / "results.json").read_text())


def test_caption_terms_smoke_and_export(tmp_path, trained):
    res = _run(tmp_path, "--export")
    m, c = res["metrics"], res["chance"]
    assert res["protocol"] == "tfidf_caption_relevance" and set(m) == set(c)
    for key in ("annotation_p@1", "annotation_p@5", "ndcg_auc", "pcc_auc", "ndcg_auc_wsabie",
                "ndcg_auc_raw_features"):
        assert key in m
    assert 0 < c["annotation_p@5"] < 1 and c["ndcg_auc"] == m["ndcg_auc_random"]
    assert (tmp_path / "export" / "1").is_dir()  # --export went through the bundle
    path = export_run(str(tmp_path))["export"]  # = `tfembed export RUN_DIR`
    assert path.endswith("2")
    model, names = trained["model"], trained["prototypes"][0]
    labels = np.asarray(model.encode_text(model.label_texts))
    assert f"({len(names)})" in res["notes"][0] and labels.shape[0] == len(names)
    loaded = tf.saved_model.load(path)
    assert_serves_like(loaded, model, labels, names)
    ids, gallery = trained["gallery"]
    assert len(ids) == len(gallery) == 24  # the smoke test images, as a retrieve gallery


def test_class_labels_smoke(tmp_path, trained):
    res = _run(tmp_path / "birds", "--data", "synthetic_birds")
    assert res["protocol"] == "annotation_per_class"
    assert res["chance"]["annotation_top1_per_class"] == pytest.approx(1 / 8)
    assert "ndcg_auc" not in res["metrics"]
    assert len(trained["prototypes"][0]) == 8 and trained["gallery"] is None
