"""Embed queries with an exported SavedModel's embed_text / embed_image signatures."""

import numpy as np

from tfembed.errors import ConfigError, DataError
from tfembed.export import signatures as sig
from tfembed.export.versions import load_saved_model, read_image_files


class QueryEncoder:
    def __init__(self, version_dir):
        self.path = version_dir
        self.signatures = load_saved_model(version_dir).signatures

    def _signature(self, name):
        if name not in self.signatures:
            raise ConfigError(f"{self.path} has no {name} signature; it has "
                              f"{sorted(self.signatures)}")
        return self.signatures[name]

    def embed_text(self, texts):
        import tensorflow as tf

        out = self._signature(sig.EMBED_TEXT)(**{sig.TEXT: tf.constant(list(texts), tf.string)})
        return out[sig.EMBEDDING].numpy()

    def embed_image_files(self, paths):
        import tensorflow as tf

        signature = self._signature(sig.EMBED_IMAGE)
        if sig.IMAGE not in signature.structured_input_signature[1]:
            raise ConfigError(f"{self.path} embeds image features, not image files")
        encoded = read_image_files(paths)
        try:
            return signature(**{sig.IMAGE: tf.constant(encoded)})[sig.EMBEDDING].numpy()
        except tf.errors.InvalidArgumentError as err:
            raise DataError(f"an image could not be decoded: {err.message.splitlines()[0]}",
                            ", ".join(paths)) from None


def flat(embeddings):
    """[N, ...] -> [N, D]: alignment models emit several vectors per item."""
    embeddings = np.asarray(embeddings, np.float32)
    return embeddings.reshape(len(embeddings), -1)
