"""What the Python API hands back besides plain arrays: classify's `Probabilities` (an array
that also carries the class names and the raw scores) and its errors."""

import numpy as np

from tfembed.errors import TfembedError


class SignatureError(TfembedError):
    """The export has no signature for what was asked (says what it has, and why)."""


class BadInput(TfembedError):
    """A back end refused a request's input (INVALID_ARGUMENT): e.g. undecodable image bytes."""


class Probabilities(np.ndarray):
    """classify's answer: float32 probabilities [N, C] (a softmax over the model's scores).

    classes: the C column names (the class_texts given, or the baked-in class names when the
    export records them; else None). predicted: the best class name per row. scores: the
    model's raw compatibility scores [N, C]. Slicing keeps these attributes unchanged.
    """

    def __new__(cls, probabilities, classes, predicted, scores):
        obj = np.asarray(probabilities, np.float32).view(cls)
        obj.classes, obj.predicted, obj.scores = classes, predicted, scores
        return obj

    def __array_finalize__(self, obj):
        for name in ("classes", "predicted", "scores"):
            setattr(self, name, getattr(obj, name, None))


def decode_ids(rows):
    """[N, k] bytes or str -> [N, k] object array of str."""
    out = np.empty(np.shape(rows), dtype=object)
    for index, value in np.ndenumerate(rows):
        out[index] = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    return out
