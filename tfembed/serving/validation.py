"""Request validation against a signature, run before the model is touched.

Every message names the field (``inputs['text']``, ``inputs['image'][3]``) so a
client can tell which part of its request was wrong.
"""

import io
import re
import warnings

from PIL import Image

from tfembed.export import signatures as sig
from tfembed.serving.config import Limits  # noqa: F401 (re-exported)
from tfembed.serving.status import invalid
from tfembed.serving.tensors import from_proto

TEXT_INPUTS = sig.TEXT_INPUTS  # must be UTF-8
IMAGE_INPUTS = (sig.IMAGE,)  # must be a decodable JPEG/PNG/GIF/BMP of sane size
UNBATCHED_INPUTS = sig.UNBATCHED_INPUTS  # dim 0 is not the batch: its own limit
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "BMP")  # what tf.io.decode_image reads


def check_inputs(inputs, signature, limits):
    """Map<str, TensorProto> -> {name: np.ndarray}, or raise ServingError."""
    expected = signature.inputs
    missing = sorted(set(expected) - set(inputs))
    extra = sorted(set(inputs) - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(f"inputs['{k}']" for k in missing))
        if extra:
            parts.append("unexpected " + ", ".join(f"inputs['{k}']" for k in extra))
        raise invalid(f"signature '{signature.name}' expects inputs {sorted(expected)}: "
                      + "; ".join(parts))
    arrays, batch = {}, None
    for name in sorted(expected):
        field = f"inputs['{name}']"
        dtype, shape = expected[name]
        array = from_proto(field, inputs[name], dtype, shape, limits.max_elements)
        if array.ndim:
            if name in UNBATCHED_INPUTS:
                if array.shape[0] == 0:
                    raise invalid(f"{field}: empty; give at least one class text")
                if array.shape[0] > limits.max_classes:
                    raise invalid(f"{field}: {array.shape[0]} entries, more than the "
                                  f"limit of {limits.max_classes}")
            else:
                if array.shape[0] > limits.max_batch_size:
                    raise invalid(f"{field}: batch size {array.shape[0]} is larger than "
                                  f"max_batch_size {limits.max_batch_size}")
                if batch is not None and array.shape[0] != batch[1]:
                    raise invalid(f"{field}: batch size {array.shape[0]} differs from "
                                  f"inputs['{batch[0]}'] ({batch[1]})")
                batch = (name, array.shape[0])
        if name in TEXT_INPUTS:
            _check_texts(field, array, limits)
        elif name in IMAGE_INPUTS and array.dtype == object:
            _check_images(field, array, limits)
        arrays[name] = array
    return arrays


def _check_texts(field, array, limits):
    for i, value in enumerate(array.reshape(-1)):
        if len(value) > limits.max_string_bytes:
            raise invalid(f"{field}[{i}]: {len(value)} bytes, longer than the "
                          f"limit of {limits.max_string_bytes}")
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as err:
            raise invalid(f"{field}[{i}]: not valid UTF-8 text (byte {err.start})") from None


def _check_images(field, array, limits):
    for i, value in enumerate(array.reshape(-1)):
        check_image(f"{field}[{i}]", value, limits)
    for i, value in enumerate(array.reshape(-1)):  # headers first: cheap, bounds the decoding
        decode_check(f"{field}[{i}]", value)


def decode_check(field, data):
    """Decode with the op the exported graphs use, so a truncated or corrupt image is refused
    here, naming its index, instead of failing the whole (possibly merged) batch in the model."""
    import tensorflow as tf

    try:
        tf.io.decode_image(data, channels=3, expand_animations=False)
    except tf.errors.OpError as err:
        raise invalid(f"{field}: image cannot be decoded ({op_message(err)})") from None


def check_image(field, data, limits):
    """Reads only the header (and PNG chunk CRCs): no pixels are decoded here."""
    if len(data) > limits.max_image_bytes:
        raise invalid(f"{field}: {len(data)} bytes, larger than the image limit of "
                        f"{limits.max_image_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            fmt = image.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise invalid(f"{field}: image dimensions exceed the pixel limit") from None
    except Exception as err:  # PIL raises many types for garbage input
        raise invalid(f"{field}: not a decodable image ({type(err).__name__})") from None
    if fmt not in IMAGE_FORMATS:
        raise invalid(f"{field}: image format {fmt} is not one of {', '.join(IMAGE_FORMATS)}")
    if width <= 0 or height <= 0 or width * height > limits.max_image_pixels:
        raise invalid(f"{field}: image is {width}x{height}, over the limit of "
                      f"{limits.max_image_pixels} pixels")
    try:
        image.verify()
    except Exception as err:
        raise invalid(f"{field}: corrupt {fmt} image ({err})") from None


def op_message(err):
    """The failing op's own words from a tf.errors.OpError, without TF's framing.

    Functions report "Graph execution error:", a "Detected at node ..." block, then the
    message, then "[[{{node ...}}]] [Op:...]"; eager ops prefix "{{function_node ...}}".
    """
    text = re.split(r"\n\s*\[\[", err.message or str(err))[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    message = lines[-1] if lines else type(err).__name__
    message = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", message)
    return re.sub(r"\s*\[Op:[^\]]*\]$", "", message)[:500]
