"""Fault injection for `tfembed serve`: broken gallery indexes, repairs in place, hostile REST
clients, undecodable images, missing base paths (issue 14, items 7-10 and 12)."""

import json
import logging
import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import (get_model_status_pb2, model_service_pb2_grpc,
                                     prediction_service_pb2_grpc)

from tfembed.index import gallery_index
from tfembed.index.model_files import index_dir
from tfembed.serving import model_manager
from tfembed.serving.server import Server
from tfembed.serving.testing import (MODEL, jpeg_bytes, predict_request, publish,
                                     save_toy_model, strings)

State = get_model_status_pb2.ModelVersionStatus.State


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def statuses(port):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        response = model_service_pb2_grpc.ModelServiceStub(ch).GetModelStatus(
            get_model_status_pb2.GetModelStatusRequest(model_spec={"name": MODEL}), timeout=5)
    return {s.version: s for s in response.model_version_status}


def served_version(port):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(ch)
        response = stub.Predict(predict_request("retrieve", {"text": strings("red bird")}),
                                timeout=10)
    return response.model_spec.version.value


@pytest.fixture(scope="module")
def good_version(tmp_path_factory):
    """A toy version with a brute-force gallery index, to copy (and damage)."""
    def write(path):
        save_toy_model(path)
        docs = np.random.default_rng(0).normal(size=(10, 8)).astype("f4")
        gallery_index.build([f"doc-{i}" for i in range(10)], docs, "dot",
                            backend="brute_force", k=3).save(index_dir(path))
    return publish(str(tmp_path_factory.mktemp("src") / MODEL), 1, write)


def _index_file(path, name):
    return os.path.join(index_dir(path), name)


