"""Evaluation throughput as the test set grows: zero-shot and retrieval metrics of tfembed.metrics,
including the score-matrix computation (tfembed.scorers.dot, as the experiments do).

    python benchmarks/eval_throughput.py [--quick] [--out benchmarks/results/eval_throughput.json]

Zero-shot (GBU-shaped: 200 classes, 50 unseen, 1024-d, N test images, 60% unseen):
scores N x 200, top-1 per image / per class on unseen, GZSL u/s/H, class-query AP@50 and
1,000 single-description-query AP@50 (Reed 2016). Image-sentence retrieval (N images x 5N
captions): the N x 5N similarity, then R@1/5/10 and median rank both ways. The full retrieval
score matrix needs 20 N^2 bytes; sizes that would exceed --max-score-gb are skipped and say so.
Embeddings are random with class structure: only sizes matter for the timing.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import _common  # noqa: E402

DIM, CLASSES, UNSEEN, QUERIES, CAPTIONS = 1024, 200, 50, 1000, 5


def available_gb():
    try:
        with open("/proc/meminfo") as f:
            kb = next(int(l.split()[1]) for l in f if l.startswith("MemAvailable"))
        return kb / 2 ** 20
    except (OSError, StopIteration):
        return 8.0  # unknown: assume a small machine


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t, 4)


def embeddings(labels, centres, rng):
    return (centres[labels] + rng.normal(size=(len(labels), DIM))).astype(np.float32)


def zero_shot(n, rng):
    from tfembed import metrics, scorers

    centres = rng.normal(size=(CLASSES, DIM)) * 0.05  # classes overlap: top-1 well below 1
    seen, unseen = np.arange(CLASSES - UNSEEN), np.arange(CLASSES - UNSEEN, CLASSES)
    n_unseen = int(0.6 * n)
    labels = np.concatenate([rng.choice(unseen, n_unseen), rng.choice(seen, n - n_unseen)])
    images = embeddings(labels, centres, rng)
    text_labels = np.repeat(np.arange(CLASSES), 10)
    texts = embeddings(text_labels, centres, rng)
    u_rows, s_rows = np.arange(n_unseen), np.arange(n_unseen, n)
    seconds = {}
    protos, seconds["class_means"] = timed(lambda: metrics.class_means(texts, text_labels, CLASSES))
    scores, seconds["scores"] = timed(lambda: np.asarray(scorers.dot(images, protos)))
    local = labels[u_rows] - unseen[0]
    zs, seconds["top1_per_image_and_class"] = timed(lambda: (
        metrics.top1_per_image(scores[u_rows][:, unseen], local),
        metrics.top1_per_class(scores[u_rows][:, unseen], local)))
    _, seconds["gzsl"] = timed(lambda: metrics.gzsl(scores, labels, seen, unseen, s_rows, u_rows))
    relevant = unseen[:, None] == labels[None, u_rows]
    _, seconds["class_query_ap@50"] = timed(  # Reed's AP@50 is a precision@50
        lambda: metrics.mean_precision_at_k(scores[u_rows][:, unseen].T, relevant, 50))
    pick = rng.choice(np.flatnonzero(text_labels >= unseen[0]), QUERIES)
    _, seconds["single_query_ap@50"] = timed(lambda: metrics.mean_precision_at_k(
        np.asarray(scorers.dot(texts[pick], images[u_rows])),
        text_labels[pick][:, None] == labels[None, u_rows], 50))
    total = sum(seconds.values())
    return {"n_images": n, "seconds": seconds, "total_seconds": round(total, 3),
            "images_per_second": round(n / total, 1), "top1_per_image": round(zs[0], 4)}


def retrieval(n, rng, max_gb):
    from tfembed import metrics, scorers

    need_gb = 4 * n * CAPTIONS * n / 2 ** 30
    out = {"n_images": n, "n_captions": CAPTIONS * n, "score_matrix_gb": round(need_gb, 3)}
    if need_gb > max_gb:
        return dict(out, skipped=f"the {n} x {CAPTIONS * n} float32 score matrix needs "
                    f"{need_gb:.1f} GB > --max-score-gb {max_gb:.1f}")
    centres = rng.normal(size=(n, DIM)) * 0.3
    t2i = np.repeat(np.arange(n), CAPTIONS)
    images, texts = embeddings(np.arange(n), centres, rng), embeddings(t2i, centres, rng)
    sim, sim_s = timed(lambda: np.asarray(scorers.dot(images, texts)))
    recall, rank_s = timed(lambda: metrics.image_text_recall(sim, t2i))
    total = sim_s + rank_s
    return dict(out, seconds={"similarity": sim_s, "recall_and_median_rank": rank_s},
                total_seconds=round(total, 3), images_per_second=round(n / total, 1),
                similarity_gflops=round(2 * DIM * n * CAPTIONS * n / sim_s / 1e9, 1),
                t2i_r_at_1=round(recall["t2i_r@1"], 2))


def slowest(seconds):
    part = max(seconds, key=seconds.get)
    return f"slowest part {part} {seconds[part]} s"


def main(argv=None):
    def extra(p):
        p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None,
                       help="comma-separated test-set sizes (images)")
        p.add_argument("--max-score-gb", type=float, default=None,
                       help="largest retrieval score matrix to build (default: half the free "
                       "memory; 0.6 with --quick)")
    args = _common.parse_args("eval_throughput", __doc__, argv, extra)
    began = _common.start()
    import tensorflow as tf  # noqa: F401  (machine_info reads its version and threads)

    sizes = args.sizes or ([1000, 5000, 10000] if args.quick else [1000, 5000, 10000, 50000])
    free = available_gb()
    max_gb = args.max_score_gb or (0.6 if args.quick else free / 2)
    rng = np.random.default_rng(0)
    zero_shot(200, rng), retrieval(200, rng, max_gb)  # warm-up: first TF calls trace and allocate
    zsl, ret = [], []
    for n in sizes:
        zsl.append(zero_shot(n, rng))
        ret.append(retrieval(n, rng, max_gb))
        print(f"n={n}: zero-shot {zsl[-1]['total_seconds']} s, retrieval "
              f"{ret[-1].get('total_seconds', ret[-1].get('skipped'))}", flush=True)
    fits = int((free * 2 ** 30 / (4 * CAPTIONS)) ** 0.5)
    summary = [_common.row(f"zero-shot eval, {z['n_images']} test images", z["images_per_second"],
                           "images/s", note=f"{z['total_seconds']} s incl. scores and AP@50 of "
                           f"{QUERIES} description queries; {slowest(z['seconds'])}") for z in zsl]
    for r in ret:
        if "skipped" in r:
            summary.append(_common.row(f"image-sentence retrieval eval, {r['n_images']} images",
                                       "skipped", "", note=r["skipped"]))
        else:
            summary.append(_common.row(
                f"image-sentence retrieval eval, {r['n_images']} images x {r['n_captions']} "
                "captions", r["images_per_second"], "images/s",
                note=f"{r['total_seconds']} s; similarity {r['similarity_gflops']} GFLOP/s; "
                f"{slowest(r['seconds'])}; score matrix {r['score_matrix_gb']} GB"))
    summary.append(_common.row("largest retrieval test set whose full score matrix fits in free "
                               "memory", fits, "images", note=f"{free:.1f} GB free; "
                               f"{CAPTIONS} captions per image, float32"))
    _common.write_result("eval_throughput", args, began,
                         {"dim": DIM, "classes": CLASSES, "unseen": UNSEEN,
                          "single_queries": QUERIES, "captions_per_image": CAPTIONS,
                          "free_memory_gb": round(free, 1), "max_score_gb": round(max_gb, 2),
                          "zero_shot": zsl, "retrieval": ret, "max_images_in_memory": fits},
                         summary)


if __name__ == "__main__":
    main()
