"""End-to-end tests of recipes/reed2016.py at smoke sizes (subprocesses: fresh TF devices)."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
RECIPE = str(REPO / "recipes" / "reed2016.py")
METRICS = ["zsl_top1_per_image", "zsl_top1_per_class", "retrieval_ap@1", "retrieval_ap@5",
           "retrieval_ap@10", "retrieval_ap@50", "retrieval_single_query_ap@50",
           "retrieval_map@50", "retrieval_single_query_map@50"]


def run_recipe(workdir, *args, check=True):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, RECIPE, "--smoke", "--workdir", str(workdir), *args],
                          capture_output=True, text=True, env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(proc.stdout[-3000:] + proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("reed_smoke")
    run_recipe(workdir, "--export")
    return workdir


def test_results_json_has_metrics_with_chance(smoke_run):
    results = json.loads((smoke_run / "results.json").read_text())
    assert results["recipe"] == "reed2016" and results["protocol"] == "reed_per_image"
    assert results["dataset"] == "synthetic_birds"
    assert set(METRICS) <= set(results["metrics"]) and set(METRICS) <= set(results["chance"])
    # Exact chance for the smoke split: 4 unseen classes x 6 images = 24 test images.
    assert results["chance"]["zsl_top1_per_image"] == pytest.approx(1 / 4)
    assert results["chance"]["zsl_top1_per_class"] == pytest.approx(1 / 4)
    # a class query over the 24 images, 6 relevant: a random ranking's precision is 6/24 = 1/4
    for k in (1, 5, 10):
        assert results["chance"][f"retrieval_ap@{k}"] == pytest.approx(6 / 24)
    assert results["timing"]["examples_per_second"] > 0
    assert "tensorflow" in results["versions"]


def test_export_loads_with_only_tensorflow_and_tensorflow_text(smoke_run, tmp_path):
    version = smoke_run / "export" / "1"
    assert (version / "saved_model.pb").exists()
    assert (version / "assets.extra" / "tf_serving_warmup_requests").exists()
    script = f"""
