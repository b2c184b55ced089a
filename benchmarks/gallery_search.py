"""Gallery search: ms/query (batch 1 and 64), recall@10 against exact search, index build time
and memory, for 10^3 ... 10^6 items: brute force (the exported in-graph `retrieve`: one TF
matmul + top_k) vs faiss HNSW, faiss IVF-Flat and hnswlib, through tfembed.index.

Each approximate index is built once per size and swept over its search-time knob (ef_search /
nprobe); the summary reports, per size, the fastest setting with recall@10 >= 0.95. Data: see
benchmarks/_gallery_data.py (a low-dimensional manifold like trained embeddings, at every size;
i.i.d. Gaussian directions, the worst case, at the largest size; real GloVe vectors).

    python benchmarks/gallery_search.py [--quick] [--sizes 1000,1000000] [--dim 128]
"""

import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common
import _gallery_data

from tfembed.index import gallery_index

K, TARGET_RECALL, TARGET_MS = 10, 0.95, 10.0
METHODS = {  # name: (backend, build params, search knob, sweep)
    "faiss_hnsw": ("faiss", {"kind": "hnsw", "M": 32, "ef_construction": 80}, "ef_search",
                   [16, 32, 64, 128, 256, 512, 1024]),
    "faiss_ivf": ("faiss", {"kind": "ivf"}, "nprobe", [4, 16, 64, 256, 1024]),
    "hnswlib": ("hnswlib", {"M": 16, "ef_construction": 100}, "ef_search",
                [16, 32, 64, 128, 256, 512, 1024]),
}


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class TfBruteForce:
    """The exported retrieve's arithmetic: scores = q G^T, top_k, in one tf.function."""

    def __init__(self, gallery):
        import tensorflow as tf
        self.tf, self.gallery = tf, tf.constant(gallery)
        self.fn = tf.function(lambda q: tf.math.top_k(tf.matmul(q, self.gallery,
                                                                transpose_b=True), k=K))

    def search(self, queries):
        top = self.fn(self.tf.constant(queries))
        return top.indices.numpy(), top.values.numpy()


def latency(search, queries, single):
    """(ms/query at batch 1 over `single` queries, ms/query at batch 64 over all)."""
    search(queries[:64])  # warm-up (tracing, caches)
    t = time.perf_counter()
    for q in queries[:single]:
        search(q[None])
    one = (time.perf_counter() - t) / single * 1e3
    t = time.perf_counter()
    for start in range(0, len(queries), 64):
        search(queries[start:start + 64])
    return round(one, 4), round((time.perf_counter() - t) / len(queries) * 1e3, 4)


def sweep_point(index, knob, value, queries, truth, single):
    index.backend.set_search_params(**{knob: value})
    found, _ = index.backend.search(queries, K)  # gallery rows, compared with exact rows
    ms1, ms64 = latency(lambda q: index.search(q, k=K), queries, single)  # what users call
    return {knob: value, "recall_at_10": round(recall(found, truth), 4),
            "ms_per_query_batch1": ms1, "ms_per_query_batch64": ms64}


def recall(found_rows, truth):
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found_rows, truth)]))


