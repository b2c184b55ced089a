"""Turning what a Python caller has into what a signature takes: texts into a string batch,
images (file paths, encoded bytes, uint8 pixel arrays) into encoded image bytes, or feature
vectors into a float32 matrix; and model scores into probabilities."""

import io
import os

import numpy as np

from tfembed.errors import DataError


def as_list(values, single_types):
    """One item (a str, bytes, path, ...) is a batch of one; anything else is iterated."""
    if isinstance(values, single_types):
        return [values]
    return list(values)


def texts(values, what="texts"):
    """str or list of str -> object array of UTF-8 bytes [N]."""
    items = as_list(values, (str, bytes))
    out = np.empty(len(items), dtype=object)
    for i, text in enumerate(items):
        if isinstance(text, str):
            text = text.encode("utf-8")
        if not isinstance(text, bytes):
            raise DataError(f"{what}[{i}] is a {type(text).__name__}, expected a str")
        out[i] = text
    return out


def _encode_pixels(array, name):
    """uint8 [H, W, 3] (or [H, W] grey, [H, W, 4] RGBA) -> PNG bytes (lossless)."""
    from PIL import Image

    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (
            array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise DataError(f"expected a uint8 pixel array [H, W, 3] (or [H, W], [H, W, 4]), got "
                        f"{array.dtype} {list(array.shape)}", name)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def encoded_images(images):
    """Paths, bytes or pixel arrays -> (object array of encoded bytes [N], names [N]).

    names say where each image came from (its file, or `images[i]`), for error messages.
    A 4-D array is a batch of pixel arrays; a 3-D one (or one path / bytes) is one image.
    """
    if isinstance(images, np.ndarray) and images.ndim != 4:
        images = [images]
    items = as_list(images, (str, bytes, os.PathLike))
    out, names = np.empty(len(items), dtype=object), []
    for i, image in enumerate(items):
        name = f"images[{i}]"
        if isinstance(image, (str, os.PathLike)):
            name = os.fspath(image)
            try:
                with open(image, "rb") as f:
                    image = f.read()
            except OSError as err:
                raise DataError(f"cannot read image file: {err.strerror}", name) from None
        elif isinstance(image, np.ndarray):
            image = _encode_pixels(image, name)
        elif not isinstance(image, (bytes, bytearray)):
            raise DataError(f"expected a file path, encoded image bytes or a uint8 pixel "
                            f"array, got {type(image).__name__}", name)
        out[i] = bytes(image)
        names.append(name)
    return out, names


def feature_rows(images, dim):
    """Feature vectors ([F], a list of them, or [N, F]) -> float32 [N, F]."""
    if isinstance(images, (str, bytes, os.PathLike)) or (
            isinstance(images, (list, tuple)) and images
            and isinstance(images[0], (str, bytes, os.PathLike))):
        raise DataError(f"this export takes precomputed image features ({dim} floats per "
                        f"image), not image files or bytes")
    try:
        rows = np.asarray(images, np.float32)
    except (TypeError, ValueError) as err:
        raise DataError(f"image features are not a float matrix: {err}") from None
    if rows.ndim == 1 and rows.size:
        rows = rows[None, :]
    if rows.size == 0:
        rows = rows.reshape(0, dim or 0)
    if rows.ndim != 2 or (dim and rows.shape[1] != dim):
        raise DataError(f"image features have shape {list(rows.shape)}, this export takes "
                        f"[N, {dim}]")
    return rows, [f"images[{i}]" for i in range(len(rows))]


def softmax(scores):
    """Row-wise softmax, shifted by the row maximum so large scores do not overflow."""
    scores = np.asarray(scores, np.float64)
    if scores.shape[-1] == 0:
        return scores.astype(np.float32)
    z = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (z / z.sum(axis=-1, keepdims=True)).astype(np.float32)
