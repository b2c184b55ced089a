"""Table of malformed requests: right status code, message naming the field,
no memory blow-up, and the server still answers a good request afterwards."""

import struct
import zlib

import grpc
import numpy as np
import pytest
from tensorflow.core.framework import tensor_pb2, types_pb2

from tfembed.serving.testing import jpeg_bytes, png_bytes, predict_request, strings

INVALID, NOT_FOUND = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
GOOD = ("embed_text", {"text": strings("hello")})


def _raw(dtype, dims, strings_=(), unknown_rank=False):
    """A TensorProto written by hand, as a hostile client could."""
    proto = tensor_pb2.TensorProto(dtype=dtype)
    proto.tensor_shape.unknown_rank = unknown_rank
    for d in dims:
        proto.tensor_shape.dim.add(size=d)
    proto.string_val.extend(strings_)
    return proto


def _png_header(width, height):
    """A PNG whose IHDR claims width x height, with a tiny IDAT: a decompression bomb."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _jpeg_with_size(width, height):
    data = bytearray(jpeg_bytes())
    sof = data.index(b"\xff\xc0")  # baseline SOF0: length(2) precision(1) height(2) width(2)
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


# (case id, signature, inputs (arrays or raw TensorProtos), request overrides,
#  expected code, substring the message must contain)
CASES = [
    ("unknown model", *GOOD, {"model": "nope"}, NOT_FOUND, "model_spec.name"),
    ("unknown version", *GOOD, {"version": 7}, NOT_FOUND, "model_spec.version"),
    ("unknown signature", "nope", {"text": strings("x")}, {}, NOT_FOUND,
     "model_spec.signature_name"),
    ("missing input", "classify", {"image": strings(png_bytes())}, {}, INVALID,
     "inputs['class_texts']"),
    ("extra input", "embed_text", {"text": strings("a"), "foo": strings("b")}, {}, INVALID,
     "inputs['foo']"),
    ("wrong dtype", "embed_text", {"text": np.zeros(2, np.float32)}, {}, INVALID,
     "inputs['text']"),
    ("wrong rank", "embed_text", {"text": strings("a", "b").reshape(1, 2)}, {}, INVALID,
     "inputs['text']"),
    ("negative dim", "embed_text", {"text": _raw(types_pb2.DT_STRING, [-5], [b"a"])}, {},
     INVALID, "inputs['text']"),
    ("unknown rank", "embed_text",
     {"text": _raw(types_pb2.DT_STRING, [], [b"a"], unknown_rank=True)}, {}, INVALID,
     "inputs['text']"),
    ("1e9 declared, 1 sent", "embed_text", {"text": _raw(types_pb2.DT_STRING, [10**9], [b"x"])},
     {}, INVALID, "inputs['text']"),
    ("1e9 images declared", "embed_image",
     {"image": _raw(types_pb2.DT_STRING, [10**9], [png_bytes()])}, {}, INVALID, "inputs['image']"),
    ("50k declared, 1 sent", "embed_text",
     {"text": _raw(types_pb2.DT_STRING, [50_000], [b"x"])}, {}, INVALID, "inputs['text']"),
    ("huge dims product", "embed_text",
     {"text": _raw(types_pb2.DT_STRING, [2**62], [b"x"])}, {}, INVALID, "inputs['text']"),
    ("3 declared, 2 sent", "embed_text", {"text": _raw(types_pb2.DT_STRING, [3], [b"a", b"b"])},
     {}, INVALID, "inputs['text']"),
    ("batch too large", "embed_text", {"text": strings(*["t"] * 9)}, {}, INVALID,
     "inputs['text']"),
    ("over-long string", "embed_text", {"text": strings("ok", "x" * 2000)}, {}, INVALID,
     "inputs['text'][1]"),
    ("non-UTF-8 text", "retrieve", {"text": strings("ok", b"\xff\xfe bad")}, {}, INVALID,
     "inputs['text'][1]"),
    ("no class texts", "classify",
     {"image": strings(png_bytes()), "class_texts": np.array([], dtype=object)}, {}, INVALID,
     "inputs['class_texts']: empty"),
    ("non-UTF-8 class text", "classify",
     {"image": strings(png_bytes()), "class_texts": strings(b"\xc3\x28")}, {}, INVALID,
     "inputs['class_texts'][0]"),
    ("corrupt image", "embed_image", {"image": strings(png_bytes(), b"not an image")}, {},
     INVALID, "inputs['image'][1]"),
    ("truncated png", "embed_image", {"image": strings(png_bytes()[:60])}, {}, INVALID,
     "inputs['image'][0]"),
    ("huge png header", "embed_image", {"image": strings(_png_header(100_000, 100_000))}, {},
     INVALID, "inputs['image'][0]"),
    ("large png header", "embed_image", {"image": strings(_png_header(2000, 2000))}, {},
     INVALID, "inputs['image'][0]"),
    ("huge jpeg header", "classify", {"image": strings(_jpeg_with_size(60_000, 60_000)),
                                      "class_texts": strings("a")}, {}, INVALID,
     "inputs['image'][0]"),
    ("request too large", "embed_image", {"image": strings(b"\0" * (5 << 19))}, {}, EXHAUSTED,
     "request"),
]


def _rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _build(signature, inputs, overrides):
    arrays = {k: v for k, v in inputs.items() if not isinstance(v, tensor_pb2.TensorProto)}
    request = predict_request(signature, arrays, **overrides)
    for key, value in inputs.items():
        if isinstance(value, tensor_pb2.TensorProto):
            request.inputs[key].CopyFrom(value)
    return request


@pytest.fixture(scope="module")
def rss_watch(predict_stub):
    predict_stub.Predict(predict_request(*GOOD), timeout=10)  # steady state first
    before = _rss_mb()
    yield
    assert _rss_mb() - before < 200, "RSS grew by more than 200 MB across the bad-input table"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_request(predict_stub, rss_watch, case):
    _, signature, inputs, overrides, code, field = case
    with pytest.raises(grpc.RpcError) as info:
        predict_stub.Predict(_build(signature, inputs, overrides), timeout=10)
    assert info.value.code() == code, info.value.details()
    assert field in info.value.details()
    good = predict_stub.Predict(predict_request(*GOOD), timeout=10)  # still serving
    assert good.outputs["embedding"].tensor_shape.dim[0].size == 1
