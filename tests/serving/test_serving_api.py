"""Unmodified tensorflow-serving-api stubs and REST calls vs the SavedModel in-process."""

import base64
import json
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2)

from tfembed.serving.testing import (MODEL, jpeg_bytes, png_bytes, predict_request,
                                     run_inprocess, strings)

IMAGES = [png_bytes(), jpeg_bytes(), png_bytes(40, 30, (0, 255, 0))]
CASES = {
    "embed_text": {"text": strings("a small bird with a red crown", "", "héron cendré")},
    "serving_default": {"text": strings("one", "two")},
    "embed_image": {"image": strings(*IMAGES)},
    "classify": {"image": strings(*IMAGES[:2]), "class_texts": strings("a bird", "a dog", "x")},
    "retrieve": {"text": strings("query one", "query two")},
}


@pytest.mark.parametrize("signature", sorted(CASES))
def test_grpc_predict_matches_inprocess(predict_stub, loaded_model, signature):
    inputs = CASES[signature]
    response = predict_stub.Predict(predict_request(signature, inputs), timeout=10)
    assert response.model_spec.name == MODEL
    assert response.model_spec.version.value == 1
    assert response.model_spec.signature_name == signature
    expected = run_inprocess(loaded_model, signature, inputs)
    assert sorted(response.outputs) == sorted(expected)
    for key, value in expected.items():
        got = tf.make_ndarray(response.outputs[key])
        assert got.shape == value.shape and got.dtype == value.dtype
        if value.dtype == object:
            assert got.tolist() == value.tolist()
        else:
            np.testing.assert_allclose(got, value, rtol=1e-6, atol=1e-6)


def test_default_signature_and_output_filter(predict_stub, loaded_model):
    request = predict_request("", {"text": strings("x")})
    response = predict_stub.Predict(request, timeout=10)
    assert response.model_spec.signature_name == "serving_default"
    request = predict_request("retrieve", CASES["retrieve"])
    request.output_filter.append("ids")
    assert list(predict_stub.Predict(request, timeout=10).outputs) == ["ids"]


def test_metadata_and_status(predict_stub, model_stub):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = MODEL
    response = predict_stub.GetModelMetadata(request, timeout=10)
    assert response.model_spec.name == MODEL and response.model_spec.version.value == 1
    sigs = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(sigs)
    classify = sigs.signature_def["classify"]
    assert set(classify.inputs) == {"image", "class_texts"}
    assert set(classify.outputs) == {"scores"}
    assert set(sigs.signature_def["retrieve"].outputs) == {"ids", "scores"}

    status = model_stub.GetModelStatus(
        get_model_status_pb2.GetModelStatusRequest(model_spec={"name": MODEL}), timeout=10)
    [entry] = status.model_version_status
    assert entry.version == 1
    assert entry.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    assert entry.status.error_code == 0


def test_classify_rpc_is_unimplemented(predict_stub):
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = MODEL
    with pytest.raises(grpc.RpcError) as info:
        predict_stub.Classify(request, timeout=10)
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


def _rest(server, path, body=None):
    url = f"http://127.0.0.1:{server.rest_port}{path}"
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _b64(data):
    return {"b64": base64.b64encode(data).decode()}


def test_rest_predict_row_and_columnar(server, loaded_model):
    texts = ["a small bird", "héron"]
    expected = run_inprocess(loaded_model, "embed_text", {"text": strings(*texts)})["embedding"]
    status, body = _rest(server, f"/v1/models/{MODEL}:predict",
                         {"signature_name": "embed_text", "instances": texts})
    assert status == 200
    np.testing.assert_allclose(np.array(body["predictions"], np.float32), expected, atol=1e-6)
    status, body = _rest(server, f"/v1/models/{MODEL}/versions/1:predict",
                         {"inputs": {"text": texts}})  # serving_default, columnar
    assert status == 200
    np.testing.assert_allclose(np.array(body["outputs"], np.float32), expected, atol=1e-6)

    inputs = CASES["classify"]
    status, body = _rest(server, f"/v1/models/{MODEL}:predict", {
        "signature_name": "classify",
        "inputs": {"image": [_b64(b) for b in inputs["image"]],
                   "class_texts": [c.decode() for c in inputs["class_texts"]]}})
    assert status == 200
    np.testing.assert_allclose(np.array(body["outputs"], np.float32),
                               run_inprocess(loaded_model, "classify", inputs)["scores"], atol=1e-6)

    status, body = _rest(server, f"/v1/models/{MODEL}:predict",
                         {"signature_name": "retrieve", "instances": ["query one"]})
    expected = run_inprocess(loaded_model, "retrieve", {"text": strings("query one")})
    assert status == 200
    assert body["predictions"][0]["ids"] == [i.decode() for i in expected["ids"][0]]


def test_rest_status_metadata_and_errors(server):
    status, body = _rest(server, f"/v1/models/{MODEL}")
    assert status == 200
    assert body["model_version_status"][0]["state"] == "AVAILABLE"
    status, body = _rest(server, f"/v1/models/{MODEL}/metadata")
    assert status == 200
    assert "embed_image" in body["metadata"]["signature_def"]["signature_def"]
    status, body = _rest(server, "/v1/models/nope:predict", {"instances": ["x"]})
    assert status == 404 and "nope" in body["error"]
    status, body = _rest(server, f"/v1/models/{MODEL}:predict",
                         {"signature_name": "embed_text", "instances": [{"b64": "/w=="}]})
    assert status == 400 and "inputs['text'][0]" in body["error"]
    status, body = _rest(server, f"/v1/models/{MODEL}:predict",
                         {"signature_name": "embed_text", "inputs": {"text": ["a"], "x": [1]}})
    assert status == 400 and "inputs['x']" in body["error"]
