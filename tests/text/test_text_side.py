"""The one TextSide: fitted once, saved with the run and rebuilt from the saved file without the
training texts; every registered text tower is built over the side fitted for it, and reads
exactly what that side emits."""

import keras
import numpy as np
import pytest

from tfembed.errors import ConfigError
from tfembed.text import FILENAME, TextPreprocessor
from tfembed.text.side import TextSide
from tfembed.towers import text_towers
from tfembed.towers.word_vectors import vectors_for_vocabulary

TEXTS = ["a red-crowned crane", "the bird's wing is red", "a small café bird"] * 2
CFG = dict(encoder="word_lstm", max_words=6, max_chars=40, vocab_size=100, min_count=1,
           filters=[4], rnn_units=4, rnn_cell="gru", embed_dim=4, dropout=0.0,
           train_word_vectors=False, word_vectors="train", word_dim=4, features="ids",
           fv_components=2, fv_pca_dim=None, branch={"hidden": 5, "output": 8},
           bilstm_pooling="final_states")
EXTRA = {"attributes": {"attribute_dim": 2},
         "two_branch": {"texts": TEXTS},
         "stem_tfidf": {"stem_ids": None, "idf": None}}  # filled in the test


def test_text_side_saves_and_reuses_its_preprocessor(tmp_path):
    side = TextSide.fit(TEXTS, max_length=6)
    assert {"red", "crowned", "s", "café"} <= set(side.preprocessor.vocabulary())
    assert side.save(str(tmp_path)) == str(tmp_path / FILENAME)
    again = TextSide.load(str(tmp_path))
    np.testing.assert_array_equal(again.tokenize(TEXTS), side.tokenize(TEXTS))
    assert again.tokenize(TEXTS).dtype == np.int64
    assert TextSide().save(str(tmp_path / "attr")) is None


def test_counts_side_tokenizes_as_float():
    side = text_towers.fit_text_side("bow", CFG, TEXTS)
    counts = side.tokenize(["red-crowned crane zebra"])
    assert counts.dtype == np.float32 and counts.shape == (1, side.vocab_size)
    words = side.preprocessor.get_vocabulary()
    assert counts[0, 0] == 1 and counts.sum() == 4  # zebra unknown; red, crowned, crane known
    assert all(counts[0, words.index(w)] == 1 for w in ("red", "crowned", "crane"))
    assert side.tokenize([]).shape == (0, side.vocab_size)


def test_trained_word_vectors_cover_every_tokenizer_word():
    vocab = TextPreprocessor(max_length=4).adapt(TEXTS).vocabulary()
    matrix = vectors_for_vocabulary(vocab, "train", TEXTS, dim=4)
    assert matrix.shape == (len(vocab) + 2, 4)
    assert np.all(matrix[:2] == 0) and np.all(np.abs(matrix[2:]).sum(1) > 0)


@pytest.mark.parametrize("name", sorted(text_towers.TOWERS))
def test_every_tower_reads_what_its_side_emits(name):
    cfg = {**CFG, "encoder": name}
    side = text_towers.fit_text_side(name, cfg, TEXTS)
    extra = dict(EXTRA.get(name, {}))
    if name == "stem_tfidf":
        terms = len(side.preprocessor.vocabulary())
        extra = {"stem_ids": list(range(terms)), "idf": [1.0] * terms}
    tower = text_towers.build_text_tower(name, side, cfg, 8, **extra)
    assert isinstance(tower, keras.Model)
    if not side.is_text:
        assert name == "attributes" and tower(np.ones((2, 2), np.float32)).shape == (2, 8)
        return
    out = np.asarray(tower(side.tokenize(TEXTS[:2])))
    assert out.shape[0] == 2 and out.shape[-1] == 8 and np.all(np.isfinite(out))
    # Different descriptions get different embeddings: the tower reads the tokens.
    assert not np.allclose(out[0], out[1])


def test_word_vector_towers_start_from_the_sides_vectors():
    side = text_towers.fit_text_side("brnn", CFG, TEXTS)
    assert side.vectors.shape == (side.vocab_size, 4)
    tower = text_towers.build_text_tower("brnn", side, CFG, 3)
    np.testing.assert_allclose(tower.get_layer("word_embedding").get_weights()[0], side.vectors)


def test_unknown_tower_and_features_name_the_choices():
    with pytest.raises(ConfigError, match="known: .*brnn"):
        text_towers.fit_text_side("lstm9", CFG, TEXTS)
    with pytest.raises(ConfigError, match="text.features must be one of"):
        text_towers.fit_text_side("two_branch", {**CFG, "features": "glove"}, TEXTS)
    with pytest.raises(ConfigError, match="fisher_vector needs text.word_vectors"):
        text_towers.fit_text_side("two_branch", {**CFG, "features": "fisher_vector",
                                                 "word_vectors": None}, TEXTS)
