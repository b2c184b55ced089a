"""Corpus BLEU-1..4 (Papineni et al. 2002), as the coco-caption `Bleu` scorer computes it:
clipped n-gram counts summed over the corpus, uniform weights over 1..n, and one brevity
penalty from the total hypothesis length c and the total *closest* reference length r
(ties to the shorter), BP = exp(1 - r/c) when c < r. Tokens: lower-cased whitespace words
with punctuation removed.
"""

import collections
import math
import re


def tokenize(text):
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


def _ngrams(words, n):
    return collections.Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def corpus_bleu(hypotheses, references, max_n=4):
    """{"bleu_1": .., "bleu_<max_n>": ..} in [0, 1] for hypotheses [str] and references [[str]]."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} reference sets")
    matched, total = [0] * max_n, [0] * max_n
    hyp_len = ref_len = 0
    for hyp, refs in zip(hypotheses, references):
        words, ref_words = tokenize(hyp), [tokenize(r) for r in refs]
        if not ref_words:
            raise ValueError("every hypothesis needs at least one reference")
        hyp_len += len(words)
        ref_len += min((abs(len(r) - len(words)), len(r)) for r in ref_words)[1]
        for n in range(1, max_n + 1):
            counts = _ngrams(words, n)
            best = collections.Counter()
            for r in ref_words:
                best |= _ngrams(r, n)  # max count of each n-gram over references
            matched[n - 1] += sum(min(c, best[g]) for g, c in counts.items())
            total[n - 1] += max(len(words) - n + 1, 0)
    bp = 1.0 if hyp_len >= ref_len or hyp_len == 0 else math.exp(1.0 - ref_len / hyp_len)
    out, log_sum = {}, 0.0
    for n in range(1, max_n + 1):
        precision = matched[n - 1] / total[n - 1] if total[n - 1] else 0.0
        log_sum += math.log(precision) if precision > 0 else float("-inf")
        out[f"bleu_{n}"] = bp * math.exp(log_sum / n) if log_sum > float("-inf") else 0.0
    return out
