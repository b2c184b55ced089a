"""Region-word alignment for Karpathy exports: each of the preprocessor's tokens gets its best
region, and S is the sum of those maxima (Karpathy & Fei-Fei 2015 Eq. 8, as tfembed.scorers)."""

import numpy as np
import pytest

from tfembed.app.alignment import align, is_alignment_model
from tfembed.app.uploads import UploadError

REGIONS = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], np.float32)  # whole image + 2 regions


class Sequences:
    """A fake export: region vectors per image, one word vector per token (+ padding rows)."""

    signatures = {"embed_image": {"outputs": {"embedding": [None, 3, 2]}}}

    def embed_image(self, images):
        return REGIONS[None]

    def embed_text(self, texts):
        words = np.array([[0.2, 0.1], [0.0, 2.0], [3.0, -1.0], [0, 0], [0, 0]], np.float32)
        return words[None]


def test_each_token_gets_its_best_region_and_s_sums_the_maxima():
    out = align(Sequences(), "A red, CIRCLE", image_bytes=b"png")
    assert [w["word"] for w in out["words"]] == ["a", "red", "circle"]  # the model's tokens
    assert [w["region"] for w in out["words"]] == [0, 1, 0]
    assert out["total"] == pytest.approx(0.2 + 2.0 + 3.0)
    # Baked-in region vectors are used as given (what retrieve scored).
    out = align(Sequences(), "red", regions=REGIONS[::-1])  # word vector (0.2, 0.1)
    assert out["words"][0]["region"] == 2 and out["words"][0]["score"] == pytest.approx(0.2)


def test_no_words_is_a_message_and_vector_models_are_not_alignment_models():
    with pytest.raises(UploadError, match="no words"):
        align(Sequences(), " ,.; ", image_bytes=b"png")
    assert is_alignment_model(Sequences())

    class Vectors:
        signatures = {"embed_image": {"outputs": {"embedding": [None, 8]}}}
    assert not is_alignment_model(Vectors())
