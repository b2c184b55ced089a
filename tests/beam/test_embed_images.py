"""The Beam embedding pipeline on the DirectRunner: image files and TFRecord shards in,
embeddings equal to calling embed_image in-process out, bad inputs in errors-*.jsonl."""

import glob
import json

import numpy as np
import pytest

pytest.importorskip("apache_beam")
tf = pytest.importorskip("tensorflow")

from tfembed.beam.embed_images import main
from tfembed.data import Dataset
from tfembed.data.embeddings_file import read_embeddings
from tfembed.data.tfrecords import write_tfrecords
from tfembed.serving.testing import jpeg_bytes, png_bytes, publish, save_toy_model


@pytest.fixture(scope="module")
def toy_export(tmp_path_factory):
    base = tmp_path_factory.mktemp("toy")
    publish(str(base), 1, lambda p: save_toy_model(p, offset=5.0))  # an older version
    publish(str(base), 2, lambda p: save_toy_model(p))
    return base


def _reference(version_dir, **inputs):
    fn = tf.saved_model.load(str(version_dir)).signatures["embed_image"]
    return fn(**{k: tf.constant(v) for k, v in inputs.items()})["embedding"].numpy()


def _errors(out):
    return [json.loads(line) for path in glob.glob(str(out / "errors-*.jsonl"))
            for line in open(path)]


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else captured.err)


def test_image_files(tmp_path, toy_export, capsys):
    images = tmp_path / "images"
    (images / "sub").mkdir(parents=True)
    files = {}
    for i in range(6):
        files[f"p{i}.png"] = png_bytes(color=(40 * i, 10, 200 - 30 * i))
        files[f"sub/j{i}.jpg"] = jpeg_bytes(width=24 + i, color=(10, 40 * i, 100))
    for name, data in files.items():
        (images / name).write_bytes(data)
    (images / "sub" / "broken.jpg").write_bytes(files["sub/j0.jpg"][:40])  # truncated JPEG
    code, summary = _run(capsys, "--model", toy_export, "--images", f"{images}/**",
                         "--out", tmp_path / "out", "--batch-size", 4, "--num-shards", 2)
    assert code == 0, summary
    assert (summary["embedded"], summary["failed"]) == (12, 1)
    assert summary["model"].endswith("/2")  # the newest version
    assert len(glob.glob(str(tmp_path / "out" / "embeddings-*-of-00002.tfrecord"))) == 2
    ids, embeddings = read_embeddings(tmp_path / "out")
    assert sorted(ids) == sorted(files)  # ids: paths below the glob's directory
    names = sorted(files)
    expected = _reference(toy_export / "2", image=np.array([files[n] for n in names], object))
    got = embeddings[np.argsort(ids)]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    [error] = _errors(tmp_path / "out")
    assert error["id"] == "sub/broken.jpg" and error["source"].endswith("sub/broken.jpg")
    assert error["reason"].startswith("cannot decode image")
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["embedded"] == 12


def test_tfrecords_of_images_with_corrupt_and_duplicate_ids(tmp_path, toy_export, capsys):
    paths, ids = [], []
    for i in range(8):
        path = tmp_path / f"{i}.png"
        path.write_bytes(png_bytes(width=10 + i, color=(30 * i, 90, 10)))
        paths.append(str(path))
        ids.append(f"bird_{i}")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    paths.append(str(tmp_path / "bad.png"))
    ids.append("bird_bad")
    paths += paths[:1]
    ids.append("bird_7")  # a second image under an existing id
    data = Dataset(name="tiny", image_ids=ids, labels=[0] * len(ids), class_names=["c"],
                   texts=[[] for _ in ids], splits={}, image_paths=paths)
    write_tfrecords(data, tmp_path / "records", num_shards=3, include="images")
    code, summary = _run(capsys, "--model", toy_export / "2", "--tfrecords",
                         tmp_path / "records", "--out", tmp_path / "out")
    assert code == 0, summary
    assert (summary["embedded"], summary["failed"]) == (7, 3)
    got_ids, embeddings = read_embeddings(tmp_path / "out")
    assert sorted(got_ids) == [f"bird_{i}" for i in range(7)]
    expected = _reference(toy_export / "2", image=np.array(
        [open(paths[int(i[-1])], "rb").read() for i in got_ids], object))
    np.testing.assert_allclose(embeddings, expected, rtol=1e-5, atol=1e-6)
    errors = {(e["id"], e["reason"].split(":")[0]) for e in _errors(tmp_path / "out")}
    assert errors == {("bird_bad", "cannot decode image"), ("bird_7", "duplicate id")}
    assert all(e["source"].endswith(".tfrecord") for e in _errors(tmp_path / "out"))


def _features_export(tmp_path, dim):
    import keras

    from tfembed.export.exporter import ServingSpec, export

    dense = keras.layers.Dense(3)
    dense.build((None, dim))
    spec = ServingSpec([dense], image_fn=lambda x: tf.math.l2_normalize(dense(x), axis=1),
                       score_fn=None, image_kind="features", feature_dim=dim)
    return export(spec, str(tmp_path / "features_model"))


