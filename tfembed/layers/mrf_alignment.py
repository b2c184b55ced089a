"""Phrase alignment by a chain MRF over the words of a sentence (Karpathy & Fei-Fei 2015,
Sec. 3.1.4 "Decoding text segment alignments to images", Eq. 10-12).

The Sec. 3.1.3 score (tfembed/layers/alignment.py) aligns every word on its own to its best
region, which "leads to words getting scattered inconsistently to different regions". Sec. 3.1.4
instead treats the alignments a_j in {1..M} of the N words as latent variables of a chain MRF:

    E(a) = sum_{j=1..N} psi_j^U(a_j) + sum_{j=1..N-1} psi_j^B(a_j, a_{j+1})     (Eq. 10)
    psi_j^U(a_j = t) = v_t^T s_j                                                (Eq. 11)
    psi_j^B(a_j, a_{j+1}) = beta * 1[a_j = a_{j+1}]                             (Eq. 12)

(Eq. 11 is printed as v_i^T s_t in the paper; the unary of word j for region t is that pair's
dot product.) The paper says "we minimize the energy", but with these terms the sensible
optimum is the MAXIMUM of E: psi^U is an unnormalised log probability and psi^B rewards equal
neighbours, and the paper's own limits only hold for the maximum: beta = 0 gives "single-word
alignments" (each word's argmax region) and a large beta aligns "the entire sentence to a
single, maximally scoring region". So `align_phrases` maximises E (= minimises -E), exactly,
by dynamic programming over the chain (Viterbi). The paper's code for this part was never
released (github.com/karpathy/neuraltalk issue 12: "This part was not released"), so this
follows the text alone.

Pure NumPy; inputs are one sentence's [N_words, M_regions] score matrix, e.g.
`words @ regions.T` of the alignment model's word vectors s_j and region vectors v_t.
"""

import numpy as np


def _check(scores, beta):
    scores = np.asarray(scores, np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be [N_words, M_regions], got shape {scores.shape}")
    if scores.shape[1] == 0:
        raise ValueError("scores need at least one region (M_regions >= 1)")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite")
    beta = float(beta)
    if not (np.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be finite and >= 0 (Eq. 12's affinity), got {beta}")
    return scores, beta


def mrf_energy(scores, assignment, beta):
    """E(a) of Eq. 10 for `assignment` a [N] (region index of each word, 0-based)."""
    scores, beta = _check(scores, beta)
    a = np.asarray(assignment, np.int64)
    if a.shape != (scores.shape[0],):
        raise ValueError(f"assignment must have one region per word ({scores.shape[0]}), "
                         f"got shape {a.shape}")
    unary = scores[np.arange(len(a)), a].sum()
    return float(unary + beta * np.count_nonzero(a[1:] == a[:-1]))


def segments(assignment):
    """Contiguous runs of one region: [(start, end, region)], `end` exclusive (a slice)."""
    a = [int(x) for x in assignment]
    out, start = [], 0
    for j in range(1, len(a) + 1):
        if j == len(a) or a[j] != a[start]:
            out.append((start, j, a[start]))
            start = j
    return out


def align_phrases(scores, beta):
    """Exact MAP alignment of Karpathy & Fei-Fei 2015, Sec. 3.1.4, Eq. 10-12.

    scores: [N_words, M_regions], scores[j, t] = v_t^T s_j (Eq. 11's unary).
    beta:   the smoothness weight of Eq. 12 (>= 0): 0 = each word to its own best region,
            large = the whole sentence to the one region with the largest summed score.
    Returns (assignment [N] int64 region index per word, segments [(start, end, region)]
    with `end` exclusive). The assignment maximises E(a) (Eq. 10; see the module docstring
    for why maximum, not minimum); among equally good assignments it is the
    lexicographically smallest, so beta = 0 gives exactly np.argmax per word.

    Dynamic programming from the end of the sentence: best[j, t] = the best energy of words
    j..N-1 given a_j = t, then a forward pass picks each word's smallest optimal region.
    O(N * M) time.
    """
    scores, beta = _check(scores, beta)
    n, m = scores.shape
    if n == 0:
        return np.zeros(0, np.int64), []
    best = np.empty_like(scores)
    best[-1] = scores[-1]
    for j in range(n - 2, -1, -1):
        nxt = best[j + 1]
        # a_{j+1} = a_j earns beta; any other region is at most max(nxt).
        best[j] = scores[j] + np.maximum(nxt.max(), nxt + beta)
    a = np.empty(n, np.int64)
    a[0] = int(np.argmax(best[0]))
    bonus = np.zeros(m)
    for j in range(1, n):
        bonus[:] = 0.0
        bonus[a[j - 1]] = beta
        a[j] = int(np.argmax(best[j] + bonus))
    return a, segments(a)
