"""tfembed: Keras 3 / TensorFlow joint image-text embedding models.

`tfembed.load(path)` / `tfembed.connect(address, model_name)` are the Python API
(`tfembed.api`); they are imported on first use, so `import tfembed` does not import
TensorFlow. Run as `python recipes/NAME.py`, importing tfembed hides TensorFlow's C++ log
lines (`tfembed.quiet`) unless the command line has --verbose: recipes import tfembed before
anything imports TensorFlow.
"""

__version__ = "0.1.0"

__all__ = ["load", "connect", "__version__"]

from tfembed import quiet as _quiet  # noqa: E402  (no TensorFlow import: an import hook)

_quiet.install_for_recipe_script()  # recipes/NAME.py: TF's C++ log lines off unless --verbose


def __getattr__(name):
    if name in ("load", "connect"):
        from tfembed import api

        return getattr(api, name)
    raise AttributeError(f"module 'tfembed' has no attribute {name!r}")
