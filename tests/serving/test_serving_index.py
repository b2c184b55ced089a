"""The local server answers `retrieve` from a gallery index saved in the version directory."""

import os
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    prediction_service_pb2_grpc,
)

from tfembed.index import gallery_index
from tfembed.index.model_files import index_dir
from tfembed.serving.server import Server
from tfembed.serving.testing import (
    MODEL,
    predict_request,
    publish,
    save_toy_model,
    strings,
)

pytest.importorskip("faiss")
TEXTS = ("red bird", "blue wings", "grey", "tail")
State = get_model_status_pb2.ModelVersionStatus.State


def toy_gallery(version_dir):
    """The toy model's own retrieve gallery: doc-i -> its `docs` variable."""
    docs = tf.saved_model.load(version_dir).docs.numpy()
    return [f"doc-{i}" for i in range(len(docs))], docs


def wait_for(predicate, seconds=20):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def served(tmp_path):
    base = str(tmp_path / MODEL)
    publish(base, 1, lambda p: save_toy_model(p))
    server = Server(base, MODEL, port=0, file_system_poll_wait_seconds=0.2).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield base, prediction_service_pb2_grpc.PredictionServiceStub(channel), \
        model_service_pb2_grpc.ModelServiceStub(channel)
    channel.close()
    server.stop(grace=1)


def retrieve(stub, version=None):
    response = stub.Predict(predict_request("retrieve", {"text": strings(*TEXTS)}, version=version))
    ids = tf.make_ndarray(response.outputs["ids"])
    return [[i.decode() for i in row] for row in ids], tf.make_ndarray(response.outputs["scores"])


def test_index_built_for_a_served_version_takes_over_retrieve(served):
    base, predict, _ = served
    version = os.path.join(base, "1")
    in_graph_ids, in_graph_scores = retrieve(predict)
    ids, docs = toy_gallery(version)
    for backend, prefix in (("faiss", "flat-"), ("hnswlib", "hnsw-")):  # build, then rebuild
        gallery_index.build([prefix + i for i in ids], docs, "dot", backend=backend,
                            params={"kind": "flat"} if backend == "faiss" else {},
                            k=3).save(index_dir(version))
        # picked up on the next poll, without reloading the SavedModel
        assert wait_for(lambda p=prefix: retrieve(predict)[0][0][0].startswith(p))
        got_ids, got_scores = retrieve(predict)
        # the toy retrieve is a top-3 dot product over `docs`: the index answers the same
        assert got_ids == [[prefix + i for i in row] for row in in_graph_ids]
        np.testing.assert_allclose(got_scores, in_graph_scores, rtol=1e-5, atol=1e-5)
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = MODEL
    defs = get_model_metadata_pb2.SignatureDefMap()
    predict.GetModelMetadata(request).metadata["signature_def"].Unpack(defs)
    assert defs.signature_def["retrieve"].outputs["ids"].name == "gallery_index/ids"
    assert [d.size for d in defs.signature_def["retrieve"].outputs["ids"].tensor_shape.dim] \
        == [-1, 3]


def test_unusable_index_keeps_the_server_answering(served):
    base, predict, models = served
    version = os.path.join(base, "1")
    before = retrieve(predict)
    wrong_dim = np.random.default_rng(0).normal(size=(10, 5)).astype("f4")  # toy model is 8-d
    gallery_index.build([f"w{i}" for i in range(10)], wrong_dim, "dot",
                        backend="brute_force").save(index_dir(version))
    time.sleep(1.0)  # several polls
    after = retrieve(predict)
    assert after[0] == before[0] and np.allclose(after[1], before[1])

    def with_bad_index(path):
        save_toy_model(path)
        gallery_index.build(["a", "b"], np.ones((2, 5)), "dot",
                            backend="brute_force").save(index_dir(path))
    publish(base, 2, with_bad_index)  # refused; version 1 keeps serving
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = MODEL

    def version_2_failed():
        rows = {s.version: s for s in models.GetModelStatus(request).model_version_status}
        return 2 in rows and rows[2].state == State.END and rows[2].status.error_code != 0
    assert wait_for(version_2_failed)
    rows = {s.version: s for s in models.GetModelStatus(request).model_version_status}
    assert "index vectors have dimension 5 but embed_text gives 8" in rows[2].status.error_message
    assert retrieve(predict)[0] == before[0]
