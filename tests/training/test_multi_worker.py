"""MultiWorkerMirroredStrategy from TF_CONFIG: two local worker processes on 127.0.0.1 train
the Reed smoke recipe together; only the chief writes results.json."""

import json
import os
import pathlib
import socket
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_local_workers(tmp_path):
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}))
        procs.append(subprocess.Popen(
            [sys.executable, str(REPO / "recipes" / "reed2016.py"), "--smoke", "--strategy",
             "multi_worker", "--workdir", str(tmp_path / f"w{index}")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    try:
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for proc, (_, err) in zip(procs, outs):
        assert proc.returncode == 0, err[-3000:]
    results = json.loads((tmp_path / "w0" / "results.json").read_text())
    assert results["timing"]["steps"] == 6
    assert not (tmp_path / "w1" / "results.json").exists()
