"""export_model (the contract -> signatures) and the run bundle behind `tfembed export RUN_DIR`:
a run re-exported from its bundle alone answers like the in-process model."""

import keras
import numpy as np
import pytest

from tfembed.errors import ConfigError
from tfembed.export import run_bundle
from tfembed.export.model_export import export_model
from tfembed.export.versions import load_saved_model
from tfembed.models import JointEmbedding
from tfembed.text import TextPreprocessor

TEXTS = ["a red-crowned bird", "a blue bird", "a small grey bird with a red crown"]


def tiny_model():
    keras.utils.set_random_seed(0)
    pre = TextPreprocessor(level="word", output="ids", max_length=6).adapt(TEXTS)
    ids = keras.Input((6,), dtype="int64")
    x = keras.layers.Embedding(pre.vocabulary_size(), 8, mask_zero=True)(ids)
    text = keras.Model(ids, keras.layers.GlobalAveragePooling1D()(x))
    feats = keras.Input((5,))
    image = keras.Model(feats, keras.layers.Dense(8)(feats))
    return JointEmbedding(image, text, scorer="cosine", task="ds_sje"), pre


def test_bundle_reexport_answers_like_the_trained_model(tmp_path):
    model, pre = tiny_model()
    gallery = (["g0", "g1", "g2"], np.asarray(model.encode_image(np.eye(3, 5, dtype="float32"))))
    run_bundle.save(str(tmp_path), model, ("features", 5), pre, gallery=gallery, k=2,
                    model_name="tiny", example_texts=TEXTS)
    path = run_bundle.export_run(str(tmp_path))
    assert path.endswith("export/1")
    served = load_saved_model(path)
    queries = np.asarray(["a red-crowned bird", "an unknown animal"], object)
    expected = np.asarray(model.encode_text(pre(queries)))
    got = served.signatures["embed_text"](text=queries)["embedding"].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # retrieve ranks the baked gallery by the model's own cosine scorer.
    scores = np.asarray(model.score(gallery[1], expected)).T
    out = served.signatures["retrieve"](text=queries)
    assert [[i.decode() for i in row] for row in out["ids"].numpy()] == \
        [[gallery[0][j] for j in np.argsort(-s)[:2]] for s in scores]
    # A second export is version 2: the bundle is reusable.
    assert run_bundle.export_run(str(tmp_path)).endswith("export/2")


def test_export_model_without_text_side_has_image_signatures_only(tmp_path):
    model, _ = tiny_model()
    protos = (["a", "b"], np.asarray(model.encode_image(np.eye(2, 5, dtype="float32"))))
    path = export_model(model, str(tmp_path / "export"), ("features", 5), prototypes=protos)
    sigs = set(load_saved_model(path).signatures)
    assert {"embed_image", "classify_prototypes"} <= sigs and "embed_text" not in sigs


def test_missing_bundle_says_what_is_missing(tmp_path):
    with pytest.raises(ConfigError, match="exportable/model.keras not found"):
        run_bundle.export_run(str(tmp_path))
