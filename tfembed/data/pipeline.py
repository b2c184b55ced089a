"""tf.data input shared by recipes: class-balanced (image, description) pairs, image loading
from pixels, files or features, and in-graph decoding used both in training and in export."""

import numpy as np
import tensorflow as tf

from tfembed import progress

AUTOTUNE = tf.data.AUTOTUNE


def decode_and_resize(encoded, size):
    """Encoded JPEG/PNG/GIF/BMP bytes (scalar) -> float32 [H, W, 3] in [0, 255]."""
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    image = tf.image.resize(tf.cast(image, tf.float32), size, antialias=True)
    return tf.ensure_shape(image, list(size) + [3])


def flat_texts(texts, rows):
    """Flatten texts of `rows` -> (list of strings, offsets[len(rows)+1]) for index lookups."""
    flat, offsets = [], [0]
    for r in rows:
        flat.extend(texts[r])
        offsets.append(len(flat))
    return flat, np.asarray(offsets, np.int64)


def class_balanced_pairs(labels, text_counts, steps, batch_size, seed):
    """Index plan for `steps` batches of (row, description) pairs, as in Reed et al. 2016:
    each batch draws distinct classes where possible, one image per class and one of its
    descriptions. Returns (rows [steps*B], description index within the row [steps*B])."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    rows = np.empty(steps * batch_size, np.int64)
    for s in range(steps):
        picked = rng.permutation(classes)
        while len(picked) < batch_size:  # more slots than classes: wrap around
            picked = np.concatenate([picked, rng.permutation(classes)])
        for b, c in enumerate(picked[:batch_size]):
            rows[s * batch_size + b] = rng.choice(by_class[c])
    text_index = (rng.random(len(rows)) * np.asarray(text_counts)[rows]).astype(np.int64)
    return rows, text_index


def image_source(dataset, rows, image_size=None):
    """A function `row -> image input` over the given dataset rows (local index 0..len(rows)-1),
    plus the input spec: ("features", D), ("pixels", (H, W)) ."""
    if dataset.features is not None and image_size is None:
        table = tf.constant(dataset.features[rows].astype(np.float32))
        return (lambda i: tf.gather(table, i)), ("features", table.shape[1])
    if dataset.images is not None:
        table = tf.constant(dataset.images[rows])
        size = tuple(image_size or table.shape[1:3])

        def from_pixels(i):
            img = tf.cast(tf.gather(table, i), tf.float32)
            # antialias as decode_and_resize does, so the export's embed_image (PNG/JPEG
            # bytes -> decode_and_resize) sees the pixels training and evaluation saw.
            return img if tuple(table.shape[1:3]) == size else tf.image.resize(
                img, size, antialias=True)
        return from_pixels, ("pixels", size)
    if dataset.image_paths is not None:
        paths = tf.constant([dataset.image_paths[r] for r in rows])
        size = tuple(image_size or (224, 224))
        return (lambda i: decode_and_resize(tf.io.read_file(tf.gather(paths, i)), size)), \
            ("pixels", size)
    raise ValueError(f"data set {dataset.name!r} has neither images, image files nor features")


def pair_dataset(load_image, text_ids, pair_rows, pair_texts, batch_size, start_step=0):
    """Batches {'image', 'text', 'image_id'} following an index plan, starting at `start_step`;
    the id is the pair's class (Reed's structured loss pairs row n with text n)."""
    rows, texts, labels = pair_rows
    begin = start_step * batch_size
    ds = tf.data.Dataset.from_tensor_slices((rows[begin:], pair_texts[begin:], labels[begin:]))
    table = tf.constant(text_ids)

    def fetch(row, text, label):
        return {"image": load_image(row), "text": tf.gather(table, text), "image_id": label}

    ds = ds.map(fetch, num_parallel_calls=AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def image_batches(load_image, rows, batch_size=128, stage="embed images"):
    """tf.data batches of image inputs for the given rows (parallel decode, in order).

    Iterated to the end, the batches are one progress stage named `stage` (None: none; e.g.
    a figure taking one batch); otherwise the result behaves as the tf.data.Dataset."""
    rows = np.asarray(rows, np.int64)
    ds = tf.data.Dataset.from_tensor_slices(rows)
    ds = ds.map(load_image, num_parallel_calls=AUTOTUNE).batch(batch_size).prefetch(AUTOTUNE)
    if stage is None:
        return ds
    return progress.Counted(ds, stage, total=len(rows), unit="images",
                            size=_batch_size)


def _batch_size(batch):
    return int(tf.nest.flatten(batch)[0].shape[0])  # a tensor, or a dict/tuple of them


def embed_in_batches(fn, inputs, batch_size=256, stage="embed texts"):
    """Apply a Keras model/function to a numpy array or tensor in batches -> numpy (one
    progress stage `stage`)."""
    n = int(inputs.shape[0])
    outs = []
    with progress.stage(stage, total=n, unit="texts") as bar:
        for i in range(0, n, batch_size):
            outs.append(np.asarray(fn(inputs[i:i + batch_size])))
            bar.update(min(batch_size, n - i))
    return np.concatenate(outs) if outs else np.zeros((0,), np.float32)
