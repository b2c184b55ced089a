"""Label-embedding models: WSABIE (linear image map V, learned label embeddings W, WARP loss)
and DeViSE (linear image map M onto fixed unit word vectors of class names, hinge rank loss).
Both score an image x against label y by (V x) . w_y."""

import keras
import numpy as np
import tensorflow as tf

from tfembed.losses.hinge_rank import hinge_rank_loss
from tfembed.losses.warp import warp_loss
from tfembed.models import gather_across_replicas


class LabelEmbeddingModel(keras.Model):
    """`image_tower` -> linear map (no bias) into the label space; labels either learned
    (`num_labels`, WSABIE, max-norm constrained) or fixed `label_vectors` (DeViSE)."""

    def __init__(self, image_tower, embed_dim, num_labels=None, label_vectors=None, loss="warp",
                 margin=1.0, max_norm=None, **kwargs):
        super().__init__(**kwargs)
        constraint = keras.constraints.MaxNorm(max_norm, axis=0) if max_norm else None
        self.image_tower, self.loss_name, self.margin = image_tower, loss, float(margin)
        self.projection = keras.layers.Dense(embed_dim, use_bias=False, name="image_map",
                                             kernel_constraint=constraint)
        self.projection.build(image_tower.output.shape)
        if label_vectors is None:
            self.labels = self.add_weight(
                shape=(num_labels, embed_dim), name="label_embeddings",
                initializer=keras.initializers.RandomNormal(stddev=1.0 / np.sqrt(embed_dim)),
                constraint=keras.constraints.MaxNorm(max_norm, axis=1) if max_norm else None)
        else:
            v = np.asarray(label_vectors, np.float32)
            v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
            self.labels = tf.constant(v)  # fixed: DeViSE does not train the word vectors
        self.built = True

    def encode_image(self, x, training=False):
        return self.projection(self.image_tower(x, training=training))

    def score(self, embeddings, label_vectors=None):
        return tf.matmul(embeddings, self.labels if label_vectors is None else label_vectors,
                         transpose_b=True)

    def compute_batch_loss(self, batch, training=True):
        scores = self.score(self.encode_image(batch["image"], training))
        if self.loss_name == "warp":
            loss = warp_loss(scores, batch["positive"], batch["candidates"], batch["label"],
                             self.margin)
        else:
            loss = hinge_rank_loss(scores, batch["label"], self.margin)
        _, factor = gather_across_replicas(loss)  # per-example losses: no gather needed
        return tf.reduce_mean(loss) * factor


def label_dataset_fn(load_image, rows, labels, positive, trials, num_labels, batch_size, seed):
    """dataset_fn(start_step) -> {image, label, positive [Y] 0/1, candidates [T]}; the WARP
    candidates of element i are drawn from the stateless seed (seed, i), so resuming is exact."""
    table = tf.constant(positive.astype(np.float32)) if positive is not None else None

    def fetch(i, row, label):
        out = {"image": load_image(row), "label": label}
        if table is not None:
            out["positive"] = tf.gather(table, row)
            out["candidates"] = tf.random.stateless_uniform(
                [trials], tf.stack([tf.cast(seed, tf.int64), i]), 0, num_labels, tf.int32)
        return out

    def dataset_fn(start_step):
        begin = start_step * batch_size
        ds = tf.data.Dataset.from_tensor_slices((rows[begin:], labels[begin:].astype(np.int32)))
        ds = ds.enumerate(start=begin).map(lambda i, x: fetch(i, *x),
                                           num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    return dataset_fn
