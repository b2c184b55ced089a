"""TextPreprocessor: the documented tokens, fit/serve agreement (eager vs SavedModel), the saved
run-directory file, vocabulary order by hand, char level, counts and empty batches."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfembed.text import FILENAME, TextPreprocessor, word_tokens

SENTENCE = "red-crowned bird's wing"


def test_punctuation_separates_words_as_documented():
    pre = TextPreprocessor(max_length=8)
    assert pre.tokens([SENTENCE]).to_list() == [[b"red", b"crowned", b"bird", b"s", b"wing"]]
    assert word_tokens(["  Café, ＲＥＤ_x ﬁne 3.5 ", "...", ""]) == [
        ["café", "red", "x", "fine", "3", "5"], [], []]  # NFKC: full width, ligature


def test_hyphenated_word_gets_the_ids_of_its_parts():
    corpus = ["a red crowned crane", "the bird's wing is red"]
    pre = TextPreprocessor(max_length=6).adapt(corpus)
    assert "redcrowned" not in pre.vocabulary()
    hyphen, spaced = pre(["red-crowned", "red crowned"]).numpy()
    np.testing.assert_array_equal(hyphen, spaced)
    assert list(hyphen[:2]) == [pre.vocabulary().index("red") + 2,
                                pre.vocabulary().index("crowned") + 2] and 1 not in hyphen
    ids = pre([SENTENCE]).numpy()[0]
    assert 1 not in ids[:5] and list(ids[5:]) == [0]
    # What the old Keras standardisation served for the same vocabulary: one unknown token.
    old = keras.layers.TextVectorization(standardize="lower_and_strip_punctuation",
                                         output_sequence_length=6, vocabulary=pre.vocabulary())
    assert list(old(tf.constant(["red-crowned"])).numpy()[0][:2]) == [1, 0]


def test_vocabulary_order_ties_cap_and_min_count_by_hand():
    # counts: a 3, c 2, b 2, e 1, d 1 (first seen: e c a b d)
    corpus = ["e c a b", "A b.", "c, a-d"]
    pre = TextPreprocessor(max_length=6, vocab_size=4).adapt(corpus)
    assert pre.vocabulary() == ["a", "b", "c", "d"]  # ties alphabetical, so d beats e at the cap
    assert pre.get_vocabulary() == ["", "[UNK]", "a", "b", "c", "d"]
    assert pre.vocabulary_size() == 6
    np.testing.assert_array_equal(pre(["d e a zz", "C-b"]).numpy(),
                                  [[5, 1, 2, 1, 0, 0], [4, 3, 0, 0, 0, 0]])
    short = TextPreprocessor.from_config({**pre.get_config(), "max_length": 2})
    np.testing.assert_array_equal(short(["d e a zz"]).numpy(), [[5, 1]])
    assert TextPreprocessor(max_length=3, min_count=2).adapt(corpus).vocabulary() == ["a", "b", "c"]


def test_char_level_ids_by_hand():
    pre = TextPreprocessor(level="char", max_length=5, vocabulary=list("abc "))
    ids = pre(["Ab c", "ＡＢＣＤＥＦ", "é"])
    assert ids.dtype == tf.int64
    np.testing.assert_array_equal(ids.numpy(), [[2, 3, 5, 4, 0], [2, 3, 4, 1, 1], [1, 0, 0, 0, 0]])


def test_counts_by_hand():
    pre = TextPreprocessor(output="counts", vocabulary=["bird", "red", "wing"])
    counts = pre(["red-crowned bird's red", ""])
    assert counts.dtype == tf.float32 and pre.vocabulary_size() == 4
    # column 0 counts unknown tokens (crowned, s), then bird, red, wing
    np.testing.assert_array_equal(counts.numpy(), [[2, 1, 2, 0], [0, 0, 0, 0]])


@pytest.mark.parametrize("level,output,shape", [("word", "ids", (0, 7)), ("char", "ids", (0, 7)),
                                                ("word", "counts", (0, 3))])
def test_empty_batch(level, output, shape):
    pre = TextPreprocessor(level=level, output=output, max_length=7 if output == "ids" else None,
                           vocabulary=["a", "b"])
    assert tuple(pre(tf.constant([], tf.string)).shape) == shape
    assert tuple(pre(np.asarray([], object)).shape) == shape


def test_eager_ids_equal_saved_model_ids(tmp_path):
    pre = TextPreprocessor(max_length=8).adapt(["a red crowned crane", "blue café wing"])
    module = tf.Module()
    module.pre = pre
    module.embed = tf.function(lambda s: pre(s), input_signature=[tf.TensorSpec([None], tf.string)],
                               autograph=False)
    tf.saved_model.save(module, str(tmp_path / "sm"))
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    batch = tf.constant([SENTENCE, "CAFÉ-Wing!", "unseen words here", ""])
    eager = pre(batch).numpy()
    np.testing.assert_array_equal(loaded.embed(batch).numpy(), eager)
    assert eager[1, 0] == pre.vocabulary().index("café") + 2
    assert loaded.embed(tf.constant([], tf.string)).shape == (0, 8)


def test_save_load_round_trip(tmp_path):
    pre = TextPreprocessor(max_length=6, vocab_size=50).adapt(
        ["Café au lait", "a red crowned bird", "red wing, red café"])
    path = pre.save(str(tmp_path / "run"))
    assert path == str(tmp_path / "run" / FILENAME) and os.listdir(tmp_path / "run") == [FILENAME]
    with open(path, encoding="utf-8") as f:
        assert json.load(f)["config"]["vocabulary"] == pre.vocabulary()
    back = TextPreprocessor.load(str(tmp_path / "run"))
    batch = ["Café", "ＲＥＤ-CROWNED", "zebra café", "ＣＡＦＥ\u0301", ""]
    np.testing.assert_array_equal(back(batch).numpy(), pre(batch).numpy())
    red = pre.vocabulary().index("red") + 2
    assert pre(["ＲＥＤ"]).numpy()[0, 0] == red  # full-width letters normalised by NFKC
    assert pre(["CAFE\u0301"]).numpy()[0, 0] == pre.vocabulary().index("café") + 2  # NFKC composes
    assert back(["zebra"]).numpy()[0, 0] == 1
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(pre))
    assert isinstance(again, TextPreprocessor) and again.vocabulary() == pre.vocabulary()
    pre.save(str(tmp_path / "run"))  # overwrite in place: still one file, no temp left behind
    assert os.listdir(tmp_path / "run") == [FILENAME]


def test_unfitted_and_bad_settings_are_clear_errors(tmp_path):
    from tfembed.errors import ConfigError, DataError

    with pytest.raises(ConfigError, match="adapt"):
        TextPreprocessor(max_length=3)(["a"])
    with pytest.raises(ConfigError, match="max_length"):
        TextPreprocessor()
    with pytest.raises(ConfigError, match="level"):
        TextPreprocessor(level="subword", max_length=3)
    with pytest.raises(DataError, match=FILENAME):
        TextPreprocessor.load(str(tmp_path))
