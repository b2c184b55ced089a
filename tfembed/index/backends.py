"""Nearest-neighbour backends over prepared vectors (see similarity.prepare).

Every backend answers search(queries, k) -> (rows [N, k] int64, scores [N, k] float32) with
scores on the model's scale (higher = more similar) and row -1 where fewer than k items exist.
"""

import os

import numpy as np

from tfembed.errors import ConfigError
from tfembed.index import similarity

_BLOCK = 1 << 18  # gallery rows scored at once by brute force: bounds the [N, block] matrix


def _require(module, extra="index"):
    try:
        return __import__(module)
    except ImportError:
        raise ConfigError(f"this index backend needs the Python package {module!r}: "
                          f"pip install 'tfembed[{extra}]'") from None


def _int(params, key, default):
    """A positive integer parameter; the value used is recorded in params (meta.json)."""
    value = params.get(key, default)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"index parameter {key} must be a positive integer, got {value!r}")
    if key != "threads":  # a machine's thread count is not a property of the index
        params[key] = int(value)
    return int(value)


class BruteForce:
    """Exact search with NumPy matmuls in gallery blocks; nothing to save but the vectors."""

    name, files = "brute_force", ()

    def __init__(self, metric, params):
        self.metric, self.params, self.vectors = metric, dict(params), None

    def build(self, vectors):
        self.vectors = vectors

    def set_search_params(self, **params):
        self.params.update(params)

    def attach(self, vectors):
        self.vectors = vectors

    def search(self, queries, k):
        best_rows = best_scores = None
        for start in range(0, len(self.vectors), _BLOCK):
            block = np.asarray(self.vectors[start:start + _BLOCK])
            rows, scores = similarity.top_k(similarity.score_matrix(queries, block, self.metric), k)
            rows = rows + start
            if best_rows is not None:
                rows = np.concatenate([best_rows, rows], axis=1)
                scores = np.concatenate([best_scores, scores], axis=1)
                keep, scores = similarity.top_k(scores, k)
                rows = np.take_along_axis(rows, keep, axis=1)
            best_rows, best_scores = rows, scores
        return best_rows.astype(np.int64), best_scores.astype(np.float32)

    def save(self, directory):
        pass

    def load(self, directory, dim):
        pass


class Faiss:
    """faiss-cpu: kind=hnsw (graph, default), ivf (inverted lists) or flat (exact)."""

    name, files = "faiss", ("index.faiss",)

    def __init__(self, metric, params):
        self.faiss = _require("faiss")
        self.metric, self.params, self.index = metric, dict(params), None
        self.kind = self.params.setdefault("kind", "hnsw")
        if self.kind not in ("hnsw", "ivf", "flat"):
            raise ConfigError(f"faiss kind must be hnsw, ivf or flat, got {self.kind!r}")
        if "threads" in self.params:
            self.faiss.omp_set_num_threads(_int(self.params, "threads", 1))

    def _faiss_metric(self):
        return (self.faiss.METRIC_L2 if self.metric == "neg_sq_distance"
                else self.faiss.METRIC_INNER_PRODUCT)

    def build(self, vectors):
        faiss, n, dim = self.faiss, len(vectors), vectors.shape[1]
        if self.kind == "flat":
            index = faiss.IndexFlat(dim, self._faiss_metric())
        elif self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, _int(self.params, "M", 32), self._faiss_metric())
            index.hnsw.efConstruction = _int(self.params, "ef_construction", 100)
        else:
            # ~4 sqrt(N) lists, each trained on >= 39 points as faiss's k-means asks.
            nlist = _int(self.params, "nlist", max(1, min(int(4 * np.sqrt(n)), n // 39 or 1)))
            self.params["nlist"] = nlist
            index = faiss.IndexIVFFlat(faiss.IndexFlat(dim, self._faiss_metric()), dim, nlist,
                                       self._faiss_metric())
            # k-means on ~50 points a list: enough for faiss, minutes less than all of 10^6.
            sample = np.random.default_rng(0).choice(n, size=min(n, 50 * nlist), replace=False)
            index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
        index.add(np.ascontiguousarray(vectors))
        self.index = index
        self._tune()

    def set_search_params(self, **params):
        """Change ef_search / nprobe without rebuilding (speed-recall trade-off)."""
        self.params.update(params)
        self._tune()

    def _tune(self):
        if self.kind == "hnsw":
            self.index.hnsw.efSearch = _int(self.params, "ef_search", 128)
        elif self.kind == "ivf":
            self.index.nprobe = _int(self.params, "nprobe", min(32, self.index.nlist))

    def search(self, queries, k):
        if self.kind == "hnsw":  # the candidate list must hold at least k items
            self.index.hnsw.efSearch = max(self.index.hnsw.efSearch, k)
        scores, rows = self.index.search(np.ascontiguousarray(queries), k)
        if self.metric == "neg_sq_distance":
            scores = -scores  # faiss L2 returns squared distances
        return rows.astype(np.int64), scores.astype(np.float32)

    def save(self, directory):
        self.faiss.write_index(self.index, os.path.join(directory, "index.faiss"))

    def load(self, directory, dim):
        self.index = self.faiss.read_index(os.path.join(directory, "index.faiss"))
        self._tune()


class Hnswlib:
    """hnswlib's HNSW graph (an alternative to faiss; space 'ip' or 'l2')."""

    name, files = "hnswlib", ("index.hnsw",)

    def __init__(self, metric, params):
        self.hnswlib = _require("hnswlib")
        self.metric, self.params, self.index = metric, dict(params), None
        self.space = "l2" if metric == "neg_sq_distance" else "ip"
        self.threads = _int(self.params, "threads", os.cpu_count() or 1)

    def build(self, vectors):
        index = self.hnswlib.Index(space=self.space, dim=vectors.shape[1])
        index.init_index(max_elements=len(vectors), M=_int(self.params, "M", 16),
                         ef_construction=_int(self.params, "ef_construction", 100), random_seed=0)
        index.add_items(vectors, np.arange(len(vectors)), num_threads=self.threads)
        self.index = index
        self.index.set_ef(_int(self.params, "ef_search", 128))

    def set_search_params(self, **params):
        self.params.update(params)

    def search(self, queries, k):
        k_found = min(k, self.index.get_current_count())
        self.index.set_ef(max(_int(self.params, "ef_search", 128), k_found))
        rows, distances = self.index.knn_query(queries, k=k_found, num_threads=self.threads)
        # hnswlib returns 1 - <q, x> for 'ip' and the squared distance for 'l2'.
        scores = 1.0 - distances if self.space == "ip" else -distances
        rows, scores = rows.astype(np.int64), scores.astype(np.float32)
        if k_found < k:
            pad = ((0, 0), (0, k - k_found))
            rows = np.pad(rows, pad, constant_values=-1)
            scores = np.pad(scores, pad, constant_values=-np.inf)
        return rows, scores

    def save(self, directory):
        self.index.save_index(os.path.join(directory, "index.hnsw"))

    def load(self, directory, dim):
        self.index = self.hnswlib.Index(space=self.space, dim=dim)
        self.index.load_index(os.path.join(directory, "index.hnsw"))
        self.index.set_ef(_int(self.params, "ef_search", 128))


BACKENDS = {b.name: b for b in (BruteForce, Faiss, Hnswlib)}


def make(name, metric, params=None):
    if name not in BACKENDS:
        raise ConfigError(f"unknown index backend {name!r}; known: {', '.join(BACKENDS)}")
    return BACKENDS[name](metric, params or {})
