import numpy as np
import pytest

from tfembed import data
from tfembed.errors import ConfigError


@pytest.fixture(scope="module")
def birds():
    return data.load("synthetic_birds", num_classes=30, num_unseen=8, num_val=4,
                     images_per_class=16, texts_per_image=4)


def test_deterministic():
    a = data.load("synthetic_birds", num_classes=8, num_unseen=2, num_val=2, images_per_class=3)
    b = data.load("synthetic_birds", num_classes=8, num_unseen=2, num_val=2, images_per_class=3)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.texts == b.texts and a.class_names == b.class_names


def test_shapes_and_splits(birds):
    assert birds.images.shape == (30 * 16, 64, 64, 3) and birds.images.dtype == np.uint8
    assert all(len(t) == 4 for t in birds.texts)
    unseen = set(birds.split_classes("test_unseen"))
    assert len(unseen) == 8 and not unseen & set(birds.split_classes("trainval"))
    assert not set(birds.split_classes("train")) & set(birds.split_classes("val"))
    assert set(birds.split_classes("test_seen")) == set(birds.split_classes("trainval"))
    assert birds.class_attributes.shape == (30, 33)
    assert np.all((birds.class_attributes >= 0) & (birds.class_attributes <= 1))


def test_unseen_classes_are_new_combinations_of_seen_values(birds):
    seen = birds.split_classes("trainval")
    for c in birds.split_classes("test_unseen"):
        active = birds.class_attributes[c] > 0.5
        assert np.all(birds.class_attributes[seen][:, active].max(axis=0) > 0.5)


def test_descriptions_mention_visible_attributes(birds):
    name = birds.class_names[0].split(".", 1)[1].split("_")
    text = " ".join(birds.texts[0])
    assert "bird" in text and text.endswith(".")
    assert any(w in text for w in ("beak", "bill", "tail", "crown", "head", "cap", "nape"))
    assert len(name) == 6


def _colour_features(images):
    """Colour histograms: enough to recognise body/wing/crown colours from pixels."""
    q = (images // 64).reshape(len(images), -1, 3)
    codes = q[..., 0] * 16 + q[..., 1] * 4 + q[..., 2]
    return np.stack([np.bincount(c, minlength=64) for c in codes]).astype(np.float32) / q.shape[1]


def _zero_shot_accuracy(birds, attributes):
    x = _colour_features(birds.images)
    tr, te = birds.splits["trainval"], birds.splits["test_unseen"]
    y = attributes[birds.labels[tr]]
    w = np.linalg.solve(x[tr].T @ x[tr] + 1e-2 * np.eye(x.shape[1]), x[tr].T @ y)
    unseen = birds.split_classes("test_unseen")
    pred = unseen[np.argmax((x[te] @ w) @ attributes[unseen].T, axis=1)]
    return np.mean(pred == birds.labels[te])


def test_zero_shot_is_possible_only_through_the_class_side(birds):
    chance = 1 / 8
    working = _zero_shot_accuracy(birds, birds.class_attributes)
    shuffled = birds.class_attributes[np.random.default_rng(0).permutation(30)]
    broken = _zero_shot_accuracy(birds, shuffled)
    assert working > 2.5 * chance, working
    assert broken < 2 * chance, broken


def test_unknown_option_is_a_config_error():
    with pytest.raises(ConfigError, match="num_clases"):
        data.load("synthetic_birds", num_clases=3)
