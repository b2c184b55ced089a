"""Where an index sits next to an export, and the export's own facts (metric, gallery).

An index for export version `<base>/<N>/` lives in `<base>/<N>/assets.extra/gallery_index/`:
inside the version, because its vectors are that version's embeddings, and under assets.extra,
which TF Serving copies but ignores.
"""

import json
import os

import numpy as np

from tfembed.errors import ConfigError, DataError
from tfembed.export.versions import GALLERY_FILE, SERVING_INFO

INDEX_DIR = os.path.join("assets.extra", "gallery_index")


def index_dir(version_dir):
    return os.path.join(version_dir, INDEX_DIR)


def serving_info(version_dir):
    """assets.extra/tfembed.json written by the exporter ({} for other SavedModels)."""
    path = os.path.join(version_dir, "assets.extra", SERVING_INFO)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as err:
        raise DataError(f"unreadable export metadata: {err}", path) from None


def model_metric(version_dir, metric=None):
    """The metric to index with: the one asked for, else the one the export recorded."""
    recorded = serving_info(version_dir).get("metric")
    if metric and recorded and metric != recorded:
        raise ConfigError(f"--metric {metric} differs from the model's scorer {recorded} "
                          f"(recorded in {version_dir}/assets.extra/{SERVING_INFO}); the index "
                          f"would not rank like the model")
    if not (metric or recorded):
        raise ConfigError(f"{version_dir} does not record its scorer as a vector metric "
                          f"(no assets.extra/{SERVING_INFO} metric): pass --metric "
                          f"dot|cosine|neg_sq_distance")
    return metric or recorded


def export_gallery(version_dir):
    """(ids, embeddings) of the gallery baked into the export's in-graph `retrieve`."""
    path = os.path.join(version_dir, "assets.extra", GALLERY_FILE)
    if not os.path.isfile(path):
        raise ConfigError(f"{version_dir} has no baked-in gallery ({path} missing): pass "
                          f"--embeddings (e.g. written by `tfembed embed`)")
    with np.load(path, allow_pickle=False) as data:
        return data["ids"].astype(object), data["embeddings"]
