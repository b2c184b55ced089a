"""One branch of Wang et al.'s two-branch network (CVPR 2016, Sec. 3.1):
FC -> ReLU (-> BN) (-> dropout) -> FC -> L2 normalisation."""

import keras


def embedding_branch(input_dim, hidden=2048, output=512, batch_norm=True, dropout=0.0, name="branch"):
    """Keras functional model [N, input_dim] -> unit-norm [N, output]."""
    inputs = keras.Input((int(input_dim),), name=f"{name}_input")
    x = keras.layers.Dense(hidden, name=f"{name}_fc1")(inputs)
    x = keras.layers.ReLU(name=f"{name}_relu")(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    x = keras.layers.Dense(output, name=f"{name}_fc2")(x)
    x = keras.layers.UnitNormalization(name=f"{name}_l2norm")(x)
    return keras.Model(inputs, x, name=name)
