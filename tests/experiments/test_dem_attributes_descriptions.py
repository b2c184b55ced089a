"""DEM's attributes+descriptions modality (Zhang et al. 2017 Sec. 3.2 fusion): each text row is
paired with its own image's class attribute row, training batches pair an image with one of
its own descriptions and its class's attributes, prototypes are class means over the class's
descriptions each fused with the class's attributes, and nothing is served from raw strings."""

from types import SimpleNamespace

import numpy as np
import pytest

from tfembed.errors import ConfigError
from tfembed.experiments import dem_training
from tfembed.experiments.semantic_inputs import MODALITIES, SemanticInputs

KIND = "attributes+descriptions"
CFG = {"hidden_dim": 5, "word_dim": 4, "vocab_size": 50, "max_words": 6, "rnn_units": 3,
       "bilstm_pooling": "final_states", "word_vectors": "train"}


def _dataset(attributes=True):
    # 5 images of 3 classes with 1-3 descriptions each; words name the image so rows differ
    labels = np.array([0, 1, 2, 1, 0])
    texts = [[f"bird {i} text {j}" for j in range(1 + i % 3)] for i in range(5)]
    attrs = np.array([[3.0, 4.0, 0.0], [0.0, 2.0, 0.0], [1.0, 1.0, 1.0]], np.float32)
    return SimpleNamespace(name="tiny", labels=labels, texts=texts, num_images=5,
                           class_attributes=attrs if attributes else None,
                           class_names=["a", "b", "c"], class_embeddings={})


def test_text_rows_carry_their_own_class_attributes():
    ds = _dataset()
    side = SemanticInputs(KIND, CFG, ds, np.arange(5))
    assert KIND in MODALITIES and not side.class_level
    assert side.preprocessor is None  # no embed_text: a raw string lacks the attributes
    rows = np.array([4, 0, 2, 5])  # text rows of images 2, 0, 1, 2 (offsets 0, 1, 3, 6, 7, 9)
    image_of = np.repeat(np.arange(5), [len(t) for t in ds.texts])
    got = side.inputs(rows)
    unit = ds.class_attributes / np.linalg.norm(ds.class_attributes, axis=1, keepdims=True)
    np.testing.assert_allclose(got["attributes"], unit[ds.labels[image_of[rows]]], rtol=1e-6)
    np.testing.assert_array_equal(got["ids"], side.ids[rows])
    assert len({tuple(r) for r in got["ids"]}) == 4  # different descriptions, different ids
    assert side.notes and "classify_prototypes" in side.notes[0]
    with pytest.raises(ConfigError, match="no class attributes"):
        SemanticInputs(KIND, CFG, _dataset(attributes=False), np.arange(5))


def test_batches_pair_an_image_with_its_descriptions_and_class_attributes():
    ds = _dataset()
    side = SemanticInputs(KIND, CFG, ds, np.arange(5))
    features = np.arange(5, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    plan = dem_training.index_plan(np.arange(5), 4, 3, seed=1)
    batches = list(dem_training.make_dataset_fn(side, features, ds.labels, plan, 3, 0)(0))
    assert len(batches) == 4
    for i, b in enumerate(batches):
        rows = plan[3 * i:3 * (i + 1)]
        np.testing.assert_array_equal(b["image"].numpy(), features[rows])
        np.testing.assert_allclose(b["text"]["attributes"].numpy(),
                                   side.tables["attributes"][ds.labels[rows]])
        for r, ids in zip(rows, b["text"]["ids"].numpy()):  # one of the image's own texts
            own = side.ids[side.offsets[r]:side.offsets[r + 1]]
            assert any(np.array_equal(ids, o) for o in own)


def test_prototypes_are_class_means_of_fused_descriptions():
    ds = _dataset()
    side = SemanticInputs(KIND, CFG, ds, np.arange(5))
    # a stand-in encoder whose output depends on both inputs
    encode = lambda x: np.concatenate([x["attributes"], x["ids"][:, :2].astype(np.float32)], 1)  # noqa: E731
    got = side.prototypes(encode, np.array([0, 2]), np.array([0, 2, 3, 4]))
    for k, c in enumerate((0, 2)):
        images = [r for r in (0, 2, 3, 4) if ds.labels[r] == c]
        text_rows = np.concatenate([np.arange(side.offsets[r], side.offsets[r + 1])
                                    for r in images])
        want = encode(side.inputs(text_rows)).mean(0)
        np.testing.assert_allclose(got[k], want, rtol=1e-6)
    assert got[0, 0] != got[1, 0]  # the classes' attribute rows differ


def test_tower_takes_the_inputs_and_maps_into_the_visual_space():
    side = SemanticInputs(KIND, CFG, _dataset(), np.arange(5))
    tower = side.build_encoder(7, weight_decay=0.1)
    out = np.asarray(tower(side.inputs(np.arange(4))))
    assert out.shape == (4, 7) and out.min() >= 0.0
    assert tower.get_layer("fc_attributes").kernel.shape == (3, 5)
    assert len(tower.losses) == 3  # Eq. 1's penalty on the three FC kernels
