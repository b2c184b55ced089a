"""`--images` galleries (embedded through the API, bad files skipped and listed, cached beside
the export) and `--server` (the same page answers over gRPC or REST from `tfembed serve`)."""

import io
import os

import numpy as np
import pytest
from PIL import Image

from tests.app.test_app_service import Refusing, make_client
from tfembed.app.gallery import cache_path


@pytest.fixture(scope="module")
def version(tiny_run):
    return os.path.join(tiny_run[0], "1")


@pytest.fixture(scope="module")
def model(version):
    import tfembed.api

    return tfembed.api.load(version)


@pytest.fixture
def image_dir(tmp_path, tiny_run):
    data = tiny_run[1]
    for i, name in enumerate(["b/two.png", "a/one.png", "c.jpg"]):
        path = tmp_path / "photos" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(data.images[i]).save(path)
    (tmp_path / "photos" / "broken.png").write_bytes(b"not an image")
    (tmp_path / "photos" / "readme.txt").write_text("not listed: not an image extension")
    return tmp_path / "photos"


def test_images_are_embedded_once_bad_files_listed_and_cached(model, version, image_dir):
    client, service = make_client(model, version, images=str(image_dir))
    ids = ["a/one.png", "b/two.png", "c.jpg"]
    assert service.gallery.ids == ids
    paths = [str(image_dir / i) for i in ids]
    np.testing.assert_allclose(service.gallery.embeddings, model.embed_image(paths), rtol=1e-5)
    status = client.get("/api/status").json()
    assert status["state"] == "ready" and status["done"] == status["total"] == 4
    assert [s["id"] for s in status["skipped"]] == ["broken.png"]
    # Search ranks the files by the export's dot scorer; the pictures are the files' bytes.
    query = "a bird with a red crown"
    scores = model.embed_image(paths) @ model.embed_text([query])[0]
    got = client.get("/api/search", params={"q": query, "k": 3}).json()["results"]
    assert [r["id"] for r in got] == [ids[j] for j in np.argsort(-scores)]
    assert client.get("/api/picture", params={"id": "c.jpg"}).content == \
        (image_dir / "c.jpg").read_bytes()
    listed = ["a/one.png", "b/two.png", "broken.png", "c.jpg"]
    cache = cache_path(version, listed, [str(image_dir / i) for i in listed])
    assert os.path.isfile(cache) and cache.startswith(
        os.path.join(os.path.dirname(version), ".tfembed_app_cache", "images-v1-"))

    cached_only = Refusing(model, "embed_image", "embedded again instead of reading the cache")
    _, again = make_client(cached_only, version, images=str(image_dir))
    assert again.gallery.ids == ids and again.progress.skipped[0][0] == "broken.png"
    np.testing.assert_array_equal(again.gallery.embeddings, service.gallery.embeddings)


def test_a_changed_file_is_embedded_again(model, version, image_dir):
    make_client(model, version, images=str(image_dir))
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 0, 255)).save(buf, format="PNG")
    (image_dir / "a" / "one.png").write_bytes(buf.getvalue())
    _, service = make_client(model, version, images=str(image_dir))
    np.testing.assert_allclose(service.gallery.embeddings[0],
                               model.embed_image([buf.getvalue()])[0], rtol=1e-5)


def test_no_images_there_is_an_error_naming_the_glob(model, version, tmp_path):
    _, service = make_client(model, version, images=str(tmp_path / "*.jpg"))
    assert service.progress.state == "failed" and "no image files" in service.progress.message


@pytest.fixture(scope="module")
def served(tiny_run):
    """`tfembed serve` of the tiny export, gRPC and REST on free ports."""
    from tfembed.serving.server import Server

    server = Server(tiny_run[0], "tiny", port=0, rest_api_port=0, file_system_poll_wait_seconds=0)
    server.start()
    yield server
    server.stop(grace=1)


