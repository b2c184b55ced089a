"""tfembed: Keras 3 / TensorFlow joint image-text embedding models."""

__version__ = "0.1.0"
