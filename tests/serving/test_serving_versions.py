"""Version management: hot swap under load, failed versions, warm-up, config files."""

import os
import shutil
import threading
import time

import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import (get_model_status_pb2, model_service_pb2_grpc,
                                     prediction_log_pb2, prediction_service_pb2_grpc)

from tfembed.serving.server import Server
from tfembed.serving.testing import MODEL, WARMUP, predict_request, strings
from tfembed.serving.warmup import read_warmup_requests, warmup_path, write_warmup_requests

State = get_model_status_pb2.ModelVersionStatus


def publish_copy(src, base, version, damage=None):
    """Copy a good version elsewhere, optionally damage it, then rename into place."""
    tmp = os.path.join(os.path.dirname(base), f".staging-{version}")
    shutil.copytree(src, tmp)
    if damage:
        damage(tmp)
    os.rename(tmp, os.path.join(base, str(version)))


def garbage_pb(path):
    with open(os.path.join(path, "saved_model.pb"), "wb") as f:
        f.write(b"this is not a protobuf \xff\xff\xff")


def truncate_variables(path):
    data = [f for f in os.listdir(os.path.join(path, "variables")) if "data" in f][0]
    with open(os.path.join(path, "variables", data), "r+b") as f:
        f.truncate(10)


def bad_warmup(path):
    write_warmup_requests(path, MODEL, [("no_such_signature", {"text": np.array(["x"])})])


def statuses(port):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        response = model_service_pb2_grpc.ModelServiceStub(ch).GetModelStatus(
            get_model_status_pb2.GetModelStatusRequest(model_spec={"name": MODEL}), timeout=5)
    return {s.version: s for s in response.model_version_status}


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_warmup_file_roundtrip_and_replay(model_base, server):
    logs = read_warmup_requests(os.path.join(model_base, "1"))
    assert len(logs) == len(WARMUP)
    assert isinstance(logs[0], prediction_log_pb2.PredictionLog)
    assert logs[1].predict_log.request.model_spec.signature_name == "retrieve"
    assert list(logs[1].predict_log.request.inputs["text"].string_val) == [b"warm", b"up"]
    assert warmup_path(model_base + "/1").endswith("assets.extra/tf_serving_warmup_requests")
    assert server.manager.get(MODEL).warmup_count == len(WARMUP)  # replayed at load


def test_hot_swap_under_load(model_base, tmp_path):
    base = str(tmp_path / MODEL)
    os.makedirs(base)
    good = os.path.join(model_base, "1")
    publish_copy(good, base, 1)
    results, stop = [], threading.Event()
    with Server(base, MODEL, port=0, file_system_poll_wait_seconds=0.1) as srv, \
            grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

        def load_loop(rate=20.0, max_requests=300, max_seconds=20.0):
            start = time.monotonic()
            for i in range(max_requests):  # bounded in count and in time
                if stop.is_set() or time.monotonic() - start > max_seconds:
                    break
                try:
                    r = stub.Predict(predict_request("embed_text", {"text": strings(f"q{i}")}),
                                     timeout=5)
                    results.append(r.model_spec.version.value)
                except grpc.RpcError as err:
                    results.append(err)
                time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))

        thread = threading.Thread(target=load_loop)
        began = time.monotonic()
        thread.start()
        try:
            time.sleep(0.5)
            publish_copy(good, base, 2)
            assert wait_for(lambda: 2 in results), "v2 was never served"
            publish_copy(good, base, 3, damage=garbage_pb)
            os.makedirs(os.path.join(base, "4", "variables"))  # incomplete, non-atomic
            assert wait_for(lambda: {3, 4} <= {v for v, s in statuses(srv.port).items()
                                               if s.state == State.END and s.status.error_code})
            time.sleep(max(0.5, 3.0 - (time.monotonic() - began)))  # a few seconds of load
            assert srv.manager.get(MODEL).warmup_count == len(WARMUP)  # v2 warmed up first
        finally:
            stop.set()
            thread.join(timeout=30)
        status = statuses(srv.port)
    errors = [r for r in results if not isinstance(r, int)]
    assert not errors, errors[:3]
    assert len(results) >= 50
    assert results == sorted(results), "served version went backwards"
    assert results[0] == 1 and results[-1] == 2
    assert status[2].state == State.AVAILABLE
    assert status[1].state == State.END and status[1].status.error_code == 0
    assert status[3].state == State.END and "saved_model.pb" in status[3].status.error_message
    assert status[4].status.error_code == grpc.StatusCode.NOT_FOUND.value[0]


def test_startup_skips_broken_latest_versions(model_base, tmp_path):
    base = str(tmp_path / MODEL)
    os.makedirs(base)
    good = os.path.join(model_base, "1")
    publish_copy(good, base, 1)
    publish_copy(good, base, 2, damage=bad_warmup)
    publish_copy(good, base, 3, damage=truncate_variables)
    with Server(base, MODEL, port=0, file_system_poll_wait_seconds=0) as srv:
        status = statuses(srv.port)
        assert srv.manager.get(MODEL).version == 1
    assert status[1].state == State.AVAILABLE
    assert status[2].state == State.END and "warm-up" in status[2].status.error_message
    assert status[3].state == State.END and status[3].status.error_code != 0


def test_model_config_file_specific_versions_and_labels(model_base, tmp_path):
    base = str(tmp_path / MODEL)
    os.makedirs(base)
    for v in (1, 2, 3):
        publish_copy(os.path.join(model_base, "1"), base, v)
    config = tmp_path / "models.config"
    config.write_text(f'''model_config_list {{
      config {{ name: "{MODEL}" base_path: "{base}" model_platform: "tensorflow"
        model_version_policy {{ specific {{ versions: 1 versions: 2 }} }}
        version_labels {{ key: "stable" value: 1 }} }}
    }}''')
    with Server(model_config_file=str(config), port=0, file_system_poll_wait_seconds=0) as srv, \
            grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_request("embed_text", {"text": strings("x")})
        assert stub.Predict(request, timeout=5).model_spec.version.value == 2
        request.model_spec.version_label = "stable"
        assert stub.Predict(request, timeout=5).model_spec.version.value == 1
        with pytest.raises(grpc.RpcError) as info:
            stub.Predict(predict_request("embed_text", {"text": strings("x")}, version=3),
                         timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        assert sorted(statuses(srv.port)) == [1, 2]
