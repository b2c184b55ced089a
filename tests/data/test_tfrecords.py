"""write_tfrecords / read_tfrecords round trips, and corrupt shards named in DataError."""

import json

import numpy as np
import pytest

from tfembed.data import Dataset, load
from tfembed.data.tfrecords import iterate_tfrecords, read_tfrecords, verify_shards, write_tfrecords
from tfembed.errors import ConfigError, DataError


def _rows(out):
    return sorted(({k: v.numpy() for k, v in r.items()} for r in read_tfrecords(out)),
                  key=lambda r: r["label"])


def test_image_files_round_trip(fixtures, tmp_path):
    ds = load("cub", str(fixtures / "cub"))
    shards = write_tfrecords(ds, tmp_path, split="trainval", num_shards=2)
    assert [p.rsplit("/", 1)[1] for p in shards] == ["part-00000-of-00002.tfrecord",
                                                      "part-00001-of-00002.tfrecord"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["count"] == 6 and manifest["class_names"] == ds.class_names
    rows = _rows(str(tmp_path))
    assert len(rows) == 6 and [int(r["label"]) for r in rows] == [0, 0, 1, 1, 3, 3]
    first = rows[0]
    assert first["image_id"].decode() == ds.image_ids[0]
    assert [t.decode() for t in first["texts"]] == ds.texts[0]
    assert first["image"] == open(ds.image_paths[0], "rb").read()
    assert len(_rows(str(tmp_path / "*.tfrecord"))) == 6  # a glob works too


def test_features_pixels_and_boxes(fixtures, tmp_path):
    ds = load("xlsa17", str(fixtures / "xlsa17"), features=str(fixtures / "xlsa17/CUB/res101.mat"))
    write_tfrecords(ds, tmp_path / "f")
    rows = {r["image_id"].decode(): r for r in _rows(str(tmp_path / "f"))}
    np.testing.assert_array_equal(rows[ds.image_ids[5]]["feature"], ds.features[5])
    pixels = np.random.default_rng(0).integers(0, 255, (2, 4, 5, 3)).astype(np.uint8)
    px = Dataset(name="px", image_ids=["a", "b"], labels=[0, 1], class_names=["a", "b"],
                 texts=[["x"], []], splits={}, images=pixels,
                 boxes=[np.zeros((2, 4), np.float32), np.ones((0, 4), np.float32)])
    write_tfrecords(px, tmp_path / "p")
    import tensorflow as tf

    rows = _rows(str(tmp_path / "p"))
    np.testing.assert_array_equal(tf.io.decode_png(rows[0]["image"]).numpy(), pixels[0])
    assert rows[0]["boxes"].shape == (2, 4) and rows[1]["boxes"].shape == (0, 4)
    assert list(rows[1]["texts"]) == []
    with pytest.raises(ConfigError, match="has no features"):
        write_tfrecords(px, tmp_path / "q", include="features")


def test_truncated_and_corrupt_shards(fixtures, tmp_path):
    ds = load("flickr8k", str(fixtures / "flickr8k"))
    shards = write_tfrecords(ds, tmp_path, num_shards=2)
    data = open(shards[1], "rb").read()
    open(shards[1], "wb").write(data[:-7])
    with pytest.raises(DataError, match=r"part-00001-of-00002\.tfrecord:record 1: truncated record"):
        read_tfrecords(str(tmp_path))
    open(shards[1], "wb").write(data[: len(data) // 2 + 1])  # cut at an arbitrary byte
    with pytest.raises(DataError, match=r"part-00001-of-00002\.tfrecord"):
        read_tfrecords(str(tmp_path))
    first = open(shards[0], "rb").read()
    open(shards[0], "wb").write(first[:30] + bytes([first[30] ^ 0xFF]) + first[31:])  # payload bit flip
    with pytest.raises(DataError, match=r"part-00000-of-00002\.tfrecord: corrupt TFRecord shard"):
        verify_shards(str(tmp_path))
    open(shards[1], "wb").write(data)  # framing fine again: the flip shows only while reading
    with pytest.raises(DataError, match=r"part-00000-of-00002\.tfrecord: corrupt TFRecord shard"):
        list(iterate_tfrecords(str(tmp_path)))
    with pytest.raises(DataError, match="no TFRecord files match"):
        read_tfrecords(str(tmp_path / "nothing-*.tfrecord"))
