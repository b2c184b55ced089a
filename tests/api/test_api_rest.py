"""What only the REST back end does: choosing the protocol from the address, TF Serving's JSON
(b64 for image bytes, a single output without its name, metadata's proto JSON), and HTTP
failures reported like the gRPC back end's (the shared assertions are in test_api.py)."""


import numpy as np
import pytest

import tfembed
from tests.api.exports import TEXTS, free_port
from tfembed.api import rest_tensors
from tfembed.errors import DataError, TfembedError
from tfembed.serving.client import ServingClientError


@pytest.fixture(scope="module")
def features_export(tmp_path_factory):
    from tests.api.exports import Exported

    return Exported(tmp_path_factory.mktemp("rest") / "export", "features")


def test_the_address_or_protocol_picks_the_back_end(features_export, servers):
    srv = servers(features_export.base)
    with tfembed.connect(f"127.0.0.1:{srv.rest_port}", "tiny", protocol="rest") as model:
        assert model.info["backend"] == "rest" and model.info["version"] == 1
        np.testing.assert_allclose(model.embed_text(TEXTS), features_export.text(TEXTS),
                                   rtol=1e-5, atol=1e-6)
    with tfembed.connect(f"127.0.0.1:{srv.port}", "tiny", protocol="grpc") as model:
        assert model.info["backend"] == "grpc"
    with pytest.raises(DataError, match="protocol='grpc' takes HOST:PORT"):
        tfembed.connect(f"http://127.0.0.1:{srv.rest_port}", "tiny", protocol="grpc")
    with pytest.raises(DataError, match="protocol must be 'grpc' or 'rest', got 'soap'"):
        tfembed.connect(f"127.0.0.1:{srv.port}", "tiny", protocol="soap")


def test_rest_answers_equal_grpc_answers_exactly(features_export, servers):
    """JSON numbers read back to the same float32s the gRPC tensors carry."""
    srv = servers(features_export.base)
    rows = np.random.default_rng(9).normal(size=(70, 5)).astype("float32")  # > one batch
    with tfembed.connect(f"http://127.0.0.1:{srv.rest_port}/", "tiny") as rest, \
            tfembed.connect(f"127.0.0.1:{srv.port}", "tiny") as grpc_model:
        np.testing.assert_array_equal(rest.embed_image(rows), grpc_model.embed_image(rows))
        np.testing.assert_array_equal(rest.classify(rows).scores, grpc_model.classify(rows).scores)
        assert rest.classify(rows).predicted == grpc_model.classify(rows).predicted
        assert rest.embed_image(rows[:0]).shape == (0, 8)


def test_an_unknown_model_or_version_is_not_found_naming_it(features_export, servers):
    srv = servers(features_export.base)
    with pytest.raises(ServingClientError, match="NOT_FOUND.*'nosuch' at http") as err:
        tfembed.connect(f"http://127.0.0.1:{srv.rest_port}", "nosuch", retries=0)
    assert err.value.code.name == "NOT_FOUND"
    with pytest.raises(ServingClientError, match="NOT_FOUND.*versions/7"):
        tfembed.connect(f"http://127.0.0.1:{srv.rest_port}", "tiny", version=7, retries=0)
    with tfembed.connect(f"http://127.0.0.1:{srv.rest_port}", "tiny", version=1) as pinned:
        assert pinned.info["version"] == 1


def test_connect_to_no_rest_server_fails_at_connect():
    port = free_port()
    with pytest.raises(TfembedError, match=f"UNAVAILABLE.*'tiny' at http://127.0.0.1:{port}.*"
                                           f"cannot reach"):
        tfembed.connect(f"http://127.0.0.1:{port}", "tiny", retries=0, timeout=5)


