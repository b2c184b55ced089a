"""Gordo & Larlus 2017 Sec. 4's text tower: theta(t) = W^T t / ||W^T t|| on the l2-normalised
tf-idf t of a text over word stems, computed in the graph from a TextPreprocessor's counts."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfembed")
class StemTfidf(keras.layers.Layer):
    """Word counts [N, 1 + S] (TextPreprocessor output="counts": column 0 unknown words, then
    the S vocabulary words) -> tf-idf [N, T] over stems: each surface word's count is added to
    its stem's column (`stem_ids`, -1: no term), times the idf. Fixed, no weights."""

    def __init__(self, stem_ids, idf, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.stem_ids = [int(i) for i in stem_ids]
        self.idf = [float(x) for x in idf]
        terms = len(self.idf)
        # Segment of each count column; unknown words and non-terms go to a dropped segment.
        self._segments = tf.constant([terms] + [i if i >= 0 else terms for i in self.stem_ids],
                                     tf.int32)
        self._idf = tf.constant(self.idf, tf.float32)

    def call(self, counts):
        summed = tf.math.unsorted_segment_sum(tf.transpose(counts), self._segments,
                                              len(self.idf) + 1)
        return tf.transpose(summed[:len(self.idf)]) * self._idf

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.idf))

    def get_config(self):
        return {**super().get_config(), "stem_ids": self.stem_ids, "idf": self.idf}


def stem_tfidf_tower(stem_ids, idf, embed_dim):
    """theta(t) = W^T t / ||W^T t|| on t = l2(tf-idf(counts)) (section 4)."""
    inputs = keras.Input((len(stem_ids) + 1,), name="counts")
    x = keras.layers.UnitNormalization(name="tfidf_l2")(StemTfidf(stem_ids, idf, name="tfidf")(inputs))
    x = keras.layers.Dense(embed_dim, use_bias=False, name="text_projection")(x)
    return keras.Model(inputs, keras.layers.UnitNormalization(name="l2")(x), name="textual")
