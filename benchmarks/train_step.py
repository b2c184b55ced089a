"""Training throughput of each recipe's compiled train step, as a fraction of the matmul roofline.

    python benchmarks/train_step.py [--quick] [--roofline benchmarks/results/matmul_roofline.json]

For each model the recipe builds its model and tf.data pipeline as in a real run, and the
library's train step (Trainer's tf.function over the distributed iterator) is timed after
warm-up: examples/s, FLOPs per step counted by the TF profiler on the traced graph, achieved
GFLOP/s and its fraction of the roofline (benchmarks/matmul_roofline.py). Beside it, in the
same run: a naive eager loop over the same numpy batches (tf.function + tf.data speed-up),
MirroredStrategy over 2 logical CPUs (2 vs 1 replicas, same global batch), the input pipeline
alone, and -- for the Reed 2016 attribute model on fixed features -- the fraction vs batch size.
Fixed-feature models read random CUB-/Flickr-shaped data sets (benchmarks/_train_step_data.py).
"""

import json
import os
import subprocess
import sys
import tempfile

import _common
import _train_step_data
import _train_step_report as report

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_train_step_worker.py")
# label, recipe, data set (None: the recipe's synthetic default), --set overrides, fixed features
MODELS = [
    ("reed2016 attributes, fixed features", "reed2016", "gbu", [], True),
    ("zhang2017 DEM attribute MLP", "zhang2017", "gbu", ["model.semantics=['attributes']"], True),
    ("devise, fixed features", "devise", "gbu", ["labels.missing=zero"], True),
    ("wang2016 two-branch, fixed features", "wang2016", "captions", [], True),
    ("gordo2017 V+T,V, fixed features", "gordo2017", "captions", ["model.settings=['vt_v']"], True),
    ("wsabie, fixed features", "wsabie", "captions", [], True),
    ("reed2016 char-CNN-RNN + small CNN", "reed2016", None, [], False),
    ("devise + small CNN", "devise", None, [], False),
    ("karpathy2015 BRNN + small CNN regions", "karpathy2015", None, [], False),
]
QUICK = {"reed2016 attributes, fixed features", "zhang2017 DEM attribute MLP",
         "reed2016 char-CNN-RNN + small CNN"}
SWEEP = MODELS[0][0]


def run_worker(recipe, recipe_args, strategy, batch_sizes, eager, seconds, parts=False,
               op_by_op_update=False):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "worker.json")
        cmd = ([sys.executable, WORKER, "--recipe", recipe, "--strategy", strategy,
                "--batch-sizes", ",".join(map(str, batch_sizes)), "--seconds", str(seconds),
                "--out", out] + (["--eager"] if eager else []) + (["--breakdown"] if parts else [])
               + ["--"] + recipe_args)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800,
                                  env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
        except subprocess.TimeoutExpired:
            return {"error": f"worker for {recipe} ({strategy}) timed out after 1800 s"}
        if proc.returncode != 0:
            return {"error": proc.stderr.strip()[-800:]}
        with open(out) as f:
            return json.load(f)


def roofline_gflops(path):
    value, source = _common.read_roofline(path)
    if value is None:  # measure a quick one here rather than report no fraction at all
        import matmul_roofline
        value = max(matmul_roofline.rate(n, n, n, 0.3)["best_gflops"] for n in (512, 1024, 2048))
        source = f"measured inline at n=512..2048 ({source})"
    return value, source


def main(argv=None):
    args = _common.parse_args("train_step", __doc__, argv)
    began = _common.start()
    roofline, source = roofline_gflops(args.roofline)
    seconds = 1.5 if args.quick else 4.0
    chosen = [m for m in MODELS if m[0] in QUICK] if args.quick else MODELS
    models = []
    with tempfile.TemporaryDirectory() as tmp:
        data = {}
        for label, recipe, kind, sets, fixed in chosen:
            if kind and kind not in data:
                writer = {"gbu": _train_step_data.write_gbu_cub,
                          "captions": _train_step_data.write_captions}[kind]
                data[kind] = writer(os.path.join(tmp, kind))
            recipe_args = (data[kind] if kind else []) + [a for s in sets for a in ("--set", s)]
            sizes = ["recipe"] + (([256] if args.quick else [64, 256, 1024]) if label == SWEEP else [])
            default = run_worker(recipe, recipe_args, "default", sizes, True, seconds,
                                 parts=label == SWEEP)
            mirrored = (run_worker(recipe, recipe_args, "mirrored", ["recipe"], False, seconds)
                        if label == SWEEP or not args.quick else None)
            # the Trainer compiles the optimizer update with XLA on one replica: what it buys
            op_by_op = (run_worker(recipe, recipe_args, "default", ["recipe"], False, seconds,
                                   op_by_op_update=True) if fixed else None)
            models.append({"label": label, "recipe": recipe, "data": kind or "synthetic (recipe default)",
                           "overrides": sets, "fixed_feature": fixed, "default": default,
                           "mirrored": mirrored, "op_by_op_update": op_by_op,
                           "derived": report.derive(default, mirrored, roofline, op_by_op)})
            print(json.dumps({"label": label, **models[-1]["derived"]}), flush=True)
    check = next((report.reed_cross_check(m["default"]["rows"][0]) for m in models
                  if m["label"] == SWEEP and "error" not in m["derived"]), None)
    results = {"roofline_gflops": roofline, "roofline_source": source,
               "timed_seconds_per_figure": seconds, "flops_cross_check": check, "models": models}
    summary = report.summarise(models, roofline, SWEEP)
    if check:
        summary.append(_common.row("FLOPs per step: TF profiler / analytic (reed2016 attributes)",
                                   check["profiler_over_analytic"], "ratio",
                                   note=f"batch {check['batch_size']}: {check['profiler_flops']} vs "
                                   f"{check['analytic_flops']} (dense + score matmuls, fwd+bwd)"))
    _common.write_result("train_step", args, began, results, summary)
    return 1 if any("error" in m["derived"] for m in models) else 0


if __name__ == "__main__":
    sys.exit(main())
