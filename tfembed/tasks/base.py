"""The shared base of the tasks: options kept for get_config, dict inputs unpacked."""

import keras
import tensorflow as tf


class Task(keras.losses.Loss):
    """A loss over {"scores": [N, M], ...} and {"positive": [N, M], "image_id", "text_id", ...}.

    Subclasses implement `compute(scores, positive, y_true, y_pred)`. Keras converts every
    entry of y_true to float32, so ids arrive as floats (exact below 2**24) and are cast back.
    """

    uses_text_scores = False  # y_pred also carries "text_scores" = score(t, t)
    extras = ()  # batch keys gathered and passed in y_true (besides the ids)

    def __init__(self, name=None, **options):
        # No Keras reduction: Keras would divide by the replicas for vectors but not for
        # scalars; JointEmbedding takes the mean and scales it once for every task.
        super().__init__(name=name or type(self).__name__.lower(), reduction="none")
        self.options = options

    def pairs(self, model, batch, training):
        """(y_true, y_pred) of a batch: every image against every text of the global batch
        (or against the model's label table), positives where the ids are equal."""
        image_id = tf.reshape(batch["image_id"], [-1])
        v = model.encode_image(batch["image"], training)
        extras = [batch[k] for k in self.extras]
        if model.label_texts is not None:  # a label table: the same columns on every replica
            t = model.encode_text(tf.constant(model.label_texts), training)
            text_id = tf.range(tf.shape(t)[0], dtype=image_id.dtype)
            v, image_id, *extras = model.gather(v, image_id, *extras)
        else:
            t = model.encode_text(batch["text"], training)
            text_id = tf.reshape(batch.get("text_id", batch["image_id"]), [-1])
            v, t, image_id, text_id, *extras = model.gather(v, t, image_id, text_id, *extras)
        y_true = {"positive": tf.equal(image_id[:, None], tf.cast(text_id, image_id.dtype)[None, :]),
                  "image_id": image_id, "text_id": text_id,
                  **dict(zip(self.extras, extras))}
        y_pred = {"scores": model.score(v, t)}
        if self.uses_text_scores:
            y_pred["text_scores"] = model.score(t, t)
        return y_true, y_pred

    def call(self, y_true, y_pred):
        if not isinstance(y_true, dict):
            y_true = {"positive": y_true}
        if not isinstance(y_pred, dict):
            y_pred = {"scores": y_pred}
        return self.compute(y_pred["scores"], y_true["positive"], y_true, y_pred)

    def compute(self, scores, positive, y_true, y_pred):
        raise NotImplementedError

    @staticmethod
    def ids(y_true, key):
        return tf.cast(tf.round(y_true[key]), tf.int64)

    def get_config(self):
        return {"name": self.name, **self.options}
