"""Multimodal RNN captioner: masked teacher forcing, greedy vs beam search, in-graph greedy."""

import keras
import numpy as np
import tensorflow as tf

from tfembed.towers import caption as cap
from tfembed.towers import caption_search
from tfembed.towers.image import build_image_tower

VOCAB = ["a", "red", "blue", "circle", "square"]


def _model(seed=0, cell="gru"):
    keras.utils.set_random_seed(seed)
    return cap.CaptionModel(build_image_tower("features", (6,)), len(VOCAB) + 4, 8, 12, cell)


def test_encode_and_decode_captions():
    ids = cap.encode_captions(["A red circle!", "a green square"], VOCAB, 4)
    assert ids.tolist() == [[1, 4, 5, 7, 2, 0], [1, 4, 3, 8, 2, 0]]
    assert cap.decode_ids(ids[0, 1:], VOCAB) == "a red circle"


def test_teacher_forcing_loss_ignores_padding():
    model = _model()
    feats = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
    words = cap.encode_captions(["a red circle", "a blue square a red circle", "a"], VOCAB, 6)
    loss = float(model.compute_batch_loss({"image": feats, "words": words}))
    longer = np.pad(words, [(0, 0), (0, 5)])  # more padding must not change the loss
    assert np.isclose(loss, float(model.compute_batch_loss({"image": feats, "words": longer})))
    logits = model.teacher([feats, words[:, :-1]]).numpy()
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    targets = words[:, 1:]
    real = targets != cap.PAD
    expected = -np.take_along_axis(log_p, targets[..., None], -1)[..., 0][real].mean()
    assert np.isclose(loss, expected, rtol=1e-5)


def _step_fn(model):
    def step(tokens, state):
        log_p, state = model.step_log_probs(np.asarray(tokens, np.int32), state)
        return log_p.numpy(), state.numpy()
    return step


def test_beam_one_equals_greedy_and_in_graph_greedy():
    for seed, cell in [(1, "gru"), (2, "simple_rnn")]:
        model = _model(seed, cell)
        feats = np.random.default_rng(seed).normal(size=(5, 6)).astype(np.float32)
        state = model.init(feats).numpy()
        greedy = caption_search.greedy(_step_fn(model), state, 7)
        assert np.array_equal(greedy, caption_search.beam_search(_step_fn(model), state, 7, beam=1))
        in_graph = cap.greedy_generate_fn(model, VOCAB, 7)(tf.constant(feats)).numpy()
        assert [s.decode() for s in in_graph] == [cap.decode_ids(r, VOCAB) for r in greedy]


def test_beam_search_finds_the_best_sequence_greedy_misses():
    # Hand-built language model, state = one-hot of the last token. Words: 4 "x", 5 "y".
    # After <start>: x 0.6, y 0.4. After x: x / y / <end> 1/3 each; after y: <end> 0.9.
    # Greedy takes x then at most 0.6/3 = 0.2; the best sequence is "y <end>" (0.36).
    table = np.full((6, 6), 1e-6)
    table[cap.START, [4, 5]] = [0.6, 0.4]
    table[4, [4, 5, cap.END]] = 1 / 3
    table[5, [cap.END, 4]] = [0.9, 0.1]
    table[cap.END, cap.END] = 1.0
    log_table = np.log(table / table.sum(1, keepdims=True))

    def step(tokens, state):
        return log_table[tokens], np.eye(6)[tokens]
    state = np.zeros((1, 6))
    assert caption_search.greedy(step, state, 4)[0, 0] == 4
    best = caption_search.beam_search(step, state, 4, beam=2)[0]
    assert best.tolist() == [5, cap.END, cap.END, cap.END]
