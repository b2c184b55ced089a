"""The tf-idf ridge baseline of the Reed protocol on a hand-built case: descriptions that name
a colour map onto features carrying that colour, so unseen classes are recognised by words."""

import numpy as np
import pytest

from tfembed.baselines.tfidf_ridge import TfidfRidge, cosine

COLOURS = ["red", "blue", "green", "yellow", "black", "white"]


def corpus(classes, rng):
    texts, labels, feats = [], [], []
    for c in classes:
        for _ in range(6):
            texts.append(f"a bird with {COLOURS[c]} wings and a short beak")
            labels.append(c)
            f = np.zeros(len(COLOURS))
            f[c] = 1.0
            feats.append(f + 0.05 * rng.normal(size=len(COLOURS)))
    return texts, np.array(labels), np.array(feats)


@pytest.mark.parametrize("lam", [0.1, None])  # None: chosen on held-out seen classes
def test_unseen_colours_are_found_by_their_words(lam):
    rng = np.random.default_rng(0)
    texts, labels, feats = corpus(range(6), rng)
    model = TfidfRidge(lam=lam).fit(texts, labels, feats)
    # A description of class 2 maps nearest to class 2's features, not to another colour's.
    mapped = model.embed_texts(["a bird with green wings and a short beak"])
    protos = np.stack([model.embed_images(feats[labels == c]).mean(0) for c in range(6)])
    assert int(np.argmax(cosine(mapped, protos))) == 2


def test_idf_and_tf_by_hand():
    model = TfidfRidge(lam=1.0).fit(["red bird", "blue bird"], np.array([0, 1]), np.eye(2))
    # idf(bird) = log(3/3) + 1 = 1; idf(red) = log(3/2) + 1; tf = log(1 + 1) each.
    x = model._tfidf(["red bird"])[0]
    vocab = model.pre.vocabulary()
    raw = {w: np.log(2) * (1.0 if w == "bird" else np.log(1.5) + 1) for w in ["red", "bird"]}
    norm = np.sqrt(sum(v * v for v in raw.values()))
    for w, v in raw.items():
        assert x[vocab.index(w)] == pytest.approx(v / norm)
    assert x[vocab.index("blue")] == 0.0
