"""Fixtures for the app tests: a tiny export inside a run directory, the app as a real process,
and the system Chromium for the browser tests.

The export is the contract's own (a small JointEmbedding over 32x32 pixels, saved and published
through the run bundle as a recipe does)
with its run's `config.json` recording a small synthetic-birds data set, so the app finds the
gallery's pictures the way it does for a real `recipes/reed2016.py --export` run. It is not
trained: the tests compare the app with the same export called in process, not with labels.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

ARTIFACTS = pathlib.Path(__file__).resolve().parent / "artifacts"  # screenshots (git-ignored)
DATA = dict(source="synthetic_birds", root=None, num_classes=6, num_unseen=2, num_val=2,
            images_per_class=3, texts_per_image=2, image_size=32)
SIZE = 32


def build_run(run_dir):
    """<run_dir>/config.json, exportable/ and export/1 (gallery: every image, prototypes: the
    classes' first descriptions)."""
    import keras

    from tfembed.data.sources import synthetic_birds
    from tfembed.export import run_bundle
    from tfembed.models import JointEmbedding
    from tfembed.text import TextPreprocessor

    options = {k: v for k, v in DATA.items() if k not in ("source", "root")}
    data = synthetic_birds.load(**options)
    texts = [t for row in data.texts for t in row]
    keras.utils.set_random_seed(0)
    pre = TextPreprocessor(level="word", output="ids", max_length=12).adapt(texts)
    ids = keras.Input((12,), dtype="int64")
    words = keras.layers.Embedding(pre.vocabulary_size(), 8, mask_zero=True)(ids)
    text = keras.Model(ids, keras.layers.GlobalAveragePooling1D()(words))
    pixels = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(4, 3, strides=2)(keras.layers.Rescaling(1 / 255.0)(pixels))
    image = keras.Model(pixels, keras.layers.Dense(8)(keras.layers.GlobalAveragePooling2D()(x)))
    model = JointEmbedding(image, text, scorer="dot", task="ds_sje")
    gallery = (list(data.image_ids), np.asarray(model.encode_image(data.images.astype("f4"))))
    class_texts = [data.texts[np.flatnonzero(data.labels == c)[0]][0]
                   for c in range(len(data.class_names))]
    prototypes = (list(data.class_names), np.asarray(model.encode_text(pre(class_texts))))
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump({"experiment": "tests.app", "config": {"data": DATA}}, f)
    # As a recipe does: the run bundle, then `tfembed export RUN_DIR`'s publishing of it.
    run_bundle.save(run_dir, model, ("pixels", (SIZE, SIZE)), pre, gallery=gallery,
                    prototypes=prototypes, k=5, model_name="tiny", example_texts=texts[:2])
    run_bundle.export_run(run_dir)
    return os.path.join(run_dir, "export"), data


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """(export base, the synthetic data set it was built from)."""
    return build_run(str(tmp_path_factory.mktemp("app") / "run"))


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _missing(what):
    """In CI (CI=true) the browser tests must run: a missing browser is a failure there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} (CI must run the browser tests: .ci/run installs it)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def chromium():
    path = os.environ.get("TFEMBED_CHROMIUM") or shutil.which("chromium")
    if not path:
        _missing("no chromium binary (Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[app]')")
    return path


def start_app(args, log_path, timeout=120):
    """`python -m tfembed.app ARGS --port 0` -> (process, base URL) once it listens. Output goes
    to log_path (a pipe nobody reads would fill and stall the app)."""
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "tfembed.app", *args, "--port", "0"],
                            stdout=log, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        with open(log_path) as f:
            for line in f:
                if "serving on http://" in line:
                    return proc, line.split("serving on ", 1)[1].strip().rstrip("/")
        time.sleep(0.2)
    proc.kill()
    with open(log_path) as f:
        raise AssertionError("tfembed app did not start:\n" + f.read()[-3000:])


def stop_app(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
