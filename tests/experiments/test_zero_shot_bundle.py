"""Every Reed text encoder (and image.projection) survives the run bundle: the model saved at
the end of a run reloads with identical text and image embeddings, so `tfembed export RUN_DIR`
publishes the model that was evaluated (tests generated from the encoder registry)."""

import numpy as np
import pytest
import tensorflow as tf

from tfembed.experiments import zero_shot_joint
from tfembed.export import run_bundle
from tfembed.towers.text import TEXT_ENCODERS

from tests.experiments.test_zero_shot_image_projection import feature_dataset, small_cfg

QUERIES = np.asarray(["a red-crowned bird of class 2", "an unseen word"], object)


@pytest.mark.parametrize("encoder", TEXT_ENCODERS)
def test_bundle_round_trip(tmp_path, encoder):
    cfg = small_cfg("linear", 16)
    cfg["text"].update(encoder=encoder, word_vectors="train")
    if encoder == "char_cnn_rnn":  # Reed's own layers (ReluRNN, one-hot convolutions)
        cfg["text"].update(rnn_cell="relu_rnn")
    ds = feature_dataset()
    if encoder == "attributes":
        ds.class_attributes = np.random.default_rng(1).random((4, 5)).astype(np.float32)
    model, text, _, kind = zero_shot_joint.build(cfg, ds, ds.splits["trainval"],
                                                 tf.distribute.get_strategy())
    run_bundle.save(str(tmp_path), model, kind, text.preprocessor if text.is_text else None)
    loaded, pre, kwargs = run_bundle.load(str(tmp_path))
    assert kwargs["image_input"] == kind
    np.testing.assert_allclose(np.asarray(loaded.encode_image(ds.features[:3])),
                               np.asarray(model.encode_image(ds.features[:3])), rtol=1e-5)
    inputs = ds.class_attributes[:2] if encoder == "attributes" else text.preprocessor(QUERIES)
    if encoder != "attributes":
        np.testing.assert_array_equal(np.asarray(pre(QUERIES)), np.asarray(inputs))
    np.testing.assert_allclose(np.asarray(loaded.encode_text(inputs)),
                               np.asarray(model.encode_text(inputs)), rtol=1e-5, atol=1e-6)
