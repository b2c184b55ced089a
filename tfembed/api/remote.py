"""`tfembed.connect(address, model_name)`: the same methods over gRPC, against TF Serving or
`tfembed serve` (Predict and GetModelMetadata through `tfembed.serving.client.Client`)."""

import grpc

from tfembed.api.answers import BadInput
from tfembed.api.base import ServedModel
from tfembed.serving.client import Client, ServingClientError


def _shape(info):
    shape = info.get("shape")
    return None if shape is None else [None if d < 0 else d for d in shape]


class RemoteModel(ServedModel):
    """A served model; `version` pins one version (default: the newest the server serves).

    The server answers `retrieve` from its gallery index when it has one, so `search` is the
    same call either way. The baked-in gallery's embeddings are not reachable over Predict.
    """

    BACKEND, PROTOCOL = "grpc", "gRPC"

    def __init__(self, address, model_name, version=None, timeout=10.0, **client_options):
        self.address, self.model_name = address, model_name
        self._client = Client(address, model_name, timeout=timeout, version=version,
                              **client_options)
        self.where = f"model {model_name!r} at {address}"
        if client_options.get("batch_size"):  # rows per Predict: the API's chunks, not Client's
            self.batch_size = max(1, int(client_options["batch_size"]))
        try:
            metadata = self._client.metadata()
        except ServingClientError as err:
            self._client.close()
            raise ServingClientError(err.code, f"{self.where}: {err}") from None
        self.version = metadata.get("version")
        self._specs = {name: {side: {k: _shape(v) for k, v in spec[side].items()}
                              for side in ("inputs", "outputs")}
                       for name, spec in metadata["signatures"].items()}

    def _predict(self, name, arrays):
        try:
            return self._client.predict(name, arrays)
        except ServingClientError as err:
            if err.code == grpc.StatusCode.INVALID_ARGUMENT:
                raise BadInput(str(err)) from None
            raise

    def close(self):
        self._client.close()
