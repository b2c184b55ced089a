"""Latency/QPS of `tfembed serve` vs calling the SavedModel in-process, and overload.

    python benchmarks/serving_latency.py [--quick] [--out benchmarks/results/serving_latency.json]

1. embed_text at batch 1 and 32, sequential calls: p50/p99/QPS over gRPC (server in
   a subprocess, as deployed) and in-process on the same SavedModel; the ratio is the
   serving overhead (proto conversion, gRPC, validation).
2. Overload: a model whose embed_text sleeps 20 ms in-graph (a tf.data sleep; TF runs
   these one at a time, so the measured service time is reported), --max_concurrent_requests 4;
   closed-loop capacity is measured, then an open-loop client sends at 2x capacity
   with a 250 ms deadline and counts ok / rejected (RESOURCE_EXHAUSTED) / timed out.
Uses a toy model (tfembed.serving.testing), so the numbers show the serving layer,
not a real tower.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import grpc  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import prediction_service_pb2_grpc  # noqa: E402

from tfembed.export import signatures as sig  # noqa: E402
from tfembed.serving.testing import predict_request, publish, save_toy_model, strings  # noqa: E402
from _common import parse_args, row, start, write_result  # noqa: E402  (benchmarks/)


def stats(latencies, elapsed):
    ms = np.asarray(latencies) * 1000
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "qps": round(len(ms) / elapsed, 1)}


def timed(fn, n, warmup=10):
    for _ in range(warmup):
        fn()
    latencies, start = [], time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        fn()
        latencies.append(time.perf_counter() - t)
    return stats(latencies, time.perf_counter() - start)


def start_server(base, *flags):
    """`python -m tfembed.serving.server` in a subprocess; returns (proc, port)."""
    proc = subprocess.Popen([sys.executable, "-m", "tfembed.serving.server",
                             f"--model_base_path={base}", "--model_name=bench", "--port=0",
                             "--file_system_poll_wait_seconds=0", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO))
    line = proc.stdout.readline()
    if "gRPC on" not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return proc, int(line.split("gRPC on 127.0.0.1:")[1].split(",")[0])


def latency_phase(base, n):
    texts = {b: strings(*[f"a small bird with a red crown {i}" for i in range(b)]) for b in (1, 32)}
    fn = tf.saved_model.load(os.path.join(base, "1")).signatures[sig.EMBED_TEXT]
    proc, port = start_server(base, "--max_concurrent_requests=4")
    out = {}
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            for batch, values in texts.items():
                inproc = timed(
                    lambda: fn(**{sig.TEXT: tf.constant(values)})[sig.EMBEDDING].numpy(), n)
                served = timed(lambda: stub.Predict(
                    predict_request(sig.EMBED_TEXT, {sig.TEXT: values}, model="bench"),
                    timeout=10), n)
                out[f"batch_{batch}"] = {
                    "grpc": served, "in_process": inproc,
                    "p50_ratio_grpc_vs_in_process": round(served["p50_ms"] / inproc["p50_ms"], 2)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


def overload_phase(base, seconds, concurrency=4, deadline=0.25):
    proc, port = start_server(base, f"--max_concurrent_requests={concurrency}")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            request = predict_request(sig.EMBED_TEXT, {sig.TEXT: strings("x")}, model="bench")
            service = timed(lambda: stub.Predict(request, timeout=10), 10, warmup=2)
            done, stop = [0], time.monotonic() + seconds

            def worker():  # closed loop: one request at a time per slot
                while time.monotonic() < stop:
                    stub.Predict(request, timeout=10)
                    done[0] += 1

            threads = [threading.Thread(target=worker) for _ in range(concurrency)]
            start = time.monotonic()
            [t.start() for t in threads]
            [t.join() for t in threads]
            capacity = done[0] / (time.monotonic() - start)

            rate = 2 * capacity  # open loop at twice capacity, bounded in count
            total = int(min(rate * seconds, 5000))
            futures, start = [], time.monotonic()
            for i in range(total):
                time.sleep(max(0.0, start + i / rate - time.monotonic()))
                futures.append((time.monotonic(), stub.Predict.future(request, timeout=deadline)))
            counts, reject_ms = {}, []
            for issued, future in futures:
                try:
                    future.result()
                    code = "ok"
                except grpc.RpcError as err:
                    code = {grpc.StatusCode.RESOURCE_EXHAUSTED: "rejected",
                            grpc.StatusCode.DEADLINE_EXCEEDED: "timed_out"}.get(err.code(),
                                                                              err.code().name)
                counts[code] = counts.get(code, 0) + 1
            sent_rate = total / (time.monotonic() - start)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"max_concurrent_requests": concurrency, "service_time_p50_ms": service["p50_ms"],
            "capacity_qps": round(capacity, 1), "offered_qps": round(rate, 1),
            "achieved_send_qps": round(sent_rate, 1), "deadline_ms": deadline * 1000,
            "requests": total, "counts": counts}


def summary_rows(result):
    rows = []
    for name, b in result["latency"].items():
        g, p = b["grpc"], b["in_process"]
        rows.append(row(f"embed_text p50 over gRPC, {name.replace('_', ' ')}", g["p50_ms"], "ms",
                        note=f"in-process {p['p50_ms']} ms ({b['p50_ratio_grpc_vs_in_process']}x); "
                        f"p99 {g['p99_ms']} ms; {g['qps']} QPS sequential; toy model"))
    o = result["overload_2x"]
    counts = ", ".join(f"{k} {v}" for k, v in sorted(o["counts"].items()))
    rows.append(row(f"overload at 2x capacity, max_concurrent_requests {o['max_concurrent_requests']}",
                    round(o["counts"].get("ok", 0) / max(o["requests"], 1), 3), "fraction ok",
                    note=f"{counts} of {o['requests']}; capacity {o['capacity_qps']} QPS, offered "
                    f"{o['offered_qps']}; deadline {o['deadline_ms']} ms"))
    return rows


def main(argv=None):
    args = parse_args("serving_latency", __doc__.split("\n")[0], argv)
    began = start()
    n, seconds = (200, 2.0) if args.quick else (2000, 10.0)
    with tempfile.TemporaryDirectory() as tmp:
        fast, slow = os.path.join(tmp, "fast"), os.path.join(tmp, "slow")
        publish(fast, 1, lambda p: save_toy_model(p, dim=64, buckets=4096))
        publish(slow, 1, lambda p: save_toy_model(p, dim=64, buckets=4096, delay_ms=20))
        result = {"latency": latency_phase(fast, n), "overload_2x": overload_phase(slow, seconds)}
    print(json.dumps(result, indent=2))
    write_result("serving_latency", args, began, result, summary_rows(result))


if __name__ == "__main__":
    main()
