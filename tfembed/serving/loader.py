"""Load one SavedModel version: signatures, their metadata, warm-up replay.

A version is only handed to the model manager once all of this succeeded, so a
half-written, corrupt or warm-up-failing directory never serves a request.
"""

import logging
import os

import grpc
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import get_model_metadata_pb2

from tfembed.errors import TfembedError
from tfembed.export import signatures as sig
from tfembed.serving.index_retrieve import attach_index
from tfembed.serving.status import ServingError, tf_error_code
from tfembed.serving.validation import UNBATCHED_INPUTS, check_inputs, op_message
from tfembed.serving.warmup import read_warmup_requests

log = logging.getLogger("tfembed.serving")
DEFAULT_SIGNATURE = sig.SERVING_DEFAULT  # a request that names no signature


class LoadError(Exception):
    """A version directory that cannot be served; the message says why."""

    def __init__(self, message, code=grpc.StatusCode.INVALID_ARGUMENT):
        super().__init__(message)
        self.code = code


class Signature:
    """One callable signature with its input/output dtypes and shapes."""

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn
        _, kwargs = fn.structured_input_signature
        self.inputs = {k: _spec(s) for k, s in kwargs.items()}
        self.outputs = {k: _spec(s) for k, s in fn.structured_outputs.items()}
        # Cross-request batching needs every input to share the batch dimension (class_texts
        # does not: merging two classify requests would mix their classes).
        self.batchable = all(s is not None and s and s[0] is None and k not in UNBATCHED_INPUTS
                             for k, (_, s) in self.inputs.items())

    def run(self, arrays):
        """{name: np.ndarray} -> {output: np.ndarray}; raises ServingError on op errors."""
        try:
            outputs = self.fn(**{k: tf.constant(v) for k, v in arrays.items()})
        except tf.errors.OpError as err:
            raise ServingError(tf_error_code(err),
                               f"signature '{self.name}' failed: {op_message(err)}") from None
        return {k: v.numpy() for k, v in outputs.items()}


class LoadedVersion:
    """A servable: one loaded version of one model."""

    def __init__(self, model_name, version, path, module, signatures, signature_defs):
        self.model_name = model_name
        self.version = version
        self.path = path
        self.module = module  # keeps variables alive as long as requests hold us
        self.signatures = signatures
        self.signature_defs = signature_defs  # SignatureDefMap for GetModelMetadata
        self.warmup_count = 0
        self.index_stamp = None  # identifies the gallery index in use (None: in-graph retrieve)


def _spec(spec):
    shape = spec.shape.as_list() if spec.shape.rank is not None else None
    return spec.dtype.as_datatype_enum, shape


def _read_signature_defs(path):
    pb = os.path.join(path, "saved_model.pb")
    if not os.path.isfile(pb):
        raise LoadError(f"incomplete version directory {path}: no saved_model.pb",
                        grpc.StatusCode.NOT_FOUND)
    try:
        with open(pb, "rb") as f:
            saved = saved_model_pb2.SavedModel.FromString(f.read())
    except Exception as err:
        raise LoadError(f"unreadable {pb}: {type(err).__name__}: {err}",
                        grpc.StatusCode.DATA_LOSS) from None
    for meta_graph in saved.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            return get_model_metadata_pb2.SignatureDefMap(signature_def=meta_graph.signature_def)
    raise LoadError(f"{pb}: no meta graph tagged 'serve'")


def _load_module(path):
    try:
        return tf.saved_model.load(path, tags=["serve"])
    except Exception as err:
        if "Op type not registered" in str(err):
            try:  # exported text towers may use TF Text ops: register them and retry
                import tensorflow_text  # noqa: F401
                return tf.saved_model.load(path, tags=["serve"])
            except Exception as retry_err:
                err = retry_err
        first = str(err).strip().splitlines()[0][:500] if str(err).strip() else ""
        raise LoadError(f"failed to load SavedModel {path}: "
                        f"{type(err).__name__}: {first}") from None


def load_version(model_name, version, path, limits):
    """Load, then replay warm-up requests; raises LoadError on any failure."""
    signature_defs = _read_signature_defs(path)
    module = _load_module(path)
    signatures = {k: Signature(k, fn) for k, fn in module.signatures.items()}
    if not signatures:
        raise LoadError(f"SavedModel {path} has no signatures")
    loaded = LoadedVersion(model_name, version, path, module, signatures, signature_defs)
    try:  # before warm-up, so warm-up `retrieve` requests exercise the index too
        loaded.index_stamp = attach_index(loaded)
    except Exception as err:  # not only ours: numpy, json, faiss... all end this version
        detail = str(err) if isinstance(err, TfembedError) else f"{type(err).__name__}: {err}"
        raise LoadError(f"gallery index: {detail}", grpc.StatusCode.FAILED_PRECONDITION) from None
    loaded.warmup_count = replay_warmup(loaded, limits)
    return loaded


def replay_warmup(loaded, limits):
    """Run every warm-up record through validation and the model, like TF Serving."""
    try:
        logs = read_warmup_requests(loaded.path)
    except ValueError as err:
        raise LoadError(f"warm-up failed: {err}") from None
    for i, record in enumerate(logs):
        if record.WhichOneof("log_type") != "predict_log":
            raise LoadError(f"warm-up record {i}: only predict_log records are supported")
        request = record.predict_log.request
        name = request.model_spec.signature_name or DEFAULT_SIGNATURE
        signature = loaded.signatures.get(name)
        if signature is None:
            raise LoadError(f"warm-up record {i}: unknown signature '{name}'")
        try:
            signature.run(check_inputs(request.inputs, signature, limits))
        except ServingError as err:
            raise LoadError(f"warm-up record {i} failed: {err.message}") from None
    if logs:
        log.info("%s version %d: replayed %d warm-up requests", loaded.model_name,
                 loaded.version, len(logs))
    return len(logs)
