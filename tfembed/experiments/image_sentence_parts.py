"""Batch plans of the image-sentence recipes. The image side is image_input.py; the text side is
the shared tfembed.text.TextSide with the `brnn` or `two_branch` tower (tfembed.towers.text_towers)."""

import numpy as np
import tensorflow as tf

from tfembed.errors import ConfigError


def batch_plan(rows, counts, steps, batch, per_image, seed):
    """[steps*batch] image rows (each epoch a permutation) and [steps*batch, per_image] caption
    indices (distinct captions of the image where it has enough)."""
    rng = np.random.default_rng(seed)
    need = steps * batch
    order = np.concatenate([rng.permutation(rows) for _ in range(need // len(rows) + 1)])[:need]
    if batch > len(rows):
        raise ConfigError(f"train.batch_size {batch} exceeds the {len(rows)} training images")
    which = np.stack([rng.permutation(max(counts[r], per_image))[:per_image] % counts[r]
                      for r in order])
    return order, which


def batches(load_image, text_table, offsets, plan, batch, start_step=0):
    """tf.data batches {"image" [B, ...], "image_id" [B], "text" [B*m, ...] (each image's m
    captions, flattened here), "text_id" [B*m] (the image of each caption)} following `plan`:
    the task's default pairing (`Task.pairs`) builds the positives from the ids."""
    rows, which = plan
    begin = start_step * batch
    text_rows = offsets[rows[begin:], None] + which[begin:]
    per_image = which.shape[1]
    table = tf.constant(text_table)
    ds = tf.data.Dataset.from_tensor_slices((rows[begin:], text_rows))
    ds = ds.map(lambda r, t: {"image": load_image(r), "text": tf.gather(table, t), "image_id": r},
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch, drop_remainder=True).map(lambda b: {
        "image": b["image"], "image_id": b["image_id"],
        "text": tf.reshape(b["text"], [-1, *b["text"].shape[2:]]),
        "text_id": tf.repeat(b["image_id"], per_image)})
    return ds.prefetch(tf.data.AUTOTUNE)
