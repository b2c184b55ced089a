"""Caption tf-idf relevance (Gordo & Larlus 2017): each image is the bag of Snowball-stemmed
words of all its captions; relevance = dot product of l2-normalised tf-idf vectors. Also
triplet sampling by that relevance and the study / human triplet judgements.

Words are the tokens of `tfembed.text` (the graph op the model's text preprocessor runs when
fitting and serving), so the oracle and the model's tf-idf input see the same words
("red-crowned" -> red, crowned); only the stemming (the paper's relevance definition) is
Python, applied to the fitted vocabulary (`stem_ids`), never at serving time.
"""

import numpy as np

from tfembed.errors import ConfigError


def words(text):
    """The word tokens of one caption (tfembed.text.word_tokens)."""
    return _tokens([text])[0]


def _tokens(texts):
    from tfembed.text import word_tokens

    return word_tokens(list(texts)) if len(texts) else []


def _stemmer():
    try:
        from nltk.stem.snowball import SnowballStemmer
    except ImportError:
        raise ConfigError("caption tf-idf needs the Snowball stemmer: pip install nltk") from None
    return SnowballStemmer("english")


class CaptionTfidf:
    """tf-idf over stemmed caption words, fitted on the captions of the training images.

    idf = log(1 + N / (1 + df)), the formula keras TextVectorization uses for tf_idf.
    `stem_ids(vocabulary)` maps the surface words of a text preprocessor's vocabulary to
    term columns, so the model's in-graph tf-idf stems exactly the words it saw in training
    (unseen surface forms are out of vocabulary there; the oracle stems them).
    """

    def __init__(self, texts_per_image, min_df=1, max_terms=None):
        stem = _stemmer().stem
        self._cache = {}
        self.stem = lambda w: self._cache.setdefault(w, stem(w))
        docs = self._docs(texts_per_image)
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

    def _docs(self, texts_per_image):
        """[[caption]] -> [[stem]] per image; one batched token op over all captions."""
        flat = [c for caps in texts_per_image for c in caps]
        tokens, docs, i = _tokens(flat), [], 0
        for caps in texts_per_image:
            docs.append([self.stem(w) for toks in tokens[i:i + len(caps)] for w in toks])
            i += len(caps)
        return docs

    def stem_ids(self, vocabulary):
        """Term column of each surface word (-1: its stem is no term)."""
        return np.asarray([self.index.get(self.stem(w), -1) for w in vocabulary], np.int64)

    def counts(self, texts_per_image):
        out = np.zeros((len(texts_per_image), len(self.terms)), np.float64)
        for i, doc in enumerate(self._docs(texts_per_image)):
            for term in doc:
                j = self.index.get(term)
                if j is not None:
                    out[i, j] += 1
        return out

    def vectors(self, texts_per_image):
        """[N, V] l2-normalised tf-idf (a row with no known word stays zero)."""
        x = self.counts(texts_per_image) * self.idf
        return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


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
