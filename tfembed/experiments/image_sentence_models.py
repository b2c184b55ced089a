"""The joint model of the image-sentence recipes: an image encoder, a text encoder, a scorer
and a ranking loss over the (replica-gathered) batch of images and their captions.

Batches: {"image": [B, ...], "text": [B, m, ...] (m captions of each image), "image_id": [B]}.
"""

import keras
import tensorflow as tf

from tfembed.layers.alignment import alignment_scores, flat_alignment_scorer
from tfembed.losses.bidirectional_ranking import bidirectional_ranking_loss
from tfembed.losses.structure_preserving import structure_preserving_loss
from tfembed.models import gather_across_replicas


class ImageSentenceModel(keras.Model):
    """kind "two_branch": unit vectors, cosine scores, structure-preserving loss (Wang 2016).
    kind "alignment": region / word vectors, S_kl scores, bidirectional ranking (Karpathy)."""

    def __init__(self, kind, image_encoder, text_encoder, loss_options, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.image_encoder, self.text_encoder = kind, image_encoder, text_encoder
        self.loss_options = dict(loss_options)
        self.built = True  # both encoders are built functional models

    def encode_image(self, images, training=False):
        return self.image_encoder(images, training=training)

    def encode_text(self, text, training=False):
        return self.text_encoder(text, training=training)

    def call(self, inputs, training=False):
        return self.encode_image(inputs["image"], training), self.encode_text(inputs["text"], training)

    def score(self, image_embeddings, text_embeddings):
        if self.kind == "alignment":
            return alignment_scores(image_embeddings, text_embeddings)
        return tf.matmul(image_embeddings, text_embeddings, transpose_b=True)

    def flat(self, embeddings):
        """[N, K, D] -> [N, K*D] for serving (identity for two_branch)."""
        if self.kind != "alignment":
            return embeddings
        return tf.reshape(embeddings, [tf.shape(embeddings)[0], -1])

    def flat_scorer(self):
        if self.kind != "alignment":
            return self.score
        return flat_alignment_scorer(int(self.image_encoder.output.shape[-1]))

    def compute_batch_loss(self, batch, training=True):
        text = batch["text"]
        per_image = tf.shape(text)[1]
        flat_text = tf.reshape(text, tf.concat([[-1], tf.shape(text)[2:]], 0))
        v = self.encode_image(batch["image"], training)
        t = self.encode_text(flat_text, training)
        ids = tf.cast(batch["image_id"], tf.int64)
        (v, t, ids), factor = gather_across_replicas(v, t, ids)  # negatives from all replicas
        text_ids = tf.repeat(ids, per_image)
        opts = self.loss_options
        if self.kind == "two_branch":
            loss = structure_preserving_loss(self.score(v, t), self.score(t, t), ids, text_ids, **opts)
        else:
            loss = tf.reduce_mean(bidirectional_ranking_loss(self.score(v, t), ids, text_ids, **opts))
        loss = loss * factor
        if self.losses:
            loss += tf.add_n(self.losses) * factor
        return loss