def run_size(data_name, gallery, queries, single, methods):
    n = len(gallery)
    brute = TfBruteForce(gallery)
    truth, _ = brute.search(queries)
    out = {"data": data_name, "items": n, "dim": gallery.shape[1], "queries": len(queries)}
    ms1, ms64 = latency(brute.search, queries, single)
    out["brute_force_tf"] = {"ms_per_query_batch1": ms1, "ms_per_query_batch64": ms64,
                             "recall_at_10": 1.0, "memory_bytes": gallery.nbytes}
    del brute
    ids = np.arange(n).astype(str)
    for name in methods:
        backend, params, knob, sweep = METHODS[name]
        before, began = rss_bytes(), time.perf_counter()
        index = gallery_index.build(ids, gallery, "dot", backend=backend, params=dict(params), k=K)
        build_s = time.perf_counter() - began
        with tempfile.TemporaryDirectory() as tmp:
            index.save(os.path.join(tmp, "i"))
            on_disk = sum(os.path.getsize(os.path.join(tmp, "i", f))
                          for f in os.listdir(os.path.join(tmp, "i")) if f.startswith("index."))
        # RSS delta is rough (freed arrays of the previous index can make it negative); the
        # index file size is what the index holds besides the vectors' own copy.
        row = {"build_seconds": round(build_s, 2), "memory_bytes_rss_delta": rss_bytes() - before,
               "index_file_bytes": on_disk, "params": index.meta["params"], "sweep": []}
        for value in sweep:
            row["sweep"].append(sweep_point(index, knob, value, queries, truth, single))
        out[name] = row
        print(f"{data_name} n={n} {name}: build {build_s:.1f}s, " + ", ".join(
            f"{knob}={s[knob]} r={s['recall_at_10']} {s['ms_per_query_batch1']}ms"
            for s in row["sweep"]), flush=True)
    return out


def best_setting(result, name):
    """The fastest batch-1 setting of `name` with recall >= target, or None."""
    ok = [s for s in result[name]["sweep"] if s["recall_at_10"] >= TARGET_RECALL]
    return min(ok, key=lambda s: s["ms_per_query_batch1"]) if ok else None


def summarise(results):
    rows = []
    for r in results:
        label = f"{r['data']} {r['items']:,} x {r['dim']}"
        rows.append(_common.row(f"brute force (TF) ms/query batch 1 / 64, {label}",
                                f"{r['brute_force_tf']['ms_per_query_batch1']} / "
                                f"{r['brute_force_tf']['ms_per_query_batch64']}", "ms",
                                note="exact (recall 1.0)"))
        for name in METHODS:
            if name not in r:
                continue
            best = best_setting(r, name)
            is_target = r["items"] >= 10 ** 6
            value = best["ms_per_query_batch1"] if best else "no setting reached recall 0.95"
            rows.append(_common.row(
                f"{name} ms/query batch 1 at recall@10 >= {TARGET_RECALL}, {label}", value, "ms",
                target=f"<= {TARGET_MS} ms at 10^6" if is_target else None,
                met=(bool(best) and best["ms_per_query_batch1"] <= TARGET_MS) if is_target else None,
                note=(f"{', '.join(f'{k}={v}' for k, v in best.items())}; " if best else "")
                + f"build {r[name]['build_seconds']} s, index file "
                  f"{r[name]['index_file_bytes'] / 2**20:.0f} MiB"))
    return rows


def main(argv=None):
    args = _common.parse_args("gallery_search", __doc__, argv, extra=lambda p: (
        p.add_argument("--sizes", help="comma-separated gallery sizes"),
        p.add_argument("--dim", type=int, default=128),
        p.add_argument("--methods", default=",".join(METHODS)),
        p.add_argument("--glove-size", type=int, help="GloVe items (default 10^5 quick, 400k "
                       "full; 0 skips real vectors)")))
    began = _common.start()
    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes else
             [10 ** 3, 10 ** 4, 10 ** 5] if args.quick else [10 ** 3, 10 ** 4, 10 ** 5, 10 ** 6])
    n_queries, single = (256, 64) if args.quick else (1000, 200)
    methods = [m for m in args.methods.split(",") if m]
    results = []
    for n in sizes:
        gallery, queries = _gallery_data.manifold(n, n_queries, args.dim)
        results.append(run_size("manifold", gallery, queries, single, methods))
    stress = max(sizes)  # the worst case at the largest size too
    results.append(run_size("uniform", *_gallery_data.uniform(stress, n_queries, args.dim),
                            single, methods))
    glove_size = args.glove_size if args.glove_size is not None else (
        10 ** 5 if args.quick else 400_000)
    real = _gallery_data.glove(glove_size, n_queries) if glove_size else None
    if real is not None:
        results.append(run_size("glove", *real, single, methods))
    _common.write_result("gallery_search", args, began, results, summarise(results))


if __name__ == "__main__":
    main()
