"""EfficientNet-Lite0 as a Keras functional model, plus a loader for the PyTorch weights.

Architecture and weight layout follow shared/data/weights/efficientnet_lite0/README.md
("Architecture exactly as implemented ..."): ReLU6, no squeeze-excitation, BN eps 1e-3,
TF "same" padding (asymmetric for stride 2, which is why no manual ZeroPadding is used),
no conv bias. Drop-connect (training only) is not implemented: the tower is used frozen.
"""

import re

import keras
import numpy as np

from tfembed.errors import DataError

# (expansion, kernel, first stride, out channels, repeats): the official block strings.
_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
           (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
_BN = dict(epsilon=1e-3, momentum=0.99)


def _conv_bn(x, filters, kernel, strides, name, bn_name, relu=True, depthwise=False):
    if depthwise:
        x = keras.layers.DepthwiseConv2D(kernel, strides, padding="same", use_bias=False, name=name)(x)
    else:
        x = keras.layers.Conv2D(filters, kernel, strides, padding="same", use_bias=False, name=name)(x)
    x = keras.layers.BatchNormalization(name=bn_name, **_BN)(x)
    return keras.layers.ReLU(max_value=6.0, name=bn_name + "_relu")(x) if relu else x


def efficientnet_lite0(weights=None, include_top=False, pooling="avg", input_shape=(224, 224, 3),
                       preprocess=True):
    """Build EfficientNet-Lite0.

    `weights`: None (random init) or the path of `efficientnet_lite0_torch.npz`.
    `include_top`: add dropout 0.2 + the 1000-way Dense logits (implies average pooling).
    `pooling`: "avg", "max" or None (7x7x1280 map) when there is no top.
    `preprocess`: inputs are RGB in [0, 255] and `(x - 127) / 128` (README "Preprocessing")
    is applied inside the model; with False the inputs are already preprocessed.
    """
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    if preprocess:
        x = keras.layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="preprocess")(x)
    x = _conv_bn(x, 32, 3, 2, "stem_conv", "stem_bn")
    cin, i = 32, 0
    for e, k, s, cout, repeats in _STAGES:
        for r in range(repeats):
            stride = s if r == 0 else 1
            block_in, p = x, f"block{i}_"
            if e != 1:
                x = _conv_bn(x, cin * e, 1, 1, p + "expand_conv", p + "expand_bn")
            x = _conv_bn(x, None, k, stride, p + "dwconv", p + "dw_bn", depthwise=True)
            x = _conv_bn(x, cout, 1, 1, p + "project_conv", p + "project_bn", relu=False)
            if stride == 1 and cin == cout:  # residual: blocks 2, 4, 6, 7, 9, 10, 12, 13, 14
                x = keras.layers.Add(name=p + "add")([block_in, x])
            cin, i = cout, i + 1
    x = _conv_bn(x, 1280, 1, 1, "head_conv", "head_bn")
    if include_top or pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    elif pooling is not None:
        raise ValueError(f"pooling must be 'avg', 'max' or None, got {pooling!r}")
    if include_top:
        x = keras.layers.Dropout(0.2, name="top_dropout")(x)
        x = keras.layers.Dense(1000, name="logits")(x)
    model = keras.Model(inputs, x, name="efficientnet_lite0")
    if weights is not None:
        load_torch_npz(model, weights)
    return model


_BLOCK_PARTS = {"expand_conv": "_expand_conv", "expand_bn": "_bn0", "dwconv": "_depthwise_conv",
                "dw_bn": "_bn1", "project_conv": "_project_conv", "project_bn": "_bn2"}
_TOP = {"stem_conv": "_conv_stem", "stem_bn": "_bn0", "head_conv": "_conv_head", "head_bn": "_bn1",
        "logits": "_fc"}


def _torch_prefix(layer_name):
    """State-dict prefix of a Keras layer (README "Weight layout", key names)."""
    if layer_name in _TOP:
        return _TOP[layer_name]
    m = re.fullmatch(r"block(\d+)_(\w+)", layer_name)
    if m and m.group(2) in _BLOCK_PARTS:
        return f"_blocks.{m.group(1)}.{_BLOCK_PARTS[m.group(2)]}"
    return None


def load_torch_npz(model, npz_path):
    """Copy the PyTorch state_dict arrays of `npz_path` into `model` (built by `efficientnet_lite0`).

    Raises DataError naming the key if a key is missing, unused or of the wrong shape.
    `_fc.*` is ignored when the model has no top; `num_batches_tracked` is always ignored.
    """
    try:
        with np.load(npz_path) as npz:
            state = {k: npz[k] for k in npz.files}
    except OSError as e:
        raise DataError(f"cannot read EfficientNet-Lite0 weights: {e}", path=npz_path) from e
    load_torch_state(model, state, source=npz_path)


def load_torch_state(model, state, source=None):
    """Same as `load_torch_npz` for an in-memory mapping key -> array (`source` names it in errors)."""
    used = set()

    def take(key, layer):
        if key not in state:
            raise DataError(f"missing key {key!r} for Keras layer {layer.name!r}", path=source)
        used.add(key)
        return np.asarray(state[key], np.float32)

    for layer in model.layers:
        if not layer.weights:
            continue
        p = _torch_prefix(layer.name)
        if p is None:
            raise DataError(f"Keras layer {layer.name!r} has no state_dict counterpart", path=source)
        if isinstance(layer, keras.layers.DepthwiseConv2D):  # (C, 1, kh, kw) -> (kh, kw, C, 1)
            arrays = [(p + ".weight", take(p + ".weight", layer).transpose(2, 3, 0, 1))]
        elif isinstance(layer, keras.layers.Conv2D):  # (out, in, kh, kw) -> (kh, kw, in, out)
            arrays = [(p + ".weight", take(p + ".weight", layer).transpose(2, 3, 1, 0))]
        elif isinstance(layer, keras.layers.BatchNormalization):
            arrays = [(p + s, take(p + s, layer))
                      for s in (".weight", ".bias", ".running_mean", ".running_var")]
        elif isinstance(layer, keras.layers.Dense):
            arrays = [(p + ".weight", take(p + ".weight", layer).T), (p + ".bias", take(p + ".bias", layer))]
        else:
            raise DataError(f"unexpected weighted layer {layer.name!r}", path=source)
        for (key, a), w in zip(arrays, layer.weights):
            if tuple(a.shape) != tuple(w.shape):
                raise DataError(f"key {key!r}: shape {a.shape} (after transpose) does not fit "
                                f"Keras weight {w.path} of shape {tuple(w.shape)}", path=source)
        layer.set_weights([a for _, a in arrays])
    has_top = any(layer.name == "logits" for layer in model.layers)
    unused = sorted(k for k in state if k not in used and not k.endswith("num_batches_tracked")
                    and (has_top or not k.startswith("_fc.")))
    if unused:
        raise DataError(f"{len(unused)} unused state_dict key(s), e.g. {unused[:3]}", path=source)
