"""Every text encoder: raw strings -> ids in the graph -> embedding; gradients reach every
trainable weight; character ids follow Reed's alphabet."""

import numpy as np
import pytest
import tensorflow as tf

from tfembed.towers import text as text_towers
from tfembed.towers.word_vectors import vectors_for_vocabulary

TEXTS = ["this bird has a red crown and short tail.", "a small blue bird with a hooked beak",
         "the bird has green wings, a long tail and a white belly."]
SMALL = dict(filters=(8, 8, 8), rnn_units=8, embed_dim=8)


@pytest.mark.parametrize("kind", [k for k in text_towers.TEXT_ENCODERS if k != "attributes"])
def test_encoder_from_raw_strings(kind):
    char = text_towers.is_char_level(kind)
    vocab = None if char else text_towers.word_vocabulary(TEXTS)
    length = 120 if char else 30
    pre = text_towers.build_preprocessor(kind, length, vocab)
    ids = pre(tf.constant(TEXTS))
    vectors = vectors_for_vocabulary(vocab, "train", TEXTS, dim=8) if kind == "word2vec" else None
    enc = text_towers.build_text_encoder(kind, 16, vocab_size=pre.vocabulary_size(),
                                         max_length=length, word_vectors=vectors, **SMALL)
    with tf.GradientTape() as tape:
        out = enc(ids, training=True)
        loss = tf.reduce_sum(tf.square(out))
    assert out.shape == (3, 16) and np.all(np.isfinite(out))
    grads = tape.gradient(loss, enc.trainable_variables)
    assert all(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)
    # Different descriptions give different embeddings.
    assert float(tf.reduce_max(tf.abs(out[0] - out[1]))) > 0


@pytest.mark.parametrize("cell", text_towers.RNN_CELLS)
def test_every_rnn_cell_of_the_cnn_rnn(cell):
    pre = text_towers.build_preprocessor("char_cnn_rnn", 120, None)
    enc = text_towers.build_text_encoder("char_cnn_rnn", 16, vocab_size=pre.vocabulary_size(),
                                         max_length=120, rnn_cell=cell, **SMALL)
    with tf.GradientTape() as tape:
        out = enc(pre(tf.constant(TEXTS)), training=True)
        loss = tf.reduce_sum(tf.square(out))
    assert out.shape == (3, 16)
    grads = tape.gradient(loss, enc.trainable_variables)
    assert all(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)
    recurrent = [layer for layer in enc.layers if "rnn" in layer.name or "gru" in layer.name
                 or "lstm" in layer.name]
    assert len(recurrent) == 1
    if cell == "relu_rnn":
        assert isinstance(recurrent[0], text_towers.ReluRNN)
    else:
        assert not isinstance(recurrent[0], text_towers.ReluRNN)


def test_attribute_encoder():
    enc = text_towers.build_text_encoder("attributes", 4, attribute_dim=5)
    assert enc(np.ones((2, 5), np.float32)).shape == (2, 4)


def test_char_ids_follow_reeds_alphabet():
    pre = text_towers.build_preprocessor("char_cnn_rnn", 6, None)
    ids = pre(tf.constant(["Ab c"])).numpy()[0]
    alphabet = text_towers.CHAR_ALPHABET
    # TextVectorization reserves 0 (padding) and 1 (out of vocabulary).
    assert list(ids) == [alphabet.index("a") + 2, alphabet.index("b") + 2,
                         alphabet.index(" ") + 2, alphabet.index("c") + 2, 0, 0]
    assert len(alphabet) == 69  # Reed's 70 symbols, with the duplicate '-' counted once


def test_word2vec_vectors_align_with_vocabulary():
    vocab = text_towers.word_vocabulary(TEXTS)
    matrix = vectors_for_vocabulary(vocab, "train", TEXTS, dim=8)
    assert matrix.shape == (len(vocab) + 2, 8)
    assert np.all(matrix[:2] == 0) and np.all(np.abs(matrix[2:]).sum(1) > 0)


def test_too_short_text_for_the_conv_stack_is_a_clear_error():
    from tfembed.errors import ConfigError

    assert text_towers.min_length(3, 4, 3) == 66
    with pytest.raises(ConfigError, match="need at least 66"):
        text_towers.build_text_encoder("char_cnn", 4, vocab_size=70, max_length=64, **SMALL)
