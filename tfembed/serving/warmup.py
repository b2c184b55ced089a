"""TF Serving warm-up files: ``<version>/assets.extra/tf_serving_warmup_requests``.

A TFRecord of ``tensorflow_serving.apis.prediction_log_pb2.PredictionLog``
records holding ``predict_log.request`` entries, exactly what
tensorflow_model_server replays before it marks a version AVAILABLE (so the
first real request does not pay for graph tracing and kernel initialisation).
"""

import os

import numpy as np

WARMUP_DIR = "assets.extra"
WARMUP_FILE = "tf_serving_warmup_requests"
MAX_RECORDS = 1000  # TF Serving refuses files with more records than this


def warmup_path(export_dir):
    return os.path.join(os.fspath(export_dir), WARMUP_DIR, WARMUP_FILE)


def make_predict_log(model_name, signature_name, inputs):
    """(signature, {input_name: array-like}) -> PredictionLog with a predict request."""
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name))
    for key, value in inputs.items():
        value = np.asarray(value)
        if value.dtype.kind == "U":  # str -> UTF-8 bytes, the wire form of DT_STRING
            value = np.vectorize(lambda s: s.encode("utf-8"), otypes=[object])(value)
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request))


def write_warmup_requests(export_dir, model_name, requests):
    """Write ``requests`` = [(signature_name, {input_name: np.ndarray}), ...].

    Called by the exporter on the temporary export directory, before the
    version is published by rename. Returns the file path.
    """
    import tensorflow as tf

    requests = list(requests)
    if not requests:
        raise ValueError("write_warmup_requests: no requests given")
    if len(requests) > MAX_RECORDS:
        raise ValueError(f"write_warmup_requests: {len(requests)} requests, TF Serving "
                         f"reads at most {MAX_RECORDS}")
    path = warmup_path(export_dir)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for signature_name, inputs in requests:
            log = make_predict_log(model_name, signature_name, inputs)
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(export_dir):
    """The PredictionLog records of a version ([] when it has no warm-up file).

    Raises ValueError for a corrupt file or one with too many records.
    """
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    path = warmup_path(export_dir)
    if not os.path.exists(path):
        return []
    logs, consumed = [], 0
    try:
        for record in tf.data.TFRecordDataset(path):
            if len(logs) >= MAX_RECORDS:
                raise ValueError(f"{path}: more than {MAX_RECORDS} warm-up records")
            data = record.numpy()
            consumed += len(data) + 16  # length, its CRC, payload, payload CRC
            logs.append(prediction_log_pb2.PredictionLog.FromString(data))
    except ValueError:
        raise
    except Exception as err:  # DataLossError for bad CRCs, DecodeError for garbage
        raise ValueError(f"{path}: unreadable warm-up file ({type(err).__name__}: {err})") from None
    # The TFRecord reader silently stops at a partial record header: count bytes.
    if consumed != os.path.getsize(path):
        raise ValueError(f"{path}: unreadable warm-up file (truncated or trailing bytes "
                         f"after {len(logs)} records)")
    return logs