def app_over(served, protocol, tiny_run, *extra):
    """`tfembed app --model ... --server ...` as the command builds it, on a TestClient."""
    from fastapi.testclient import TestClient

    from tfembed.app.command import build_parser, make_service
    from tfembed.app.server import create_app

    address = (f"127.0.0.1:{served.port}" if protocol == "grpc" else
               f"http://127.0.0.1:{served.rest_port}")
    args = build_parser().parse_args(["--model", tiny_run[0], "--server", address,
                                      "--model-name", "tiny", *extra])
    service = make_service(args)
    service.start(background=False)
    return TestClient(create_app(service)), service, address


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_the_page_over_a_server_answers_like_in_process(model, tiny_run, served, protocol):
    client, service, address = app_over(served, protocol, tiny_run)
    assert service.model.info["backend"] == protocol
    label = {"grpc": "gRPC", "rest": "REST"}[protocol]
    assert client.get("/api/info").json()["model"] == f"tiny ({label} {address})"
    query = "a small bird with a striped body"
    got = client.get("/api/search", params={"q": query}).json()["results"]
    assert [r["id"] for r in got] == list(model.search(query, 5)[0])
    deeper = client.get("/api/search", params={"q": query, "k": 8}).json()["results"]
    ids, embeddings = model.gallery()
    scores = embeddings @ model.embed_text([query])[0]
    assert [r["id"] for r in deeper] == [ids[j] for j in np.argsort(-scores)[:8]]
    image = io.BytesIO()
    Image.fromarray(tiny_run[1].images[5]).save(image, format="PNG")
    body = client.post("/api/classify", files={"image": ("x.png", image.getvalue())},
                       data={"classes": "a red bird\na blue bird"}).json()
    assert body["classes"][0]["name"] == model.classify(
        [image.getvalue()], ["a red bird", "a blue bird"]).predicted[0]
    protos = client.post("/api/classify", files={"image": ("x.png", image.getvalue())},
                         data={"classes": "\n".join(tiny_run[1].class_names)}).json()
    assert protos["predicted"] == model.classify([image.getvalue()]).predicted[0]


def test_an_images_gallery_over_rest_embeds_like_in_process(model, tiny_run, served, image_dir):
    """--images over REST: the files go to the server as b64, the broken one is listed."""
    _, service, _ = app_over(served, "rest", tiny_run, "--images", str(image_dir))
    assert service.progress.state == "ready"
    assert [i for i, _ in service.progress.skipped] == ["broken.png"]
    assert "INVALID_ARGUMENT" in service.progress.skipped[0][1]
    files = [str(image_dir / name) for name in ("a/one.png", "b/two.png", "c.jpg")]
    assert service.gallery.ids == ["a/one.png", "b/two.png", "c.jpg"]
    np.testing.assert_allclose(service.gallery.embeddings, model.embed_image(files),
                               rtol=1e-5, atol=1e-6)


def test_command_reports_a_missing_export(tmp_path, capsys):
    from tfembed.app.command import main

    assert main(["--model", str(tmp_path / "nowhere")]) == 2
    assert "model directory does not exist" in capsys.readouterr().err


def test_an_index_beside_the_export_is_the_gallery(model, version, tmp_path):
    import shutil

    from tfembed.index import build
    from tfembed.index.model_files import index_dir

    copy = str(tmp_path / "export" / "1")  # no run beside it: ids shown without pictures
    shutil.copytree(version, copy)
    ids, embeddings = model.gallery()
    build(ids[:4], embeddings[:4], "dot", backend="brute_force").save(index_dir(copy))
    client, service = make_client(model, copy)
    assert service.gallery.ids == list(ids[:4]) and "brute_force index" in service.notes[0]
    query = "a bird with a hooked beak"
    got = client.get("/api/search", params={"q": query, "k": 3}).json()["results"]
    scores = embeddings[:4] @ model.embed_text([query])[0]
    assert [r["id"] for r in got] == [ids[j] for j in np.argsort(-scores)[:3]]
    assert not any(r["picture"] for r in got)
