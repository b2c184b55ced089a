"""JointEmbedding: the one model contract of every recipe, image tower + text tower + scorer
+ task (keras-hub's CLIPBackbone shape: towers passed in, `encode_image` / `encode_text`).

F(v, t) = score(image_tower(v), text_tower(t)). A label table (WSABIE, DeViSE) is a text tower
over label ids (`label_texts`: the inputs scored against every batch); DEM's semantic->visual
MLP is a text tower with the `neg_sq_distance` scorer and an identity image tower. The task
(tfembed.tasks) is kept out of what is exported: export uses `encode_*` and `score` only.
"""

import keras
import numpy as np
import tensorflow as tf

from tfembed import scorers, tasks


def gather_across_replicas(*tensors):
    """All-gather per-replica batches so in-batch negatives/classes span the global batch.

    Returns the gathered tensors and the factor that makes per-replica losses sum to the
    global-batch loss (the optimizer sums gradients over replicas).
    """
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return tensors, 1.0
    return [_all_gather(ctx, t) for t in tensors], 1.0 / ctx.num_replicas_in_sync


def _all_gather(ctx, tensor):
    """Concatenate equal-size per-replica batches in replica order.

    Built from a differentiable all-reduce of zero-padded slices, because
    `ReplicaContext.all_gather` fails under MultiWorkerMirroredStrategy in tf.function
    ("destinations can not be empty"). Needs equal per-replica batch sizes (drop_remainder);
    integer ids travel as float32, exact below 2**24.
    """
    dtype = tensor.dtype
    x = tf.cast(tensor, tf.float32) if not dtype.is_floating else tensor
    n = tf.shape(x)[0]
    replica = tf.cast(ctx.replica_id_in_sync_group, tf.int32)
    before, after = replica * n, (ctx.num_replicas_in_sync - 1 - replica) * n
    paddings = tf.concat([[[before, after]], tf.zeros([tf.rank(x) - 1, 2], tf.int32)], axis=0)
    full = ctx.all_reduce(tf.distribute.ReduceOp.SUM, tf.pad(x, paddings))
    return full if dtype.is_floating else tf.cast(tf.round(full), dtype)


def num_replicas():
    ctx = tf.distribute.get_replica_context()
    return 1 if ctx is None else ctx.num_replicas_in_sync


@keras.saving.register_keras_serializable(package="tfembed")
class JointEmbedding(keras.Model):
    """Two towers into one space, trained by a task over the replica-gathered score matrix.

    Batches: {"image": [B, ...], "image_id": [B], "text": [B', ...], "text_id": [B'] (default:
    image_id, one text per image)} plus the task's extras (e.g. WARP's "candidates"). With
    `label_texts` the batch has no "text": every image is scored against all of them, ids
    0..M-1. A task may pair other batch keys itself (`Task.pairs`, e.g. Gordo's triplets).
    """

    def __init__(self, image_tower, text_tower, scorer="dot", task="ds_sje", task_options=None,
                 label_texts=None, **kwargs):
        super().__init__(**kwargs)
        self.image_tower, self.text_tower = image_tower, text_tower
        self.scorer_name = scorer
        self.scorer = scorers.get(scorer)
        self.task_name, self.task_options = task, dict(task_options or {})
        self.task = tasks.get(task, **self.task_options)
        self.label_texts = None if label_texts is None else np.asarray(label_texts)
        self.built = True  # towers are built functional models

    # -- the embedding contract (what evaluators, the exporter and serving use) --
    def encode_image(self, images, training=False):
        return self.image_tower(images, training=training)

    def encode_text(self, texts, training=False):
        return self.text_tower(texts, training=training)

    def score(self, image_embeddings, text_embeddings):
        return self.scorer(image_embeddings, text_embeddings)

    def call(self, inputs, training=False):
        return (self.encode_image(inputs["image"], training),
                self.encode_text(inputs["text"], training))

    # -- training --
    def gather(self, *tensors):
        """All-gather per-replica batches (in-batch negatives span the global batch)."""
        gathered, _ = gather_across_replicas(*tensors)
        return list(gathered)

    def compute_batch_loss(self, batch, training=True):
        """Per-replica share of the task's mean over the global batch (+ regularisers): the
        optimizer sums the replicas' gradients, so every replica scales by 1/replicas."""
        y_true, y_pred = self.task.pairs(self, batch, training)
        loss = tf.reduce_mean(self.task(y_true, y_pred))
        if self.losses:  # weight regularisers (e.g. DEM's weight decay), scaled like the data
            loss += tf.add_n(self.losses)
        return loss / num_replicas()

    # -- serialisation --
    def get_config(self):
        config = super().get_config()
        config.update(image_tower=keras.saving.serialize_keras_object(self.image_tower),
                      text_tower=keras.saving.serialize_keras_object(self.text_tower),
                      scorer=self.scorer_name, task=self.task_name,
                      task_options=self.task_options,
                      label_texts=None if self.label_texts is None else self.label_texts.tolist())
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("image_tower", "text_tower"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
