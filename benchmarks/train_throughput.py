"""Training throughput of the Reed 2016 recipe for every text encoder, 1 vs 2 replicas.

Each configuration runs in its own process (a strategy must be chosen before TensorFlow
initialises) on the synthetic birds; examples/second excludes the first (tracing) step.

    python benchmarks/train_throughput.py [--quick] [--out benchmarks/results/train_throughput.json]
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import _common

REPO = pathlib.Path(__file__).resolve().parents[1]
ENCODERS = ["char_cnn_rnn", "word_cnn_rnn", "char_lstm", "word_lstm", "char_cnn", "word_cnn",
            "bow", "word2vec", "attributes"]


def measure(encoder, strategy, steps):
    with tempfile.TemporaryDirectory() as workdir:
        cmd = [sys.executable, str(REPO / "recipes" / "reed2016.py"), "--workdir", workdir,
               "--strategy", strategy, "--set", f"text.encoder={encoder}",
               "--set", f"train.steps={steps}", "--set", "train.checkpoint_every=100000",
               "--set", "plot=false"]
        began = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
        if proc.returncode != 0:
            return {"error": proc.stderr[-500:]}
        timing = json.load(open(os.path.join(workdir, "results.json")))["timing"]
        return {"examples_per_second": timing["examples_per_second"],
                "first_step_seconds": timing["first_step_seconds"],
                "wall_seconds": round(time.perf_counter() - began, 1)}


def summary_rows(rows, steps):
    out = []
    for r in rows:
        eps = r["default"].get("examples_per_second")
        note = (f"whole-recipe run, {steps} steps of 40; 2 replicas "
                f"{r['mirrored'].get('examples_per_second', 'failed')} examples/s "
                f"({r['mirrored_over_default']}x)")
        if eps is None:
            note = f"failed: {r['default']['error'][-200:]}"
        out.append(_common.row(f"reed2016 {r['encoder']} + small CNN, synthetic birds, 1 replica",
                               eps or "failed", "examples/s", note=note))
    return out


def main(argv=None):
    args = _common.parse_args("train_throughput", __doc__, argv)
    began = _common.start()
    encoders = ["char_cnn_rnn", "bow", "attributes"] if args.quick else ENCODERS
    steps = 20 if args.quick else 60
    rows = []
    for encoder in encoders:
        row = {"encoder": encoder}
        for strategy in ("default", "mirrored"):
            row[strategy] = measure(encoder, strategy, steps)
        eps = [row[s].get("examples_per_second") for s in ("default", "mirrored")]
        row["mirrored_over_default"] = round(eps[1] / eps[0], 3) if all(eps) else None
        rows.append(row)
        print(json.dumps(row))
    _common.write_result("train_throughput", args, began,
                         {"recipe": "reed2016", "data": "synthetic_birds", "batch_size": 40,
                          "steps": steps, "rows": rows}, summary_rows(rows, steps))
    return 1 if any("error" in r[s] for r in rows for s in ("default", "mirrored")) else 0


if __name__ == "__main__":
    sys.exit(main())
