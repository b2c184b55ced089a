"""Phrase-to-box accuracy of word-region alignments (our measurement of Karpathy & Fei-Fei
2015, Sec. 3.1.4, which shows its MRF alignments only qualitatively, Fig. 5): the fraction of
words with a known region (e.g. the words naming an object, whose region is that object's box)
that an alignment assigns to that region. Chance: a uniformly random region of the word's own
image, 1/M for an image with M distinct regions, averaged over the same words."""

import numpy as np


def box_accuracy(assignments, targets, num_regions):
    """assignments: per sentence, the region index of each word [N_s];
    targets: per sentence, the right region of each word [N_s] (-1 = not scored);
    num_regions: per sentence, M_s, the number of regions its image offers.
    Returns {"accuracy", "chance", "words"}; accuracy and chance are None without scored words.
    """
    if not len(assignments) == len(targets) == len(num_regions):
        raise ValueError("assignments, targets and num_regions need one entry per sentence")
    correct = scored = 0
    chance = 0.0
    for a, t, m in zip(assignments, targets, num_regions):
        a, t = np.asarray(a, np.int64), np.asarray(t, np.int64)
        if a.shape != t.shape:
            raise ValueError(f"a sentence has {a.size} assignments but {t.size} targets")
        if int(m) < 1 or np.any(t >= int(m)):
            raise ValueError(f"targets must be region indices below num_regions ({m})")
        keep = t >= 0
        correct += int(np.count_nonzero(a[keep] == t[keep]))
        scored += int(np.count_nonzero(keep))
        chance += np.count_nonzero(keep) / int(m)
    if not scored:
        return {"accuracy": None, "chance": None, "words": 0}
    return {"accuracy": correct / scored, "chance": chance / scored, "words": scored}
