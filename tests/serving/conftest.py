"""Fixtures for the serving tests: one tiny SavedModel and one in-process server.

The model is built once per session (saving costs ~1 s); servers bind
127.0.0.1 on free ports.
"""

import os

import grpc
import pytest
from tfembed.serving.testing import MODEL, WARMUP


@pytest.fixture(scope="session")
def model_base(tmp_path_factory):
    """<base>/1: a ToyModel with a warm-up file, published by rename."""
    from tfembed.serving.testing import publish, save_toy_model

    base = tmp_path_factory.mktemp("models") / MODEL
    publish(str(base), 1, lambda p: save_toy_model(p, warmup=WARMUP, model_name=MODEL))
    return str(base)


@pytest.fixture(scope="session")
def loaded_model(model_base):
    """The same SavedModel loaded in-process: the reference outputs."""
    import tensorflow as tf

    return tf.saved_model.load(os.path.join(model_base, "1"))


@pytest.fixture(scope="session")
def server(model_base):
    from tfembed.serving.server import Server

    srv = Server(model_base, MODEL, port=0, rest_api_port=0, file_system_poll_wait_seconds=0,
                 max_concurrent_requests=4, max_batch_size=8, max_string_bytes=1024,
                 max_image_pixels=1_000_000, max_elements=100_000,
                 max_request_bytes=2 << 20)
    srv.start()
    yield srv
    srv.stop(grace=1)


@pytest.fixture(scope="session")
def channel(server):
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as ch:
        yield ch


@pytest.fixture(scope="session")
def predict_stub(channel):
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture(scope="session")
def model_stub(channel):
    from tensorflow_serving.apis import model_service_pb2_grpc

    return model_service_pb2_grpc.ModelServiceStub(channel)


@pytest.fixture(scope="session")
def slow_base(tmp_path_factory):
    """A ToyModel whose embed_text sleeps SLOW_MS per call (overload, shutdown tests)."""
    from tfembed.serving.testing import SLOW_MS, publish, save_toy_model

    base = str(tmp_path_factory.mktemp("slow") / MODEL)
    publish(base, 1, lambda p: save_toy_model(p, delay_ms=SLOW_MS))
    return base
