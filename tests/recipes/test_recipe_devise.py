"""devise recipe: synthetic birds smoke run with Word2Vec class-name vectors (GBU keys and
chance), and a clear error when a data set without descriptions asks for trained vectors."""

import json

import pytest
import tensorflow as tf

from tfembed.recipe import run_recipe


def test_synthetic_birds_smoke(tmp_path):
    assert run_recipe("devise", ["--smoke", "--workdir", str(tmp_path), "--export"]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["protocol"] == "gbu_per_class"
    assert res["chance"]["zsl_top1_per_class"] == pytest.approx(1 / 4)
    for key in ("gzsl_u", "gzsl_s", "gzsl_h", "hubness_n1_skewness"):
        assert key in res["metrics"] and key in res["chance"]
    loaded = tf.saved_model.load(str(tmp_path / "export" / "1"))
    png = tf.io.encode_png(tf.zeros([32, 32, 3], tf.uint8))
    out = loaded.signatures["classify_prototypes"](image=tf.stack([png, png]))
    assert out["scores"].shape == (2, 12) and out["classes"].shape == (2,)


def test_xlsa17_needs_external_word_vectors(shared_data, tmp_path, capsys):
    code = run_recipe("devise", [
        "--smoke", "--data", "xlsa17", "--data-dir", str(shared_data / "xlsa17"),
        "--workdir", str(tmp_path), "--set", "data.dataset=CUB",
        "--set", f"data.features={shared_data / 'cub' / 'lite0.mat'}",
        "--set", "labels.word_vectors=train"])
    assert code == 2 and "needs descriptions" in capsys.readouterr().err
