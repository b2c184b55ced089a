"""karpathy2015 recipe: smoke runs, the region-word PNG, export signatures, mirrored strategy."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np

from tfembed.recipe import run_recipe

REPO = pathlib.Path(__file__).resolve().parents[2]
RECIPE = REPO / "recipes" / "karpathy2015.py"


def _run(tmp_path, *args):
    assert run_recipe("karpathy2015", ["--smoke", "--workdir", str(tmp_path), *args]) == 0
    return json.loads((tmp_path / "results.json").read_text())


def test_smoke_synthetic_with_png_and_export(tmp_path):
    import tensorflow as tf

    res = _run(tmp_path, "--set", "plot=True", "--set", "data.num_test=12", "--export")
    assert res["protocol"] == "flickr_subset_12" and "rsum" in res["chance"]
    assert (tmp_path / "region_word_alignment.png").stat().st_size > 1000
    loaded = tf.saved_model.load(str(tmp_path / "export" / "1"))
    assert {"embed_text", "embed_image", "retrieve"} <= set(loaded.signatures)
    text = tf.constant(["a red circle above a blue square"])
    words = loaded.signatures["embed_text"](text=text)["embedding"]
    png = tf.io.encode_png(tf.zeros([64, 64, 3], tf.uint8))
    regions = loaded.signatures["embed_image"](image=tf.stack([png, png]))["embedding"]
    assert words.shape[0] == 1 and regions.shape[0] == 2
    top = loaded.signatures["retrieve"](text=text)
    assert top["ids"].shape == (1, 10) and np.all(np.diff(top["scores"].numpy()[0]) <= 1e-5)


def test_vsepp_variant_and_flickr8k_features(tmp_path, shared_data):
    res = _run(tmp_path, "--data", "flickr8k", "--data-dir", str(shared_data / "flickr8k"),
               "--set", "model.task_options.violation=max")
    assert res["dataset"] == "flickr8k" and res["config"]["model.task_options.violation"] == "max"


def test_mirrored_strategy_smoke(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, str(RECIPE), "--smoke", "--strategy", "mirrored",
                          "--workdir", str(tmp_path), "--set", "data.num_test=10"],
                         capture_output=True, text=True, env=env, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads((tmp_path / "results.json").read_text())["protocol"] == "flickr_subset_10"
