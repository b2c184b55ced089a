"""TensorProto <-> numpy without trusting the request.

tf.make_ndarray broadcasts a single value to whatever shape the proto declares,
so a 20-byte request declaring [1000000000] allocates gigabytes. Here the shape
is checked against the signature and the element count against the number of
values actually sent *before* anything is allocated.
"""

import numpy as np
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

from tfembed.serving.status import invalid

# DataType enum -> (numpy dtype, name of the repeated *_val field).
_TYPES = {
    types_pb2.DT_FLOAT: (np.float32, "float_val"),
    types_pb2.DT_DOUBLE: (np.float64, "double_val"),
    types_pb2.DT_INT32: (np.int32, "int_val"),
    types_pb2.DT_INT16: (np.int16, "int_val"),
    types_pb2.DT_INT8: (np.int8, "int_val"),
    types_pb2.DT_UINT8: (np.uint8, "int_val"),
    types_pb2.DT_INT64: (np.int64, "int64_val"),
    types_pb2.DT_BOOL: (np.bool_, "bool_val"),
    types_pb2.DT_STRING: (object, "string_val"),
}
_FROM_NUMPY = {np.dtype(t): e for e, (t, _) in _TYPES.items() if t is not object}


def dtype_name(enum):
    """DT_FLOAT -> 'float', as TF prints it."""
    return types_pb2.DataType.Name(enum)[3:].lower()


def from_proto(field, proto, dtype, shape, max_elements):
    """Checked TensorProto -> np.ndarray.

    field: name used in messages (e.g. "inputs['text']"); dtype: expected DataType
    enum; shape: expected dims (None for unknown) or None for unknown rank.
    """
    if proto.dtype != dtype:
        raise invalid(f"{field}: expected dtype {dtype_name(dtype)} but got "
                      f"{dtype_name(proto.dtype) if proto.dtype else 'unset'}")
    if dtype not in _TYPES:
        raise invalid(f"{field}: dtype {dtype_name(dtype)} is not supported by this server")
    if proto.tensor_shape.unknown_rank:
        raise invalid(f"{field}: tensor_shape must have a known rank")
    dims = [d.size for d in proto.tensor_shape.dim]
    for i, d in enumerate(dims):
        if d < 0:
            raise invalid(f"{field}: tensor_shape dim {i} is negative ({d})")
    if shape is not None:
        if len(dims) != len(shape):
            raise invalid(f"{field}: expected rank {len(shape)} (shape {_fmt(shape)}) "
                          f"but got rank {len(dims)} (shape {dims})")
        for i, (got, want) in enumerate(zip(dims, shape)):
            if want is not None and got != want:
                raise invalid(f"{field}: dim {i} must be {want} (shape {_fmt(shape)}) but is {got}")
    count = 1
    for d in dims:  # Python ints: no overflow, nothing allocated yet
        count *= d
    np_type, val_field = _TYPES[dtype]
    if dtype == types_pb2.DT_STRING:
        values = proto.string_val
        sent = len(values)
    elif proto.tensor_content:
        itemsize = np.dtype(np_type).itemsize
        sent, extra = divmod(len(proto.tensor_content), itemsize)
        if extra:
            raise invalid(f"{field}: tensor_content is not a multiple of {itemsize} bytes")
    else:
        values = getattr(proto, val_field)
        sent = len(values)
    if count > max_elements:
        raise invalid(f"{field}: tensor_shape {dims} declares {count} elements "
                      f"({sent} values sent), more than the {max_elements} allowed")
    if sent != count:
        raise invalid(f"{field}: tensor_shape {dims} declares {count} elements "
                      f"but {sent} values were sent")
    if dtype == types_pb2.DT_STRING:
        out = np.empty(count, dtype=object)
        out[:] = list(values)
        return out.reshape(dims)
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=np_type).reshape(dims)
    return np.asarray(values, dtype=np_type).reshape(dims)


def to_proto(array):
    """np.ndarray (or tf.Tensor .numpy()) -> TensorProto, as TF Serving returns it."""
    array = np.asarray(array)
    proto = tensor_pb2.TensorProto(tensor_shape=shape_proto(array.shape))
    if array.dtype.kind in "OSU":
        proto.dtype = types_pb2.DT_STRING
        proto.string_val.extend(
            v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in array.reshape(-1))
        return proto
    if array.dtype not in _FROM_NUMPY:
        raise TypeError(f"unsupported output dtype {array.dtype}")
    proto.dtype = _FROM_NUMPY[array.dtype]
    proto.tensor_content = np.ascontiguousarray(array).tobytes()  # host order, as TF does
    return proto


def shape_proto(shape):
    return tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(d)) for d in shape])


def _fmt(shape):
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def to_numpy(proto):
    """Trusted TensorProto (a response, or one we built) -> np.ndarray."""
    shape = [d.size for d in proto.tensor_shape.dim]
    count = 1
    for d in shape:
        count *= d
    return from_proto("tensor", proto, proto.dtype, shape, max(count, 1))
