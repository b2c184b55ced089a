"""Karpathy & Fei-Fei 2015 (Sec. 3.1.2) BRNN word encoder: padding after a sentence must not
change the vectors of its real words. The backward direction is the one at risk: run over the
padded row it would start at the last padding position, not at the last word.

Reference: the paper's recurrence in NumPy over the real words only, with the layer's weights,
  e_t = f(W_e x_t + b_e),  h^f_t = f(e_t W^f + h^f_{t-1} U^f + b^f),
  h^b_t = f(e_t W^b + h^b_{t+1} U^b + b^b),  s_t = f(W_d (h^f_t + h^b_t) + b_d),  f = ReLU
(Keras' SimpleRNN has an input kernel W^f / W^b as well; the recurrence is the same)."""

import keras
import numpy as np
import pytest

from tfembed.towers.word_sequence import brnn_word_encoder

VOCAB, UNITS, WORD_DIM, EMBED = 12, 6, 5, 4


def _encoder(max_length, seed=0, forward_off=False):
    """A BRNN with random non-trivial weights (biases > 0, so the ReLUs are mostly active)."""
    model = brnn_word_encoder(VOCAB, max_length, EMBED, units=UNITS, word_dim=WORD_DIM)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.6, size=w.shape).astype(np.float32)
                       + (0.1 if w.ndim == 1 else 0.0) for w in model.get_weights()])
    if forward_off:  # s_t then depends on the backward direction only
        fwd = model.get_layer("brnn").forward_layer
        fwd.set_weights([np.zeros_like(w) for w in fwd.get_weights()])
    return model


def _weights(model):
    brnn = model.get_layer("brnn")
    return {"E": model.get_layer("word_embedding").get_weights()[0],
            "t": model.get_layer("word_transform").get_weights(),
            "f": brnn.forward_layer.get_weights(), "b": brnn.backward_layer.get_weights(),
            "d": model.get_layer("word_projection").get_weights()}


def _by_hand(model, words, pad_to=None):
    """s_t of the sentence `words` (no padding), [len(words), EMBED], float64.
    pad_to: run the backward direction from position pad_to - 1 over padding embeddings (what
    an encoder that ignored the mask would compute), for checking this test can fail."""
    w = _weights(model)
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731
    ids = list(words) + [0] * ((pad_to or len(words)) - len(words))
    x = w["E"][ids].astype(np.float64)
    e = relu(x @ w["t"][0] + w["t"][1])
    n = len(ids)
    hf, hb = np.zeros((n, UNITS)), np.zeros((n, UNITS))
    state = np.zeros(UNITS)
    for t in range(len(words)):  # forward: the padding comes after the words anyway
        state = relu(e[t] @ w["f"][0] + state @ w["f"][1] + w["f"][2])
        hf[t] = state
    state = np.zeros(UNITS)
    for t in reversed(range(n)):  # backward: from the last (real or, with pad_to, padded) step
        state = relu(e[t] @ w["b"][0] + state @ w["b"][1] + w["b"][2])
        hb[t] = state
    s = relu((hf + hb) @ w["d"][0] + w["d"][1])
    return s[: len(words)]


SENTENCES = [[3, 7, 2], [5], [9, 1, 4, 4, 11, 6], [2, 8]]
MAX_LENGTH = 8


def _padded(sentences, length):
    ids = np.zeros((len(sentences), length), np.int64)
    for i, s in enumerate(sentences):
        ids[i, : len(s)] = s
    return ids


@pytest.mark.parametrize("forward_off", [False, True], ids=["both", "backward_only"])
def test_padded_batch_equals_the_recurrence_over_the_real_words(forward_off):
    model = _encoder(MAX_LENGTH, forward_off=forward_off)
    out = np.asarray(model(_padded(SENTENCES, MAX_LENGTH)))
    assert out.shape == (len(SENTENCES), MAX_LENGTH, EMBED)
    for i, words in enumerate(SENTENCES):
        want = _by_hand(model, words)
        assert np.abs(want).max() > 0.1  # the check is not on all-zero vectors
        np.testing.assert_allclose(out[i, : len(words)], want, rtol=1e-4, atol=1e-5)
        assert not out[i, len(words):].any()  # padded positions exactly zero


def test_the_reference_would_catch_a_backward_pass_that_reads_the_padding():
    # With the backward direction started at the end of the padded row (mask ignored), the
    # first words' vectors differ clearly from the masked ones: the test above can fail.
    model = _encoder(MAX_LENGTH, forward_off=True)
    words = SENTENCES[0]
    masked, unmasked = _by_hand(model, words), _by_hand(model, words, pad_to=MAX_LENGTH)
    assert np.abs(masked - unmasked).max() > 1e-2


def test_same_sentence_without_padding_and_with_any_amount_of_padding():
    words = [3, 7, 2, 10]
    short = _encoder(len(words), seed=1, forward_off=True)  # no padding at all
    want = np.asarray(short(np.array([words], np.int64)))[0]
    for length in (5, 7, 12):
        padded = _encoder(length, seed=1, forward_off=True)  # same weights (seeded), longer row
        for a, b in zip(padded.get_weights(), short.get_weights()):
            np.testing.assert_array_equal(a, b)
        got = np.asarray(padded(_padded([words], length)))[0]
        np.testing.assert_allclose(got[: len(words)], want, rtol=1e-5, atol=1e-6)
        assert not got[len(words):].any()