def truncate_embeddings(path):
    with open(_index_file(path, gallery_index.VECTORS), "r+b") as f:
        f.truncate(os.path.getsize(f.name) // 2)


def bad_ids(path):  # not UTF-8
    with open(_index_file(path, gallery_index.IDS), "wb") as f:
        f.write(b"\xff\xfe\n" * 10)


def bad_meta(path):  # valid JSON, no backend / count / dim
    with open(_index_file(path, gallery_index.META), "w") as f:
        json.dump({"format": gallery_index.FORMAT}, f)


def truncate_variables(path):
    data = [f for f in os.listdir(os.path.join(path, "variables")) if "data" in f][0]
    with open(os.path.join(path, "variables", data), "r+b") as f:
        f.truncate(10)


def publish_copy(src, base, version, damage=None):
    tmp = os.path.join(os.path.dirname(base), f".staging-{version}")
    shutil.copytree(src, tmp)
    if damage:
        damage(tmp)
    os.makedirs(base, exist_ok=True)
    os.rename(tmp, os.path.join(base, str(version)))
    return os.path.join(base, str(version))


INDEX_DAMAGE = [truncate_embeddings, bad_ids, bad_meta]


# --- item 7: an unreadable gallery index ends its version, the others serve -------------------

@pytest.mark.parametrize("damage", INDEX_DAMAGE, ids=lambda f: f.__name__)
def test_startup_with_an_unreadable_index_serves_the_good_version(good_version, tmp_path,
                                                                  damage):
    base = str(tmp_path / MODEL)
    publish_copy(good_version, base, 1)
    publish_copy(good_version, base, 2, damage)
    with Server(base, MODEL, port=0, file_system_poll_wait_seconds=0) as srv:
        status = statuses(srv.port)
        assert served_version(srv.port) == 1
    assert status[1].state == State.AVAILABLE
    assert status[2].state == State.END
    assert status[2].status.error_code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert "gallery index" in status[2].status.error_message


@pytest.mark.parametrize("damage", INDEX_DAMAGE, ids=lambda f: f.__name__)
def test_running_server_ends_a_bad_index_version_once_and_forgets_it_when_deleted(
        good_version, tmp_path, monkeypatch, damage):
    attempts = []
    real_load = model_manager.load_version
    monkeypatch.setattr(model_manager, "load_version",
                        lambda name, version, *a: attempts.append(version)
                        or real_load(name, version, *a))
    base = str(tmp_path / MODEL)
    publish_copy(good_version, base, 1)
    with Server(base, MODEL, port=0, file_system_poll_wait_seconds=0.05) as srv:
        path = publish_copy(good_version, base, 2, damage)
        assert wait_for(lambda: 2 in statuses(srv.port)
                        and statuses(srv.port)[2].state == State.END), statuses(srv.port)
        assert "gallery index" in statuses(srv.port)[2].status.error_message
        time.sleep(0.5)  # ~10 polls: an unchanged failed version is not loaded again
        assert attempts.count(2) == 1
        assert served_version(srv.port) == 1
        shutil.rmtree(path)
        assert wait_for(lambda: 2 not in statuses(srv.port))
        assert statuses(srv.port)[1].state == State.AVAILABLE


# --- item 8: a failed version is retried once its files are repaired in place -----------------

def repair_variables(good, path):  # only the data shard: variables.index is untouched
    for name in os.listdir(os.path.join(good, "variables")):
        if "data" in name:
            shutil.copyfile(os.path.join(good, "variables", name),
                            os.path.join(path, "variables", name))


def repair_embeddings(good, path):
    shutil.copyfile(_index_file(good, gallery_index.VECTORS),
                    _index_file(path, gallery_index.VECTORS))


@pytest.mark.parametrize("damage,repair", [(truncate_variables, repair_variables),
                                           (truncate_embeddings, repair_embeddings)],
                         ids=["variables", "gallery_index"])
def test_failed_version_repaired_in_place_is_loaded(good_version, tmp_path, damage, repair):
    base = str(tmp_path / MODEL)
    publish_copy(good_version, base, 1)
    with Server(base, MODEL, port=0, file_system_poll_wait_seconds=0.05) as srv:
        path = publish_copy(good_version, base, 2, damage)
        assert wait_for(lambda: 2 in statuses(srv.port)
                        and statuses(srv.port)[2].state == State.END)
        repair(good_version, path)
        assert wait_for(lambda: statuses(srv.port)[2].state == State.AVAILABLE)
        assert served_version(srv.port) == 2


@pytest.mark.parametrize("where", ["variables", "assets", "assets.extra/gallery_index"])
def test_fingerprint_sees_any_file_rewritten_in_place(tmp_path, where):
    path = tmp_path / "1"
    (path / where).mkdir(parents=True)
    (path / "saved_model.pb").write_bytes(b"pb")
    target = path / where / "some.file"
    target.write_bytes(b"abcd")
    os.utime(target, ns=(10**18, 10**18))
    before = model_manager._fingerprint(str(path))
    target.write_bytes(b"dcba")  # same size, new contents
    os.utime(target, ns=(10**18 + 10**9, 10**18 + 10**9))
    assert model_manager._fingerprint(str(path)) != before


# --- item 12: a missing or empty base path is logged, and polled ------------------------------

def test_missing_or_empty_base_path_is_logged_and_polled(good_version, tmp_path, caplog):
    base = str(tmp_path / "not_yet" / MODEL)
    with caplog.at_level(logging.WARNING, logger="tfembed.serving"), \
            Server(base, MODEL, port=0, file_system_poll_wait_seconds=0.05) as srv:
        assert "could not find base path" in caplog.text and base in caplog.text
        os.makedirs(base)
        assert wait_for(lambda: "no versions of servable" in caplog.text)
        assert caplog.text.count("no versions of servable") == 1  # once, not every poll
        publish_copy(good_version, base, 1)
        assert wait_for(lambda: statuses(srv.port).get(1) is not None
                        and statuses(srv.port)[1].state == State.AVAILABLE)


# --- item 9: REST admission and bounded work ---------------------------------------------------

@pytest.fixture(scope="module")
def toy_server(good_version, tmp_path_factory):
    """Small REST limits so the tests stay light; batching on, as in production (item 10)."""
    base = str(tmp_path_factory.mktemp("toy") / MODEL)
    publish_copy(good_version, base, 1)
    with Server(base, MODEL, port=0, rest_api_port=0, file_system_poll_wait_seconds=0,
                max_concurrent_requests=1, rest_api_num_threads=2, rest_api_timeout_in_ms=500,
                max_request_bytes=4096, max_json_values=200, enable_batching=True) as srv:
        yield srv


def rest(server, body):
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/{MODEL}:predict"
    try:
        request = urllib.request.Request(url, data=json.dumps(body).encode())
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_rest_deeply_nested_json_is_a_400(toy_server):
    value = "x"
    for _ in range(70):
        value = [value]
    status, body = rest(toy_server, {"signature_name": "embed_text", "instances": value})
    assert status == 400 and body["error"].startswith("inputs['text']: expected rank 1")


def test_rest_body_over_the_byte_limit_is_a_413(toy_server):
    body = {"signature_name": "embed_text", "instances": ["x" * 4096]}
    status, reply = rest(toy_server, body)
    assert status == 413 and "max_request_bytes" in reply["error"]


def test_rest_body_with_too_many_values_is_a_400(toy_server):
    status, body = rest(toy_server, {"signature_name": "embed_text", "instances": ["a"] * 250})
    assert status == 400 and "max_json_values" in body["error"]
    status, body = rest(toy_server, {"signature_name": "embed_text", "instances": ["a"] * 5})
    assert status == 200 and len(body["predictions"]) == 5


def _raw_request(port, head, timeout=10.0):
    """Send `head` (no body) and return what the server answers before the deadline."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head)
        try:
            return s.recv(4096)
        except TimeoutError:
            return b""


def test_rest_slot_is_taken_before_the_body_is_read(toy_server):
    head = (f"POST /v1/models/{MODEL}:predict HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: 1000\r\n\r\n").encode()
    with toy_server.core.admission():  # the only slot is busy; the body never comes
        reply = _raw_request(toy_server.rest_port, head)
    assert reply.split(b"\r\n")[0].endswith(b"429 Too Many Requests"), reply[:200]


def test_rest_stalled_connections_are_dropped_and_threads_bounded(toy_server):
    port = toy_server.rest_port
    before = threading.active_count()
    silent = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(6)]
    partial = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
    try:
        for s in partial:  # each now holds one of the 2 worker threads, until its timeout
            s.sendall(b"POST /v1/models/toy:pre")
        time.sleep(0.2)
        assert threading.active_count() - before <= 1  # no thread per connection
        status, body = rest(toy_server, {"signature_name": "embed_text", "instances": ["ok"]})
        assert status == 200
        for s in silent + partial:  # each closed by the server after 0.5 s of silence
            assert s.recv(4096) == b""
    finally:
        for s in silent + partial:
            s.close()


# --- item 10: undecodable images are named before the batch runs; model errors keep their words

def _truncated_jpeg():
    import io

    from PIL import Image

    buf = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buf, format="JPEG")
    return buf.getvalue()[:len(buf.getvalue()) * 2 // 3]  # header intact, scan data cut


def test_truncated_jpeg_is_named_by_index_before_the_batch_runs(toy_server):
    with grpc.insecure_channel(f"127.0.0.1:{toy_server.port}") as ch:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(ch)
        images = strings(jpeg_bytes(), jpeg_bytes(), _truncated_jpeg())
        with pytest.raises(grpc.RpcError) as info:
            stub.Predict(predict_request("embed_image", {"image": images}), timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details().startswith("inputs['image'][2]: image cannot be decoded (")
    assert "JPEG" in info.value.details()


def test_model_errors_keep_the_ops_message(toy_server):
    from tfembed.serving.status import ServingError

    signature = toy_server.manager.get(MODEL).signatures["embed_image"]
    with pytest.raises(ServingError) as info:  # validation bypassed: the model itself fails
        signature.run({"image": strings(_truncated_jpeg())})
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "Graph execution error" not in info.value.message
    assert "JPEG" in info.value.message, info.value.message


def test_classify_is_never_merged_across_requests(toy_server):
    signatures = toy_server.manager.get(MODEL).signatures
    assert signatures["embed_text"].batchable
    assert not signatures["classify"].batchable  # its class_texts are per request
