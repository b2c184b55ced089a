"""karpathy2015_captions recipe: smoke run, BLEU with baseline, `generate` export loaded by
a process that imports only TensorFlow, and `tfembed caption`."""

import json
import os
import pathlib
import subprocess
import sys

from tfembed.recipe import run_recipe

REPO = pathlib.Path(__file__).resolve().parents[2]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}

LOAD_ONLY_TF = """
import sys, json
import tensorflow as tf
import tensorflow_text  # noqa: F401  (what a serving process may import)
m = tf.saved_model.load(sys.argv[1])
png = tf.io.encode_png(tf.zeros([48, 40, 3], tf.uint8))
out = m.signatures["generate"](image=tf.stack([png, png, png]))["caption"]
assert not any(k.startswith("tfembed") for k in sys.modules)
print(json.dumps([s.decode() for s in out.numpy()]))
"""


def test_smoke_bleu_export_and_caption_cli(tmp_path):
    assert run_recipe("karpathy2015_captions", ["--smoke", "--workdir", str(tmp_path), "--export",
                        "--set", "decode.beam=2"]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["protocol"] == "bleu_corpus"
    keys = {f"bleu_{n}" for n in range(1, 5)}
    assert set(res["metrics"]) == keys and set(res["chance"]) == keys
    assert res["chance"]["bleu_1"] > 0  # the constant caption shares words with the references
    version = tmp_path / "export" / "1"
    out = subprocess.run([sys.executable, "-c", LOAD_ONLY_TF, str(version)], capture_output=True,
                         text=True, env=ENV, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    captions = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(captions) == 3 and all(isinstance(c, str) for c in captions)
    assert len(set(captions)) == 1  # identical images, identical greedy captions

    image = tmp_path / "blank.png"
    import tensorflow as tf
    image.write_bytes(tf.io.encode_png(tf.fill([20, 30, 3], tf.constant(200, tf.uint8))).numpy())
    cli = subprocess.run([sys.executable, "-m", "tfembed.cli", "caption", "--model",
                          str(tmp_path / "export"), str(image)], capture_output=True, text=True,
                         env=ENV, timeout=120, cwd=REPO)
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert isinstance(json.loads(cli.stdout)[str(image)], str)
    missing = subprocess.run([sys.executable, "-m", "tfembed.cli", "caption", "--model",
                              str(tmp_path / "export"), str(tmp_path / "nope.png")],
                             capture_output=True, text=True, env=ENV, timeout=120, cwd=REPO)
    assert missing.returncode == 2 and "nope.png: image file not found" in missing.stderr


def test_flickr8k_features(tmp_path, shared_data):
    assert run_recipe("karpathy2015_captions", ["--smoke", "--workdir", str(tmp_path), "--data", "flickr8k",
                        "--data-dir", str(shared_data / "flickr8k")]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["dataset"] == "flickr8k" and "bleu_4" in res["chance"]
