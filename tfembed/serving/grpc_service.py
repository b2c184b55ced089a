"""gRPC PredictionService and ModelService, wire-compatible with TF Serving.

Unmodified ``tensorflow_serving.apis`` stubs talk to these exactly as to
tensorflow_model_server.
"""

import logging

import grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from tfembed.serving.status import ServingError

log = logging.getLogger("tfembed.serving")


def _call(context, fn, *args):
    try:
        return fn(*args)
    except ServingError as err:
        context.abort(err.code, err.message)
    except Exception as err:  # a bug, not the client's fault: log it, say INTERNAL
        log.exception("internal error")
        context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(err).__name__}")


def _unimplemented(context, what):
    context.abort(grpc.StatusCode.UNIMPLEMENTED,
                  f"{what} is not implemented by tfembed serve; use Predict")


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, core):
        self.core = core

    def Predict(self, request, context):
        return _call(context, self.core.predict, request, context.time_remaining)

    def GetModelMetadata(self, request, context):
        return _call(context, self.core.metadata, request)

    def Classify(self, request, context):
        _unimplemented(context, "Classify (tf.Example input)")

    def Regress(self, request, context):
        _unimplemented(context, "Regress (tf.Example input)")

    def MultiInference(self, request, context):
        _unimplemented(context, "MultiInference (tf.Example input)")


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, core):
        self.core = core

    def GetModelStatus(self, request, context):
        return _call(context, self.core.status, request)

    def HandleReloadConfigRequest(self, request, context):
        _unimplemented(context, "HandleReloadConfigRequest (restart with a new "
                                "--model_config_file)")


def add_services(server, core):
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(core), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(core), server)
