"""Caption tf-idf relevance (Gordo & Larlus 2017): each image is the bag of Snowball-stemmed
words of all its captions; relevance = dot product of l2-normalised tf-idf vectors. Also
triplet sampling by that relevance and an in-graph tf-idf layer for exported text queries."""

import re

import numpy as np

from tfembed.errors import ConfigError

# The same standardisation as keras TextVectorization "lower_and_strip_punctuation".
_PUNCT = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')


def words(text):
    return _PUNCT.sub("", text.lower()).split()


def _stemmer():
    try:
        from nltk.stem.snowball import SnowballStemmer
    except ImportError:
        raise ConfigError("caption tf-idf needs the Snowball stemmer: pip install nltk") from None
    return SnowballStemmer("english")


class CaptionTfidf:
    """tf-idf over stemmed caption words, fitted on the captions of the training images.

    idf = log(1 + N / (1 + df)), the formula keras TextVectorization uses for tf_idf.
    `surface_to_stem` keeps every training surface form, so the in-graph text branch can stem
    exactly the words it saw in training (unseen words are out of vocabulary either way).
    """

    def __init__(self, texts_per_image, min_df=1, max_terms=None):
        stem = _stemmer().stem
        self._cache = {}
        self.stem = lambda w: self._cache.setdefault(w, stem(w))
        docs = [self._doc(caps) for caps in texts_per_image]
        df = {}
        for doc in docs:
            for term in set(doc):
                df[term] = df.get(term, 0) + 1
        terms = sorted((t for t, c in df.items() if c >= min_df), key=lambda t: (-df[t], t))
        if max_terms:
            terms = terms[:max_terms]
        if not terms:
            raise ConfigError("caption tf-idf: no term left in the vocabulary (empty captions?)")
        self.terms = terms
        self.index = {t: i for i, t in enumerate(terms)}
        n = len(docs)
        self.idf = np.log1p(n / (1.0 + np.array([df[t] for t in terms], np.float64)))
        self.surface_to_stem = sorted({(w, self.stem(w)) for caps in texts_per_image
                                       for c in caps for w in words(c)
                                       if self.stem(w) in self.index})

    def _doc(self, captions):
        return [self.stem(w) for c in captions for w in words(c)]

    def counts(self, texts_per_image):
        out = np.zeros((len(texts_per_image), len(self.terms)), np.float64)
        for i, caps in enumerate(texts_per_image):
            for term in self._doc(caps):
                j = self.index.get(term)
                if j is not None:
                    out[i, j] += 1
        return out

    def vectors(self, texts_per_image):
        """[N, V] l2-normalised tf-idf (a row with no known word stays zero)."""
        x = self.counts(texts_per_image) * self.idf
        return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def keras_layer(self):
        """strings [N] -> l2-normalised tf-idf [N, V], in graph (core ops, exportable)."""
        return tfidf_model(self.surface_to_stem, self.terms, self.idf)


def similarity(x, y=None):
    """Relevance matrix: dot products of l2-normalised tf-idf rows."""
    return x @ (x if y is None else y).T


def sample_triplets(sim, count, top_k, bottom_k, seed=0):
    """`count` (query, relevant, irrelevant) index triplets over a square `sim`: the relevant
    item uniform among the query's `top_k` most similar others, the irrelevant one among its
    `bottom_k` least similar (Gordo & Larlus 2017, section 4)."""
    n = sim.shape[0]
    if n < 3 or top_k < 1 or bottom_k < 1 or top_k + bottom_k > n - 1:
        raise ConfigError(f"triplet sampling: need top_k + bottom_k <= {n - 1} (got {top_k}, "
                          f"{bottom_k})")
    masked = np.where(np.eye(n, dtype=bool), -np.inf, sim)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :n - 1]  # self is last
    rng = np.random.default_rng(seed)
    q = rng.integers(0, n, count)
    pos = order[q, rng.integers(0, top_k, count)]
    neg = order[q, n - 2 - rng.integers(0, bottom_k, count)]
    return np.stack([q, pos, neg], axis=1)


