"""Region-word alignment score of Karpathy & Fei-Fei 2015 (Sec. 3.1.3, the simplified
objective): S_kl = sum_{t in words of sentence l} max_{i in regions of image k} v_i^T s_t.

Variable sizes without masks: an image's missing regions repeat one of its regions (a
duplicate never changes the max) and a sentence's padded words are zero vectors (each adds
max_i v_i^T 0 = 0). So both sides travel as fixed [R, D] / [L, D] tensors, or flattened
[R*D] / [L*D] rows (`flat_alignment_scorer`). The score itself is the registered scorer
`tfembed.scorers.alignment` (model.scorer "alignment"); this module chunks it and explains it.
"""

import tensorflow as tf

from tfembed import scorers


def word_region_dots(regions, words):
    """regions [N, R, D], words [M, L, D] -> v_i^T s_t [N, M, R, L]."""
    return tf.einsum("nrd,mld->nmrl", regions, words)


def alignment_scores(regions, words, chunk=None):
    """S [N, M] from regions [N, R, D] and words [M, L, D]; `chunk` images at a time."""
    regions, words = tf.convert_to_tensor(regions), tf.convert_to_tensor(words)
    if chunk is None:
        return scorers.alignment(regions, words)
    parts = [alignment_scores(regions[i:i + chunk], words)
             for i in range(0, int(regions.shape[0]), chunk)]
    return tf.concat(parts, axis=0)


def best_regions(regions, words):
    """For one image [R, D] and one sentence [L, D]: index of the region each word aligns to."""
    return tf.argmax(tf.matmul(words, regions, transpose_b=True), axis=1)


def flat_alignment_scorer(dim):
    """(flat regions [N, R*D], flat words [M, L*D]) -> S [N, M], for exported signatures."""
    def score(flat_regions, flat_words):
        regions = tf.reshape(flat_regions, [tf.shape(flat_regions)[0], -1, dim])
        words = tf.reshape(flat_words, [tf.shape(flat_words)[0], -1, dim])
        return alignment_scores(regions, words)
    return score
