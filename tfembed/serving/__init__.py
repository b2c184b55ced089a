"""TF-Serving-compatible serving for tfembed SavedModels.

- :mod:`tfembed.serving.server`: ``tfembed serve`` / :class:`Server` (gRPC + REST)
- :mod:`tfembed.serving.client`: ``tfembed query`` / :class:`Client`
- :mod:`tfembed.serving.warmup`: TF Serving warm-up request files

Imports are lazy so ``import tfembed.serving`` does not pull in TensorFlow.
"""

__all__ = ["Server", "Client", "write_warmup_requests"]


def __getattr__(name):
    if name == "Server":
        from tfembed.serving.server import Server
        return Server
    if name == "Client":
        from tfembed.serving.client import Client
        return Client
    if name == "write_warmup_requests":
        from tfembed.serving.warmup import write_warmup_requests
        return write_warmup_requests
    raise AttributeError(name)
