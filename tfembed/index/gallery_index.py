"""A gallery index saved as a directory: backend file + ids + vectors + meta.json.

    <dir>/meta.json        format, backend, params, metric, dim, count, k, rerank, model
    <dir>/ids.txt          one gallery id per line (UTF-8), row i <-> id i
    <dir>/embeddings.npy   the prepared float32 vectors (exact re-rank and brute force; mmapped)
    <dir>/index.faiss | index.hnsw   the backend's own file

Written to a temporary sibling and renamed into place, so a reader (e.g. a running server)
never sees half an index.
"""

import json
import os
import shutil
import time
import uuid

import numpy as np

from tfembed import progress
from tfembed.errors import ConfigError, DataError
from tfembed.index import backends, similarity

FORMAT = "tfembed.gallery_index.v1"
META, IDS, VECTORS = "meta.json", "ids.txt", "embeddings.npy"


class GalleryIndex:
    def __init__(self, backend, ids, vectors, meta):
        self.backend, self.ids, self.vectors, self.meta = backend, ids, vectors, meta

    @property
    def metric(self):
        return self.meta["metric"]

    def search(self, queries, k=None, rerank=None):
        """queries [N, D] raw embeddings -> (ids [N, k] str, scores [N, k] float32).

        k: results per query, >= 1 (default: the value saved at build time); more than the
        gallery holds gives them all. rerank: look up this many candidates approximately and
        re-score them exactly against the stored vectors (default: the value saved at build
        time; 0 = off).
        """
        k = int(self.meta["k"] if k is None else k)
        rerank = int(self.meta.get("rerank", 0) if rerank is None else rerank)
        if k < 1 or rerank < 0:
            raise ConfigError(f"k must be >= 1 and rerank >= 0, got k={k}, rerank={rerank}")
        # Never ask a backend for more than the gallery holds: faiss allocates [N, k] results.
        k, rerank = min(k, len(self.ids)), min(rerank, len(self.ids))
        queries = similarity.prepare(queries, self.metric)
        if queries.shape[1] != self.meta["dim"]:
            raise ConfigError(f"queries have dimension {queries.shape[1]}, the index "
                              f"{self.meta['dim']} (built from another model?)")
        rows, scores = self.backend.search(queries, max(k, rerank))
        rows, scores = _pad(rows, scores, max(k, rerank))
        if rerank > k:
            rows, scores = self._rerank(queries, rows, k)
        rows, scores = rows[:, :k], scores[:, :k]
        ids = np.where(rows >= 0, self.ids[np.maximum(rows, 0)], "").astype(object)
        return ids, np.where(rows >= 0, scores, -np.inf).astype(np.float32)

    def _rerank(self, queries, rows, k):
        found = rows >= 0
        gathered = np.asarray(self.vectors[np.maximum(rows, 0)])  # [N, C, D]
        exact = similarity.exact_scores(queries, gathered, self.metric)
        exact = np.where(found, exact, -np.inf)
        order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(rows, order, axis=1), np.take_along_axis(exact, order, axis=1)

    def save(self, directory):
        parent = os.path.dirname(os.path.abspath(directory))
        os.makedirs(parent, exist_ok=True)
        tmp = os.path.join(parent, f".tmp-index-{uuid.uuid4().hex[:8]}")
        os.makedirs(tmp)
        try:
            self.backend.save(tmp)
            np.save(os.path.join(tmp, VECTORS), np.asarray(self.vectors))
            with open(os.path.join(tmp, IDS), "w", encoding="utf-8") as f:
                f.writelines(f"{i}\n" for i in self.ids)
            with open(os.path.join(tmp, META), "w") as f:
                json.dump(self.meta, f, indent=2, sort_keys=True)
            old = None
            if os.path.exists(directory):  # swap in: the old index stays whole until the rename
                old = f"{tmp}-old"
                os.rename(directory, old)
            os.rename(tmp, directory)
            if old:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return directory


