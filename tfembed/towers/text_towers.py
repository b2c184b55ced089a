"""Every text tower by name, each over a `tfembed.text.TextSide` fitted the way it needs.

A recipe names its tower; `fit_text_side(name, cfg, texts)` fits the one preprocessor (and the
word vectors) for it on the training texts, `build_text_tower(name, side, cfg, embed_dim)`
builds the Keras tower over that side's output. `cfg` is the recipe's text section.

  Reed et al. 2016 (text.encoder)      char/word CNN-RNN, LSTM, CNN, BoW, word2vec, attributes
                                       (tfembed.towers.text.build_text_encoder)
  brnn         Karpathy & Fei-Fei 2015 Sec. 3.1.2: per-word vectors s_t from a BRNN
  two_branch   Wang et al. 2016: sentence features (text.features: mean word vectors, tf-idf,
               Fisher vectors of word vectors) -> the embedding branch
  dem_bilstm   Zhang et al. 2017 Sec. 3.2: Bi-LSTM over a description -> FC + ReLU
  stem_tfidf   Gordo & Larlus 2017 Sec. 4: tf-idf over stems -> linear projection
"""

import keras

from tfembed.errors import ConfigError
from tfembed.layers.two_branch import embedding_branch
from tfembed.text.side import TextSide
from tfembed.towers import fisher_vector
from tfembed.towers import semantic
from tfembed.towers.stem_tfidf import stem_tfidf_tower
from tfembed.towers import text as reed
from tfembed.towers.word_sequence import TfIdf, brnn_word_encoder, mean_word_vectors

SENTENCE_FEATURES = ("ids", "mean_word_vectors", "tfidf", "fisher_vector")  # two_branch


def _reed_side(kind, c, texts, seed):
    if kind == "attributes":
        return TextSide()  # class attribute vectors play the text role
    if reed.is_char_level(kind):
        return TextSide.fit(texts, level="char", max_length=c["max_chars"],
                            vocabulary=reed.CHAR_ALPHABET)
    if kind == "bow":
        return TextSide.fit(texts, output="counts", vocab_size=c["vocab_size"])
    # text.word_vectors: word2vec's vectors (none given: trained on `texts`); for the other
    # word encoders the embedding's starting point (none: random), e.g. glove6b50d.
    vectors = c.get("word_vectors")
    if kind == "word2vec":
        vectors = vectors or "train"
    return TextSide.fit(texts, max_length=c["max_words"], vocab_size=c["vocab_size"], seed=seed,
                        word_vectors=vectors, word_dim=c.get("word_dim", 100))


def _reed_tower(kind, side, c, dim, attribute_dim=None, **_):
    return reed.build_text_encoder(
        kind, dim, vocab_size=side.vocab_size if side.is_text else None,
        max_length=side.max_length if side.is_text and side.output == "ids" else None,
        filters=tuple(c["filters"]), kernels=c.get("kernels"), pools=c.get("pools"),
        rnn_units=c["rnn_units"], rnn_cell=c["rnn_cell"],
        architecture=c.get("architecture", "custom"), embed_dim=c["embed_dim"],
        dropout=c["dropout"], word_vectors=side.vectors,
        train_word_vectors=c["train_word_vectors"], attribute_dim=attribute_dim)


def _word_side(c, texts, seed):
    """Word ids with optional word vectors (text.word_vectors, text.word_dim)."""
    return TextSide.fit(texts, max_length=c["max_words"], vocab_size=c["vocab_size"],
                        min_count=c.get("min_count", 1), word_vectors=c.get("word_vectors"),
                        word_dim=c.get("word_dim", 100), seed=seed)


def _sentence_side(c, texts, seed):
    if c["features"] not in SENTENCE_FEATURES:
        raise ConfigError(f"text.features must be one of {', '.join(SENTENCE_FEATURES)}, "
                          f"got {c['features']!r}")
    if c["features"] == "tfidf":
        return TextSide.fit(texts, output="counts", vocab_size=c["vocab_size"],
                            min_count=c["min_count"])
    side = _word_side(c, texts, seed)
    if c["features"] == "fisher_vector" and side.vectors is None:
        raise ConfigError("text.features=fisher_vector needs text.word_vectors "
                          "(train, glove6b50d or a vector file)")
    return side


def _brnn_tower(side, c, dim, **_):
    return brnn_word_encoder(side.vocab_size, side.max_length, dim, c["rnn_units"],
                             c["word_dim"], side.vectors, c["train_word_vectors"])


def _two_branch_tower(side, c, dim, texts=(), seed=0, **_):
    """Fixed sentence features are the tower's first, non-trainable layer (TfIdf fitted on the
    training counts, FisherVector with its GMM fitted on the side's own tokens), so the export
    runs preprocessor -> tower, the path training used."""
    if c["features"] == "tfidf":
        inputs = keras.Input((side.vocab_size,), name="counts")
        x = TfIdf.fitted(side.tokenize(texts), name="tfidf")(inputs)
    elif c["features"] == "fisher_vector":
        layer = fisher_vector.build_fisher_vector(side.preprocessor, side.vectors, texts,
                                                  c["fv_components"], c["fv_pca_dim"], seed)
        inputs = keras.Input((side.max_length,), dtype="int64", name="ids")
        x = layer(inputs)
    else:
        base = mean_word_vectors(side.vocab_size, side.max_length, c["word_dim"], side.vectors,
                                 c["train_word_vectors"])
        inputs, x = base.input, base.output
    branch = embedding_branch(x.shape[-1], name="text_branch", **c["branch"])
    return keras.Model(inputs, branch(x), name="text_tower")


def _dem_bilstm_tower(side, c, dim, weight_decay=0.0, **_):
    return semantic.description_encoder(side.vocab_size, side.max_length, dim, c["word_dim"],
                                        c["rnn_units"], weight_decay=weight_decay,
                                        pooling=c["bilstm_pooling"])


def _stem_tfidf_tower(side, c, dim, stem_ids=None, idf=None, **_):
    return stem_tfidf_tower(stem_ids, idf, dim)


# name -> (fit the side: (cfg, texts, seed) -> TextSide, build: (side, cfg, dim, **extra) -> Model)
TOWERS = {kind: (lambda c, t, s, k=kind: _reed_side(k, c, t, s),
                 lambda side, c, d, k=kind, **e: _reed_tower(k, side, c, d, **e))
          for kind in reed.TEXT_ENCODERS}
TOWERS.update({
    "brnn": (_word_side, _brnn_tower),
    "two_branch": (_sentence_side, _two_branch_tower),
    "dem_bilstm": (lambda c, t, s: TextSide.fit(t, max_length=c["max_words"],
                                                vocab_size=c["vocab_size"]), _dem_bilstm_tower),
    "stem_tfidf": (lambda c, t, s: TextSide.fit(t, output="counts", name="text_preprocessor"),
                   _stem_tfidf_tower),
})


def _entry(name):
    if name not in TOWERS:
        raise ConfigError(f"unknown text tower {name!r}; known: {', '.join(TOWERS)}")
    return TOWERS[name]


def fit_text_side(name, cfg, texts, seed=0):
    """The TextSide tower `name` reads, fitted on the training `texts`."""
    return _entry(name)[0](cfg, list(texts), seed)


def build_text_tower(name, side, cfg, embed_dim, **extra):
    """Tower `name` over `side`'s output -> embeddings (or per-word vectors for brnn).
    `extra`: texts / seed (two_branch's fixed features), attribute_dim (Reed's attributes),
    weight_decay (DEM), stem_ids / idf (Gordo's tf-idf)."""
    return _entry(name)[1](side, cfg, embed_dim, **extra)