import sys, json
import tensorflow as tf, tensorflow_text  # noqa: F401
m = tf.saved_model.load({str(version)!r})
png = tf.io.encode_png(tf.cast(tf.random.uniform([64, 64, 3], 0, 255, seed=1), tf.uint8))
t = m.signatures["embed_text"](text=tf.constant(["a bird with a red crown", "a blue bird"]))
i = m.signatures["embed_image"](image=tf.stack([png, png]))
c = m.signatures["classify"](image=tf.stack([png]), class_texts=tf.constant(["red", "blue", "x"]))
r = m.signatures["retrieve"](text=tf.constant(["a bird with a red crown"]))
print(json.dumps({{"text": t["embedding"].shape.as_list(), "image": i["embedding"].shape.as_list(),
    "scores": c["scores"].shape.as_list(), "ids": r["ids"].shape.as_list(),
    "modules": sorted(k for k in sys.modules if k.split(".")[0] in ("tfembed", "keras"))[:3]}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    shapes = json.loads(out.stdout.strip().splitlines()[-1])
    assert shapes["text"] == [2, 32] and shapes["image"] == [2, 32]
    assert shapes["scores"] == [1, 3] and shapes["ids"][0] == 1
    assert not [m for m in shapes["modules"] if m.startswith("tfembed")]


def test_tfembed_export_cli_publishes_next_version(smoke_run):
    from tfembed.cli import main

    assert main(["export", str(smoke_run)]) in (None, 0)
    assert (smoke_run / "export" / "2" / "saved_model.pb").exists()


def test_gallery_index_of_the_export_answers_like_its_retrieve(smoke_run, capsys):
    pytest.importorskip("faiss")
    import tensorflow as tf

    from tfembed.cli import main
    from tfembed.export.versions import load_saved_model

    version = str(smoke_run / "export" / "1")
    assert main(["index", "build", "--model", version, "--backend", "faiss"]) in (None, 0)
    assert json.loads(capsys.readouterr().out)["metric"] == "dot"  # Reed's scorer, recorded
    texts = ["a bird with a red crown", "a small blue bird"]
    assert main(["search", "--model", version, *texts]) in (None, 0)
    found = json.loads(capsys.readouterr().out)
    expected = load_saved_model(version).signatures["retrieve"](text=tf.constant(texts))
    for query, ids, scores in zip(found, expected["ids"].numpy(), expected["scores"].numpy()):
        assert [r["id"] for r in query["results"]] == [i.decode() for i in ids]
        np.testing.assert_allclose([r["score"] for r in query["results"]], scores, atol=1e-3)


def test_mirrored_strategy_with_two_cpu_replicas(tmp_path):
    run_recipe(tmp_path, "--strategy", "mirrored")
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(METRICS) <= set(results["metrics"])


def test_bad_override_is_a_clear_error(tmp_path):
    proc = run_recipe(tmp_path, "--set", "train.stpes=3", check=False)
    assert proc.returncode == 2
    assert "train.stpes" in proc.stderr and "steps" in proc.stderr


def test_killed_run_resumes_from_checkpoint(tmp_path):
    """SIGKILL mid-run, then rerun: training continues from the last checkpoint."""
    args = [sys.executable, RECIPE, "--smoke", "--workdir", str(tmp_path), "--set",
            "train.steps=400", "--set", "train.checkpoint_every=5"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    ckpt_dir = tmp_path / "checkpoints"
    deadline = time.time() + 240
    while time.time() < deadline and not list(ckpt_dir.glob("ckpt-1[05].index")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = sorted(int(p.name.split("-")[1].split(".")[0]) for p in ckpt_dir.glob("ckpt-*.index"))
    assert saved and saved[-1] >= 10, saved
    assert not (tmp_path / "results.json").exists()
    rerun = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    timing = json.loads((tmp_path / "results.json").read_text())["timing"]
    assert timing["resumed_from"] >= saved[-1] and timing["steps"] == 400


PROBE_TEXTS = ["a bird with a red crown", "this small bird has blue wings and a long tail."]


def _probe_png():
    import tensorflow as tf
    pixels = tf.cast(tf.random.stateless_uniform([64, 64, 3], [1, 2], 0, 255), tf.uint8)
    return tf.io.encode_png(pixels).numpy()


def test_export_gives_the_same_outputs_as_the_in_process_model(smoke_run, tmp_path):
    """Rebuild the trained model in this process from the run's checkpoint and compare it with
    the SavedModel run in a subprocess that imports only tensorflow and tensorflow_text."""
    import tensorflow as tf

    from tfembed.data.pipeline import decode_and_resize
    from tfembed.experiments import common, zero_shot_joint

    png = _probe_png()
    (tmp_path / "probe.png").write_bytes(png)
    script = f"""
import numpy as np, tensorflow as tf, tensorflow_text  # noqa: F401
m = tf.saved_model.load({str(smoke_run / "export" / "1")!r})
png = tf.io.read_file({str(tmp_path / "probe.png")!r})
np.savez({str(tmp_path / "served.npz")!r},
         text=m.signatures["embed_text"](text=tf.constant({PROBE_TEXTS!r}))["embedding"].numpy(),
         image=m.signatures["embed_image"](image=tf.stack([png]))["embedding"].numpy(),
         scores=m.signatures["classify"](image=tf.stack([png]),
                                         class_texts=tf.constant({PROBE_TEXTS!r}))["scores"].numpy())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    served = np.load(tmp_path / "served.npz")

    cfg = json.loads((smoke_run / "config.json").read_text())["config"]
    parts = zero_shot_joint._setup(cfg, tf.distribute.get_strategy())
    model, text = parts[3], parts[4]
    common.restore_weights(model, str(smoke_run))
    text_emb = text.text_fn(model)(tf.constant(PROBE_TEXTS)).numpy()
    image_emb = model.encode_image(decode_and_resize(png, (64, 64))[None]).numpy()
    np.testing.assert_allclose(served["text"], text_emb, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(served["image"], image_emb, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(served["scores"], image_emb @ text_emb.T, rtol=1e-4, atol=1e-4)


def test_local_server_serves_the_export_to_the_grpc_client(smoke_run):
    """The exported Reed model behind `tfembed serve`, queried with the gRPC client."""
    from tfembed.serving.client import Client
    from tfembed.serving.server import Server

    server = Server(model_base_path=str(smoke_run / "export"), model_name="reed2016")
    server.start()
    try:
        with Client(f"127.0.0.1:{server.port}", "reed2016") as client:
            emb = client.embed_text(PROBE_TEXTS)
            scores = client.classify([_probe_png()], ["a red bird", "a blue bird", "x"])
            ids, top = client.retrieve(["a bird with a red crown"])
            assert "embed_text" in client.metadata()["signatures"]
        assert emb.shape == (2, 32) and scores.shape == (1, 3)
        assert len(ids[0]) == top.shape[1] and np.all(np.diff(top[0]) <= 0)
    finally:
        server.stop()


def test_features_tower_without_features_is_a_clear_error(tmp_path, fixtures):
    proc = subprocess.run([sys.executable, RECIPE, "--smoke", "--workdir", str(tmp_path), "--data",
                           "cub", "--data-dir", str(fixtures / "cub")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "needs precomputed features" in proc.stderr and "data.features" in proc.stderr


def test_flowers_path_on_a_fixture_in_the_published_layout(tmp_path, fixtures):
    """--data flowers: Oxford-102 with Reed's text_c10 and class split files and fixed features
    (res101.mat layout); the test classes are testclasses.txt, and REPRODUCTION.md compares
    the run with the paper's Flowers row."""
    root = fixtures / "flowers"
    run_recipe(tmp_path, "--data", "flowers", "--data-dir", str(root),
               "--set", f"data.features={root / 'features.mat'}")
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["dataset"] == "flowers" and results["protocol"] == "reed_per_image"
    # testclasses.txt names one class (class_00002: images 1 and 5), so chance is 1/1, and
    # each class query's precision@K over the 2 test images is 2/2.
    assert results["chance"]["zsl_top1_per_image"] == 1.0
    assert results["metrics"]["retrieval_ap@1"] == 1.0
    assert "zsl_top1_per_image_tfidf_ridge" in results["metrics"]  # same-run baseline
    from tfembed.reports import reproduce
    out = tmp_path / "REPRODUCTION.md"
    reproduce.main([str(tmp_path), "--out", str(out)])
    # The paper's Flowers row is found, and refused with the reason: 1 test class, not 20.
    assert "the paper tests 20 (chance 0.050)" in out.read_text()
