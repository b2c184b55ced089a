"""Per-word sentence encoders: the bidirectional RNN of Karpathy & Fei-Fei 2015 (Sec. 3.1.2),
  x_t = W_w I_t,  e_t = f(W_e x_t + b_e),  h^f / h^b = f(e_t + W_f h_{t-1} + b_f) forward /
  backward,  s_t = f(W_d (h^f_t + h^b_t) + b_d),  f = ReLU,
and the mean of (optionally pretrained, frozen) word vectors used by Wang et al. 2016."""

import keras
import numpy as np


def _word_embedding(vocab_size, dim, word_vectors, train_word_vectors):
    if word_vectors is None:
        return keras.layers.Embedding(vocab_size, dim, mask_zero=True, name="word_embedding")
    vectors = np.asarray(word_vectors, np.float32)
    return keras.layers.Embedding(vectors.shape[0], vectors.shape[1], mask_zero=True,
                                  trainable=train_word_vectors, name="word_embedding",
                                  embeddings_initializer=keras.initializers.Constant(vectors))


def brnn_word_encoder(vocab_size, max_length, embed_dim, units=256, word_dim=300,
                      word_vectors=None, train_word_vectors=True):
    """ids [N, L] -> word vectors s_t [N, L, embed_dim]; padded positions are exactly zero."""
    ids = keras.Input((max_length,), dtype="int64", name="ids")
    x = _word_embedding(vocab_size, word_dim, word_vectors, train_word_vectors)(ids)
    x = keras.layers.Dense(units, activation="relu", name="word_transform")(x)  # e_t
    rnn = keras.layers.SimpleRNN(units, activation="relu", return_sequences=True)
    x = keras.layers.Bidirectional(rnn, merge_mode="sum", name="brnn")(x)
    x = keras.layers.Dense(embed_dim, activation="relu", name="word_projection")(x)
    mask = keras.layers.Lambda(lambda i: keras.ops.cast(keras.ops.not_equal(i, 0), "float32")[..., None],
                               name="word_mask")(ids)
    return keras.Model(ids, keras.layers.Multiply(name="zero_padding")([x, mask]), name="brnn")


def mean_word_vectors(vocab_size, max_length, word_dim=300, word_vectors=None,
                      train_word_vectors=False):
    """ids [N, L] -> mean of the sentence's word vectors [N, word_dim]."""
    ids = keras.Input((max_length,), dtype="int64", name="ids")
    x = _word_embedding(vocab_size, word_dim, word_vectors, train_word_vectors)(ids)
    x = keras.layers.GlobalAveragePooling1D(name="mean_word_vector")(x)
    return keras.Model(ids, x, name="mean_word_vectors")
