"""TextSide fits one TextPreprocessor, saves it with the run, and can be rebuilt from the saved
file without the training descriptions; the word vectors cover the tokenizer's words."""

import numpy as np

from tfembed.experiments.text_side import TextSide
from tfembed.text import FILENAME, TextPreprocessor
from tfembed.towers.word_vectors import vectors_for_vocabulary

TEXTS = ["a red-crowned crane", "the bird's wing is red", "a small café bird"]
CFG = dict(encoder="word_lstm", max_words=6, max_chars=40, vocab_size=100, filters=[4],
           rnn_units=4, rnn_cell="gru", embed_dim=4, dropout=0.0, train_word_vectors=False)


def test_text_side_saves_and_reuses_its_preprocessor(tmp_path):
    side = TextSide(CFG, TEXTS, embed_dim=3)
    assert {"red", "crowned", "s", "café"} <= set(side.preprocessor.vocabulary())
    assert side.save(str(tmp_path)) == str(tmp_path / FILENAME)
    again = TextSide(CFG, [], embed_dim=3, preprocessor=TextPreprocessor.load(str(tmp_path)))
    np.testing.assert_array_equal(again.tokenize(TEXTS), side.tokenize(TEXTS))
    assert again.encoder.count_params() == side.encoder.count_params()
    assert TextSide({**CFG, "encoder": "attributes"}, TEXTS, 3, attribute_dim=2).save(
        str(tmp_path / "attr")) is None


def test_bow_text_side_counts_as_float():
    side = TextSide({**CFG, "encoder": "bow"}, TEXTS, embed_dim=3)
    counts = side.tokenize(["red-crowned crane zebra"])
    assert counts.dtype == np.float32 and counts.shape == (1, side.preprocessor.vocabulary_size())
    words = side.preprocessor.get_vocabulary()
    assert counts[0, 0] == 1 and counts.sum() == 4  # zebra unknown; red, crowned, crane known
    assert all(counts[0, words.index(w)] == 1 for w in ("red", "crowned", "crane"))


def test_trained_word_vectors_cover_every_tokenizer_word():
    vocab = TextPreprocessor(max_length=4).adapt(TEXTS).vocabulary()
    matrix = vectors_for_vocabulary(vocab, "train", TEXTS, dim=4)
    assert matrix.shape == (len(vocab) + 2, 4)
    assert np.all(matrix[:2] == 0) and np.all(np.abs(matrix[2:]).sum(1) > 0)
