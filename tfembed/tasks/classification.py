"""Class-level tasks: Reed's structured joint embedding, WSABIE's WARP, DeViSE's hinge rank."""

import tensorflow as tf

from tfembed.losses.hinge_rank import hinge_rank_loss
from tfembed.losses.structured_joint import structured_joint_loss
from tfembed.losses.warp import warp_loss
from tfembed.tasks.base import Task


class StructuredJoint(Task):
    """DS-SJE (symmetric) / DA-SJE (image side only), Reed et al. 2016 Eq. 3-5; row n of the
    batch is paired with column n and "image_id" holds the class of each pair."""

    def __init__(self, symmetric=True, margin=1.0, violation="max", name=None):
        super().__init__(name=name or ("ds_sje" if symmetric else "da_sje"), symmetric=symmetric,
                         margin=margin, violation=violation)

    def compute(self, scores, positive, y_true, y_pred):
        return structured_joint_loss(scores, self.ids(y_true, "image_id"), **self.options)


class Warp(Task):
    """WARP (Weston et al. 2011) over image rows x label columns. y_true carries "candidates"
    [N, T] (labels drawn by the input pipeline from a stateless seed, so a resumed run draws
    the same ones) and "label" [N], the positive label each row is trained on."""

    extras = ("candidates", "label")

    def __init__(self, margin=1.0, name=None):
        super().__init__(name=name or "warp", margin=margin)

    def pairs(self, model, batch, training):
        """As Task.pairs; with several positive labels per image (WSABIE's caption terms) the
        batch's "positive" [B, Y] row replaces the mask built from "image_id" (one label)."""
        y_true, y_pred = super().pairs(model, batch, training)
        if "positive" in batch:
            (positive,) = model.gather(tf.cast(batch["positive"], tf.float32))
            y_true["positive"] = positive
        return y_true, y_pred

    def compute(self, scores, positive, y_true, y_pred):
        candidates = tf.cast(tf.round(y_true["candidates"]), tf.int32)
        label = tf.cast(tf.round(y_true["label"]), tf.int32)
        return warp_loss(scores, positive, candidates, label, self.options["margin"])


class HingeRank(Task):
    """DeViSE's hinge rank loss (Frome et al. 2013 Eq. 1): sum over the other labels of
    [margin - s(y) + s(j)]_+, with one positive label per row."""

    extras = ("label",)

    def __init__(self, margin=0.1, name=None):
        super().__init__(name=name or "hinge_rank", margin=margin)

    def compute(self, scores, positive, y_true, y_pred):
        label = tf.cast(tf.round(y_true["label"]), tf.int32)
        return hinge_rank_loss(scores, label, self.options["margin"])
