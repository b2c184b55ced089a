"""Sharded TFRecords of a Dataset (tf.train.Example per image) and a streaming reader.

Each record holds image_id (bytes), label (int64), texts (bytes list) and, per `include`, the
image (encoded file bytes, or PNG-encoded pixels) and/or its feature vector, plus boxes (flat
K*4 floats) when the Dataset has them. A manifest.json next to the shards records counts, the
feature dimension and the class names; the reader checks every shard's framing against it up
front, so a truncated shard raises DataError naming the file instead of failing mid-epoch.
"""

import glob
import io
import json
import math
import os
import struct

import numpy as np

from tfembed.errors import ConfigError, DataError

MANIFEST = "manifest.json"
INCLUDE = ("auto", "features", "images", "both", "texts")


def _include(dataset, include):
    if include not in INCLUDE:
        raise ConfigError(f"include must be one of {', '.join(INCLUDE)}, got {include!r}")
    has_images = dataset.image_paths is not None or dataset.images is not None
    if include == "auto":
        return ("features",) if dataset.features is not None else ("images",) if has_images else ()
    wanted = {"features": ("features",), "images": ("images",), "both": ("features", "images"),
              "texts": ()}[include]
    if "features" in wanted and dataset.features is None:
        raise ConfigError(f"include={include!r} but dataset {dataset.name} has no features")
    if "images" in wanted and not has_images:
        raise ConfigError(f"include={include!r} but dataset {dataset.name} has no images")
    return wanted


def _image_bytes(dataset, row):
    if dataset.image_paths is not None:
        path = dataset.image_paths[row]
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as err:
            raise DataError(f"cannot read image file: {err.strerror}", path) from None
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(dataset.images[row], np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _example(tf, dataset, row, parts):
    def raw(*values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))

    def floats(values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))

    out = {"image_id": raw(str(dataset.image_ids[row]).encode()),
           "label": tf.train.Feature(
               int64_list=tf.train.Int64List(value=[int(dataset.labels[row])])),
           "texts": raw(*[t.encode() for t in dataset.texts[row]])}
    if "features" in parts:
        out["feature"] = floats(dataset.features[row])
    if "images" in parts:
        out["image"] = raw(_image_bytes(dataset, row))
    if dataset.boxes is not None:
        out["boxes"] = floats(np.asarray(dataset.boxes[row], np.float32).reshape(-1))
    return tf.train.Example(features=tf.train.Features(feature=out))


