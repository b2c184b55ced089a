"""The Python API answers like the Keras model it was exported from, in process (`load`) and
over gRPC and REST (`connect`): the same assertions against all three back ends and both image
inputs."""

import numpy as np
import pytest

from tests.api.exports import GALLERY_IDS, PROTOTYPES, TEXTS, pixels
from tfembed.api import Probabilities, SignatureError
from tfembed.errors import DataError


def images_for(exported, seed=5, count=3):
    """(what the API is given, the rows the Keras model is given)."""
    if exported.kind == "pixels":
        rows = pixels(seed, count)
        return list(rows), rows
    rows = np.random.default_rng(seed).normal(size=(count, 5)).astype("float32")
    return rows, rows


def test_embed_text_equals_the_model(api):
    model, exported = api
    got = model.embed_text(TEXTS)
    assert got.shape == (len(TEXTS), 8)
    np.testing.assert_allclose(got, exported.text(TEXTS), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.embed_text("a blue bird"), exported.text(["a blue bird"]),
                               rtol=1e-5, atol=1e-6)


def test_embed_image_equals_the_model(api):
    model, exported = api
    given, rows = images_for(exported)
    np.testing.assert_allclose(model.embed_image(given), exported.image(rows), rtol=1e-4,
                               atol=1e-5)


def test_embed_image_takes_paths_bytes_and_arrays_alike(api, image_file):
    model, exported = api
    if exported.kind != "pixels":
        with pytest.raises(DataError, match="precomputed image features"):
            model.embed_image([image_file])
        return
    with open(image_file, "rb") as f:
        encoded = f.read()
    from PIL import Image

    array = np.asarray(Image.open(image_file).convert("RGB"))
    by_path, by_bytes, by_array = (model.embed_image(x) for x in ([image_file], [encoded], [array]))
    np.testing.assert_allclose(by_path, exported.image(array[None]), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(by_bytes, by_path)
    np.testing.assert_array_equal(by_array, by_path)


def test_classify_is_a_softmax_whose_argmax_is_the_models(api):
    model, exported = api
    given, rows = images_for(exported, count=4)
    classes = ["a red bird", "a blue bird", "a green frog"]
    got = model.classify(given, classes)
    scores = exported.score(exported.image(rows), exported.text(classes))
    assert isinstance(got, Probabilities) and got.shape == (4, 3)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(got.argmax(axis=1), scores.argmax(axis=1))
    np.testing.assert_allclose(got.scores, scores, rtol=1e-4, atol=1e-5)
    assert got.classes == classes
    assert got.predicted == [classes[i] for i in scores.argmax(axis=1)]


def test_classify_without_class_texts_uses_the_baked_in_classes(api):
    model, exported = api
    given, rows = images_for(exported, seed=7, count=4)
    got = model.classify(given)
    scores = exported.score(exported.image(rows), exported.prototypes)
    assert got.shape == (4, len(PROTOTYPES))
    np.testing.assert_array_equal(got.argmax(axis=1), scores.argmax(axis=1))
    assert got.predicted == [PROTOTYPES[i] for i in scores.argmax(axis=1)]


def test_search_ranks_the_gallery_like_the_model(api):
    model, exported = api
    query = "a small grey bird with a red crown"
    ids, scores = model.search(query, k=2)
    expected = exported.score(exported.gallery, exported.text([query]))[:, 0]
    order = np.argsort(-expected)
    assert ids.shape == scores.shape == (2,)
    assert list(ids) == [GALLERY_IDS[i] for i in order[:2]]
    np.testing.assert_allclose(scores, expected[order[:2]], rtol=1e-4, atol=1e-5)
    many_ids, many_scores = model.search(TEXTS[:2], k=3)
    assert many_ids.shape == many_scores.shape == (2, 3)
    assert many_ids[0, 0] == GALLERY_IDS[np.argmax(exported.score(
        exported.gallery, exported.text(TEXTS[:1]))[:, 0])]


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_search_refuses_a_k_that_is_not_a_count(api, k):
    model, _ = api
    with pytest.raises(DataError, match="k must be an integer >= 1"):
        model.search("a red bird", k=k)


@pytest.mark.parametrize("k", [4, 9])
def test_search_deeper_than_retrieve_ranks_the_gallery_in_process_only(api, k):
    """4 > the top 3 the export's retrieve returns (5 gallery items). In process the baked-in
    gallery is ranked by the export's cosine scorer (9: all 5); a server cannot read it, so
    it refuses rather than truncate silently."""
    model, exported = api
    query = TEXTS[2]
    if model.info["backend"] != "local":
        with pytest.raises(DataError, match=f"k={k}: .*top 3.*tfembed.load"):
            model.search(query, k=k)
        return
    ids, scores = model.search(query, k=k)
    expected = exported.score(exported.gallery, exported.text([query]))[:, 0]
    order = np.argsort(-expected)[:k]
    assert list(ids) == [GALLERY_IDS[i] for i in order] and len(ids) == min(k, 5)
    np.testing.assert_allclose(scores, expected[order], rtol=1e-4, atol=1e-5)
    top3 = model.search(query, k=3)  # still the in-graph retrieve: the same first three
    assert list(top3[0]) == list(ids[:3])
    many, _ = model.search(TEXTS[:2], k=k)
    assert many.shape == (2, min(k, 5))


def test_signatures_and_info_say_what_the_export_offers(api):
    model, exported = api
    sigs = model.signatures
    assert {"embed_text", "embed_image", "classify", "classify_prototypes", "retrieve"} <= set(sigs)
    image_input = "image" if exported.kind == "pixels" else "features"
    assert image_input in sigs["embed_image"]["inputs"]
    assert model.info["image_input"] == image_input
    assert sigs["retrieve"]["outputs"]["ids"] == [None, 3]


def test_an_unreadable_image_file_is_named(api, tmp_path):
    model, exported = api
    if exported.kind != "pixels":
        pytest.skip("a features export takes no files")
    missing = str(tmp_path / "no-such-bird.jpg")
    with pytest.raises(DataError, match="no-such-bird.jpg"):
        model.embed_image([missing])
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image at all")
    good = list(pixels(1, 1))
    with pytest.raises(DataError, match="broken.jpg"):
        model.embed_image(good + [str(bad)])
    with pytest.raises(DataError, match=r"images\[1\]"):
        model.classify(good + [b"garbage"], ["a red bird"])


def test_gallery_is_the_baked_in_one_in_process_only(api):
    model, exported = api
    if model.info["backend"] != "local":
        with pytest.raises(SignatureError, match="gallery.*not reachable over"):
            model.gallery()
        return
    ids, embeddings = model.gallery()
    assert list(ids) == GALLERY_IDS
    np.testing.assert_allclose(embeddings, exported.gallery, rtol=1e-6)
