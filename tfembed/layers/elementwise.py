"""Small element-wise layers that replace `keras.layers.Lambda` in towers: a Lambda holding a
Python lambda cannot be reloaded from a .keras file in safe mode, and the run bundle
(tfembed.export.run_bundle) reloads every tower."""

import keras


@keras.saving.register_keras_serializable(package="tfembed")
class Log1p(keras.layers.Layer):
    """log(1 + x): damped word counts for the bag-of-words encoder."""

    def call(self, x):
        return keras.ops.log1p(x)


@keras.saving.register_keras_serializable(package="tfembed")
class ScaledTanh(keras.layers.Layer):
    """a * tanh(b * x) (LeCun's scaled tanh: a = 1.7159, b = 2/3 by default)."""

    def __init__(self, a=1.7159, b=2.0 / 3.0, **kwargs):
        super().__init__(**kwargs)
        self.a, self.b = float(a), float(b)

    def call(self, x):
        return self.a * keras.ops.tanh(self.b * x)

    def get_config(self):
        return {**super().get_config(), "a": self.a, "b": self.b}


@keras.saving.register_keras_serializable(package="tfembed")
class NonZeroMask(keras.layers.Layer):
    """ids [N, L] -> float mask [N, L, 1], 1 where the id is not padding (0)."""

    def call(self, ids):
        return keras.ops.cast(keras.ops.not_equal(ids, 0), "float32")[..., None]
