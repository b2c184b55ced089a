"""Dense float32 matmul rate of this machine through TensorFlow: the roofline the training
figures are compared to.

    python benchmarks/matmul_roofline.py [--quick] [--out benchmarks/results/matmul_roofline.json]

tf.matmul inside a tf.function for square sizes n (GFLOP/s = 2 n^3 / t, best and median of
several timed calls after warm-up); the roofline is the best rate seen. Also the rate at the
[batch, in] x [in, out] shapes the fixed-feature train steps actually run (small matmuls are
slower, which bounds the fraction of the roofline a train step can reach).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import _common  # noqa: E402

SQUARE = [256, 512, 1024, 2048, 4096]
# (label, m, k, n): Lite0 1280-d features into a 1024-d embedding (reed2016 attributes) at the
# recipe batch 40 and larger batches; DEM's 312 -> 700 -> 1280 attribute MLP at batch 64.
MODEL_SHAPES = [("features 1280 -> 1024, batch 40", 40, 1280, 1024),
                ("features 1280 -> 1024, batch 64", 64, 1280, 1024),
                ("features 1280 -> 1024, batch 256", 256, 1280, 1024),
                ("features 1280 -> 1024, batch 1024", 1024, 1280, 1024),
                ("DEM 312 -> 700, batch 64", 64, 312, 700),
                ("DEM 700 -> 1280, batch 64", 64, 700, 1280)]


def rate(m, k, n, seconds_per_size):
    """GFLOP/s (best, median) of tf.matmul([m, k], [k, n]) and the number of timed calls."""
    import tensorflow as tf

    a = tf.random.normal([m, k], seed=1)
    b = tf.random.normal([k, n], seed=2)
    matmul = tf.function(lambda x, y: tf.matmul(x, y))
    once = min(_common.time_calls(lambda: matmul(a, b), 3, warmup=2))
    repeats = int(min(500, max(5, seconds_per_size / max(once, 1e-6))))
    best, median = _common.best_and_median(_common.time_calls(lambda: matmul(a, b), repeats, 1))
    flops = 2.0 * m * k * n
    return {"m": m, "k": k, "n": n, "repeats": repeats,
            "best_gflops": round(flops / best / 1e9, 2),
            "median_gflops": round(flops / median / 1e9, 2),
            "best_ms": round(best * 1e3, 4)}


def main(argv=None):
    def extra(p):
        p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None,
                       help="comma-separated square sizes (default 256..4096, quick ..2048)")
    args = _common.parse_args("matmul_roofline", __doc__, argv, extra)
    began = _common.start()
    import tensorflow as tf  # noqa: F401  (machine_info reads its version and threads)

    sizes = args.sizes or (SQUARE[:-1] if args.quick else SQUARE)
    budget = 0.3 if args.quick else 1.5
    square = [rate(n, n, n, budget) for n in sizes]
    for r in square:
        print(f"n={r['m']}: best {r['best_gflops']} GFLOP/s, median {r['median_gflops']}")
    roofline = max(r["best_gflops"] for r in square)
    shapes = [] if args.sizes else [dict(rate(m, k, n, budget), label=label)
                                    for label, m, k, n in MODEL_SHAPES]
    summary = [_common.row("float32 matmul roofline (best square size)", roofline, "GFLOP/s",
                           note=f"sizes {sizes}; best at n="
                           f"{max(square, key=lambda r: r['best_gflops'])['m']}")]
    summary += [_common.row(f"matmul {s['label']}", s["best_gflops"], "GFLOP/s",
                            note=f"{round(100 * s['best_gflops'] / roofline)}% of the roofline")
                for s in shapes]
    _common.write_result("matmul_roofline", args, began,
                         {"roofline_gflops": roofline, "square": square, "model_shapes": shapes},
                         summary)


if __name__ == "__main__":
    main()
