"""The Python API: one object per exported model, in this process or over gRPC or REST.

    import tfembed
    m = tfembed.load("runs/reed2016/export")          # newest version; or a version dir
    r = tfembed.connect("localhost:8500", "reed2016")  # TF Serving or `tfembed serve`, gRPC
    h = tfembed.connect("http://localhost:8501", "reed2016")  # the same over REST

All answer embed_text, embed_image, classify, search and gallery the same way
(`tfembed.api.base.EmbeddingModel`).
"""

from tfembed.api.answers import BadInput, Probabilities, SignatureError
from tfembed.api.base import EmbeddingModel

__all__ = ["load", "connect", "EmbeddingModel", "Probabilities", "SignatureError", "BadInput"]


def load(path):
    """An export directory (its newest numbered version) or one version directory, loaded
    in this process. DataError when there is no SavedModel there."""
    from tfembed.api.local import LocalModel

    return LocalModel(path)


def connect(address, model_name, version=None, timeout=10.0, protocol=None, **client_options):
    """A model served at `address` under `model_name`: HOST:PORT is the gRPC API,
    http(s)://HOST:PORT the REST API (`protocol` "grpc" or "rest" says it explicitly).

    version pins one version; timeout is the deadline per call in seconds; client_options:
    retries, batch_size, max_message_mb (gRPC only). Fetches the model's signatures once, so
    an unreachable server is an error here, not at the first call.
    """
    from tfembed.errors import DataError

    is_url = str(address).lower().startswith(("http://", "https://"))
    if protocol not in (None, "grpc", "rest"):
        raise DataError(f"protocol must be 'grpc' or 'rest', got {protocol!r}")
    if protocol == "grpc" and is_url:
        raise DataError(f"protocol='grpc' takes HOST:PORT, not the URL {address!r} (a URL "
                        f"is the REST API)")
    if protocol == "rest" or is_url:
        from tfembed.api.rest import RestModel

        url = address if is_url else f"http://{address}"
        return RestModel(url, model_name, version=version, timeout=timeout, **client_options)
    from tfembed.api.remote import RemoteModel

    return RemoteModel(address, model_name, version=version, timeout=timeout, **client_options)
