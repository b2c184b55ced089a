"""JSON <-> tensors for TF Serving's REST predict API ("instances"/"inputs")."""

import base64

import numpy as np

from tfembed.serving.status import invalid
from tfembed.serving.tensors import _TYPES


def is_b64(value):
    return isinstance(value, dict) and set(value) == {"b64"}


def to_array(field, value, dtype, rank=None):
    """Nested JSON lists -> np.ndarray of the signature's dtype (DataType enum).

    rank: the input's rank when the signature knows it; deeper nesting is refused before
    numpy sees it (numpy fails past 64 dimensions).
    """
    shape, probe = [], value
    while isinstance(probe, list):
        shape.append(len(probe))
        if len(shape) > (32 if rank is None else rank):
            raise invalid(f"{field}: expected rank {'<= 32' if rank is None else rank}, but "
                          f"the lists nest at least {len(shape)} deep")
        probe = probe[0] if probe else None
    np_type = _TYPES[dtype][0] if dtype in _TYPES else object
    if np_type is not object:
        try:
            return np.asarray(value, dtype=np_type)
        except (ValueError, TypeError):
            raise invalid(f"{field}: expected a (non-ragged) nested list of numbers") from None
    flat = []

    def walk(v, depth):
        if depth < len(shape):
            if not isinstance(v, list) or len(v) != shape[depth]:
                raise invalid(f"{field}: ragged nested list at depth {depth}")
            for item in v:
                walk(item, depth + 1)
        elif is_b64(v):
            try:
                flat.append(base64.b64decode(v["b64"], validate=True))
            except (ValueError, TypeError):
                raise invalid(f"{field}: invalid base64 in {{'b64': ...}}") from None
        elif isinstance(v, str):
            # surrogatepass keeps lone surrogates as bytes the UTF-8 check rejects
            flat.append(v.encode("utf-8", "surrogatepass"))
        else:
            raise invalid(f"{field}: expected strings or {{'b64': ...}} objects")

    walk(value, 0)
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(shape)


def columns(body, signature):
    """Request body -> ({input_name: nested JSON value}, row_format)."""
    names = list(signature.inputs)
    row = "instances" in body
    if row == ("inputs" in body):
        raise invalid("request body: give exactly one of 'instances' or 'inputs'")
    if not row:
        inputs = body["inputs"]
        if isinstance(inputs, dict) and not is_b64(inputs):
            return inputs, row
        if len(names) != 1:
            raise invalid(f"inputs: signature '{signature.name}' needs named inputs {names}")
        return {names[0]: inputs}, row
    instances = body["instances"]
    if not isinstance(instances, list):
        raise invalid("instances: expected a list")
    keyed = bool(instances) and all(isinstance(x, dict) and not is_b64(x) for x in instances)
    if not keyed:
        if len(names) != 1:
            raise invalid(f"instances: signature '{signature.name}' needs objects with "
                          f"inputs {names}")
        return {names[0]: instances}, row
    out = {}
    for i, instance in enumerate(instances):
        if set(instance) != set(instances[0]):
            raise invalid(f"instances[{i}]: keys {sorted(instance)} differ from "
                          f"instances[0] {sorted(instances[0])}")
        for key, value in instance.items():
            out.setdefault(key, []).append(value)
    return out, row


def json_value(name, array):
    """Output array -> JSON; strings as UTF-8 text, or {"b64"} for *_bytes/binary."""
    if array.dtype != object:
        return array.tolist()

    def conv(b):
        if not name.endswith("_bytes"):
            try:
                return b.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return {"b64": base64.b64encode(b).decode("ascii")}

    flat = [conv(b) for b in array.reshape(-1)]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(array.shape).tolist()


def format_outputs(outputs, row):
    """{name: JSON value} -> {"predictions": ...} (row) or {"outputs": ...} (columnar)."""
    if not row:
        return {"outputs": next(iter(outputs.values())) if len(outputs) == 1 else outputs}
    if len(outputs) == 1:
        return {"predictions": next(iter(outputs.values()))}
    rows = len(next(iter(outputs.values())))
    return {"predictions": [{k: v[i] for k, v in outputs.items()} for i in range(rows)]}
