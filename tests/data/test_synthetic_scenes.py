import numpy as np
import pytest

from tfembed import data, metrics
from tfembed.data.sources import _scene_render
from tfembed.errors import ConfigError


@pytest.fixture(scope="module")
def scenes():
    return data.load("synthetic_scenes", num_train=40, num_val=10, num_test=200)


def test_deterministic():
    a = data.load("synthetic_scenes", num_train=5, num_val=1, num_test=2, seed=3)
    b = data.load("synthetic_scenes", num_train=5, num_val=1, num_test=2, seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.texts == b.texts
    c = data.load("synthetic_scenes", num_train=5, num_val=1, num_test=2, seed=4)
    assert a.texts != c.texts


def test_shapes_splits_boxes(scenes):
    n = 250
    assert scenes.images.shape == (n, 64, 64, 3) and scenes.images.dtype == np.uint8
    assert [len(scenes.splits[s]) for s in ("train", "val", "test")] == [40, 10, 200]
    np.testing.assert_array_equal(scenes.labels, np.arange(n))
    assert all(len(t) == 5 for t in scenes.texts)
    for b, objs in zip(scenes.boxes, scenes.meta["objects"]):
        assert b.dtype == np.float32 and b.shape == (len(objs), 4) and 2 <= len(objs) <= 3
        assert np.all((b >= 0) & (b <= 1)) and np.all(b[:, 2] > b[:, 0]) and np.all(b[:, 3] > b[:, 1])
    small = data.load("synthetic_scenes", num_train=2, num_val=0, num_test=1, image_size=32,
                      captions_per_image=3)
    assert small.images.shape == (3, 32, 32, 3) and all(len(t) == 3 for t in small.texts)


def test_captions_name_objects_attributes_and_relations(scenes):
    text = " ".join(" ".join(t) for t in scenes.texts)
    for word in ("circle", "square", "triangle", "star", "left of", "above", "small", "large"):
        assert word in text
    assert len({c for t in scenes.texts for c in t}) > 0.8 * sum(len(t) for t in scenes.texts)
    for objs, caps in zip(scenes.meta["objects"], scenes.texts):  # only objects in the image
        colours = {o["color"] for o in objs}
        for cap in caps:
            assert {c for c in _scene_render.COLORS if c in cap.split()} <= colours


def test_box_contains_its_object_colour(scenes):
    img, (y0, x0, y1, x1) = scenes.images[0], scenes.boxes[0][0]
    colour = np.array(_scene_render.COLORS[scenes.meta["objects"][0][0]["color"]])
    h = img.shape[0]
    crop = img[int(y0 * h):int(np.ceil(y1 * h)), int(x0 * h):int(np.ceil(x1 * h))].astype(float)
    assert np.mean(np.linalg.norm(crop - colour, axis=-1) < 50) > 0.2


def _colour_scores(images, captions):
    """A text-using matcher: colours visible in the image vs colour words in the caption."""
    palette = np.array(list(_scene_render.COLORS.values()), float)
    dist = np.linalg.norm(images[:, :, :, None, :].astype(float) - palette, axis=-1)
    present = (dist < 45).mean(axis=(1, 2)) > 0.01  # [N, colours]
    words = np.array([[c in cap.split() for c in _scene_render.COLORS] for cap in captions], float)
    return present.astype(float) @ words.T - (~present).astype(float) @ words.T


def test_text_is_needed_for_retrieval(scenes):
    rows = scenes.splits["test"]
    captions = [c for r in rows for c in scenes.texts[r]]
    t2i = np.repeat(np.arange(len(rows)), 5)
    chance = metrics.recall_chance(len(rows), len(captions), t2i)["t2i_r@10"]
    working = metrics.image_text_recall(_colour_scores(scenes.images[rows], captions), t2i)
    assert working["t2i_r@10"] > 4 * chance, working
    shuffled = list(np.random.default_rng(0).permutation(captions))
    broken = metrics.image_text_recall(_colour_scores(scenes.images[rows], shuffled), t2i)
    assert broken["t2i_r@10"] < 2 * chance, broken
    # a scorer that ignores the text ranks every caption's images alike: chance
    blind = np.repeat(scenes.images[rows].mean(axis=(1, 2, 3))[:, None], len(captions), 1)
    assert metrics.image_text_recall(blind, t2i)["t2i_r@10"] < 2 * chance


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="num_tset"):
        data.load("synthetic_scenes", num_tset=3)
    with pytest.raises(ConfigError, match="min_objects"):
        data.load("synthetic_scenes", min_objects=1)
