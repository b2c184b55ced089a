"""Label-embedding models on the shared contract: a JointEmbedding whose text tower is a label
table over label ids (tfembed.models: "a label table is a text tower").

WSABIE (Weston et al. 2011, Eq. 1): f_y(x) = w_y . V x, V a linear map without bias and W a
learned table, both optionally max-norm constrained (section 3), trained with WARP.
DeViSE (Frome et al. 2013, Eq. 1): t_y . M v, M a linear map without bias and t_y the fixed
unit-norm word vectors of the class names (not trained), trained with the hinge rank loss.
"""

import keras
import numpy as np
import tensorflow as tf

from tfembed.models import JointEmbedding


def linear_map(tower, embed_dim, max_norm=None, name="image_map"):
    """image tower -> V x (no bias; column max-norm, as WSABIE's ||V_i|| <= C)."""
    constraint = keras.constraints.MaxNorm(max_norm, axis=0) if max_norm else None
    out = keras.layers.Dense(embed_dim, use_bias=False, name=name,
                             kernel_constraint=constraint)(tower.output)
    return keras.Model(tower.input, out, name="image_tower")


def label_table(num_labels, embed_dim, vectors=None, max_norm=None, name="label_embeddings"):
    """Text tower over label ids: a learned table (RandomNormal(1/sqrt(d)), row max-norm), or
    the fixed `vectors` (non-trainable)."""
    ids = keras.Input((), dtype="int32", name="label_id")
    if vectors is None:
        layer = keras.layers.Embedding(
            num_labels, embed_dim, name=name,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0 / np.sqrt(embed_dim)),
            embeddings_constraint=keras.constraints.MaxNorm(max_norm, axis=1) if max_norm else None)
    else:
        layer = keras.layers.Embedding(num_labels, embed_dim, name=name, trainable=False,
                                       embeddings_initializer="zeros")
    table = keras.Model(ids, layer(ids), name="label_table")
    if vectors is not None:
        layer.set_weights([np.asarray(vectors, np.float32)])
    return table


def unit_rows(vectors):
    v = np.asarray(vectors, np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def wsabie_model(tower, embed_dim, num_labels, margin=1.0, max_norm=None, scorer="dot",
                 task="warp"):
    """JointEmbedding(V, W, dot, warp) over labels 0..Y-1."""
    image = linear_map(tower, embed_dim, max_norm)
    text = label_table(num_labels, embed_dim, max_norm=max_norm)
    return JointEmbedding(image, text, scorer=scorer, task=task,
                          task_options={"margin": float(margin)},
                          label_texts=np.arange(num_labels))


def devise_model(tower, class_vectors, seen, margin=0.1, scorer="dot", task="hinge_rank"):
    """JointEmbedding(M, fixed unit class-name vectors of every class, dot, hinge_rank); trained
    against the `seen` classes only (`label_texts` = their ids, so score column j = seen[j])."""
    unit = unit_rows(class_vectors)
    image = linear_map(tower, unit.shape[1])
    text = label_table(len(unit), unit.shape[1], vectors=unit, name="class_name_vectors")
    return JointEmbedding(image, text, scorer=scorer, task=task,
                          task_options={"margin": float(margin)}, label_texts=np.asarray(seen))


def label_dataset_fn(load_image, rows, labels, positive, trials, num_labels, batch_size, seed):
    """dataset_fn(start_step) -> {image, image_id = label = the row's positive label (a score
    column), positive [Y] 0/1 and candidates [T] (WARP only)}; the WARP candidates of element i
    are drawn from the stateless seed (seed, i), so resuming is exact."""
    table = tf.constant(positive.astype(np.float32)) if positive is not None else None

    def fetch(i, row, label):
        out = {"image": load_image(row), "image_id": label, "label": label}
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
