"""The exporter: empty batches, classify without classes, non-finite models refused unpublished.

The model is small but built from the real towers (a char-CNN text tower, a conv + batch norm
image tower): those are what fail on a 0-row batch inside the graph.
"""

import os

import numpy as np
import pytest

GALLERY, CLASSES, K, DIM = 5, 3, 3, 4
TEXTS = ["a red bird", "small blue wings"]


def _spec(nan_weights=False, nan_gallery=False):
    import keras
    import tensorflow as tf

    from tfembed import scorers
    from tfembed.export import exporter
    from tfembed.towers.text import CHAR_ALPHABET, build_preprocessor, build_text_encoder

    keras.utils.set_random_seed(0)
    preprocessor = build_preprocessor("char_cnn", max_length=16)
    text_model = build_text_encoder("char_cnn", DIM, vocab_size=len(CHAR_ALPHABET) + 2,
                                    max_length=16, filters=(8,), kernel=3, pool=2)
    text_model(preprocessor(tf.constant(["build"])))  # builds the preprocessor for export
    pixels = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3)(pixels)
    x = keras.layers.BatchNormalization()(x)
    image_model = keras.Model(pixels, keras.layers.Dense(DIM)(
        keras.layers.GlobalAveragePooling2D()(x)))
    if nan_weights:
        kernel, bias = text_model.get_layer("text_projection").get_weights()
        text_model.get_layer("text_projection").set_weights([kernel * np.nan, bias])
    rng = np.random.default_rng(0)
    gallery = rng.normal(size=(GALLERY, DIM)).astype("f4")
    if nan_gallery:
        gallery[2, 1] = np.inf
    spec = exporter.ServingSpec(
        track=[image_model, text_model, preprocessor], image_fn=lambda x: image_model(x / 255.0),
        score_fn=scorers.dot, image_kind="pixels", image_size=(16, 16),
        text_fn=lambda s: text_model(preprocessor(s)),
        prototypes=([f"class-{i}" for i in range(CLASSES)],
                    rng.normal(size=(CLASSES, DIM)).astype("f4")),
        gallery=([f"img-{i}" for i in range(GALLERY)], gallery), k=K, metric="dot")
    png = tf.io.encode_png(tf.cast(tf.random.uniform([20, 20, 3], 0, 255, seed=1), tf.uint8))
    return spec, exporter.warmup_requests(spec, png.numpy(), TEXTS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from tfembed.export import exporter

    spec, warmup = _spec()
    base = str(tmp_path_factory.mktemp("export") / "export")
    return exporter.export(spec, base, model_name="m", warmup=warmup), warmup


@pytest.fixture(scope="module")
def signatures(exported):
    from tfembed.export.versions import load_saved_model

    return load_saved_model(exported[0]).signatures


def _empty():
    import tensorflow as tf

    return tf.constant([], tf.string)


def test_empty_batches_give_zero_rows_of_the_right_shape(signatures):
    import tensorflow as tf

    cases = {
        "embed_text": ({"text": _empty()}, {"embedding": [0, DIM]}),
        "serving_default": ({"text": _empty()}, {"embedding": [0, DIM]}),
        "embed_image": ({"image": _empty()}, {"embedding": [0, DIM]}),
        "classify": ({"image": _empty(), "class_texts": tf.constant(TEXTS)},
                     {"scores": [0, len(TEXTS)]}),
        "classify_prototypes": ({"image": _empty()}, {"scores": [0, CLASSES], "classes": [0]}),
        "retrieve": ({"text": _empty()}, {"ids": [0, K], "scores": [0, K]}),
    }
    assert set(cases) == set(signatures)  # every signature the exporter builds is covered
    for name, (inputs, shapes) in cases.items():
        outputs = signatures[name](**inputs)
        assert {k: v.shape.as_list() for k, v in outputs.items()} == shapes, name


def test_non_empty_batches_are_unchanged(exported, signatures):
    import tensorflow as tf

    _, warmup = exported
    one, two = tf.constant(TEXTS[:1]), tf.constant(TEXTS)
    pair = signatures["embed_text"](text=two)["embedding"].numpy()
    np.testing.assert_allclose(signatures["embed_text"](text=one)["embedding"].numpy(),
                               pair[:1], rtol=1e-5, atol=1e-6)
    image = dict(warmup)["embed_image"]["image"]
    scores = signatures["classify"](image=tf.constant(image), class_texts=two)["scores"].numpy()
    embedded = signatures["embed_image"](image=tf.constant(image))["embedding"].numpy()
    np.testing.assert_allclose(scores, embedded @ pair.T, rtol=1e-5, atol=1e-5)


def test_classify_without_class_texts_is_invalid_argument(exported, signatures):
    import tensorflow as tf

    image = tf.constant(dict(exported[1])["embed_image"]["image"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="class_texts is empty"):
        signatures["classify"](image=image, class_texts=_empty())


def test_served_empty_batch_answers_zero_rows(exported):
    """Through the local server (gRPC), as a client of TF Serving would see it."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    from tfembed.serving.server import Server
    from tfembed.serving.testing import predict_request

    base = os.path.dirname(exported[0])
    with Server(base, "m", port=0, file_system_poll_wait_seconds=0) as srv, \
            grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        response = stub.Predict(predict_request(
            "embed_text", {"text": np.array([], dtype=object)}, model="m"), timeout=30)
        assert tf.make_ndarray(response.outputs["embedding"]).shape == (0, DIM)
        assert srv.manager.get("m").warmup_count == len(exported[1])  # all 5 replayed


def test_warmup_covers_every_signature(exported):
    assert [name for name, _ in exported[1]] == [
        "embed_image", "embed_text", "classify", "retrieve", "classify_prototypes"]


@pytest.mark.parametrize("damage,match", [
    ({"nan_weights": True}, "signature 'embed_text' output 'embedding' is not finite"),
    ({"nan_gallery": True}, "gallery embedding row 2 \\('img-2'\\) is not finite"),
])
def test_non_finite_model_is_refused_and_nothing_published(tmp_path, damage, match):
    from tfembed.errors import TfembedError
    from tfembed.export import exporter

    spec, warmup = _spec(**damage)
    base = tmp_path / "export"
    with pytest.raises(TfembedError, match=match):  # the CLI prints it and exits 2
        exporter.export(spec, str(base), model_name="m", warmup=warmup)
    assert sorted(os.listdir(base)) == []  # no version directory, no temporary left behind