def test_a_server_that_is_not_tf_serving_is_named(tmp_path):
    """E.g. --server pointing at some other web page: a clear error, not a KeyError."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"hello": "world"}' if "metadata" in self.path else b"<html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ServingClientError, match="did not answer like TF Serving"):
            tfembed.connect(f"http://127.0.0.1:{server.server_address[1]}", "tiny")
    finally:
        server.shutdown()
        server.server_close()


def test_strings_follow_tf_servings_json_rules():
    texts = np.array([b"a red bird", "caf\u00e9".encode(), b"\xff\xfe"], dtype=object)
    assert rest_tensors.to_json("text", texts) == ["a red bird", "caf\u00e9", {"b64": "//4="}]
    image = np.array([b"\x89PNG"], dtype=object)
    assert rest_tensors.to_json("image", image) == [{"b64": "iVBORw=="}]
    assert rest_tensors.to_json("features", np.float32([[0.1, 2]])) == [
        [float(np.float32(0.1)), 2.0]]
    # Outputs: raw strings (TF Serving) or b64 objects (*_bytes, or tfembed serve's fallback).
    got = rest_tensors.from_json("ids", [["g0", {"b64": "//4="}]], "DT_STRING")
    assert got.shape == (1, 2) and list(got[0]) == [b"g0", b"\xff\xfe"]
    with pytest.raises(ValueError, match="ids: ragged"):
        rest_tensors.from_json("ids", [["g0"], ["g1", "g2"]], "DT_STRING")


def test_metadata_shapes_as_tf_serving_prints_them():
    """TF Serving prints every field ("unknown_rank": false, "name"); proto JSON of our server
    leaves defaults out. Both give the same shapes."""
    full = {"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1", "name": ""},
                                                          {"size": "8", "name": ""}],
                                                  "unknown_rank": False}, "name": "x:0"}
    assert rest_tensors.shape_of(full) == [None, 8]
    assert rest_tensors.shape_of({"tensor_shape": {"dim": [{}]}}) == [0]
    assert rest_tensors.shape_of({"tensor_shape": {}}) == []
    assert rest_tensors.shape_of({"tensor_shape": {"unknown_rank": True}}) is None


def test_a_batch_over_the_body_limit_goes_in_halves(tmp_path_factory):
    """b64 image bytes make a body 4/3 larger than gRPC's message: a 413 is not an error
    while one image still fits; answers equal the in-process ones."""
    from tests.api.exports import Exported, pixels
    from tfembed.serving.server import Server

    exported = Exported(tmp_path_factory.mktemp("limit") / "export", "pixels")
    images = list(pixels(11, 6))
    server = Server(exported.base, "tiny", port=0, rest_api_port=0,
                    file_system_poll_wait_seconds=0, max_request_bytes=1500)
    server.start()
    try:
        with tfembed.connect(f"http://127.0.0.1:{server.rest_port}", "tiny") as model:
            got = model.embed_image(images)
            scores = model.classify(images, ["a red bird", "a blue bird"]).scores
            with pytest.raises(ServingClientError, match="413.*max_request_bytes"):
                model.embed_text(["a red bird " * 200])  # one row that cannot fit
    finally:
        server.stop(grace=1)
    local = tfembed.load(exported.base)
    np.testing.assert_allclose(got, local.embed_image(images), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores, local.classify(images, ["a red bird", "a blue bird"])
                               .scores, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_batch_size_is_the_rows_per_request(features_export, servers, protocol):
    srv = servers(features_export.base)
    address = srv.port if protocol == "grpc" else srv.rest_port
    rows = np.random.default_rng(4).normal(size=(5, 5)).astype("float32")
    with tfembed.connect(f"127.0.0.1:{address}", "tiny", protocol=protocol,
                         batch_size=2) as model:
        calls = []
        predict = model._predict
        model._predict = lambda name, arrays: calls.append(len(arrays["features"])) or predict(
            name, arrays)
        got = model.embed_image(rows)
    assert calls == [2, 2, 1]
    np.testing.assert_allclose(got, features_export.image(rows), rtol=1e-5, atol=1e-6)
