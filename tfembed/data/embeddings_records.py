"""TFRecord shards of embeddings (see embeddings_file) parsed fast, with exact error places.

Records are parsed in batches with tf.io.parse_example (C++, no Python per record); only a batch
that fails to parse is walked one record at a time, to name the bad record in the DataError.
"""

import numpy as np

from tfembed.errors import DataError

BATCH = 8192


class Rows:
    """Embedding rows copied into one preallocated float32 array sized from the files' bytes
    (grown 1.5x if that estimate was low), so a large read peaks near the result's size
    instead of twice it (chunks + their concatenation)."""

    def __init__(self, total_bytes):
        self.total_bytes, self.rows, self.count = total_bytes, None, 0
        self.dim, self.where = None, None  # the size every record must have, first seen where

    def set_dim(self, size, where, record_bytes):
        self.dim, self.where = size, where
        capacity = int(self.total_bytes / max(record_bytes, 1) * 1.02) + 64
        self.rows = np.empty((capacity, size), np.float32)

    def append(self, block):
        need = self.count + len(block)
        if need > len(self.rows):
            grown = np.empty((max(need, int(len(self.rows) * 1.5)), self.dim), np.float32)
            grown[:self.count] = self.rows[:self.count]
            self.rows = grown
        self.rows[self.count:need] = block
        self.count = need

    def result(self):
        used = self.rows[:self.count]
        return used.copy() if self.count < 0.9 * len(self.rows) else used


def _check_record(tf, raw, path, index, rows):
    where = f"record {index}"
    try:
        feature = tf.train.Example.FromString(raw).features.feature
    except Exception:  # protobuf's DecodeError
        raise DataError("not a tf.train.Example", path, where) from None
    for key, kind in (("id", "bytes_list"), ("embedding", "float_list")):
        if key not in feature or feature[key].WhichOneof("kind") != kind:
            raise DataError(f"missing feature {key!r} ({kind})", path, where)
    if len(feature["id"].bytes_list.value) != 1:
        raise DataError(f"feature 'id' must have 1 value, has "
                        f"{len(feature['id'].bytes_list.value)}", path, where)
    size = len(feature["embedding"].float_list.value)
    if size == 0:
        raise DataError("empty embedding", path, where)
    if rows.dim is None:
        rows.set_dim(size, f"{path}:{where}", len(raw) + 16)  # + TFRecord framing
    elif size != rows.dim:
        raise DataError(f"inconsistent dimension: embedding has {size} values, "
                        f"{rows.where} has {rows.dim}", path, where)


def _bad_record_index(tf, path):
    count = 0
    try:
        for _ in tf.data.TFRecordDataset(path):
            count += 1
    except tf.errors.DataLossError:
        pass
    return count


def read_tfrecord(path, ids, rows):
    """Append the ids (str) of one shard to `ids` and its embeddings to `rows` (a Rows)."""
    import tensorflow as tf

    index = 0
    batches = iter(tf.data.TFRecordDataset(path, buffer_size=8 << 20).batch(BATCH).prefetch(1))
    while True:
        try:
            raw = next(batches)
        except StopIteration:
            return
        except tf.errors.DataLossError as err:
            raise DataError(f"corrupt or truncated record: {err.message.splitlines()[0]}", path,
                            f"record {_bad_record_index(tf, path)}") from None
        if rows.dim is None:
            _check_record(tf, raw[0].numpy(), path, index, rows)
        spec = {"id": tf.io.FixedLenFeature([], tf.string),
                "embedding": tf.io.FixedLenFeature([rows.dim], tf.float32)}
        try:
            parsed = tf.io.parse_example(raw, spec)
        except (tf.errors.InvalidArgumentError, UnicodeDecodeError) as err:
            # (TF's message quotes the bad bytes; when they are not UTF-8, that fails too)
            for i, record in enumerate(raw.numpy()):  # find and name the bad record
                _check_record(tf, record, path, index + i, rows)
            raise DataError(f"cannot parse records {index}..{index + len(raw) - 1}: "
                            f"{str(err).splitlines()[0]}", path) from None
        for i, value in enumerate(parsed["id"].numpy().tolist()):
            try:
                ids.append(value.decode("utf-8"))
            except UnicodeDecodeError:
                raise DataError("id is not UTF-8", path, f"record {index + i}") from None
        rows.append(np.asarray(parsed["embedding"]))
        index += len(raw)
