"""The exporter's publish step (tfembed.export.exporter.export): versions 1, 2, ... (the next
after the largest, gaps kept), an existing version never overwritten, a failing export leaves
no version directory and no temporary directory, and what is renamed into place is complete.
(Non-finite models refused unpublished: tests/export/test_exporter.py.)"""

import os

import numpy as np
import pytest

DIM, OUT = 8, 4


def _spec(bias=0.0):
    import keras

    from tfembed import scorers
    from tfembed.export import exporter

    keras.utils.set_random_seed(0)
    dense = keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(OUT)])
    w, b = dense.layers[0].get_weights()
    dense.layers[0].set_weights([w, b + bias])
    spec = exporter.ServingSpec(track=[dense], image_fn=dense, score_fn=scorers.dot,
                                image_kind="features", feature_dim=DIM, metric="dot")
    return spec, dense


def _listing(base):
    return sorted(os.listdir(base))


def _served_bias(path):
    """embed_image of the zero vector = the Dense bias the version was exported with."""
    import tensorflow as tf

    from tfembed.export.versions import load_saved_model

    sig = load_saved_model(path).signatures["embed_image"]
    return sig(features=tf.zeros([1, DIM]))["embedding"].numpy()[0]


def test_versions_are_numbered_one_two_and_published_complete(tmp_path, monkeypatch):
    from tfembed.export import exporter
    from tfembed.export.versions import SERVING_INFO, resolve_version

    base = tmp_path / "export"
    seen = []
    real_rename = os.rename

    def spy(src, dst):  # what is renamed into place is already a complete SavedModel
        seen.append((os.path.basename(src), os.path.basename(dst), os.path.exists(dst),
                     os.path.exists(os.path.join(src, "saved_model.pb")),
                     os.path.exists(os.path.join(src, "assets.extra", SERVING_INFO))))
        return real_rename(src, dst)

    monkeypatch.setattr(exporter.os, "rename", spy)
    spec, _ = _spec()
    first = exporter.export(spec, str(base))
    second = exporter.export(_spec(bias=1.0)[0], str(base))
    assert first == str(base / "1") and second == str(base / "2")
    assert _listing(base) == ["1", "2"]  # no temporary directory left next to them
    assert len(seen) == 2
    for (src, dst, dst_existed, has_pb, has_info), version in zip(seen, ("1", "2")):
        assert dst == version and not dst_existed and has_pb and has_info
        assert src != version and not src.isdigit()  # written elsewhere, under a non-version name
    assert resolve_version(str(base)) == str(base / "2")
    np.testing.assert_allclose(_served_bias(second) - _served_bias(first), 1.0, atol=1e-6)


def test_next_version_follows_the_largest_and_ignores_non_versions(tmp_path):
    from tfembed.export import exporter

    base = tmp_path / "export"
    assert exporter.next_version(str(base)) == 1  # no directory yet
    for name in ("1", "3", ".tmp-4-deadbeef", "notes"):
        (base / name).mkdir(parents=True)
    assert exporter.next_version(str(base)) == 4
    path = exporter.export(_spec()[0], str(base))
    assert path == str(base / "4")
    assert _listing(base) == [".tmp-4-deadbeef", "1", "3", "4", "notes"]  # others untouched


def test_an_existing_version_is_not_overwritten(tmp_path):
    from tfembed.export import exporter

    base = tmp_path / "export"
    first = exporter.export(_spec(bias=0.0)[0], str(base))
    before = _served_bias(first)
    files = sorted(os.listdir(first))
    with pytest.raises(FileExistsError, match="already exists"):
        exporter.export(_spec(bias=5.0)[0], str(base), version=1)
    assert _listing(base) == ["1"]  # nothing written beside it either
    assert sorted(os.listdir(first)) == files
    np.testing.assert_allclose(_served_bias(first), before, atol=1e-7)
    # an explicit new number is honoured
    assert exporter.export(_spec(bias=5.0)[0], str(base), version=7) == str(base / "7")
    assert _listing(base) == ["1", "7"]


def test_a_version_directory_made_by_someone_else_is_not_written_into(tmp_path):
    from tfembed.export import exporter

    base = tmp_path / "export"
    (base / "2").mkdir(parents=True)
    (base / "2" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        exporter.export(_spec()[0], str(base), version=2)
    assert os.listdir(base / "2") == ["keep.txt"]


def test_failure_after_the_savedmodel_is_written_leaves_nothing(tmp_path, monkeypatch):
    from tfembed.export import exporter
    from tfembed.export.versions import resolve_version

    base = tmp_path / "export"
    exporter.export(_spec()[0], str(base))  # version 1 exists
    written = []

    def fail(spec, path):  # the last step before the rename
        written.append(os.path.exists(os.path.join(path, "saved_model.pb")))
        raise OSError("disk full")

    monkeypatch.setattr(exporter, "_write_serving_info", fail)
    with pytest.raises(OSError, match="disk full"):
        exporter.export(_spec(bias=1.0)[0], str(base))
    assert written == [True]  # the failure came after a SavedModel was on disk
    assert _listing(base) == ["1"]  # no "2", no temporary directory
    assert resolve_version(str(base)) == str(base / "1")
    monkeypatch.undo()
    assert exporter.export(_spec()[0], str(base)) == str(base / "2")  # the number is not used up


def test_failing_warmup_check_publishes_nothing(tmp_path):
    from tfembed.export import exporter

    base = tmp_path / "export"
    spec, _ = _spec()
    warmup = [("no_such_signature", {"features": np.zeros((1, DIM), np.float32)})]
    with pytest.raises(exporter.ExportError, match="no signature 'no_such_signature'"):
        exporter.export(spec, str(base), warmup=warmup)
    assert _listing(base) == []
