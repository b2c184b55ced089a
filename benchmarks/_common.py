"""What every benchmark script shares: the command line, machine facts, timing, the roofline,
and the JSON result file with its summary rows (collected by benchmarks/run_all.py).

A script does:

    args = parse_args("my_bench", __doc__)          # --quick, --out, --roofline
    began = start()                                 # wall clock + start time
    ... measure ...
    write_result("my_bench", args, began, results, [row("figure", 1.5, "ms", ...)])
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import pathlib
import platform
import statistics
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "benchmarks" / "results"
ROOFLINE_JSON = RESULTS_DIR / "matmul_roofline.json"


def parse_args(name, doc, argv=None, extra=None):
    """The shared flags; `extra(parser)` may add a script's own."""
    parser = argparse.ArgumentParser(prog=f"benchmarks/{name}.py", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: seconds to minutes")
    parser.add_argument("--out", default=str(RESULTS_DIR / f"{name}.json"), help="JSON result")
    parser.add_argument("--roofline", default=str(ROOFLINE_JSON),
                        help="matmul_roofline.json to read the machine's GFLOP/s from")
    if extra:
        extra(parser)
    return parser.parse_args(argv)


def start():
    return {"wall": time.perf_counter(), "iso": datetime.datetime.now().astimezone().isoformat(
        timespec="seconds"), "load": _load()}


def _load():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.startswith("model name")), platform.machine())
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines()
                  if line.startswith("flags")), [])
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return f"{model} ({', '.join(simd)})" if simd else model


def machine_info(began=None):
    """CPU, cores, TensorFlow version and threads, and the load average (the machine may be
    shared: readers judge the numbers by it)."""
    info = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()}
    if hasattr(os, "sched_getaffinity"):
        info["cores_usable"] = len(os.sched_getaffinity(0))
    if "tensorflow" in sys.modules:  # never import TF just to describe the machine
        tf = sys.modules["tensorflow"]
        info["tensorflow"] = tf.__version__
        info["intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads() or "auto"
        info["inter_op_threads"] = tf.config.threading.get_inter_op_parallelism_threads() or "auto"
    else:  # the script ran TF only in subprocesses: their threads are TF's defaults
        try:
            info["tensorflow"] = importlib.metadata.version("tensorflow")
        except importlib.metadata.PackageNotFoundError:
            info["tensorflow"] = None
        info["intra_op_threads"] = info["inter_op_threads"] = "auto"
    if began:
        info["load_avg_start"] = began["load"]
    info["load_avg_end"] = _load()
    return info


def row(figure, value, unit, target=None, met=None, note=""):
    """One summary row; `met` is True/False when there is a target, else None."""
    return {"figure": figure, "value": value, "unit": unit, "target": target, "met": met,
            "note": note}


def write_result(name, args, began, results, summary):
    """Write the contract JSON to args.out and print the summary rows."""
    out = {"benchmark": name, "quick": bool(args.quick), "machine": machine_info(began),
           "started": began["iso"], "seconds": round(time.perf_counter() - began["wall"], 1),
           "results": results, "summary": summary}
    path = pathlib.Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    for r in summary:
        print(f"{name}: {r['figure']} = {r['value']} {r['unit']}"
              + (f" (target {r['target']}: {'met' if r['met'] else 'not met'})" if r["target"] else ""))
    print(f"wrote {path}")
    return out


def time_calls(fn, repeats, warmup=2):
    """Seconds of each of `repeats` calls of fn() after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def best_and_median(times):
    return min(times), statistics.median(times)


def read_roofline(path):
    """(GFLOP/s, source) from a matmul_roofline.json, or (None, reason)."""
    try:
        data = json.loads(pathlib.Path(path).read_text())
        return float(data["results"]["roofline_gflops"]), str(path)
    except FileNotFoundError:
        return None, f"{path} missing: run benchmarks/matmul_roofline.py first"
    except (ValueError, KeyError, TypeError) as err:
        return None, f"{path} unreadable ({err.__class__.__name__}: {err})"
