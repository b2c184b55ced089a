"""Client (batching, retries) and the `tfembed query` CLI against the test server."""

import concurrent.futures
import json

import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tfembed.cli import main as tfembed_main
from tfembed.serving.client import Client, ServingClientError
from tfembed.serving.client import main as query_main
from tfembed.serving.tensors import to_proto
from tfembed.serving.testing import MODEL, png_bytes, run_inprocess, strings


@pytest.fixture
def client(server):
    with Client(f"127.0.0.1:{server.port}", MODEL, timeout=10, batch_size=8) as c:
        yield c


def test_client_matches_inprocess_and_splits_batches(client, loaded_model, tmp_path, monkeypatch):
    texts = [f"text number {i}" for i in range(20)]  # > the server's max_batch_size of 8
    calls = []
    predict = client.predict
    monkeypatch.setattr(client, "predict", lambda s, i: calls.append(s) or predict(s, i))
    got = client.embed_text(texts)
    assert len(calls) == 3
    expected = run_inprocess(loaded_model, "embed_text", {"text": strings(*texts)})["embedding"]
    np.testing.assert_allclose(got, expected, atol=1e-6)

    image_file = tmp_path / "red.png"
    image_file.write_bytes(png_bytes())
    images = [str(image_file), png_bytes(30, 30, (0, 0, 255))]
    expected = run_inprocess(loaded_model, "embed_image", {"image": strings(*[
        image_file.read_bytes(), images[1]])})["embedding"]
    np.testing.assert_allclose(client.embed_image(images), expected, atol=1e-6)

    scores = client.classify(images, ["a red square", "a blue square"])
    assert scores.shape == (2, 2)
    ids, scores = client.retrieve(["query one", "query two"])
    assert all(isinstance(i, str) for i in ids[0]) and scores.shape == (2, 3)


def test_client_metadata_and_status(client):
    meta = client.metadata()
    assert meta["model"] == MODEL and meta["version"] == 1
    assert meta["signatures"]["classify"]["inputs"]["class_texts"] == {"dtype": "string",
                                                                        "shape": [-1]}
    assert client.status() == [{"version": 1, "state": "AVAILABLE", "error_code": "OK",
                                "error_message": ""}]


class _Flaky(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Fails the first `failures` calls with `code`, then answers."""

    def __init__(self, failures, code):
        self.failures, self.code, self.calls = failures, code, 0

    def Predict(self, request, context):
        self.calls += 1
        if self.calls <= self.failures:
            context.abort(self.code, "try again")
        response = predict_pb2.PredictResponse()
        response.outputs["embedding"].CopyFrom(to_proto(np.ones((1, 4), np.float32)))
        return response


@pytest.mark.parametrize("failures,code,retries,ok,calls", [
    (2, grpc.StatusCode.UNAVAILABLE, 3, True, 3),
    (5, grpc.StatusCode.UNAVAILABLE, 1, False, 2),
    (1, grpc.StatusCode.INVALID_ARGUMENT, 3, False, 1),  # never retried
    (1, grpc.StatusCode.RESOURCE_EXHAUSTED, 3, False, 1),
])
def test_client_retries_only_unavailable(failures, code, retries, ok, calls):
    servicer = _Flaky(failures, code)
    fake = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(servicer, fake)
    port = fake.add_insecure_port("127.0.0.1:0")
    fake.start()
    try:
        with Client(f"127.0.0.1:{port}", MODEL, timeout=5, retries=retries) as c:
            if ok:
                assert c.embed_text(["x"]).shape == (1, 4)
            else:
                with pytest.raises(ServingClientError) as info:
                    c.embed_text(["x"])
                assert info.value.code == code
    finally:
        fake.stop(0)
    assert servicer.calls == calls


def _query(capsys, server, *args, via_cli=False):
    argv = ["--server", f"127.0.0.1:{server.port}", "--model", MODEL, "--retries", "0", *args]
    code = tfembed_main(["query", *argv]) if via_cli else query_main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_json(server, capsys, tmp_path):
    code, out, _ = _query(capsys, server, "text", "a small bird with a red crown", via_cli=True)
    assert code == 0 and len(json.loads(out)["embeddings"]) == 1
    image = tmp_path / "img.png"
    image.write_bytes(png_bytes())
    code, out, _ = _query(capsys, server, "classify", str(image), "--classes", "red", "blue")
    body = json.loads(out)
    assert code == 0 and body["predictions"][0] in ("red", "blue")
    code, out, _ = _query(capsys, server, "retrieve", "query text")
    assert code == 0 and len(json.loads(out)["results"][0]["ids"]) == 3
    code, out, _ = _query(capsys, server, "image", str(image))
    assert code == 0 and len(json.loads(out)["embeddings"]) == 1
    for what in ("metadata", "status"):
        code, out, _ = _query(capsys, server, what)
        assert code == 0 and json.loads(out)


def test_cli_errors_are_clean(server, capsys, tmp_path):
    code, out, err = _query(capsys, server, "--model", "nope", "text", "x")
    assert code == 1 and "NOT_FOUND" in err and "Traceback" not in err and not out
    code, out, err = _query(capsys, server, "image", str(tmp_path / "missing.png"))
    assert code == 1 and "missing.png" in err and "Traceback" not in err
    argv = ["--server", "127.0.0.1:1", "--timeout", "1", "--retries", "0", "status"]
    assert query_main(argv) == 1
    assert "UNAVAILABLE" in capsys.readouterr().err
