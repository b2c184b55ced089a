"""Reading the inputs of the embedding pipeline: image files or `tfembed data tfrecords` shards.

Every element becomes ((id, source), value), value being encoded image bytes or a float32
feature vector; an input that cannot be read, parsed or decoded goes to the ERRORS output as
{"id", "source", "reason"} instead of failing its batch (the model decodes a whole batch in one
op, so one corrupt image there would fail all of it).
"""

import json
import os
import re

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems

from tfembed.data.tfrecords import MANIFEST, check_shard
from tfembed.errors import DataError
from tfembed.export import signatures as sig

ERRORS = "errors"
_GLOB_CHARS = "*?["


def glob_root(pattern):
    """The directory part of a glob before its first wildcard: image ids are paths below it."""
    parts = pattern.split("/")
    fixed = next((i for i, p in enumerate(parts) if any(c in p for c in _GLOB_CHARS)),
                 len(parts) - 1)
    return "/".join(parts[:fixed])


def image_id(path, root):
    """Path relative to the glob's fixed directory ('/'-separated): unique like the paths."""
    rel = path[len(root):] if root and path.startswith(root) else path
    return rel.lstrip("/").replace(os.sep, "/")


def match(pattern, kind):
    """Metadata of the files a pattern matches; DataError before any pipeline runs if none."""
    try:
        found = FileSystems.match([pattern])[0].metadata_list
    except Exception as err:  # Beam raises BeamIOError for a pattern it cannot list
        raise DataError(f"cannot list {kind}: {err}", pattern) from None
    if not found:
        raise DataError(f"no {kind} match", pattern)
    return found


def check_tfrecords(files, input_name, feature_dim):
    """Fail fast on shards that lack what the model takes (manifest) or are truncated."""
    wanted = {sig.IMAGE: "images", sig.FEATURES: "features"}[input_name]  # manifest names
    for directory in sorted({os.path.dirname(f.path) for f in files}):
        manifest = os.path.join(directory, MANIFEST)
        if FileSystems.exists(manifest):
            with FileSystems.open(manifest) as f:
                written = json.load(f)
            include = written.get("include", [])
            if wanted not in include:
                raise DataError(f"the model's embed_image takes {input_name!r} but these "
                                f"shards hold {include or 'no images or features'}", manifest)
            if input_name == sig.FEATURES and feature_dim and \
                    written.get("feature_dim") not in (None, feature_dim):
                raise DataError(f"the shards hold {written['feature_dim']}-d features, the "
                                f"model takes {feature_dim}", manifest)
    for f in files:
        if os.path.isfile(f.path):  # cheap framing walk; remote shards are checked as read
            check_shard(f.path)


def _error(id_, source, reason):
    return beam.pvalue.TaggedOutput(ERRORS, {"id": id_, "source": source, "reason": reason})


def _undecodable(data):
    """None if the bytes decode the way the exported signature decodes them, else why not."""
    import tensorflow as tf

    try:
        tf.io.decode_image(data, channels=3, expand_animations=False)
    except (tf.errors.InvalidArgumentError, ValueError) as err:
        # TF op messages carry "{{function_node ...}}" and "[Op:...]" noise around the reason
        message = re.sub(r"\{\{.*?\}\}|\[Op:\w+\]", "", getattr(err, "message", str(err)))
        return f"cannot decode image: {message.strip() or type(err).__name__}"
    return None


class ReadImage(beam.DoFn):
    """fileio ReadableFile -> ((id, path), encoded bytes) after a decode check."""

    def __init__(self, root):
        self.root = root

    def process(self, readable):
        path = readable.metadata.path
        id_ = image_id(path, self.root)
        try:
            data = readable.read()
        except Exception as err:  # any file-system error: record it, keep the job going
            yield _error(id_, path, f"cannot read file: {type(err).__name__}: {err}")
            return
        reason = _undecodable(data)
        if reason:
            yield _error(id_, path, reason)
        else:
            yield (id_, path), data


class ParseRecord(beam.DoFn):
    """(shard, serialized tf.train.Example) -> ((image_id, shard), image bytes or features)."""

    def __init__(self, input_name, feature_dim):
        self.input_name, self.feature_dim = input_name, feature_dim

    def process(self, element):
        import tensorflow as tf

        shard, raw = element
        try:
            feature = tf.train.Example.FromString(raw).features.feature
            id_ = feature["image_id"].bytes_list.value[0].decode("utf-8")
        except Exception as err:  # undecodable proto, no image_id, non-UTF-8 id
            yield _error(None, shard, f"bad record (no readable image_id): {type(err).__name__}")
            return
        if self.input_name == sig.IMAGE:
            if not feature["image"].bytes_list.value:
                yield _error(id_, shard, "record has no 'image' (the model takes images)")
                return
            data = feature["image"].bytes_list.value[0]
            reason = _undecodable(data)
            yield _error(id_, shard, reason) if reason else ((id_, shard), data)
            return
        values = np.asarray(feature["feature"].float_list.value, np.float32)
        if not len(values) or (self.feature_dim and len(values) != self.feature_dim):
            yield _error(id_, shard, f"record has {len(values)} feature values, the model "
                         f"takes {self.feature_dim}")
            return
        yield (id_, shard), values
