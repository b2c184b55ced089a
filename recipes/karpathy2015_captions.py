"""Karpathy & Fei-Fei: "Deep Visual-Semantic Alignments for Generating Image Descriptions",
CVPR 2015 (the multimodal RNN generator, Sec. 3.2).

The image vector (a CNN trained end to end on synthetic scenes; precomputed features on
Flickr8k) becomes the bias b_v that starts the RNN; the RNN then predicts the next word from
the previous one (teacher forcing, masked cross-entropy, <start>/<end> tokens). Test images
are decoded greedily or with beam search (`--set decode.beam=K`) and scored with corpus
BLEU-1..4 against all their references (protocol `bleu_corpus`); the chance column is the
BLEU of the constant most frequent training caption. `--export` adds a `generate` signature
(image bytes or features -> caption); `tfembed caption --model DIR IMAGE...` calls it.

    python recipes/karpathy2015_captions.py                    # synthetic scenes, < 10 min
    python recipes/karpathy2015_captions.py --smoke            # seconds
    python recipes/karpathy2015_captions.py --data flickr8k --data-dir ../shared/data/flickr8k
    python recipes/karpathy2015_captions.py --export --set model.cell=simple_rnn
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tfembed.experiments import captioning, recipe_defaults  # noqa: E402
from tfembed.recipe import main  # noqa: E402


def get_config(data="synthetic_scenes", smoke=False):
    cfg = recipe_defaults.image_sentence_config("karpathy2015_captions", data, smoke)
    cfg["evals"] = ["captioning"]  # BLEU-1..4 of the generated captions
    cfg.update(protocol="bleu_corpus", plot=False, decode={"beam": 3})
    # Paper: SimpleRNN, 512 hidden units; a GRU trains faster and steadier on a small budget.
    cfg["model"] = {"cell": "gru", "word_dim": 128, "units": 256, "dropout": 0.0}
    if data.startswith("synthetic"):  # 32x32 keeps shapes and colours and is 4x cheaper
        cfg["image"].update(size=[32, 32], options={"width": 128})
    else:  # precomputed CNN features (the paper's setting); no end-to-end CNN on real data
        cfg["image"]["options"] = {}
    cfg["text"].update(max_words=20, min_count=1)
    # Paper: RMSprop, batch 100; Adam on a small CPU budget.
    cfg["train"].update(optimizer="adam", learning_rate=2e-3, batch_size=64, steps=800,
                        eval_every=0)
    if smoke:
        cfg["model"].update(word_dim=8, units=16)
        cfg["image"]["options"] = {"width": 8} if data.startswith("synthetic") else {}
        cfg["text"]["max_words"] = 12
    return recipe_defaults.finish(cfg, smoke)


def run(cfg, workdir, strategy, export=False):
    return captioning.run(cfg, workdir, strategy, export)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
