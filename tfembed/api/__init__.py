"""The Python API: one object per exported model, in this process or over gRPC.

    import tfembed
    m = tfembed.load("runs/reed2016/export")          # newest version; or a version dir
    r = tfembed.connect("localhost:8500", "reed2016")  # TF Serving or `tfembed serve`

Both answer embed_text, embed_image, classify, search and gallery the same way
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


def connect(address, model_name, version=None, timeout=10.0, **client_options):
    """A model served at `address` (HOST:PORT of the gRPC API) under `model_name`.

    version pins one version; timeout is the deadline per call in seconds; client_options go
    to `tfembed.serving.client.Client` (retries, max_message_mb, batch_size). Fetches the
    model's signatures once, so an unreachable server is an error here, not at the first call.
    """
    from tfembed.api.remote import RemoteModel

    return RemoteModel(address, model_name, version=version, timeout=timeout, **client_options)