def write_tfrecords(dataset, out_dir, split=None, num_shards=None, include="auto"):
    """Write `dataset` (or one split) as shards part-XXXXX-of-YYYYY.tfrecord + manifest.json.

    num_shards defaults to one per 1024 records. Returns the shard paths.
    """
    import tensorflow as tf

    if split is not None and split not in dataset.splits:
        raise ConfigError(f"unknown split {split!r}; have {', '.join(sorted(dataset.splits))}")
    rows = dataset.splits[split] if split is not None else np.arange(dataset.num_images)
    parts = _include(dataset, include)
    n = int(num_shards or max(1, math.ceil(len(rows) / 1024)))
    if n < 1:
        raise ConfigError(f"num_shards must be >= 1, got {num_shards}")
    os.makedirs(out_dir, exist_ok=True)
    for old in glob.glob(os.path.join(out_dir, "part-*-of-*.tfrecord")):
        os.remove(old)  # stale shards of an earlier write would be read back otherwise
    shards, counts = [], []
    for i, chunk in enumerate(np.array_split(rows, n)):
        path = os.path.join(out_dir, f"part-{i:05d}-of-{n:05d}.tfrecord")
        with tf.io.TFRecordWriter(path) as writer:
            for row in chunk:
                writer.write(_example(tf, dataset, int(row), parts).SerializeToString())
        shards.append(path)
        counts.append(int(len(chunk)))
    manifest = {"name": dataset.name, "split": split, "count": int(len(rows)),
                "shards": [{"file": os.path.basename(p), "count": c}
                           for p, c in zip(shards, counts)],
                "include": list(parts), "boxes": dataset.boxes is not None,
                "feature_dim": int(dataset.features.shape[1]) if "features" in parts else None,
                "image_format": ("files" if dataset.image_paths is not None else "png")
                if "images" in parts else None,
                "class_names": [str(c) for c in dataset.class_names]}
    with open(os.path.join(out_dir, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    return shards


def _crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


_TABLE = [0] * 256
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE[_i] = _c


def _masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def check_shard(path, expected=None):
    """Walk a TFRecord file's record headers (length + its CRC); returns the record count.

    Seeks over the payloads, so it is cheap; a truncated or mis-framed file raises DataError.
    """
    size, count, offset = os.path.getsize(path), 0, 0
    with open(path, "rb") as f:
        while offset < size:
            header = f.read(12)
            if len(header) < 12:
                raise DataError(f"truncated record header at byte {offset} (file ends)", path,
                                f"record {count}")
            length, crc = struct.unpack("<QI", header)
            if _masked(_crc32c(header[:8])) != crc:
                raise DataError(f"corrupt record length at byte {offset}", path, f"record {count}")
            offset += 12 + length + 4
            if offset > size:
                raise DataError(f"truncated record: needs {offset} bytes, file has {size}", path,
                                f"record {count}")
            f.seek(offset)
            count += 1
    if expected is not None and count != expected:
        raise DataError(f"expected {expected} records (manifest), found {count}", path)
    return count


def _spec(tf, manifest, first_record):
    """Parsing spec from the manifest, or (no manifest) from the keys of the first record."""
    if manifest is not None:
        keys = {"image_id", "label", "texts"} | {"feature" if p == "features" else "image"
                                                 for p in manifest["include"]}
        keys |= {"boxes"} if manifest.get("boxes") else set()
        dim = manifest.get("feature_dim")
    else:
        example = tf.train.Example.FromString(first_record)
        keys = set(example.features.feature)
        dim = (len(example.features.feature["feature"].float_list.value)
               if "feature" in keys else None)
    spec = {"image_id": tf.io.FixedLenFeature([], tf.string),
            "label": tf.io.FixedLenFeature([], tf.int64),
            "texts": tf.io.VarLenFeature(tf.string)}
    if "feature" in keys:
        spec["feature"] = tf.io.FixedLenFeature([dim], tf.float32)
    if "image" in keys:
        spec["image"] = tf.io.FixedLenFeature([], tf.string)
    if "boxes" in keys:
        spec["boxes"] = tf.io.VarLenFeature(tf.float32)
    return spec


def _shards(pattern_or_dir):
    """(shard paths, manifest or None) for a directory written by write_tfrecords or a glob."""
    if os.path.isdir(pattern_or_dir):
        path = os.path.join(pattern_or_dir, MANIFEST)
        if os.path.isfile(path):
            try:
                with open(path, encoding="utf-8") as f:
                    manifest = json.load(f)
                files = [(os.path.join(pattern_or_dir, s["file"]), s["count"])
                         for s in manifest["shards"]]
            except (ValueError, KeyError, TypeError) as err:
                raise DataError(f"bad TFRecord manifest: {err}", path) from None
            return files, manifest
        pattern_or_dir = os.path.join(pattern_or_dir, "*.tfrecord")
    files = sorted(glob.glob(pattern_or_dir))
    if not files:
        raise DataError("no TFRecord files match", pattern_or_dir)
    path = os.path.join(os.path.dirname(files[0]), MANIFEST)
    manifest, counts = None, {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        counts = {s["file"]: s["count"] for s in manifest.get("shards", [])}
    return [(f, counts.get(os.path.basename(f))) for f in files], manifest


def verify_shards(pattern_or_dir):
    """Read every record of every shard once (CRCs included); DataError names a corrupt shard."""
    import tensorflow as tf

    for path, _ in _shards(pattern_or_dir)[0]:
        try:
            for _ in tf.data.TFRecordDataset(path):
                pass
        except tf.errors.DataLossError as err:
            raise DataError(f"corrupt TFRecord shard: {err.message}", path) from None


def iterate_tfrecords(pattern_or_dir, **kwargs):
    """Python iteration over read_tfrecords whose corrupt-data errors name the bad shard."""
    import tensorflow as tf

    try:
        yield from read_tfrecords(pattern_or_dir, **kwargs)
    except tf.errors.DataLossError as err:
        verify_shards(pattern_or_dir)  # raises DataError naming the corrupt shard
        raise DataError(f"corrupt TFRecord data: {err.message}", pattern_or_dir) from None


def read_tfrecords(pattern_or_dir, cycle_length=4, verify=True):
    """A streaming tf.data.Dataset of parsed dicts from shards written by write_tfrecords.

    Keys: image_id (string), label (int64), texts (1-D string), and where written feature
    (float32 [D]), image (encoded bytes), boxes (float32 [K, 4]). Shards are interleaved with
    parallel reads; nothing is loaded whole. `verify` walks the record framing of each shard
    (and its manifest count) first, so truncated shards raise DataError naming the file.
    A payload bit flip only shows as tf.errors.DataLossError while reading; `iterate_tfrecords`
    converts it into a DataError naming the shard, and `verify_shards` checks all CRCs up front.
    """
    import tensorflow as tf

    files, manifest = _shards(os.fspath(pattern_or_dir))
    for path, count in files:
        if not os.path.isfile(path):
            raise DataError("missing TFRecord shard listed in the manifest", path)
        if verify:
            check_shard(path, count)
    first = None
    if manifest is None:
        try:
            first = next(iter(tf.data.TFRecordDataset(files[0][0]).take(1))).numpy()
        except (StopIteration, tf.errors.DataLossError) as err:
            raise DataError(f"cannot read the first record: {err}", files[0][0]) from None
    spec = _spec(tf, manifest, first)

    def parse(record):
        out = tf.io.parse_single_example(record, spec)
        out["texts"] = tf.sparse.to_dense(out["texts"])
        if "boxes" in out:
            out["boxes"] = tf.reshape(tf.sparse.to_dense(out["boxes"]), [-1, 4])
        return out

    names = tf.data.Dataset.from_tensor_slices([p for p, _ in files])
    records = names.interleave(tf.data.TFRecordDataset,
                               cycle_length=max(1, min(cycle_length, len(files))),
                               num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return records.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
