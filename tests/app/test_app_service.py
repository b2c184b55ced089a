"""The app's JSON API in process (FastAPI's TestClient) over the tiny export, in process
(`tfembed.load`) and over gRPC (`tfembed.connect` to `tfembed serve`): answers equal the
export's own signatures and the data set's pixels; bad requests get a 4xx JSON message."""

import io
import os

import numpy as np
import pytest
from PIL import Image

QUERY = "a bird with a blue body"


def png(pixels):
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def make_client(model, version, **kwargs):
    from fastapi.testclient import TestClient

    from tfembed.app.server import create_app
    from tfembed.app.service import AppService

    service = AppService(model, version, **kwargs)
    service.start(background=False)
    return TestClient(create_app(service)), service


@pytest.fixture(scope="module")
def version(tiny_run):
    return os.path.join(tiny_run[0], "1")


@pytest.fixture(scope="module")
def model(version):
    import tfembed.api

    return tfembed.api.load(version)


@pytest.fixture(scope="module")
def client(model, version):
    return make_client(model, version)[0]


def test_search_is_the_exports_retrieve_and_deeper_searches_rank_by_its_scorer(client, model):
    body = client.get("/api/search", params={"q": QUERY}).json()
    ids, scores = model.search(QUERY, 5)
    assert [r["id"] for r in body["results"]] == list(ids)
    assert [r["rank"] for r in body["results"]] == [1, 2, 3, 4, 5]
    # k beyond the export's top 5: every gallery item by the dot scorer.
    deeper = client.get("/api/search", params={"q": QUERY, "k": 9}).json()["results"]
    gallery_ids, embeddings = model.gallery()
    scores = embeddings @ model.embed_text([QUERY])[0]
    assert [r["id"] for r in deeper] == [gallery_ids[j] for j in np.argsort(-scores)[:9]]
    np.testing.assert_allclose([r["score"] for r in deeper], np.sort(scores)[::-1][:9], rtol=1e-5)


def test_pictures_are_the_data_sets_pixels(client, tiny_run):
    _, data = tiny_run
    response = client.get("/api/picture", params={"id": data.image_ids[7]})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(response.content))),
                                  data.images[7])
    missing = client.get("/api/picture", params={"id": "no/such"})
    assert missing.status_code == 404 and "no/such" in missing.json()["error"]


def test_similar_excludes_the_image_itself(client, model):
    ids, embeddings = model.gallery()
    body = client.get("/api/similar", params={"id": ids[3], "k": 4}).json()
    order = [ids[j] for j in np.argsort(-(embeddings @ embeddings[3])) if j != 3]
    assert [r["id"] for r in body["results"]] == order[:4]
    assert client.get("/api/similar", params={"id": "nope"}).status_code == 404


def test_classify_prototypes_and_typed_classes(client, model, tiny_run):
    _, data = tiny_run
    image = png(data.images[10])
    info = client.get("/api/info").json()
    assert info["classes"] == list(data.class_names) and info["classify"]
    body = client.post("/api/classify", files={"image": ("b.png", image, "image/png")},
                       data={"classes": "\n".join(data.class_names)}).json()
    assert body["classes"][0]["name"] == model.classify([image]).predicted[0]
    assert body["source"] == "the export's class prototypes"
    typed = ["a red bird", "a bird with a forked tail"]
    body = client.post("/api/classify", files={"image": ("b.png", image, "image/png")},
                       data={"classes": "\n".join(typed)}).json()
    expected = model.classify([image], typed)
    assert body["classes"][0]["name"] == expected.predicted[0]
    assert sorted(c["probability"] for c in body["classes"]) == pytest.approx(
        sorted(expected[0].tolist()), rel=1e-5)


@pytest.mark.parametrize("request_kwargs, status, message", [
    ({"files": {"image": ("notes.txt", b"hello", "text/plain")}, "data": {"classes": "a"}},
     400, "notes.txt is not an image"),
    ({"data": {"classes": "a"}}, 400, "choose an image file"),
    ({"files": {"image": ("b.png", None, "image/png")}, "data": {"classes": " \n"}},
     400, "class list is empty"),
])
def test_bad_classify_requests_get_a_message(client, tiny_run, request_kwargs, status, message):
    files = request_kwargs.get("files")
    if files and files["image"][1] is None:
        files = {"image": ("b.png", png(tiny_run[1].images[0]), "image/png")}
    response = client.post("/api/classify", files=files, data=request_kwargs["data"])
    assert response.status_code == status and message in response.json()["error"]


def test_bad_search_requests_get_a_message(client):
    assert "type a description" in client.get("/api/search", params={"q": " "}).json()["error"]
    response = client.get("/api/search", params={"q": "x", "k": "many"})
    assert response.status_code == 400 and "k" in response.json()["error"]


def test_upload_over_the_limit_is_413(model, version, tiny_run):
    from fastapi.testclient import TestClient

    from tfembed.app.server import create_app
    from tfembed.app.service import AppService

    client = TestClient(create_app(AppService(model, version), max_upload_bytes=50))
    response = client.post("/api/classify", files={"image": ("b.png", png(tiny_run[1].images[0]),
                                                             "image/png")}, data={"classes": "a"})
    assert response.status_code == 413 and "b.png is larger than" in response.json()["error"]


class Refusing:
    """`model` with one method refused: proves the app took another path (the API's `search`,
    the gallery cache)."""

    def __init__(self, model, method, why):
        self.model, self.method, self.why = model, method, why

    def __getattr__(self, name):
        if name == self.method:
            def refused(*args, **kwargs):
                raise AssertionError(self.why)
            return refused
        return getattr(self.model, name)


def test_deeper_searches_in_process_are_the_apis_search(model, version):
    search_only = Refusing(model, "embed_text",
                           "the app ranked the gallery itself instead of calling search")
    client, _ = make_client(search_only, version)
    deeper = client.get("/api/search", params={"q": QUERY, "k": 9}).json()["results"]
    ids, scores = model.search(QUERY, 9)  # past retrieve's 5: the baked gallery by its scorer
    assert len(ids) == 9 and [r["id"] for r in deeper] == list(ids)
    np.testing.assert_allclose([r["score"] for r in deeper], scores, rtol=1e-6)
