"""Per-word sentence encoders: the bidirectional RNN of Karpathy & Fei-Fei 2015 (Sec. 3.1.2),
  x_t = W_w I_t,  e_t = f(W_e x_t + b_e),  h^f / h^b = f(e_t + W_f h_{t-1} + b_f) forward /
  backward,  s_t = f(W_d (h^f_t + h^b_t) + b_d),  f = ReLU,
and the mean of (optionally pretrained, frozen) word vectors used by Wang et al. 2016.

Padding convention (what the alignment scorer relies on): id 0 pads a sentence, and its word
vectors are exactly zero, so a padded word adds max_i v_i^T 0 = 0 to S_kl (Eq. 8)."""

import keras
import numpy as np


def _word_embedding(vocab_size, dim, word_vectors, train_word_vectors):
    if word_vectors is None:
        return keras.layers.Embedding(vocab_size, dim, mask_zero=True, name="word_embedding")
    vectors = np.asarray(word_vectors, np.float32)
    return keras.layers.Embedding(vectors.shape[0], vectors.shape[1], mask_zero=True,
                                  trainable=train_word_vectors, name="word_embedding",
                                  embeddings_initializer=keras.initializers.Constant(vectors))


@keras.saving.register_keras_serializable(package="tfembed")
class PaddingMask(keras.layers.Layer):
    """ids [N, L] -> [N, L, 1] float: 1 for words, 0 for padding (id 0)."""

    def call(self, ids):
        return keras.ops.cast(keras.ops.not_equal(ids, 0), "float32")[..., None]

    def compute_output_shape(self, input_shape):
        return (*input_shape, 1)


def brnn_word_encoder(vocab_size, max_length, embed_dim, units=256, word_dim=300,
                      word_vectors=None, train_word_vectors=True):
    """ids [N, L] -> word vectors s_t [N, L, embed_dim]; padded positions are exactly zero."""
    ids = keras.Input((max_length,), dtype="int64", name="ids")
    x = _word_embedding(vocab_size, word_dim, word_vectors, train_word_vectors)(ids)
    x = keras.layers.Dense(units, activation="relu", name="word_transform")(x)  # e_t
    rnn = keras.layers.SimpleRNN(units, activation="relu", return_sequences=True)
    x = keras.layers.Bidirectional(rnn, merge_mode="sum", name="brnn")(x)
    x = keras.layers.Dense(embed_dim, activation="relu", name="word_projection")(x)
    mask = PaddingMask(name="word_mask")(ids)
    return keras.Model(ids, keras.layers.Multiply(name="zero_padding")([x, mask]), name="brnn")


def mean_word_vectors(vocab_size, max_length, word_dim=300, word_vectors=None,
                      train_word_vectors=False):
    """ids [N, L] -> mean of the sentence's word vectors [N, word_dim]."""
    ids = keras.Input((max_length,), dtype="int64", name="ids")
    x = _word_embedding(vocab_size, word_dim, word_vectors, train_word_vectors)(ids)
    x = keras.layers.GlobalAveragePooling1D(name="mean_word_vector")(x)
    return keras.Model(ids, x, name="mean_word_vectors")


@keras.saving.register_keras_serializable(package="tfembed")
class TfIdf(keras.layers.Layer):
    """Token counts [N, V] (a TextPreprocessor with output="counts", column 0 = unknown words)
    -> tf-idf [N, V]: count x idf, idf = log(1 + documents / (1 + document frequency)), the
    unknown column weighted by the mean idf (keras TextVectorization's tf_idf rule, which the
    recipes used before). The weights are non-trainable and saved with the model."""

    def __init__(self, size, **kwargs):
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        self.size = int(size)
        self.idf = self.add_weight(name="idf", shape=(self.size,), initializer="zeros",
                                   trainable=False)
        self.built = True

    @classmethod
    def fitted(cls, counts, **kwargs):
        """From the training documents' counts [N, V]."""
        counts = np.asarray(counts)
        df = np.sum(counts[:, 1:] > 0, axis=0)
        idf = np.log(1.0 + len(counts) / (1.0 + df))
        layer = cls(counts.shape[1], **kwargs)
        layer.idf.assign(np.concatenate([[idf.mean() if len(idf) else 0.0], idf]).astype(np.float32))
        return layer

    def call(self, counts):
        return keras.ops.cast(counts, "float32") * self.idf[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size}
