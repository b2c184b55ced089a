"""read_embeddings / write_embeddings: .npz and TFRecord round trips, every DataError case."""

import numpy as np
import pytest
import tensorflow as tf

from tfembed.data import embeddings_records
from tfembed.data.embeddings_file import (
    example_bytes,
    read_embeddings,
    write_embeddings,
)
from tfembed.errors import DataError


def _data(n=5, d=4, prefix="img"):
    rng = np.random.default_rng(n * 10 + d)
    return [f"{prefix}/{i}.jpg" for i in range(n)], rng.standard_normal((n, d)).astype(np.float32)


def _records(path, records):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    return str(path)


def _example(**features):
    def feature(value):
        if isinstance(value, list) and value and isinstance(value[0], bytes):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=value))
        if isinstance(value, list) and value and isinstance(value[0], int):
            return tf.train.Feature(int64_list=tf.train.Int64List(value=value))
        return tf.train.Feature(float_list=tf.train.FloatList(value=value))
    return tf.train.Example(features=tf.train.Features(
        feature={k: feature(v) for k, v in features.items()})).SerializeToString()


def test_npz_and_tfrecord_round_trip(tmp_path):
    ids, emb = _data()
    for name in ("small.npz", "one.tfrecord"):
        write_embeddings(tmp_path / name, ids, emb)
        got_ids, got = read_embeddings(tmp_path / name)
        assert got_ids.dtype == object and list(got_ids) == ids
        assert all(type(i) is str for i in got_ids)
        assert got.dtype == np.float32 and got.shape == (5, 4)
        np.testing.assert_array_equal(got, emb)


def test_directory_and_glob_read_shards_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(embeddings_records, "BATCH", 2)  # several parse batches per shard
    ids_a, emb_a = _data(5, 3, "a")
    ids_b, emb_b = _data(4, 3, "b")
    write_embeddings(tmp_path / "embeddings-00001-of-00002.tfrecord", ids_b, emb_b)
    write_embeddings(tmp_path / "embeddings-00000-of-00002.tfrecord", ids_a, emb_a)
    _records(tmp_path / "embeddings-empty.tfrecord", [])  # an empty shard is fine
    (tmp_path / "errors-00000-of-00001.jsonl").write_text("{}\n")  # not an embeddings shard
    for source in (tmp_path, str(tmp_path / "embeddings-0000*")):
        got_ids, got = read_embeddings(source)
        assert list(got_ids) == ids_a + ids_b
        np.testing.assert_array_equal(got, np.concatenate([emb_a, emb_b]))


def test_no_files_and_empty(tmp_path):
    for source in (tmp_path, tmp_path / "nothing-*.tfrecord", tmp_path / "missing.npz"):
        with pytest.raises(DataError, match="no embeddings files match"):
            read_embeddings(source)
    empty = _records(tmp_path / "embeddings-00000-of-00001.tfrecord", [])
    with pytest.raises(DataError, match="no embeddings .the files hold no records"):
        read_embeddings(empty)


def test_corrupt_and_truncated_records_are_named(tmp_path):
    ids, emb = _data(6, 4)
    path = write_embeddings(tmp_path / "e.tfrecord", ids, emb)
    data = open(path, "rb").read()
    size = len(data) // 6  # all records have the same size here
    open(path, "wb").write(data[:-5])
    with pytest.raises(DataError, match=r"e\.tfrecord:record 5: corrupt or truncated record"):
        read_embeddings(path)
    flipped = bytearray(data)
    flipped[2 * size + 30] ^= 0xFF  # payload of record 2: its CRC no longer matches
    open(path, "wb").write(bytes(flipped))
    with pytest.raises(DataError, match=r"e\.tfrecord:record 2: corrupt or truncated record"):
        read_embeddings(path)


