"""Gallery index: every backend against exact NumPy search, save/load, re-rank, bad input."""

import json
import os

import numpy as np
import pytest

from tfembed.errors import ConfigError, DataError
from tfembed.index import gallery_index, similarity

BACKENDS = [("brute_force", {}), ("faiss", {"kind": "flat"}), ("faiss", {"kind": "hnsw"}),
            ("faiss", {"kind": "ivf", "nlist": 8, "nprobe": 8}), ("hnswlib", {})]


def clustered(n, dim=16, clusters=20, seed=0):
    """Embeddings with structure, like a trained model's (ANN recall is meaningful here)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    return (centres[rng.integers(clusters, size=n)] + 0.3 * rng.normal(size=(n, dim))).astype("f4")


def exact(queries, gallery, metric, k):
    q, g = similarity.prepare(queries, metric), similarity.prepare(gallery, metric)
    if metric == "neg_sq_distance":
        scores = -((q[:, None, :] - g[None]) ** 2).sum(-1)
    else:
        scores = q @ g.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def need(backend):
    if backend in ("faiss", "hnswlib"):
        pytest.importorskip(backend)


@pytest.mark.parametrize("metric", similarity.METRICS)
@pytest.mark.parametrize("backend,params", BACKENDS)
def test_backends_find_the_exact_neighbours(backend, params, metric):
    need(backend)
    gallery, queries = clustered(400), clustered(30, seed=1)
    ids = [f"item-{i}" for i in range(len(gallery))]
    index = gallery_index.build(ids, gallery, metric, backend=backend, params=params, k=10)
    found, scores = index.search(queries)
    rows, expected = exact(queries, gallery, metric, 10)
    recall = np.mean([len(set(f) & {ids[r] for r in row}) / 10 for f, row in zip(found, rows)])
    if backend == "brute_force" or params.get("kind") in ("flat", "ivf"):  # ivf: nprobe = nlist
        assert recall == 1.0
        np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4)
    else:
        assert recall >= 0.95, recall
    # scores are the model's scores of the ids returned, whatever the backend
    g = similarity.prepare(gallery, metric)
    rows_found = np.vectorize(lambda s: int(s.split("-")[1]))(found)
    direct = similarity.exact_scores(similarity.prepare(queries, metric), g[rows_found], metric)
    np.testing.assert_allclose(scores, direct, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("backend,params", BACKENDS)
def test_save_load_round_trip(tmp_path, backend, params):
    need(backend)
    gallery, queries = clustered(300), clustered(8, seed=2)
    index = gallery_index.build([f"id {i} é" for i in range(300)], gallery, "cosine",
                                backend=backend, params=params, k=5, model="/m/1")
    index.save(str(tmp_path / "idx"))
    again = gallery_index.load(str(tmp_path / "idx"))
    for a, b in zip(index.search(queries), again.search(queries)):
        np.testing.assert_array_equal(a, b)
    assert again.meta["model"] == "/m/1" and again.meta["count"] == 300
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]


def test_rerank_restores_exact_order_from_a_coarse_index():
    pytest.importorskip("faiss")
    gallery, queries = clustered(2000, dim=32), clustered(40, dim=32, seed=3)
    params = {"kind": "hnsw", "M": 4, "ef_search": 10, "ef_construction": 10}
    index = gallery_index.build([str(i) for i in range(2000)], gallery, "dot", backend="faiss",
                                params=params, k=10)
    rows, _ = exact(queries, gallery, "dot", 10)
    truth = [{str(r) for r in row} for row in rows]

    def recall(found):
        return np.mean([len(set(f) & t) / 10 for f, t in zip(found, truth)])
    coarse, _ = index.search(queries)
    fine, fine_scores = index.search(queries, rerank=200)
    assert recall(fine) >= recall(coarse)
    assert np.all(np.diff(fine_scores, axis=1) <= 1e-6)  # best first


def test_k_larger_than_gallery_gives_every_item():
    index = gallery_index.build(["a", "b", "c"], np.eye(3), "dot", backend="brute_force", k=5)
    ids, scores = index.search(np.eye(3)[:1])
    assert ids.shape == (1, 3) and ids[0][0] == "a" and set(ids[0]) == {"a", "b", "c"}


@pytest.mark.parametrize("backend,params", [("brute_force", {}), ("faiss", {"kind": "flat"}),
                                            ("faiss", {"kind": "hnsw"}), ("hnswlib", {})])
def test_search_k_is_validated_and_capped_at_the_gallery_size(backend, params):
    need(backend)
    gallery = clustered(24)
    index = gallery_index.build([f"i{n}" for n in range(24)], gallery, "dot", backend=backend,
                                params=params, k=5)
    for k, rerank in ((0, None), (-1, None), (3, -1)):
        with pytest.raises(ConfigError, match="k must be >= 1 and rerank >= 0"):
            index.search(gallery[:2], k=k, rerank=rerank)
    ids, scores = index.search(gallery[:2], k=10**8, rerank=10**8)  # was: 62 s and 3.6 GB
    assert ids.shape == scores.shape == (2, 24)
    assert sorted(ids[0]) == sorted(f"i{n}" for n in range(24))


@pytest.mark.parametrize("name,data,match", [
    ("embeddings.npy", None, r"embeddings.npy: unreadable index file \(ValueError"),
    ("ids.txt", b"\xff\xfe\n" * 3, r"ids.txt: unreadable index file \(UnicodeDecodeError"),
    ("meta.json", b'{"format": "tfembed.gallery_index.v1"}', r"meta.json: bad index metadata"),
    ("meta.json", b"[1, 2]", r"meta.json: unknown index format 'list'"),
])
def test_unreadable_index_files_are_data_errors_naming_the_file(tmp_path, name, data, match):
    path = gallery_index.build(list("abc"), np.eye(3), "dot", backend="brute_force").save(
        str(tmp_path / "idx"))
    target = os.path.join(path, name)
    if data is None:  # truncated
        with open(target, "r+b") as f:
            f.truncate(os.path.getsize(target) // 2)
    else:
        with open(target, "wb") as f:
            f.write(data)
    with pytest.raises(DataError, match=match):
        gallery_index.load(path)


def test_bad_inputs_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="'x' appears twice .rows 0 and 2"):
        gallery_index.build(["x", "y", "x"], np.eye(3), "dot", backend="brute_force")
    with pytest.raises(DataError, match="line break"):
        gallery_index.build(["x", "y\nz", "w"], np.eye(3), "dot", backend="brute_force")
    with pytest.raises(DataError, match="2 ids for 3"):
        gallery_index.build(["x", "y"], np.eye(3), "dot", backend="brute_force")
    with pytest.raises(ConfigError, match="row 1 is not finite"):
        gallery_index.build(list("abc"), [[0, 1], [np.nan, 0], [1, 1]], "dot", backend="brute_force")
    with pytest.raises(ConfigError, match="S_kl"):
        gallery_index.build(list("abc"), np.eye(3), "alignment", backend="brute_force")
    with pytest.raises(ConfigError, match="unknown index backend 'annoy'"):
        gallery_index.build(list("abc"), np.eye(3), "dot", backend="annoy")
    with pytest.raises(ConfigError, match="M must be a positive integer"):
        gallery_index.build(list("abc"), np.eye(3), "dot", backend="hnswlib", params={"M": 0})
    index = gallery_index.build(list("abc"), np.eye(3), "dot", backend="brute_force")
    with pytest.raises(ConfigError, match="queries have dimension 4, the index 3"):
        index.search(np.ones((1, 4)))
    with pytest.raises(DataError, match="no meta.json"):
        gallery_index.load(str(tmp_path))
    path = index.save(str(tmp_path / "i"))
    os.remove(os.path.join(path, "ids.txt"))
    with pytest.raises(DataError, match="ids.txt: index file missing"):
        gallery_index.load(path)
    path = index.save(str(tmp_path / "j"))
    with open(os.path.join(path, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(path, "meta.json"), "w") as f:
        json.dump(dict(meta, count=4), f)
    with pytest.raises(DataError, match="meta.json says 4 x 3"):
        gallery_index.load(path)
