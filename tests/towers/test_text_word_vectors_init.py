"""text.word_vectors starts the custom word encoders' embedding (Reed's word CNN-RNN / LSTM /
CNN) from pretrained vectors: each row is the vector of the tokenizer's word at that id,
padding and unknown rows zero; text.train_word_vectors decides whether it is fine-tuned."""

import numpy as np
import pytest
import tensorflow as tf

from tfembed.errors import ConfigError
from tfembed.towers.text_towers import build_text_tower, fit_text_side

TEXTS = ["this bird has a red crown", "a small blue bird with a hooked beak",
         "the bird has green wings and a red belly"]
GLOVE = {"bird": [1, 0, 0], "red": [0, 2, 0], "blue": [0, 0, 3], "beak": [4, 4, 0]}


def cfg(path, **kw):
    c = {"max_chars": 40, "max_words": 24, "vocab_size": 100, "filters": [4, 4, 4],
         "kernels": None, "pools": None, "rnn_units": 4, "rnn_cell": "gru",
         "architecture": "custom", "embed_dim": 6, "dropout": 0.0, "word_vectors": path,
         "train_word_vectors": False}
    return {**c, **kw}


@pytest.fixture
def glove_txt(tmp_path):
    path = tmp_path / "tiny.glove.txt"
    path.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in GLOVE.items()))
    return str(path)


def embedding(kind, c):
    side = fit_text_side(kind, c, TEXTS)
    tower = build_text_tower(kind, side, c, 5)
    return side, tower, tower.get_layer("embedding")


@pytest.mark.parametrize("kind", ["word_cnn_rnn", "word_lstm", "word_cnn"])
def test_embedding_rows_are_the_vectors_of_the_tokenizer_words(kind, glove_txt):
    side, _, layer = embedding(kind, cfg(glove_txt))
    matrix = layer.get_weights()[0]
    vocab = side.preprocessor.vocabulary()
    assert matrix.shape == (len(vocab) + 2, 3)  # the vectors' width, not text.embed_dim
    ids = side.preprocessor(tf.constant(["bird red blue beak crown"])).numpy()[0]
    for word, i in zip(["bird", "red", "blue", "beak"], ids):
        np.testing.assert_array_equal(matrix[i], GLOVE[word])
    np.testing.assert_array_equal(matrix[ids[4]], 0)  # "crown": no vector -> zero row
    np.testing.assert_array_equal(matrix[0], 0)  # padding
    assert not layer.trainable


def test_train_word_vectors_fine_tunes_the_embedding(glove_txt):
    _, tower, layer = embedding("word_cnn_rnn", cfg(glove_txt, train_word_vectors=True))
    assert layer.trainable
    assert any(v is layer.embeddings for v in tower.trainable_variables)


def test_without_word_vectors_the_embedding_is_random_and_embed_dim_wide():
    side, _, layer = embedding("word_cnn_rnn", cfg(None))
    assert side.vectors is None
    matrix = layer.get_weights()[0]
    assert matrix.shape[1] == 6 and np.abs(matrix[2:]).min() > 0


def test_word2vec_without_word_vectors_trains_them_on_the_texts():
    side = fit_text_side("word2vec", cfg(None), TEXTS)
    assert side.vectors is not None and np.abs(side.vectors[2:]).sum() > 0


def test_reed_hybrid_reads_one_hot_words_and_refuses_word_vectors(glove_txt):
    c = cfg(glove_txt, architecture="reed_hybrid", max_words=30, filters=[512, 512, 512],
            kernels=[3, 2, 2], pools=[1, [3, 3], 1], rnn_cell="relu_rnn", rnn_units=512)
    side = fit_text_side("word_cnn_rnn", c, TEXTS)
    with pytest.raises(ConfigError, match="HybridCNNWord.lua"):
        build_text_tower("word_cnn_rnn", side, c, 5)
