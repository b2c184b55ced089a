"""Tiny exports of a hand-built JointEmbedding (8x8 pixels or 5 features, 8-d, cosine) with a
baked-in gallery and prototypes, served in-process on free ports: the three back ends of the
Python API (`load`, `connect` over gRPC, `connect` over REST) are compared with the Keras model
they were exported from."""

import socket

import keras
import numpy as np
import pytest

TEXTS = ["a red bird", "a blue bird", "a small grey bird with a red crown", "a green frog"]
GALLERY_IDS = ["g0", "g1", "g2", "g3", "g4"]
PROTOTYPES = ["cardinal", "blue jay", "sparrow"]
SIZE = (8, 8)


def free_port():
    """A port nobody listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pixels(seed, count):
    return np.random.default_rng(seed).integers(0, 256, (count,) + SIZE + (3,), dtype=np.uint8)


def tiny_model(image_input):
    from tfembed.models import JointEmbedding
    from tfembed.text import TextPreprocessor

    keras.utils.set_random_seed(0)
    pre = TextPreprocessor(level="word", output="ids", max_length=6).adapt(TEXTS)
    ids = keras.Input((6,), dtype="int64")
    x = keras.layers.Embedding(pre.vocabulary_size(), 8, mask_zero=True)(ids)
    text = keras.Model(ids, keras.layers.GlobalAveragePooling1D()(x))
    shape = SIZE + (3,) if image_input == "pixels" else (5,)
    image_in = keras.Input(shape)
    flat = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255.0)(image_in)) \
        if image_input == "pixels" else image_in
    image = keras.Model(image_in, keras.layers.Dense(8)(flat))
    return JointEmbedding(image, text, scorer="cosine", task="ds_sje"), pre


class Exported:
    """The Keras model, its preprocessor, the gallery it baked in, and the export's paths."""

    def __init__(self, base, image_input):
        from tfembed.export.model_export import export_model

        self.kind = image_input
        self.model, self.pre = tiny_model(image_input)
        if image_input == "pixels":
            self.gallery_images = pixels(1, len(GALLERY_IDS)).astype(np.float32)
            proto_images = pixels(2, len(PROTOTYPES)).astype(np.float32)
            size = SIZE
        else:
            self.gallery_images = np.random.default_rng(1).normal(size=(5, 5)).astype("float32")
            proto_images = np.random.default_rng(2).normal(size=(3, 5)).astype("float32")
            size = 5
        self.gallery = np.asarray(self.model.encode_image(self.gallery_images))
        self.prototypes = np.asarray(self.model.encode_image(proto_images))
        self.base = str(base)
        self.version = export_model(
            self.model, self.base, (image_input, size), preprocessor=self.pre,
            gallery=(GALLERY_IDS, self.gallery), prototypes=(PROTOTYPES, self.prototypes), k=3,
            example_texts=TEXTS)

    def text(self, texts):
        return np.asarray(self.model.encode_text(self.pre(np.asarray(texts, object))))

    def image(self, rows):
        """Reference image embeddings: pixel rows go through the exporter's own decode path."""
        if self.kind == "pixels":
            import tensorflow as tf

            from tfembed.data.pipeline import decode_and_resize

            rows = np.stack([decode_and_resize(tf.io.encode_png(r), SIZE).numpy() for r in rows])
        return np.asarray(self.model.encode_image(np.asarray(rows, np.float32)))

    def score(self, images, texts):
        return np.asarray(self.model.score(images, texts))


@pytest.fixture(scope="session", params=["pixels", "features"])
def exported(request, tmp_path_factory):
    return Exported(tmp_path_factory.mktemp("api") / "export", request.param)


@pytest.fixture(scope="session")
def servers():
    """One in-process server per export base, started on first use."""
    from tfembed.serving.server import Server

    started = {}

    def get(base):
        if base not in started:
            srv = Server(base, "tiny", port=0, rest_api_port=0, file_system_poll_wait_seconds=0)
            srv.start()
            started[base] = srv
        return started[base]
    yield get
    for srv in started.values():
        srv.stop(grace=1)


BACKENDS = ["load", "grpc", "rest"]


def open_backend(backend, base, servers):
    """The export at `base` in process, or served by `tfembed serve` over gRPC or REST."""
    import tfembed

    if backend == "load":
        return tfembed.load(base)
    srv = servers(base)
    if backend == "grpc":
        return tfembed.connect(f"127.0.0.1:{srv.port}", "tiny")
    return tfembed.connect(f"http://127.0.0.1:{srv.rest_port}", "tiny")


@pytest.fixture(params=BACKENDS)
def api(request, exported, servers):
    """(back end, Exported): the same assertions run against all three."""
    with open_backend(request.param, exported.base, servers) as model:
        assert model.info["backend"] == {"load": "local"}.get(request.param, request.param)
        yield model, exported


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / "bird.png"
    from PIL import Image

    Image.fromarray(pixels(3, 1)[0]).save(path)
    return str(path)