def test_tfrecords_of_features(tmp_path, capsys):
    version = _features_export(tmp_path, 6)
    features = np.random.default_rng(0).standard_normal((9, 6)).astype(np.float32)
    data = Dataset(name="feat", image_ids=[f"f{i}" for i in range(9)], labels=[0] * 9,
                   class_names=["c"], texts=[[] for _ in range(9)], splits={}, features=features)
    write_tfrecords(data, tmp_path / "records", num_shards=2)
    code, summary = _run(capsys, "--model", tmp_path / "features_model", "--tfrecords",
                         f"{tmp_path / 'records'}/part-*.tfrecord", "--out", tmp_path / "out")
    assert code == 0 and (summary["embedded"], summary["failed"]) == (9, 0), summary
    ids, embeddings = read_embeddings(tmp_path / "out")
    order = np.argsort(ids)
    np.testing.assert_allclose(embeddings[order], _reference(version, features=features),
                               rtol=1e-5, atol=1e-6)
    assert _errors(tmp_path / "out") == []
    # Fail fast: image files for a features model; shards of another feature size.
    code, err = _run(capsys, "--model", version, "--images", tmp_path / "*.png", "--out",
                     tmp_path / "x")
    assert code == 2 and "takes precomputed 'features'" in err
    data.features = np.zeros((9, 5), np.float32)
    write_tfrecords(data, tmp_path / "five")
    code, err = _run(capsys, "--model", version, "--tfrecords", tmp_path / "five", "--out",
                     tmp_path / "x")
    assert code == 2 and "manifest.json: the shards hold 5-d features, the model takes 6" in err


class _PickyModel(tf.Module):
    """Embeds like a toy model but fails its whole batch on an image wider than 32 px: an
    error the pre-decode check cannot see, so RunInference's dead letter must catch it."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image")])
    def embed_image(self, image):
        def one(data):
            pixels = tf.io.decode_image(data, channels=3, expand_animations=False)
            tf.debugging.assert_less_equal(tf.shape(pixels)[1], 32, message="too wide")
            return tf.reduce_mean(tf.cast(pixels, tf.float32), axis=[0, 1])
        return {"embedding": tf.map_fn(one, image,
                                       fn_output_signature=tf.TensorSpec([3], tf.float32))}


def test_failed_batch_goes_to_errors(tmp_path, capsys):
    module = _PickyModel()
    tf.saved_model.save(module, str(tmp_path / "picky" / "1"),
                        signatures={"embed_image": module.embed_image})
    for i, width in enumerate((8, 64, 16)):
        (tmp_path / f"{i}.png").write_bytes(png_bytes(width=width))
    code, summary = _run(capsys, "--model", tmp_path / "picky", "--images", tmp_path / "*.png",
                         "--out", tmp_path / "out", "--batch-size", 1)
    assert code == 0 and (summary["embedded"], summary["failed"]) == (2, 1), summary
    [error] = _errors(tmp_path / "out")
    assert error["id"] == "1.png" and "model failed on this input's batch" in error["reason"]
    assert "too wide" in error["reason"]
    assert sorted(read_embeddings(tmp_path / "out")[0]) == ["0.png", "2.png"]


def test_bad_inputs_fail_before_the_pipeline(tmp_path, toy_export, capsys):
    (tmp_path / "a.png").write_bytes(png_bytes())
    (tmp_path / "empty_export").mkdir()
    text_only = tf.Module()
    text_only.embed_text = tf.function(lambda text: {"embedding": tf.zeros([1, 2])},
                                       input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(text_only, str(tmp_path / "text_only"),
                        signatures={"embed_text": text_only.embed_text})
    records = tmp_path / "records"
    write_tfrecords(Dataset(name="t", image_ids=["x"], labels=[0], class_names=["c"],
                            texts=[["a text"]], splits={}), records, include="texts")
    cases = [
        (["--model", toy_export, "--images", tmp_path / "*.jpg"], "*.jpg: no image files match"),
        (["--model", toy_export, "--tfrecords", tmp_path / "nope"],
         "no TFRecord shards match"),
        (["--model", tmp_path / "empty_export", "--images", tmp_path / "*.png"],
         "empty_export: no numbered version with a saved_model.pb"),
        (["--model", tmp_path / "missing", "--images", tmp_path / "*.png"],
         "missing: model directory does not exist"),
        (["--model", tmp_path / "text_only", "--images", tmp_path / "*.png"],
         "text_only: the model has no 'embed_image' signature (has embed_text)"),
        (["--model", toy_export, "--tfrecords", records],
         "manifest.json: the model's embed_image takes 'image' but these shards hold no images"),
        (["--model", toy_export, "--images", tmp_path / "*.png", "--batch-size", 0],
         "--batch-size must be >= 1"),
        (["--model", "gs://b/m", "--images", tmp_path / "*.png", "--runner", "DataflowRunner"],
         "DataflowRunner needs --model, the inputs and --out on a shared file system"),
    ]
    for argv, message in cases:
        code, err = _run(capsys, *argv, "--out", tmp_path / "out")
        assert code == 2 and message in err, (argv, err)
    assert not (tmp_path / "out").exists()
