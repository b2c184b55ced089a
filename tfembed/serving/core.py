"""Front-end independent request handling: Predict, GetModelMetadata, GetModelStatus.

Both the gRPC services and the REST handler call this with protos, so the two
share validation, admission control and error messages.
"""

import contextlib
import threading

from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     predict_pb2)

from tfembed.serving.loader import DEFAULT_SIGNATURE
from tfembed.serving.status import deadline, exhausted, invalid, not_found
from tfembed.serving.tensors import to_proto
from tfembed.serving.validation import check_inputs


class ServingCore:
    def __init__(self, manager, limits, max_concurrent_requests=8, batcher=None):
        self.manager = manager
        self.limits = limits
        self.max_concurrent_requests = max_concurrent_requests
        # Admission control: reject at once when full instead of queueing
        # everybody into their deadlines.
        self._slots = threading.BoundedSemaphore(max_concurrent_requests)
        self.batcher = batcher

    def resolve(self, spec):
        version = spec.version.value if spec.HasField("version") else None
        return self.manager.get(spec.name, version, spec.version_label or None)

    @contextlib.contextmanager
    def admission(self):
        """Hold one of the max_concurrent_requests slots, or raise RESOURCE_EXHAUSTED at once.

        REST takes it before reading the body, so bodies only cost memory and CPU for
        admitted requests.
        """
        if not self._slots.acquire(blocking=False):
            raise exhausted(f"server busy: {self.max_concurrent_requests} requests already "
                            f"in flight (--max_concurrent_requests); retry later")
        try:
            yield
        finally:
            self._slots.release()

    def predict(self, request, time_remaining=None):
        """PredictRequest -> PredictResponse; raises ServingError.

        time_remaining: callable giving seconds left before the client's
        deadline (None = no deadline), e.g. grpc's context.time_remaining.
        """
        with self.admission():
            return self.predict_admitted(request, time_remaining)

    def predict_admitted(self, request, time_remaining=None):
        """predict() for a caller already holding an admission() slot."""
        size = request.ByteSize()
        if size > self.limits.max_request_bytes:
            raise exhausted(f"request: {size} bytes, over the limit of "
                            f"{self.limits.max_request_bytes}")
        loaded = self.resolve(request.model_spec)
        name = request.model_spec.signature_name or DEFAULT_SIGNATURE
        signature = loaded.signatures.get(name)
        if signature is None:
            raise not_found(f"model_spec.signature_name: signature '{name}' not found in "
                            f"model '{loaded.model_name}' version {loaded.version}; "
                            f"available: {sorted(loaded.signatures)}")
        wanted = list(request.output_filter) or sorted(signature.outputs)
        unknown = [k for k in wanted if k not in signature.outputs]
        if unknown:
            raise invalid(f"output_filter: unknown outputs {unknown} for signature '{name}'")
        arrays = check_inputs(request.inputs, signature, self.limits)
        remaining = time_remaining() if time_remaining else None
        if remaining is not None and remaining <= 0:  # client gave up: skip the work
            raise deadline("deadline exceeded before the model ran")
        if self.batcher is not None and signature.batchable:
            outputs = self.batcher.run((loaded, name), signature.run, arrays)
        else:
            outputs = signature.run(arrays)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = loaded.model_name
        response.model_spec.version.value = loaded.version
        response.model_spec.signature_name = name
        for key in wanted:
            response.outputs[key].CopyFrom(to_proto(outputs[key]))
        return response

    def metadata(self, request):
        """GetModelMetadataRequest -> GetModelMetadataResponse (signature_def only)."""
        fields = list(request.metadata_field)
        if not fields:
            raise invalid("metadata_field: GetModelMetadataRequest must specify at least "
                          "one metadata_field")
        for field in fields:
            if field != "signature_def":
                raise invalid(f"metadata_field: metadata field '{field}' is not supported")
        loaded = self.resolve(request.model_spec)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = loaded.model_name
        response.model_spec.version.value = loaded.version
        response.metadata["signature_def"].Pack(loaded.signature_defs)
        return response

    def status(self, request):
        """GetModelStatusRequest -> GetModelStatusResponse."""
        spec = request.model_spec
        version = spec.version.value if spec.HasField("version") else None
        response = get_model_status_pb2.GetModelStatusResponse()
        rows = self.manager.status(spec.name, version, spec.version_label or None)
        for v, state, code, message in rows:
            entry = response.model_version_status.add(version=v, state=state)
            entry.status.error_code = code
            entry.status.error_message = message
        return response
