"""GoogLeNet / Inception v1 (Szegedy et al. 2015, "Going deeper with convolutions"), by hand.

keras.applications has no Inception v1. This is the 1024-d trunk of the paper's Table 1 (no
classifier), which is the image encoder Reed et al. 2016 use. Deliberate differences from the
paper, for a model trained from scratch in Keras:
- no local response normalisation (not in Keras, and later shown to be unnecessary); instead an
  optional BatchNorm after every conv (`batch_norm=False` by default keeps the paper's plain
  conv + bias + ReLU; True gives the easier-to-train "Inception-BN"-style variant);
- no auxiliary classifiers (they exist only to help training the 1000-way ImageNet head);
- pixels are scaled to [-1, 1] inside the model instead of subtracting the ImageNet mean;
- pooling uses padding "same" (Caffe's ceil-mode pooling gives the same 56/28/14/7 maps at 224).
"""

import keras

# Table 1: name -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}
# Table 1's "params" column (in K = 1024 weights, biases excluded) for the trunk, conv1 .. 5b.
# conv1 is listed as 2.7K although 7*7*3*64 = 9.2K; the rest match the filter counts exactly.
TABLE1_PARAMS_K = (2.7, 112, 159, 380, 364, 437, 463, 580, 840, 1072, 1388)


def _conv(x, filters, kernel, name, batch_norm, strides=1):
    x = keras.layers.Conv2D(filters, kernel, strides, padding="same", use_bias=not batch_norm,
                            name=name)(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=name + "_bn")(x)
    return keras.layers.ReLU(name=name + "_relu")(x)


def _inception(x, name, batch_norm):
    n1, r3, n3, r5, n5, pp = INCEPTION[name]
    p = f"inception_{name}_"
    b1 = _conv(x, n1, 1, p + "1x1", batch_norm)
    b3 = _conv(_conv(x, r3, 1, p + "3x3_reduce", batch_norm), n3, 3, p + "3x3", batch_norm)
    b5 = _conv(_conv(x, r5, 1, p + "5x5_reduce", batch_norm), n5, 5, p + "5x5", batch_norm)
    bp = keras.layers.MaxPooling2D(3, 1, padding="same", name=p + "pool")(x)
    bp = _conv(bp, pp, 1, p + "pool_proj", batch_norm)
    return keras.layers.Concatenate(name=p + "output")([b1, b3, b5, bp])


def googlenet(input_shape=(224, 224, 3), batch_norm=False, dropout=0.0, weights=None,
              preprocess=True):
    """Build the GoogLeNet trunk: images -> 1024-d global-average-pooled features.

    `input_shape` (H, W, 3), any size >= ~32 px (the paper uses 224).
    `batch_norm`: BN after each conv instead of conv biases (see module docstring).
    `dropout`: rate applied to the pooled vector (the paper uses 0.4 before its classifier).
    `weights`: None or the path of a Keras `.weights.h5` file saved from the same configuration.
    `preprocess`: inputs are RGB in [0, 255], scaled to [-1, 1] inside the model.
    """
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    if preprocess:
        x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocess")(x)
    x = _conv(x, 64, 7, "conv1_7x7", batch_norm, strides=2)
    x = keras.layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    x = _conv(x, 64, 1, "conv2_3x3_reduce", batch_norm)
    x = _conv(x, 192, 3, "conv2_3x3", batch_norm)
    x = keras.layers.MaxPooling2D(3, 2, padding="same", name="pool2")(x)
    for name in ("3a", "3b", "pool3", "4a", "4b", "4c", "4d", "4e", "pool4", "5a", "5b"):
        if name.startswith("pool"):
            x = keras.layers.MaxPooling2D(3, 2, padding="same", name=name)(x)
        else:
            x = _inception(x, name, batch_norm)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    model = keras.Model(inputs, x, name="googlenet")
    if weights is not None:
        model.load_weights(weights)
    return model
