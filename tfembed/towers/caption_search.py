"""Caption decoding for evaluation, in NumPy over a step function (the export uses the
in-graph greedy loop of `caption.greedy_generate_fn`).

`step_fn(tokens [M], state [M, H]) -> (log_probs [M, V], state [M, H])`. Greedy takes the most
likely word each step; beam search keeps the `beam` highest summed log-probabilities (no length
normalisation, as the paper's released code), a hypothesis ends at `<end>`. Ties go to the
lower word id / earlier beam in both, so beam 1 is exactly greedy.
"""

import numpy as np

from tfembed.towers.caption import END, PAD, START


def greedy(step_fn, state, max_len):
    """-> int ids [N, max_len], each row ending with <end> then <end>s (or cut at max_len)."""
    n = len(state)
    token = np.full(n, START, np.int32)
    ended = np.zeros(n, bool)
    out = np.full((n, max_len), END, np.int32)
    for t in range(max_len):
        log_probs, state = step_fn(token, state)
        token = np.where(ended, END, np.argmax(np.asarray(log_probs), axis=1)).astype(np.int32)
        out[:, t] = token
        ended |= token == END
        if ended.all():
            break
    return out


def beam_search(step_fn, state, max_len, beam=3):
    """-> int ids [N, max_len] of each image's best hypothesis (batched over images x beams)."""
    state = np.asarray(state)
    n, width = len(state), state.shape[1]
    rows = np.arange(n)[:, None]
    states = np.repeat(state, beam, axis=0)
    tokens = np.full((n, beam), START, np.int32)
    scores = np.full((n, beam), -np.inf)
    scores[:, 0] = 0.0  # all beams start identical: only one may expand at the first step
    seqs = np.zeros((n, beam, 0), np.int32)
    ended = np.zeros((n, beam), bool)
    for _ in range(max_len):
        log_probs, new_states = step_fn(tokens.reshape(-1), states)
        log_probs = np.array(log_probs, np.float64).reshape(n, beam, -1)
        vocab = log_probs.shape[-1]
        # A finished hypothesis only continues with <pad> at no cost; live ones never pad.
        log_probs[ended] = -np.inf
        log_probs[..., PAD] = np.where(ended, 0.0, -np.inf)
        total = (scores[:, :, None] + log_probs).reshape(n, beam * vocab)
        top = np.argsort(-total, axis=1, kind="stable")[:, :beam]
        source, tokens = top // vocab, (top % vocab).astype(np.int32)
        scores = np.take_along_axis(total, top, axis=1)
        seqs = np.concatenate([seqs[rows, source], tokens[:, :, None]], axis=2)
        states = np.asarray(new_states).reshape(n, beam, width)[rows, source].reshape(-1, width)
        ended = ended[rows, source] | (tokens == END) | (tokens == PAD)
        if ended.all():
            break
    best = seqs[np.arange(n), np.argmax(scores, axis=1)]
    out = np.full((n, max_len), END, np.int32)
    out[:, :best.shape[1]] = np.where(best == PAD, END, best)
    return out


def decode(model, images, max_len, beam=1, batch=256):
    """Images (model inputs) -> int ids [N, max_len] with `model` a `caption.CaptionModel`."""
    def step_fn(tokens, state):
        log_probs, state = model.step_log_probs(np.asarray(tokens, np.int32), state)
        return log_probs.numpy(), state.numpy()
    out = []
    for i in range(0, len(images), batch):
        state = model.init(images[i:i + batch], training=False).numpy()
        out.append(greedy(step_fn, state, max_len) if beam == 1
                   else beam_search(step_fn, state, max_len, beam))
    return np.concatenate(out)
