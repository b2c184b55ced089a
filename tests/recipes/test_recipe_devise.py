"""devise recipe: synthetic birds smoke run with Word2Vec class-name vectors (GBU keys and
chance), the re-export of its run (`tfembed export RUN_DIR`) against the in-process model,
class names tokenised by the library's word tokenizer, and a clear error when a data set
without descriptions asks for trained vectors."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tfembed.experiments import label_embedding
from tfembed.export import run_bundle
from tfembed.export.run_export import export_run
from tfembed.recipe import run_recipe

from tests.recipes.label_export_checks import assert_serves_like


def test_synthetic_birds_smoke_and_export(tmp_path, monkeypatch):
    seen, save = {}, run_bundle.save
    monkeypatch.setattr(label_embedding.run_bundle, "save",
                        lambda d, model, *a, **k: seen.update(model=model, **k) or
                        save(d, model, *a, **k))
    assert run_recipe("devise", ["--smoke", "--workdir", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["protocol"] == "gbu_per_class"
    assert res["chance"]["zsl_top1_per_class"] == pytest.approx(1 / 4)
    for key in ("gzsl_u", "gzsl_s", "gzsl_h", "hubness_n1_skewness"):
        assert key in res["metrics"] and key in res["chance"]
    model = seen["model"]
    names, prototypes = seen["prototypes"]
    assert len(names) == 12 and len(model.label_texts) == 8  # every class; trained on seen
    np.testing.assert_allclose(np.linalg.norm(prototypes, axis=1), 1.0, rtol=1e-5)
    loaded = tf.saved_model.load(export_run(str(tmp_path))["export"])
    assert_serves_like(loaded, model, model.encode_text(np.arange(12)), names)

def test_class_name_words_use_the_word_tokenizer():
    words = label_embedding._name_words
    assert words("001.Black_footed_Albatross") == ["black", "footed", "albatross"]
    assert words("killer+whale") == ["killer", "whale"]
    assert words("Red-crowned Crane's") == ["red", "crowned", "crane", "s"]
    assert words("7up") == ["7up"]  # digits without the "NNN." prefix are kept


def test_xlsa17_needs_external_word_vectors(shared_data, tmp_path, capsys):
    code = run_recipe("devise", [
        "--smoke", "--data", "xlsa17", "--data-dir", str(shared_data / "xlsa17"),
        "--workdir", str(tmp_path), "--set", "data.dataset=CUB",
        "--set", f"data.features={shared_data / 'cub' / 'lite0.mat'}",
        "--set", "labels.word_vectors=train"])
    assert code == 2 and "needs descriptions" in capsys.readouterr().err