def _pad(rows, scores, k):
    if rows.shape[1] >= k:
        return rows, scores
    pad = ((0, 0), (0, k - rows.shape[1]))
    return (np.pad(rows, pad, constant_values=-1),
            np.pad(scores, pad, constant_values=-np.inf))


def _check_ids(ids, count):
    ids = np.asarray([str(i) for i in ids], dtype=object)
    if len(ids) != count:
        raise DataError(f"{len(ids)} ids for {count} embeddings")
    for i, value in enumerate(ids):
        if not value or "\n" in value or "\r" in value:
            raise DataError(f"gallery id {i} ({value!r}) is empty or contains a line break")
    if len(set(ids)) != len(ids):
        seen = {}
        for i, value in enumerate(ids):
            if value in seen:
                raise DataError(f"gallery id {value!r} appears twice (rows {seen[value]} and {i})")
            seen[value] = i
    return ids


def build(ids, embeddings, metric, backend="faiss", params=None, k=10, rerank=0, model=None):
    """Build a GalleryIndex from raw embeddings [N, D] and their ids."""
    similarity.check_metric(metric)
    vectors = similarity.prepare(embeddings, metric)
    if len(vectors) == 0:
        raise DataError("no embeddings to index")
    ids = _check_ids(ids, len(vectors))
    if int(k) < 1 or int(rerank) < 0:
        raise ConfigError(f"k must be >= 1 and rerank >= 0, got k={k}, rerank={rerank}")
    impl = backends.make(backend, metric, params)
    began = time.perf_counter()
    with progress.stage(f"index build ({backend})", total=len(vectors), unit="embeddings") as bar:
        impl.build(vectors)
        bar.update(len(vectors))
    meta = {"format": FORMAT, "backend": backend, "params": impl.params, "metric": metric,
            "dim": int(vectors.shape[1]), "count": len(vectors), "k": int(k),
            "rerank": int(rerank), "model": model,
            "build_seconds": round(time.perf_counter() - began, 3)}
    return GalleryIndex(impl, ids, vectors, meta)


def load(directory):
    """Load a saved index; DataError names the file that is missing, unreadable or inconsistent."""
    meta_path = os.path.join(directory, META)
    if not os.path.isfile(meta_path):
        raise DataError("not a gallery index directory (no meta.json)", meta_path)
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as err:
        raise DataError(f"unreadable index metadata: {err}", meta_path) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise DataError(f"unknown index format {found!r}, expected {FORMAT}", meta_path)
    try:
        count, dim, k = int(meta["count"]), int(meta["dim"]), int(meta["k"])
        impl = backends.make(meta["backend"], meta["metric"], meta.get("params"))
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise DataError(f"bad index metadata ({type(err).__name__}: {err})", meta_path) from None
    if count < 1 or dim < 1 or k < 1:
        raise DataError(f"bad index metadata: count {count}, dim {dim}, k {k}", meta_path)
    for name in (IDS, VECTORS) + impl.files:
        if not os.path.isfile(os.path.join(directory, name)):
            raise DataError("index file missing", os.path.join(directory, name))
    path = os.path.join(directory, IDS)
    try:
        with open(path, encoding="utf-8") as f:
            ids = np.asarray(f.read().splitlines(), dtype=object)
        path = os.path.join(directory, VECTORS)
        vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:  # UnicodeDecodeError is a ValueError
        raise DataError(f"unreadable index file ({type(err).__name__}: {err})", path) from None
    if len(ids) != count or vectors.shape != (count, dim) or vectors.dtype != np.float32:
        raise DataError(f"index holds {len(ids)} ids and {vectors.dtype} vectors of shape "
                        f"{vectors.shape}, meta.json says {count} x {dim} float32", directory)
    if isinstance(impl, backends.BruteForce):
        impl.attach(vectors)
    try:
        impl.load(directory, dim)
    except RuntimeError as err:  # faiss / hnswlib report unreadable files this way
        raise DataError(f"unreadable index file: {err}", directory) from None
    return GalleryIndex(impl, ids, vectors, meta)
