import math

import pytest

from tfembed.metrics.bleu import corpus_bleu


def test_perfect_match_is_one():
    out = corpus_bleu(["a red circle above a blue square"], [["a red circle above a blue square"]])
    assert all(abs(v - 1.0) < 1e-12 for v in out.values())


def test_hand_computed_clipping_and_precisions():
    # Papineni et al.'s clipping example: "the the the the the the the" vs two references.
    out = corpus_bleu(["the the the the the the the"],
                      [["the cat is on the mat", "there is a cat on the mat"]], max_n=1)
    # clipped unigram precision 2/7; c = 7 > closest r = 7 -> no brevity penalty
    assert out["bleu_1"] == pytest.approx(2 / 7)


def test_hand_computed_bleu_1_to_4_with_brevity_penalty():
    hyp = "a cat on the mat"            # 5 words
    refs = ["the cat is on the mat"]     # 6 words
    out = corpus_bleu([hyp], [refs])
    # 1-grams: a x, cat v, on v, the v, mat v -> 4/5 ; 2-grams: (a cat) x (cat on) x
    # (on the) v (the mat) v -> 2/4 ; 3-grams: (on the mat) v of 3 -> 1/3 ; 4-grams 0/2
    bp = math.exp(1 - 6 / 5)
    assert out["bleu_1"] == pytest.approx(bp * 4 / 5)
    assert out["bleu_2"] == pytest.approx(bp * math.sqrt(4 / 5 * 2 / 4))
    assert out["bleu_3"] == pytest.approx(bp * (4 / 5 * 2 / 4 * 1 / 3) ** (1 / 3))
    assert out["bleu_4"] == 0.0


def test_corpus_level_sums_counts_before_dividing():
    out = corpus_bleu(["a b", "c d e f"], [["a b"], ["c x e f"]], max_n=1)
    assert out["bleu_1"] == pytest.approx((2 + 3) / (2 + 4))


def test_closest_reference_length_ties_to_shorter():
    # hyp 4 words; refs of 3 and 5 words are equally close -> r = 3, so no penalty
    out = corpus_bleu(["a b c d"], [["a b c", "a b c d e"]], max_n=1)
    assert out["bleu_1"] == pytest.approx(1.0)


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError):
        corpus_bleu(["a"], [])
