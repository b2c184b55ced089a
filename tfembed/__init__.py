"""tfembed: Keras 3 / TensorFlow joint image-text embedding models.

`tfembed.load(path)` / `tfembed.connect(address, model_name)` are the Python API
(`tfembed.api`); they are imported on first use, so `import tfembed` does not import
TensorFlow.
"""

__version__ = "0.1.0"

__all__ = ["load", "connect", "__version__"]


def __getattr__(name):
    if name in ("load", "connect"):
        from tfembed import api

        return getattr(api, name)
    raise AttributeError(f"module 'tfembed' has no attribute {name!r}")
