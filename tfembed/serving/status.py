"""ServingError: one exception type carrying a TF Serving status code.

The same error is turned into a gRPC status (grpc service) or an HTTP status
(REST), using the mapping TF Serving's HTTP handler uses, so both front ends
report identical codes and messages.
"""

import grpc

# gRPC code -> HTTP status, as tensorflow_serving/model_servers/http_rest_api_handler does.
_HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.CANCELLED: 499,
}


class ServingError(Exception):
    """A request failure with a gRPC status code and a message naming the field."""

    def __init__(self, code, message, http_status=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self._http_status = http_status  # REST only: when HTTP has a more precise status

    @property
    def http_status(self):
        return self._http_status or _HTTP.get(self.code, 500)


def invalid(message):
    return ServingError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message):
    return ServingError(grpc.StatusCode.NOT_FOUND, message)


def exhausted(message):
    return ServingError(grpc.StatusCode.RESOURCE_EXHAUSTED, message)


def too_large(message):
    """RESOURCE_EXHAUSTED over gRPC, 413 Payload Too Large over REST."""
    return ServingError(grpc.StatusCode.RESOURCE_EXHAUSTED, message, http_status=413)


def unavailable(message):
    return ServingError(grpc.StatusCode.UNAVAILABLE, message)


def deadline(message):
    return ServingError(grpc.StatusCode.DEADLINE_EXCEEDED, message)


def tf_error_code(error):
    """Map a tf.errors.OpError raised while running a model to a gRPC code."""
    name = type(error).__name__
    return {
        "InvalidArgumentError": grpc.StatusCode.INVALID_ARGUMENT,
        "ResourceExhaustedError": grpc.StatusCode.RESOURCE_EXHAUSTED,
        "OutOfRangeError": grpc.StatusCode.OUT_OF_RANGE,
        "FailedPreconditionError": grpc.StatusCode.FAILED_PRECONDITION,
        "DeadlineExceededError": grpc.StatusCode.DEADLINE_EXCEEDED,
    }.get(name, grpc.StatusCode.INTERNAL)
