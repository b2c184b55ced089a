"""`tfembed index build` / `tfembed search` on a small export: same answers as its retrieve."""

import json
import os

import numpy as np
import pytest

from tfembed.cli import main

GALLERY = 40


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    """A tiny exported joint model on features with a baked-in gallery (retrieve signature)."""
    import keras
    import tensorflow as tf

    from tfembed import scorers
    from tfembed.export import exporter

    keras.utils.set_random_seed(0)
    features = keras.Input((6,))
    model = keras.Model(features, keras.layers.Dense(4)(features))

    def text_fn(texts):  # hashed words -> bag of buckets -> the same projection
        words = tf.strings.split(texts)
        buckets = tf.one_hot(tf.strings.to_hash_bucket_fast(words, 6), 6)
        return model(tf.reduce_sum(buckets, axis=1))

    rng = np.random.default_rng(0)
    ids = [f"img-{i}" for i in range(GALLERY)]
    gallery = rng.normal(size=(GALLERY, 4)).astype("f4")
    spec = exporter.ServingSpec(track=[model], image_fn=model, score_fn=scorers.dot,
                                image_kind="features", feature_dim=6, text_fn=text_fn,
                                gallery=(ids, gallery), k=5, metric="dot")
    base = str(tmp_path_factory.mktemp("export") / "export")
    exporter.export(spec, base)
    return base


def run(capsys, *argv):
    assert main(list(argv)) in (None, 0)
    return json.loads(capsys.readouterr().out)


def in_graph_retrieve(base, texts):
    import tensorflow as tf

    out = tf.saved_model.load(os.path.join(base, "1")).signatures["retrieve"](
        text=tf.constant(texts))
    return [[i.decode() for i in row] for row in out["ids"].numpy()], out["scores"].numpy()


TEXTS = ["a red bird", "small blue wings", "grey"]


@pytest.mark.parametrize("backend", ["faiss", "hnswlib", "brute_force"])
def test_build_then_search_matches_the_in_graph_retrieve(export_dir, capsys, backend):
    if backend != "brute_force":
        pytest.importorskip(backend)
    built = run(capsys, "index", "build", "--model", export_dir, "--backend", backend)
    assert built["index"] == os.path.join(export_dir, "1", "assets.extra", "gallery_index")
    assert (built["count"], built["dim"], built["metric"]) == (GALLERY, 4, "dot")
    found = run(capsys, "search", "--model", export_dir, *TEXTS)
    assert run(capsys, "search", "--index", built["index"], *TEXTS) == found  # model: around it
    ids, scores = in_graph_retrieve(export_dir, TEXTS)
    assert [q["query"] for q in found] == TEXTS
    for query, row_ids, row_scores in zip(found, ids, scores):
        assert [r["id"] for r in query["results"]] == row_ids  # k=5 from the export
        np.testing.assert_allclose([r["score"] for r in query["results"]], row_scores, atol=1e-4)


@pytest.mark.parametrize("name", ["emb.npz", "embeddings-00000-of-00001.tfrecord"])
def test_build_from_an_embeddings_file_into_a_separate_directory(export_dir, tmp_path, capsys,
                                                                 name):
    from tfembed.data.embeddings_file import write_embeddings

    rng = np.random.default_rng(1)
    path = str(tmp_path / name)  # .tfrecord: the format `tfembed embed` (Beam) writes
    write_embeddings(path, [f"x{i}" for i in range(25)], rng.normal(size=(25, 4)).astype("f4"))
    out = str(tmp_path / "idx")
    run(capsys, "index", "build", "--model", export_dir, "--embeddings", path, "--out", out,
        "--backend", "brute_force", "--k", "3")
    found = run(capsys, "search", "--index", out, "red bird")  # model taken from the index
    assert len(found[0]["results"]) == 3 and found[0]["results"][0]["id"].startswith("x")


def test_errors_are_clear(export_dir, tmp_path, capsys):
    assert main(["index", "build", "--model", export_dir, "--metric", "cosine"]) == 2
    assert "differs from the model's scorer dot" in capsys.readouterr().err
    assert main(["index", "build", "--model", str(tmp_path)]) == 2
    assert "no numbered version" in capsys.readouterr().err
    assert main(["search", "--model", export_dir]) == 2
    assert "nothing to search for" in capsys.readouterr().err
    assert main(["search", "--index", str(tmp_path), "bird"]) == 2
    assert "no meta.json" in capsys.readouterr().err


def test_search_k_must_be_positive_and_is_capped(export_dir, capsys):
    run(capsys, "index", "build", "--model", export_dir, "--backend", "faiss"
        if _has("faiss") else "brute_force")
    for bad in ("0", "-1", "x"):
        with pytest.raises(SystemExit) as info:
            main(["search", "--model", export_dir, "--k", bad, "red bird"])
        assert info.value.code == 2
        assert "argument --k: expected an integer >= 1" in capsys.readouterr().err
    found = run(capsys, "search", "--model", export_dir, "--k", "100000000", "red bird")
    assert len(found[0]["results"]) == GALLERY


def _has(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def test_image_queries_on_a_model_that_records_no_metric(tmp_path, capsys):
    """Image-to-image search with the toy serving model (no tfembed.json: --metric needed)."""
    from tfembed.serving.testing import png_bytes, publish, save_toy_model

    base = str(tmp_path / "toy")
    version = publish(base, 1, save_toy_model)
    paths = {}
    for name, color in (("red", (200, 30, 30)), ("blue", (20, 40, 220))):
        paths[name] = path = str(tmp_path / f"{name}.png")
        with open(path, "wb") as f:
            f.write(png_bytes(color=color))
    path = paths["red"]
    assert main(["index", "build", "--model", base]) == 2
    assert "pass --metric" in capsys.readouterr().err
    from tfembed.index.query_encoder import QueryEncoder

    gallery = QueryEncoder(version).embed_image_files([paths["blue"], paths["red"]])
    np.savez(str(tmp_path / "g.npz"), ids=np.array(["blue", "red"]), embeddings=gallery)
    run(capsys, "index", "build", "--model", base, "--metric", "dot", "--embeddings",
        str(tmp_path / "g.npz"), "--k", "1")
    found = run(capsys, "search", "--model", base, "--image", path)
    assert found[0]["query"] == path and found[0]["results"][0]["id"] == "red"
    assert found[0]["results"][0]["score"] == pytest.approx(1.0, abs=1e-5)  # unit vectors
    assert main(["search", "--model", base, "--image", str(tmp_path / "nope.png")]) == 2
    assert "nope.png: image file not found" in capsys.readouterr().err
