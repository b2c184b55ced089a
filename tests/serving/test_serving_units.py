"""Unit tests: tensor conversion, config parsing, batching parameters, warm-up writer."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import types_pb2

from tfembed.errors import ConfigError
from tfembed.serving import config
from tfembed.serving.status import ServingError
from tfembed.serving.tensors import from_proto, to_numpy, to_proto
from tfembed.serving.warmup import read_warmup_requests, write_warmup_requests


@pytest.mark.parametrize("value", [
    np.arange(6, dtype=np.float32).reshape(2, 3),
    np.array([[1, 2]], np.int64),
    np.array([b"a", b"\xff"], dtype=object),
])
def test_to_proto_roundtrip_matches_tf(value):
    proto = to_proto(value)
    np.testing.assert_array_equal(tf.make_ndarray(proto), value)
    np.testing.assert_array_equal(to_numpy(tf.make_tensor_proto(value)), value)


def test_from_proto_checks_fixed_dims_and_tensor_content():
    proto = tf.make_tensor_proto(np.zeros((2, 5), np.float32))
    with pytest.raises(ServingError, match=r"inputs\['features'\]: dim 1 must be 4"):
        from_proto("inputs['features']", proto, types_pb2.DT_FLOAT, [None, 4], 100)
    proto.tensor_content = proto.tensor_content[:-1]
    with pytest.raises(ServingError, match="multiple of 4 bytes") as info:
        from_proto("inputs['features']", proto, types_pb2.DT_FLOAT, [None, 5], 100)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_parse_config_file_policies(tmp_path):
    path = tmp_path / "models.config"
    path.write_text('''model_config_list {
      config { name: "a" base_path: "/m/a" model_platform: "tensorflow"
               model_version_policy { latest { num_versions: 2 } } }
      config { name: "b" base_path: "/m/b" model_version_policy { all {} } }
      config { name: "c" base_path: "/m/c"
               model_version_policy { specific { versions: 3 versions: 1 } }
               version_labels { key: "canary" value: 3 } }
    }''')
    a, b, c = config.parse_config_file(str(path))
    assert (a.name, a.policy, a.num_versions) == ("a", "latest", 2)
    assert b.policy == "all"
    assert c.policy == "specific" and c.versions == (1, 3) and c.labels == {"canary": 3}


@pytest.mark.parametrize("text,match", [
    ("model_config_list { config { name: 'a' } }", "base_path"),
    ("not a proto", "models.config"),
    ("model_config_list { config { name: 'a' base_path: '/x' model_platform: 'onnx' } }",
     "model_platform"),
])
def test_parse_config_file_errors(tmp_path, text, match):
    path = tmp_path / "models.config"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        config.parse_config_file(str(path))


def test_batching_parameters_file_is_read(tmp_path):
    path = tmp_path / "batching_parameters.txt"
    path.write_text("max_batch_size { value: 32 }\nbatch_timeout_micros { value: 1500 }\n"
                    "num_batch_threads { value: 2 }\n")
    assert config.parse_batching_parameters(str(path)) == {"max_batch_size": 32,
                                                           "batch_timeout_micros": 1500}


def test_warmup_writer_roundtrip_and_limits(tmp_path):
    write_warmup_requests(tmp_path, "m", [("embed_text", {"text": np.array(["a", "é"])}),
                                          ("classify", {"image": np.array([b"\x89PNG"]),
                                                        "class_texts": np.array(["x"])})])
    logs = read_warmup_requests(tmp_path)
    assert [log.predict_log.request.model_spec.signature_name for log in logs] == [
        "embed_text", "classify"]
    assert list(logs[0].predict_log.request.inputs["text"].string_val) == [b"a", "é".encode()]
    assert logs[0].predict_log.request.model_spec.name == "m"
    with pytest.raises(ValueError):
        write_warmup_requests(tmp_path, "m", [])
    (tmp_path / "assets.extra" / "tf_serving_warmup_requests").write_bytes(b"\x01garbage")
    with pytest.raises(ValueError, match="unreadable"):
        read_warmup_requests(tmp_path)
    assert read_warmup_requests(tmp_path / "nowhere") == []
