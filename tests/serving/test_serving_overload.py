"""Admission control, deadlines and server-side batching."""

import time

import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import prediction_service_pb2_grpc

from tfembed.serving.server import Server
from tfembed.serving.status import ServingError
from tfembed.serving.testing import MODEL, SLOW_MS, predict_request, run_inprocess, strings


def test_overload_rejects_fast_instead_of_timing_out(slow_base):
    with Server(slow_base, MODEL, port=0, max_concurrent_requests=1,
                file_system_poll_wait_seconds=0) as srv, \
            grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_request("embed_text", {"text": strings("slow")})
        stub.Predict(request, timeout=5)  # connected and warm
        first = stub.Predict.future(request, timeout=5)
        time.sleep(0.1)  # the first call now holds the only slot
        started = time.monotonic()
        others = [stub.Predict.future(request, timeout=5) for _ in range(5)]
        codes = []
        for future in others:
            try:
                future.result()
                codes.append(grpc.StatusCode.OK)
            except grpc.RpcError as err:
                codes.append(err.code())
                assert "max_concurrent_requests" in err.details()
        rejected_after = time.monotonic() - started
        assert first.result().model_spec.version.value == 1
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 5, codes
    assert rejected_after < SLOW_MS / 1000 * 0.75, "rejections waited for the slow call"


def test_deadline_passed_skips_model(server):
    request = predict_request("embed_text", {"text": strings("late")})
    with pytest.raises(ServingError) as info:
        server.core.predict(request, time_remaining=lambda: -0.01)
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_client_deadline_is_honoured(slow_base):
    with Server(slow_base, MODEL, port=0, file_system_poll_wait_seconds=0) as srv, \
            grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as info:
            stub.Predict(predict_request("embed_text", {"text": strings("x")}), timeout=0.1)
        assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - started < 0.3


def test_server_side_batching_merges_and_splits_correctly(model_base, loaded_model):
    with Server(model_base, MODEL, port=0, enable_batching=True, batch_timeout_micros=100_000,
                max_batch_size=8, file_system_poll_wait_seconds=0) as srv, \
            grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        signature = srv.manager.get(MODEL).signatures["embed_text"]
        calls, run = [], signature.run
        signature.run = lambda arrays: calls.append(len(arrays["text"])) or run(arrays)
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        texts = [[f"text {i}-{j}" for j in range(i % 3 + 1)] for i in range(6)]
        futures = [stub.Predict.future(predict_request("embed_text", {"text": strings(*t)}),
                                       timeout=10) for t in texts]
        for t, future in zip(texts, futures):
            got = np.frombuffer(future.result().outputs["embedding"].tensor_content, np.float32)
            expected = run_inprocess(loaded_model, "embed_text", {"text": strings(*t)})
            np.testing.assert_allclose(got.reshape(len(t), -1), expected["embedding"], atol=1e-6)
    assert sum(calls) == sum(len(t) for t in texts)
    assert len(calls) < len(texts), f"no requests were merged: {calls}"
    assert max(calls) <= 8
