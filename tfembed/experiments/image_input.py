"""The image side of the image-sentence recipes: pixels, region crops, features from a data set
or a frozen CNN, or precomputed region features (`data.region_features`); the image tower and
the serving path."""

import keras
import numpy as np
import tensorflow as tf

from tfembed.data import pipeline
from tfembed.errors import ConfigError
from tfembed.layers.two_branch import embedding_branch
from tfembed.towers import regions as region_lib
from tfembed.towers.image import build_image_tower


class ImageInput:
    """`load(row) -> image tower input` for every row, the image tower, and the serving path.

    Trainable pixel towers see pixels (two_branch) or region crops of the data set's boxes
    (alignment); a frozen CNN (`image.frozen`) is run once here and the tower trains on its
    features, as the papers did. Served images arrive as bytes without boxes: `serving`
    gives the export's image input and, where the tower does not start from it, a serving
    tower (fixed grid cut in the graph, the frozen CNN, then the trained tower).
    Region features (`data.region_features=FILE`, tfembed.data.region_features) give the
    alignment model [N, R, D] and are served like a frozen CNN over the file's boxes.
    """

    def __init__(self, cfg, dataset, kind):
        icfg = cfg["image"]
        self.regions = None
        if cfg["data"].get("region_features"):
            self._region_features(cfg, dataset, kind)
            return
        self.kind, self.frozen = kind, icfg["frozen"]
        self.crop, self.max_regions, self.grid = tuple(icfg["crop_size"]), icfg["max_regions"], icfg["grid"]
        use_features = icfg["tower"] == "features"
        if use_features and dataset.features is None:
            raise ConfigError("image.tower=features but the data set has no features "
                              "(set data.features=FILE)")
        size = None if use_features else tuple(icfg["size"])
        load, self.source_kind = pipeline.image_source(dataset, np.arange(dataset.num_images), size)
        self.boxes = None
        if kind == "alignment" and not use_features:
            self.boxes = region_lib.region_table(
                dataset.boxes if icfg["regions"] == "boxes" else None, dataset.num_images,
                self.max_regions, self.grid)
            table, load_pixels = tf.constant(self.boxes), load
            load = lambda i: region_lib.crop_regions(load_pixels(i), tf.gather(table, i), self.crop)  # noqa: E731
        self.cnn = None if use_features else build_image_tower(
            icfg["tower"], (*(self.crop if kind == "alignment" else size), 3), **icfg["options"])
        self.load = load
        if self.frozen and self.cnn is not None:
            self.cnn.trainable = False
            feats = self._run_cnn(dataset.num_images)
            self.load = lambda i, t=tf.constant(feats): tf.gather(t, i)

    def _region_features(self, cfg, dataset, kind):
        """Tower input = the file's [R, D] rows of each image; boxes = the file's boxes."""
        from tfembed.data import region_features
        path, icfg = cfg["data"]["region_features"], cfg["image"]
        if kind != "alignment":
            raise ConfigError(f"data.region_features gives [N, R, D] region features, which only "
                              f"model.kind=alignment uses (got model.kind={kind})")
        if icfg["tower"] != "features":
            raise ConfigError(f"data.region_features holds precomputed CNN features: use "
                              f"image.tower=features, not {icfg['tower']} (or drop the file)")
        self.regions, rows = region_features.load_for(path, dataset.image_ids)
        self.kind, self.frozen, self.cnn, self.grid = kind, True, None, self.regions["grid"]
        self.crop = tuple(self.regions["crop_size"])
        table = tf.constant(self.regions["features"][rows])
        self.load = lambda i: tf.gather(table, i)  # noqa: E731
        self.source_kind = ("region_features", tuple(table.shape[1:]))
        self.boxes = np.tile(self.regions["boxes"], (dataset.num_images, 1, 1))
        self.serving_cnn = region_lib.region_feature_cnn(self.regions,
                                                         icfg["options"].get("weights"))

    def _run_cnn(self, n):
        out = []
        for x in pipeline.image_batches(self.load, np.arange(n), 32):
            if self.kind == "alignment":
                shape = tf.shape(x)
                flat = tf.reshape(x, tf.concat([[-1], shape[2:]], 0))
                y = self.cnn(flat, training=False)
                out.append(tf.reshape(y, [shape[0], shape[1], -1]).numpy())
            else:
                out.append(self.cnn(x, training=False).numpy())
        return np.concatenate(out)

    def input_shape(self):
        return tuple(self.load(tf.constant(0, tf.int64)).shape)

    def tower(self, cfg, embed_dim):
        """Keras model over `load`'s output -> region vectors [N, R, D] or unit vectors [N, D]."""
        trainable_cnn = None if (self.cnn is None or self.frozen) else self.cnn
        if self.kind == "alignment":
            return region_lib.region_encoder(trainable_cnn, self.input_shape(), embed_dim,
                                             name="image_tower")
        inputs = keras.Input(self.input_shape(), name="image")
        x = trainable_cnn(inputs) if trainable_cnn is not None else inputs
        branch = embedding_branch(x.shape[-1], name="image_branch", **cfg["text"]["branch"])
        return keras.Model(inputs, branch(x), name="image_tower")

    def serving(self, tower):
        """(export image input, serving image tower or None = the model's own tower)."""
        kind, size = self.source_kind
        if kind == "region_features":
            return region_lib.region_feature_serving(self.regions, self.serving_cnn, tower)
        if kind == "features":
            return (kind, size), None
        frozen = self.cnn if self.frozen else None
        if self.kind == "alignment":
            grid = region_lib.region_table(None, 1, self.max_regions, self.grid)[0]
            return (kind, size), region_lib.serving_region_tower(tower, size, grid, self.crop, frozen)
        if frozen is None:
            return (kind, size), None
        pixels = keras.Input((*size, 3), name="pixels")
        return (kind, size), keras.Model(pixels, tower(frozen(pixels)), name="serving_image_tower")
