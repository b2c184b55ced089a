"""Arrays <-> TF Serving's REST JSON (the columnar "inputs" / "outputs" form).

Strings follow TF Serving's json_tensor.cc, which decodes any `{"b64": ...}` object given for a
DT_STRING input whatever the input's name (the `_bytes` suffix only matters for outputs):
image bytes always go as b64; texts go as JSON strings (b64 only when not valid UTF-8).
Outputs come back as JSON strings (TF Serving writes the raw bytes; `tfembed serve` falls back
to b64 for bytes that are not UTF-8) or as b64 objects (outputs named `*_bytes`): both decode.
Floats survive exactly: float32 -> Python float is exact, and both servers print numbers that
read back to the same float32.
"""

import base64

import numpy as np

from tfembed.export import signatures as sig

# metadata dtype names (tensorflow.DataType enum names) -> numpy
DTYPES = {"DT_FLOAT": np.float32, "DT_DOUBLE": np.float64, "DT_HALF": np.float16,
          "DT_INT8": np.int8, "DT_UINT8": np.uint8, "DT_INT16": np.int16, "DT_INT32": np.int32,
          "DT_INT64": np.int64, "DT_UINT32": np.uint32, "DT_UINT64": np.uint64,
          "DT_BOOL": np.bool_, "DT_STRING": object}


def _b64(data):
    return {"b64": base64.b64encode(data).decode("ascii")}


def to_json(name, array):
    """One input array -> its nested JSON value."""
    array = np.asarray(array)
    if array.dtype != object and array.dtype.kind not in "SU":
        return array.tolist()

    def convert(value):
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if name in sig.TEXT_INPUTS:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return _b64(data)

    flat = np.empty(array.size, dtype=object)
    flat[:] = [convert(v) for v in array.reshape(-1)]
    return flat.reshape(array.shape).tolist()


def _string(value, field):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    raise ValueError(f"{field}: expected strings or {{'b64': ...}} objects, got "
                     f"{type(value).__name__}")


def from_json(field, value, dtype_name):
    """An output's nested JSON value -> np.ndarray of the signature's dtype (ValueError)."""
    dtype = DTYPES.get(dtype_name, object)
    if dtype is not object:
        return np.asarray(value, dtype=dtype)
    shape, probe = [], value
    while isinstance(probe, list):
        shape.append(len(probe))
        probe = probe[0] if probe else None
    flat = []

    def walk(v, depth):
        if depth < len(shape):
            if not isinstance(v, list) or len(v) != shape[depth]:
                raise ValueError(f"{field}: ragged nested list at depth {depth}")
            for item in v:
                walk(item, depth + 1)
        else:
            flat.append(_string(v, field))

    walk(value, 0)
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(shape)


def empty_outputs(spec):
    """Outputs of an empty batch without a request: JSON `[]` has no inner dims to say the
    input's rank, so servers refuse it; unknown output dims are 0."""
    return {k: np.zeros([d or 0 for d in (shape or [0])], DTYPES.get(dtype, object))
            for k, (dtype, shape) in spec.items()}


def shape_of(info):
    """TensorInfo JSON -> [dims] (None for unknown) or None for unknown rank. Proto JSON omits
    defaults: no "dim" is a scalar, a dim without "size" is 0; sizes are int64 strings."""
    shape = info.get("tensor_shape") or {}
    if shape.get("unknown_rank"):
        return None
    return [None if int(d.get("size", 0)) < 0 else int(d.get("size", 0))
            for d in shape.get("dim", [])]