def sample_study_triplets(features, count, neighbours=50, seed=0):
    """`count` (query, a, b) triplets sampled as in the user study of Gordo & Larlus 2017
    (section 3): a query image uniformly at random, then two distinct images drawn uniformly
    from the query's `neighbours` (50 in the paper) nearest neighbours in a pretrained visual
    feature space (ResNet-101 R-MAC there; here the recipe's raw-feature baseline), by cosine.
    Neighbour ties break by row ascending. Both candidates are visually close to the query,
    so judging them takes semantics, not a glance (uniformly random candidates are far easier).
    """
    x = np.asarray(features, np.float64)
    n = x.shape[0]
    k = min(int(neighbours), n - 1)
    if k < 2 or count < 1:
        raise ConfigError(f"study triplets: need >= 3 images and >= 2 neighbours (got {n} images, "
                          f"{neighbours} neighbours) and count >= 1")
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sim = np.where(np.eye(n, dtype=bool), -np.inf, x @ x.T)
    near = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    rng = np.random.default_rng(seed)
    q = rng.integers(0, n, count)
    pick = np.argsort(rng.random((count, k)), axis=1)[:, :2]  # two distinct neighbour slots
    return np.stack([q, near[q, pick[:, 0]], near[q, pick[:, 1]]], axis=1)


def judge_by_relevance(triplets, rel):
    """The tf-idf proxy judge: choice 0 if `a` is more relevant to the query than `b`, 1 if
    less. Triplets the relevance cannot decide (equal relevance) are dropped, as a judge who
    must pick one image has no tf-idf answer there. -> (kept triplets, choices)."""
    t = np.asarray(triplets, np.int64).reshape(-1, 3)
    ra, rb = rel[t[:, 0], t[:, 1]], rel[t[:, 0], t[:, 2]]
    keep = ra != rb
    return t[keep], (rb[keep] > ra[keep]).astype(np.int64)


def write_triplet_judgements(path, triplets, choices, image_ids):
    """The same CSV `load_triplet_judgements` reads (query_id,a_id,b_id,choice), e.g. the
    study triplets with the tf-idf choice, for human judges to re-answer."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("# query_id,a_id,b_id,choice (0: a is more similar to the query, 1: b)\n")
        for (q, a, b), c in zip(np.asarray(triplets).reshape(-1, 3), np.asarray(choices)):
            f.write(f"{image_ids[q]},{image_ids[a]},{image_ids[b]},{int(c)}\n")


def tfidf_model(surface_to_stem, terms, idf):
    """Functional Keras model: TextVectorization counts over surface words, a fixed 0/1
    surface->stem matrix, idf weights, l2 normalisation."""
    import keras

    surface = [w for w, _ in surface_to_stem]
    index = {t: i for i, t in enumerate(terms)}
    merge = np.zeros((len(surface) + 1, len(terms)), np.float32)  # row 0: out of vocabulary
    for i, (_, stem) in enumerate(surface_to_stem):
        merge[i + 1, index[stem]] = 1.0
    inputs = keras.Input((), dtype="string", name="text")
    counts = keras.layers.TextVectorization(vocabulary=surface, output_mode="count",
                                            name="surface_counts")(inputs)
    project = keras.layers.Dense(len(terms), use_bias=False, trainable=False, name="stem_tfidf")
    x = project(counts)
    project.set_weights([merge * np.asarray(idf, np.float32)[None, :]])
    x = keras.layers.UnitNormalization(name="l2")(x)
    return keras.Model(inputs, x, name="caption_tfidf")


def load_triplet_judgements(path, id_to_row):
    """Human triplet judgements, one "query_id,a_id,b_id,choice" per line (choice 0: a is more
    similar to the query, 1: b) -> (triplets [T, 3] of rows, choices [T])."""
    from tfembed.errors import DataError

    triplets, choices = [], []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip() or line.startswith("#"):
                    continue
                fields = [x.strip() for x in line.split(",")]
                if len(fields) != 4 or fields[3] not in ("0", "1"):
                    raise DataError("expected query_id,a_id,b_id,choice with choice 0 or 1",
                                    path, number)
                missing = [x for x in fields[:3] if x not in id_to_row]
                if missing:
                    raise DataError(f"unknown image id(s) {missing}", path, number)
                triplets.append([id_to_row[x] for x in fields[:3]])
                choices.append(int(fields[3]))
    except OSError as err:
        raise DataError(f"cannot read triplet judgements: {err}", path) from None
    return np.asarray(triplets, np.int64).reshape(-1, 3), np.asarray(choices, np.int64)