@pytest.mark.parametrize("bad, message", [
    (_example(embedding=[1.0, 2.0, 3.0]), "missing feature 'id' .bytes_list."),
    (_example(id=[b"x"]), "missing feature 'embedding' .float_list."),
    (_example(id=[b"x"], embedding=[1, 2, 3]), "missing feature 'embedding' .float_list."),
    (_example(id=[b"x", b"y"], embedding=[1.0, 2.0, 3.0]), "feature 'id' must have 1 value"),
    (_example(id=[b"x"], embedding=[1.0, 2.0]), r"inconsistent dimension: embedding has 2 "
     r"values, .*e\.tfrecord:record 0 has 3"),
    (_example(id=[b"\xff\xfe"], embedding=[1.0, 2.0, 3.0]), "id is not UTF-8"),
    (b"\xff\xff\xff", "not a tf.train.Example"),
])
def test_bad_record_named_with_its_index(tmp_path, monkeypatch, bad, message):
    monkeypatch.setattr(embeddings_records, "BATCH", 2)  # the bad record is in the second batch
    good = [example_bytes(f"i{k}", [0.5, 1.5, 2.5]) for k in range(3)]
    path = _records(tmp_path / "e.tfrecord", good + [bad])
    with pytest.raises(DataError, match=r"e\.tfrecord:record 3: " + message):
        read_embeddings(path)


def test_inconsistent_dimension_across_files(tmp_path):
    write_embeddings(tmp_path / "embeddings-00000-of-00002.tfrecord", *_data(3, 4, "a"))
    write_embeddings(tmp_path / "embeddings-00001-of-00002.npz", *_data(3, 5, "b"))
    with pytest.raises(DataError, match=r"00001-of-00002\.npz: inconsistent dimension: "
                       r"embeddings have 5 values, .*00000-of-00002\.tfrecord:record 0 has 4"):
        read_embeddings(tmp_path)


def test_duplicate_ids_name_both_places(tmp_path):
    write_embeddings(tmp_path / "embeddings-00000-of-00002.tfrecord", *_data(3, 4, "a"))
    _, emb = _data(3, 4, "b")
    write_embeddings(tmp_path / "embeddings-00001-of-00002.tfrecord",
                     ["b/0", "a/1.jpg", "b/2"], emb)
    with pytest.raises(DataError, match=r"00001-of-00002\.tfrecord:record 1: duplicate id "
                       r"'a/1\.jpg': also at .*00000-of-00002\.tfrecord:record 1"):
        read_embeddings(tmp_path)
    with pytest.raises(DataError, match="ids are not unique"):
        write_embeddings(tmp_path / "x.npz", ["a", "a"], np.zeros((2, 3)))


def test_bad_npz_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"junk\.npz: not a readable \.npz"):
        read_embeddings(tmp_path / "junk.npz")
    np.savez(tmp_path / "noids.npz", embeddings=np.zeros((2, 3), np.float32))
    with pytest.raises(DataError, match=r"noids\.npz: missing array 'ids'"):
        read_embeddings(tmp_path / "noids.npz")
    np.savez(tmp_path / "shape.npz", ids=np.array(["a", "b"]), embeddings=np.zeros(2))
    with pytest.raises(DataError, match=r"shape\.npz: need ids \[N\] and embeddings \[N, D\]"):
        read_embeddings(tmp_path / "shape.npz")
    np.savez(tmp_path / "numbers.npz", ids=np.arange(2), embeddings=np.zeros((2, 3)))
    with pytest.raises(DataError, match="'ids' must be strings"):
        read_embeddings(tmp_path / "numbers.npz")
    with pytest.raises(DataError, match="need embeddings"):
        write_embeddings(tmp_path / "x.npz", ["a"], np.zeros((2, 3)))


@pytest.mark.parametrize("first_id", ["a", "long/" * 40])
def test_row_buffer_grows_or_shrinks(tmp_path, monkeypatch, first_id):
    # The buffer is sized from the first record's bytes: a long first id under-estimates the
    # count (buffer grows), a short one over-estimates it (the result is compacted).
    grown = []
    original = embeddings_records.Rows.append
    monkeypatch.setattr(embeddings_records.Rows, "append", lambda self, block: (
        grown.append(self.count + len(block) > len(self.rows)), original(self, block))[1])
    ids = [first_id] + [f"{'long/' * 40 if first_id == 'a' else ''}{i}" for i in range(299)]
    emb = np.arange(300 * 2, dtype=np.float32).reshape(300, 2)
    path = write_embeddings(tmp_path / "e.tfrecord", ids, emb)
    got_ids, got = read_embeddings(path)
    assert list(got_ids) == ids
    np.testing.assert_array_equal(got, emb)
    assert any(grown) == (first_id != "a")
