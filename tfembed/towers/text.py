"""Text towers: an in-graph preprocessor (raw strings -> ids or counts) plus an encoder.

The preprocessor uses only core TF string and lookup ops, so an exported model takes raw
strings. Encoders follow Reed et al. 2016, Sec. 3.2: CNN, LSTM and the hybrid CNN-RNN over
characters or words, bag-of-words, averaged word vectors, and class attributes.
"""

import collections
import re

import keras
import numpy as np

from tfembed.errors import ConfigError

# Reed et al.'s 70-character alphabet (char-CNN-RNN release, after Zhang et al. 2015).
CHAR_ALPHABET = list(dict.fromkeys(
    "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/\\|_@#$%^&*~`+=<>()[]{} "))
TEXT_ENCODERS = ("char_cnn_rnn", "word_cnn_rnn", "char_lstm", "word_lstm", "char_cnn",
                 "word_cnn", "bow", "word2vec", "bilstm", "attributes")


def is_char_level(kind):
    return kind.startswith("char_")


def word_vocabulary(texts, max_size=10000, min_count=1):
    """Most frequent words of the training texts (the same standardisation as the graph)."""
    counts = collections.Counter(
        w for t in texts for w in re.sub(r"[^\w\s]", " ", t.lower()).split())
    words = [w for w, c in counts.most_common() if c >= min_count]
    return sorted(words[:max_size], key=lambda w: (-counts[w], w))


def build_preprocessor(kind, max_length, vocabulary=None):
    """strings [N] -> int ids [N, max_length] (or counts [N, V] for `bow`)."""
    if kind == "attributes":
        return None
    if is_char_level(kind):
        return keras.layers.TextVectorization(
            standardize="lower", split="character", output_sequence_length=max_length,
            vocabulary=CHAR_ALPHABET, name="char_tokenizer")
    if vocabulary is None:
        raise ConfigError(f"text encoder {kind!r} needs a word vocabulary")
    if kind == "bow":
        return keras.layers.TextVectorization(
            standardize="lower_and_strip_punctuation", output_mode="count",
            vocabulary=vocabulary, name="bow_vectorizer")
    return keras.layers.TextVectorization(
        standardize="lower_and_strip_punctuation", split="whitespace",
        output_sequence_length=max_length, vocabulary=vocabulary, name="word_tokenizer")


def min_length(layers, kernel, pool):
    """Shortest input that survives `layers` rounds of valid conv(kernel) + max-pool(pool)."""
    length = 1
    for _ in range(layers):
        length = length * pool + kernel - 1
    return length


def _conv_stack(x, filters, kernel, pool):
    need = min_length(len(filters), kernel, pool)
    if x.shape[1] is not None and x.shape[1] < need:
        raise ConfigError(f"text length {x.shape[1]} is too short for {len(filters)} conv layers "
                          f"(kernel {kernel}, pool {pool}): need at least {need}; raise "
                          f"text.max_chars / text.max_words or use fewer text.filters")
    for f in filters:
        x = keras.layers.Conv1D(f, kernel, activation="relu")(x)
        x = keras.layers.MaxPooling1D(pool)(x)
    return x


def _rnn(units, cell, return_sequences=True):
    layer = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM,
             "rnn": keras.layers.SimpleRNN}[cell]
    return layer(units, return_sequences=return_sequences)


def build_text_encoder(kind, output_dim, vocab_size=None, max_length=None, *,
                       filters=(384, 512, 256), kernel=4, pool=3, rnn_units=256, rnn_cell="gru",
                       embed_dim=64, dropout=0.0, word_vectors=None, train_word_vectors=False,
                       attribute_dim=None):
    """Keras functional encoder: ids [N, L] (counts [N, V], attributes [N, A]) -> [N, output_dim]."""
    if kind not in TEXT_ENCODERS:
        raise ConfigError(f"unknown text encoder {kind!r}; known: {', '.join(TEXT_ENCODERS)}")
    if kind == "attributes":
        inputs = keras.Input((attribute_dim,), name="attributes")
        x = inputs
    elif kind == "bow":
        inputs = keras.Input((vocab_size,), name="counts")
        x = keras.layers.Lambda(lambda c: keras.ops.log1p(c), name="log_counts")(inputs)
    else:
        inputs = keras.Input((max_length,), dtype="int64", name="ids")
        if kind == "word2vec":
            vectors = np.asarray(word_vectors, np.float32)
            emb = keras.layers.Embedding(vectors.shape[0], vectors.shape[1], mask_zero=True,
                                         trainable=train_word_vectors, name="word_vectors")
            x = emb(inputs)
            emb.set_weights([vectors])
        elif is_char_level(kind):
            # Characters enter as one-hot vectors, as in Reed et al. (a frozen identity
            # embedding); a small random embedding starves the deep conv stack of signal.
            x = keras.layers.Embedding(vocab_size, vocab_size, embeddings_initializer="identity",
                                       trainable=False, mask_zero=kind == "char_lstm",
                                       name="one_hot")(inputs)
        else:
            x = keras.layers.Embedding(vocab_size, embed_dim, mask_zero=kind in ("word_lstm", "bilstm"),
                                       embeddings_initializer=keras.initializers.RandomUniform(-1, 1),
                                       name="embedding")(inputs)
        if kind.endswith("cnn_rnn"):
            # Reed's hybrid: temporal conv + max-pool, then a recurrent layer averaged over time.
            x = _conv_stack(x, filters, kernel if kind.startswith("char") else 3,
                            pool if kind.startswith("char") else 2)
            x = _rnn(rnn_units, rnn_cell)(x)
            x = keras.layers.GlobalAveragePooling1D()(x)
        elif kind.endswith("_cnn"):
            x = _conv_stack(x, filters, kernel if kind.startswith("char") else 3,
                            pool if kind.startswith("char") else 2)
            x = keras.layers.GlobalMaxPooling1D()(x)
        elif kind in ("char_lstm", "word_lstm"):
            x = keras.layers.GlobalAveragePooling1D()(_rnn(rnn_units, "lstm")(x))
        elif kind == "bilstm":
            x = keras.layers.Bidirectional(_rnn(rnn_units, "lstm"))(x)
            x = keras.layers.GlobalAveragePooling1D()(x)
        else:  # word2vec: mean of the (masked) word vectors
            x = keras.layers.GlobalAveragePooling1D()(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(output_dim, name="text_projection")(x)
    return keras.Model(inputs, outputs, name=f"{kind}_encoder")
