"""`tfembed serve` as a real process: flags, REST, graceful SIGTERM drain."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import grpc
import pytest
from tensorflow_serving.apis import prediction_service_pb2_grpc

from tfembed.serving.testing import MODEL, predict_request, strings

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_line(stream, timeout):
    """Read one stdout line with a deadline (the child may hang or die)."""
    box = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0] if box else ""


def test_serve_process_drains_on_sigterm(slow_base):
    rest_port = _free_port()
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfembed.cli", "serve", f"--model_base_path={slow_base}",
         "--model_name", MODEL, "--port=0", "--rest_api_port", str(rest_port),
         "--tensorflow_intra_op_parallelism=1", "--tensorflow_inter_op_parallelism", "1",
         "--enable_batching=false", "--max_concurrent_requests", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        line = _read_line(proc.stdout, timeout=60)
        assert "gRPC on 127.0.0.1:" in line, (line, proc.poll())
        port = int(line.split("gRPC on 127.0.0.1:")[1].split(",")[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{rest_port}/v1/models/{MODEL}",
                                    timeout=10) as r:
            assert json.loads(r.read())["model_version_status"][0]["state"] == "AVAILABLE"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            request = predict_request("embed_text", {"text": strings("in flight")})
            stub.Predict(request, timeout=10)
            in_flight = stub.Predict.future(request, timeout=10)
            time.sleep(0.15)  # the request is now inside the slow model
            proc.send_signal(signal.SIGTERM)
            # Graceful: the in-flight request still completes.
            assert in_flight.result().model_spec.version.value == 1
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    assert "intra_op=1 inter_op=1" in err
    assert "shutting down" in err


def test_serve_bad_flags_exit_cleanly(tmp_path):
    from tfembed.serving.server import main

    assert main(["--model_config_file", str(tmp_path / "missing.config"), "--port=0"]) == 2
    with pytest.raises(SystemExit):
        main(["--no_such_flag=1"])
