"""Embeddings + ids on disk: written by `tfembed embed` (Beam), read by the gallery index.

Format: TFRecord shards `embeddings-SSSSS-of-NNNNN.tfrecord` of tf.train.Example with `id`
(bytes_list, one UTF-8 value) and `embedding` (float_list, D values); or, for small jobs, one
.npz with arrays `ids` (strings) and `embeddings` (float32 [N, D]).

read_embeddings parses TFRecords in batches in C++ (see embeddings_records), so a million 256-d
records read in seconds into one preallocated array.
"""

import io
import os
import zipfile

import numpy as np

from tfembed.data.embeddings_records import Rows, read_tfrecord
from tfembed.errors import DataError

SHARD_PREFIX = "embeddings"


def example_bytes(id_, embedding):
    """One serialized tf.train.Example of the format (used by the Beam pipeline too)."""
    import tensorflow as tf

    feature = {"id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[id_.encode()])),
               "embedding": tf.train.Feature(float_list=tf.train.FloatList(
                   value=np.asarray(embedding, np.float32).reshape(-1)))}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_embeddings(path, ids, embeddings):
    """Write .npz (path ends with .npz) or one TFRecord shard; returns the path."""
    import tensorflow as tf

    path = os.fspath(path)
    embeddings = np.asarray(embeddings, np.float32)
    ids = [str(i) for i in ids]
    if embeddings.ndim != 2 or len(ids) != len(embeddings):
        raise DataError(f"need embeddings [N, D] and N ids, got {embeddings.shape} and "
                        f"{len(ids)} ids", path)
    if len(set(ids)) != len(ids):
        raise DataError("ids are not unique", path)
    if path.endswith(".npz"):
        buf = io.BytesIO()  # zipfile seeks, which GFile (any file system) cannot when writing
        np.savez(buf, ids=np.asarray(ids, dtype=str), embeddings=embeddings)
        with tf.io.gfile.GFile(path, "wb") as f:
            f.write(buf.getvalue())
        return path
    with tf.io.TFRecordWriter(path) as writer:
        for id_, row in zip(ids, embeddings):
            writer.write(example_bytes(id_, row))
    return path


def _files(source):
    import tensorflow as tf

    if tf.io.gfile.isdir(source):
        files = tf.io.gfile.glob(os.path.join(source, SHARD_PREFIX + "-*"))
    elif any(c in source for c in "*?["):
        files = tf.io.gfile.glob(source)
    else:
        files = [source] if tf.io.gfile.exists(source) else []
    if not files:
        raise DataError("no embeddings files match (expected a directory of embeddings-* "
                        "shards, a glob, a .tfrecord or a .npz file)", source)
    return sorted(files)


def _read_npz(path):
    import tensorflow as tf

    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            data = np.load(io.BytesIO(f.read()), allow_pickle=False)
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise DataError(f"not a readable .npz of string ids and float embeddings: {err}",
                        path) from None
    for key in ("ids", "embeddings"):
        if key not in arrays:
            raise DataError(f"missing array {key!r} (have {sorted(arrays)})", path)
    ids, embeddings = arrays["ids"], arrays["embeddings"]
    if embeddings.ndim != 2 or ids.ndim != 1 or len(ids) != len(embeddings):
        raise DataError(f"need ids [N] and embeddings [N, D], got {ids.shape} and "
                        f"{embeddings.shape}", path)
    if ids.dtype.kind not in "US":
        raise DataError(f"'ids' must be strings, got dtype {ids.dtype}", path)
    try:
        ids = [i.decode() if isinstance(i, bytes) else str(i) for i in ids.tolist()]
    except UnicodeDecodeError:
        raise DataError("'ids' are not UTF-8", path) from None
    return ids, embeddings.astype(np.float32)


def _add_npz(path, ids, rows):
    file_ids, embeddings = _read_npz(path)
    if rows.dim is None:
        rows.set_dim(embeddings.shape[1], path, 4 * embeddings.shape[1] + 16)
    elif embeddings.shape[1] != rows.dim:
        raise DataError(f"inconsistent dimension: embeddings have {embeddings.shape[1]} "
                        f"values, {rows.where} has {rows.dim}", path)
    ids.extend(file_ids)
    rows.append(embeddings)


def _check_unique(ids, places):
    if len(set(ids)) == len(ids):
        return
    first = {}
    for i, id_ in enumerate(ids):
        if id_ in first:
            raise DataError(f"duplicate id {id_!r}: also at {places(first[id_])}",
                            *places(i, split=True))
        first[id_] = i


def read_embeddings(source):
    """-> (ids: object array of str [N], embeddings: float32 [N, D]) from any supported source."""
    import tensorflow as tf

    source = os.fspath(source)
    files = _files(source)
    ids, starts = [], []
    rows = Rows(sum(tf.io.gfile.stat(f).length for f in files))
    for path in files:
        starts.append(len(ids))
        (_add_npz if path.endswith(".npz") else read_tfrecord)(path, ids, rows)
    if not ids:
        raise DataError("no embeddings (the files hold no records)", source)

    def places(i, split=False):
        f = int(np.searchsorted(starts, i, side="right")) - 1
        where = (files[f], f"record {i - starts[f]}")
        return where if split else f"{where[0]}:{where[1]}"
    _check_unique(ids, places)
    out_ids = np.empty(len(ids), dtype=object)
    out_ids[:] = ids
    return out_ids, rows.result()
