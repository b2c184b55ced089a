"""Embedding model whose joint space is the visual feature space (DEM, Zhang et al. 2017).

The semantic side (attributes, word vectors, their fusion, or descriptions) is mapped onto the
image's feature vector with a least-squares loss; images are classified by the nearest mapped
class prototype. `visual_tower` (frozen, or None for precomputed features) is only used to
embed raw images at serving time; training reads precomputed features.
"""

import keras
import tensorflow as tf

from tfembed import scorers
from tfembed.losses.least_squares import l2_weight_penalty, least_squares_loss
from tfembed.models import gather_across_replicas
from tfembed.towers.semantic import regularised_kernels


class VisualSpaceEmbeddingModel(keras.Model):
    def __init__(self, semantic_encoder, weight_decay=1e-3, visual_tower=None,
                 scorer="neg_sq_distance", **kwargs):
        super().__init__(**kwargs)
        self.semantic_encoder, self.visual_tower = semantic_encoder, visual_tower
        self.weight_decay, self.scorer_name = float(weight_decay), scorer

    def encode_image(self, images, training=False):
        return images if self.visual_tower is None else self.visual_tower(images, training=False)

    def encode_text(self, semantic_inputs, training=False):
        return self.semantic_encoder(semantic_inputs, training=training)

    def call(self, inputs, training=False):
        return self.encode_text(inputs["semantic"], training)

    def score(self, image_embeddings, prototypes):
        return scorers.get(self.scorer_name)(image_embeddings, prototypes)

    @property
    def trainable_variables(self):  # the frozen visual tower is never trained here
        return self.semantic_encoder.trainable_variables

    def compute_batch_loss(self, batch, training=True):
        """Per-replica share of mean_n ||phi(v_n) - f(s_n)||^2 + lambda * sum ||W||^2."""
        per_example = least_squares_loss(self(batch, training=training), batch["feature"])
        (per_example,), factor = gather_across_replicas(per_example)
        penalty = l2_weight_penalty(regularised_kernels(self.semantic_encoder), self.weight_decay)
        return (tf.reduce_mean(per_example) + penalty) * factor
