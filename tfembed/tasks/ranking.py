"""Ranking tasks: Karpathy's bidirectional hinge, Wang's structure-preserving loss, Gordo's
triplets (each a pure function in tfembed.losses, adapted here)."""

import tensorflow as tf

from tfembed.losses.bidirectional_ranking import bidirectional_ranking_loss
from tfembed.losses.structure_preserving import structure_preserving_loss
from tfembed.tasks.base import Task


class BidirectionalRanking(Task):
    """Karpathy & Fei-Fei 2015 Eq. 9 (and VSE++ with violation="max"): per positive pair."""

    def __init__(self, margin=0.2, violation="sum", top_k=1, weights=(1.0, 1.0), name=None):
        super().__init__(name=name or "bidirectional_ranking", margin=margin,
                         violation=violation, top_k=top_k, weights=tuple(weights))

    def compute(self, scores, positive, y_true, y_pred):
        return bidirectional_ranking_loss(scores, self.ids(y_true, "image_id"),
                                          self.ids(y_true, "text_id"), **self.options)


class StructurePreserving(Task):
    """Wang, Li & Lazebnik 2016 Eq. 3: top-K bidirectional ranking + the within-text
    neighbourhood constraint (needs y_pred["text_scores"] = score(t, t))."""

    uses_text_scores = True

    def __init__(self, margin=0.1, top_k=10, weights=(1.0, 2.0), within_weight=0.1, name=None):
        super().__init__(name=name or "structure_preserving", margin=margin, top_k=top_k,
                         weights=tuple(weights), within_weight=within_weight)

    def compute(self, scores, positive, y_true, y_pred):
        return structure_preserving_loss(scores, y_pred["text_scores"],
                                         self.ids(y_true, "image_id"),
                                         self.ids(y_true, "text_id"), **self.options)


class Triplet(Task):
    """Gordo & Larlus 2017 Sec. 4: L = L_v + text_weight (L_t1 + L_t2) per triplet
    (query, relevant, irrelevant) of unit vectors, each term 0.5 [m - s(q, p) + s(q, n)]_+:
    L_v on images, L_t1 with the captions' tf-idf embeddings as p/n, L_t2 with the query's.
    text_weight=0 is the visual-only (V,V) model. Batches: {"query", "positive", "negative"}
    images and their "*_text" tf-idf rows; triplets are independent, so nothing is gathered.
    """

    def __init__(self, margin=0.1, text_weight=1.0, name=None):
        super().__init__(name=name or "triplet", margin=margin, text_weight=text_weight)

    def pairs(self, model, batch, training):
        # Explicit calls: autograph mis-converts generator expressions over the batch keys.
        q = model.encode_image(batch["query"], training)
        p = model.encode_image(batch["positive"], training)
        n = model.encode_image(batch["negative"], training)
        y_pred = {"scores": tf.stack([self._dot(q, p), self._dot(q, n)], axis=1)}
        if self.options["text_weight"]:
            tq = model.encode_text(batch["query_text"], training)
            tp = model.encode_text(batch["positive_text"], training)
            tn = model.encode_text(batch["negative_text"], training)
            y_pred["text_candidates"] = tf.stack([self._dot(q, tp), self._dot(q, tn)], axis=1)
            y_pred["text_query"] = tf.stack([self._dot(tq, p), self._dot(tq, n)], axis=1)
        # Column 0 is the relevant item, column 1 the irrelevant one.
        return {"positive": tf.one_hot(tf.zeros_like(q[:, 0], tf.int32), 2)}, y_pred

    @staticmethod
    def _dot(a, b):
        return tf.reduce_sum(a * b, axis=-1)

    def _term(self, scores):
        return 0.5 * tf.nn.relu(self.options["margin"] - scores[:, 0] + scores[:, 1])

    def compute(self, scores, positive, y_true, y_pred):
        loss = self._term(scores)
        if self.options["text_weight"]:
            loss += self.options["text_weight"] * (self._term(y_pred["text_candidates"])
                                                   + self._term(y_pred["text_query"]))
        return loss
