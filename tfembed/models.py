"""JointEmbeddingModel: image tower + text tower + scorer + loss.

F(v, t) = theta(v)^T phi(t) in Reed et al. 2016: the image tower is followed by a linear
projection into the joint space; the text encoder ends in its own projection. The loss is kept
out of what is exported: export uses `encode_image` / `encode_text` only.
"""

import keras
import tensorflow as tf

from tfembed import losses, scorers


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


class JointEmbeddingModel(keras.Model):
    """Two towers into one space, trained with a loss over the batch score matrix."""

    def __init__(self, image_tower, text_encoder, embed_dim, scorer="dot", loss="ds_sje",
                 loss_options=None, image_projection=True, **kwargs):
        super().__init__(**kwargs)
        self.image_tower = image_tower
        self.text_encoder = text_encoder
        self.image_projection = (keras.layers.Dense(embed_dim, name="image_projection")
                                 if image_projection else None)
        self.scorer_name, self.loss_name = scorer, loss
        self.loss_options = dict(loss_options or {})
        if loss == "da_sje":
            self.loss_options.setdefault("symmetric", False)

    def build_towers(self):
        """Create every variable now (under the caller's strategy scope), not at first call."""
        if self.image_projection is not None:
            self.image_projection.build(self.image_tower.output.shape)
        self.built = True

    def encode_image(self, images, training=False):
        x = self.image_tower(images, training=training)
        return self.image_projection(x) if self.image_projection is not None else x

    def encode_text(self, text_inputs, training=False):
        return self.text_encoder(text_inputs, training=training)

    def call(self, inputs, training=False):
        return (self.encode_image(inputs["image"], training),
                self.encode_text(inputs["text"], training))

    def score(self, image_embeddings, text_embeddings):
        return scorers.get(self.scorer_name)(image_embeddings, text_embeddings)

    def compute_batch_loss(self, batch, training=True):
        """Per-replica share of the mean loss over the (gathered) global batch."""
        v, t = self(batch, training=training)
        (v, t, labels), factor = gather_across_replicas(v, t, batch["label"])
        per_pair = losses.LOSSES[self.loss_name](self.score(v, t), labels, **self.loss_options)
        loss = tf.reduce_mean(per_pair) * factor
        if self.losses:  # weight regularisers, scaled like the data term
            loss += tf.add_n(self.losses) * factor
        return loss
