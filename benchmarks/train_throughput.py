"""Training throughput of the Reed 2016 recipe for every text encoder, 1 vs 2 replicas.

Each configuration runs in its own process (a strategy must be chosen before TensorFlow
initialises) on the synthetic birds; examples/second excludes the first (tracing) step.

    python benchmarks/train_throughput.py [--quick] [--out benchmarks/results/train_throughput.json]
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 encoders, 20 steps")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "train_throughput.json"))
    args = parser.parse_args()
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
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"benchmark": "train_throughput", "recipe": "reed2016", "data": "synthetic_birds",
                   "batch_size": 40, "steps": steps, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
