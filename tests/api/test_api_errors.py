"""What the Python API says when an export cannot do what is asked, and a gallery index
beside an export: every back end."""

import json
import subprocess
import sys

import numpy as np
import pytest

import tfembed
from tests.api.exports import (BACKENDS, free_port, GALLERY_IDS, PROTOTYPES, TEXTS, Exported,
                               open_backend, tiny_model)
from tfembed.api import SignatureError
from tfembed.errors import DataError, TfembedError


@pytest.fixture(scope="module")
def no_text_export(tmp_path_factory):
    """A run whose export has no text side (as WSABIE/DeViSE with attributes): image +
    prototypes only, with the results.json a recipe leaves beside it."""
    from tfembed.export.model_export import export_model

    run = tmp_path_factory.mktemp("run")
    model, _ = tiny_model("features")
    protos = np.asarray(model.encode_image(np.eye(3, 5, dtype="float32")))
    export_model(model, str(run / "export"), ("features", 5), prototypes=(PROTOTYPES, protos))
    (run / "results.json").write_text(json.dumps({
        "recipe": "wsabie", "dataset": "synthetic_birds", "command": ["recipes/wsabie.py"]}))
    return str(run / "export")


@pytest.fixture(params=BACKENDS)
def no_text(request, no_text_export, servers):
    with open_backend(request.param, no_text_export, servers) as model:
        yield model


def test_a_missing_signature_says_what_the_export_has(no_text):
    rows = np.eye(2, 5, dtype="float32")
    with pytest.raises(SignatureError, match="no classify signature.*classify_prototypes"):
        no_text.classify(rows, ["a red bird"])
    with pytest.raises(SignatureError, match="no embed_text signature"):
        no_text.embed_text(["a red bird"])
    with pytest.raises(SignatureError, match="no retrieve signature"):
        no_text.search("a red bird")
    assert no_text.classify(rows).shape == (2, len(PROTOTYPES))  # what it can do still works


def test_in_process_the_message_names_the_run_and_the_reason(no_text_export):
    with pytest.raises(SignatureError, match=r"recipe wsabie on synthetic_birds.*not free text"
                       r".*without class_texts"):
        tfembed.load(no_text_export).classify(np.eye(1, 5, dtype="float32"), ["a red bird"])
    with pytest.raises(SignatureError, match="no baked-in gallery"):
        tfembed.load(no_text_export).gallery()


def test_a_path_without_an_export_is_an_error_naming_it(tmp_path):
    with pytest.raises(DataError, match="nowhere.*does not exist"):
        tfembed.load(str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="no numbered version"):
        tfembed.load(str(tmp_path))


def test_connect_to_no_server_fails_at_connect():
    port = free_port()
    with pytest.raises(TfembedError, match=f"UNAVAILABLE.*'tiny' at 127.0.0.1:{port}|"
                       f"'tiny' at 127.0.0.1:{port}.*UNAVAILABLE"):
        tfembed.connect(f"127.0.0.1:{port}", "tiny", retries=0, timeout=5)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """An export with a brute-force gallery index of k=5 beside it (its retrieve has k=3)."""
    from tfembed.index import gallery_index
    from tfembed.index.model_files import index_dir

    exported = Exported(tmp_path_factory.mktemp("indexed") / "export", "features")
    index = gallery_index.build(GALLERY_IDS, exported.gallery, "cosine", backend="brute_force",
                                k=5)
    index.save(index_dir(exported.version))
    return exported


@pytest.mark.parametrize("backend", BACKENDS)
def test_search_uses_the_index_beside_the_export(indexed, servers, backend):
    with open_backend(backend, indexed.base, servers) as model:
        ids, scores = model.search(TEXTS[2], k=5)  # deeper than the in-graph retrieve's 3
    expected = indexed.score(indexed.gallery, indexed.text(TEXTS[2:3]))[:, 0]
    order = np.argsort(-expected)
    assert list(ids) == [GALLERY_IDS[i] for i in order]
    np.testing.assert_allclose(scores, expected[order], rtol=1e-4, atol=1e-5)


def test_in_process_a_deeper_search_without_the_gallery_file_says_why(indexed, tmp_path):
    import shutil

    copy = tmp_path / "export" / "1"
    skip = shutil.ignore_patterns("gallery.npz", "gallery_index")  # an export without them
    shutil.copytree(indexed.version, copy, ignore=skip)
    model = tfembed.load(str(copy))
    assert list(model.search(TEXTS[2], k=3)[0]) == list(tfembed.load(indexed.base).search(
        TEXTS[2], k=3)[0])  # retrieve still answers
    with pytest.raises(DataError, match=r"k=4: .*top 3.*needs assets.extra/gallery.npz and a "
                                        r"dot, cosine or neg_sq_distance scorer.*'cosine'"):
        model.search(TEXTS[2], k=4)


def test_import_tfembed_does_not_import_tensorflow():
    code = ("import sys, tfembed; tfembed.load, tfembed.connect; "
            "print('tensorflow' in sys.modules, 'tfembed.api' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "True"], out.stderr


def test_recorded_prototype_names_are_the_score_columns(no_text_export):
    """The exporter lists the prototypes in assets.extra/tfembed.json: they name classify's
    columns, in the order the graph's own `classes` output implies; an older export without
    the list gives no column names (None), not made-up ones."""
    from tfembed.export.versions import resolve_version
    from tfembed.index.model_files import serving_info

    version = resolve_version(no_text_export)
    path = f"{version}/assets.extra/tfembed.json"
    original = serving_info(version)
    rows = np.random.default_rng(0).normal(size=(6, 5)).astype("float32")
    got = tfembed.load(no_text_export).classify(rows)
    assert original["prototype_names"] == PROTOTYPES
    assert got.classes == PROTOTYPES
    assert got.predicted == [PROTOTYPES[i] for i in got.argmax(axis=1)]
    try:
        with open(path, "w") as f:
            json.dump({k: v for k, v in original.items() if k != "prototype_names"}, f)
        older = tfembed.load(no_text_export).classify(rows)
    finally:
        with open(path, "w") as f:
            json.dump(original, f)
    assert older.classes is None and older.predicted == got.predicted
