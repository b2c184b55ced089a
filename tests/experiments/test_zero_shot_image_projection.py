"""image.projection: `identity` is Reed's image_noop (reedscot/cvpr2016 modules/ImageEncoder.lua:
the fixed features are the joint embedding, train_sje_hybrid.lua sets emb_dim = image_dim),
`linear` a learned Dense after the image tower (ImageEncoder.lua with noop=0)."""

import copy
import importlib.util
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from tfembed.config import check_choices
from tfembed.data.dataset import Dataset
from tfembed.errors import ConfigError
from tfembed.experiments import zero_shot_joint

RECIPE = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "reed2016.py"
FEATURE_DIM = 12


def reed_recipe():
    spec = importlib.util.spec_from_file_location("reed2016_recipe", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def feature_dataset():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 3)
    texts = [[f"a bird of class {c} with red wings", f"class {c} bird"] for c in labels]
    return Dataset(name="tiny", image_ids=[str(i) for i in range(12)], labels=labels,
                   class_names=[f"c{i}" for i in range(4)], texts=texts,
                   splits={"trainval": np.arange(6), "test": np.arange(6, 12)},
                   features=rng.random((12, FEATURE_DIM)).astype(np.float32))


def small_cfg(projection, embed_dim):
    cfg = reed_recipe().get_config("cub", smoke=True)
    cfg["image"]["projection"] = projection
    cfg["model"]["embed_dim"] = embed_dim
    return cfg


def build(cfg):
    ds = feature_dataset()
    return zero_shot_joint.build(cfg, ds, ds.splits["trainval"], tf.distribute.get_strategy()), ds


def test_identity_uses_the_features_as_the_image_embedding():
    (model, text, load_image, kind), ds = build(small_cfg("identity", None))
    assert kind == ("features", FEATURE_DIM)
    assert "image_projection" not in [layer.name for layer in model.image_tower.layers]
    x = ds.features[:3]
    np.testing.assert_array_equal(np.asarray(model.encode_image(x)), x)
    assert not model.image_tower.trainable_weights  # nothing learned on the image side
    ids = text.tokenize(["a red bird"])
    assert model.encode_text(ids).shape == (1, FEATURE_DIM)  # text maps into the feature space
    # model.embed_dim equal to the feature dimension is accepted as well.
    model2 = build(small_cfg("identity", FEATURE_DIM))[0][0]
    assert model2.encode_text(ids).shape == (1, FEATURE_DIM)


def test_identity_with_another_dimension_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"model.embed_dim must be 12, got 32.*image.projection=linear"):
        build(small_cfg("identity", 32))


def test_linear_learns_a_projection_to_embed_dim():
    (model, text, _, _), ds = build(small_cfg("linear", 32))
    assert model.image_tower.get_layer("image_projection").kernel.shape == (FEATURE_DIM, 32)
    assert model.encode_image(ds.features[:2]).shape == (2, 32)
    assert model.encode_text(text.tokenize(["a red bird"])).shape == (1, 32)
    # None: the joint space takes the image dimension, still through the learned Dense.
    model = build(small_cfg("linear", None))[0][0]
    assert model.image_tower.get_layer("image_projection").kernel.shape == (FEATURE_DIM, FEATURE_DIM)


def test_projection_is_a_declared_choice():
    cfg = small_cfg("identity", None)
    recipe_choices = reed_recipe().CHOICES  # as tfembed.recipe.resolve_config passes them
    check_choices(cfg, (), recipe_choices)
    bad = copy.deepcopy(cfg)
    bad["image"]["projection"] = "noop"
    with pytest.raises(ConfigError, match="unknown choice 'noop'; valid: identity, linear"):
        check_choices(bad, {"image.projection": "noop"}, recipe_choices)
    with pytest.raises(ConfigError, match="image.projection='noop'"):
        zero_shot_joint.joint_dim(bad, FEATURE_DIM)
