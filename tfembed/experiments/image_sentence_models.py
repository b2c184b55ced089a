"""The image-sentence recipes as the shared contract: `JointEmbedding(image_tower,
text_tower, scorer, task)` (tfembed.models), no model class of their own.

model.kind "two_branch" (Wang, Li & Lazebnik 2016): both towers end in Wang's embedding branch
(unit vectors), scorer "dot" (= cosine), task "structure_preserving" (Eq. 3: top-K
bidirectional ranking + the within-text neighbourhood term over score(t, t)).
model.kind "alignment" (Karpathy & Fei-Fei 2015): region vectors [N, R, D] and BRNN word
vectors [N, L, D] (padding = zero vectors), scorer "alignment" (S_kl, Eq. 8), task
"bidirectional_ranking" (Eq. 9). model.task_options are the task's options.
Batches hold several captions per image, flattened in the input pipeline with their image
ids ("text_id"), so the task's default pairing builds the positives.
"""

from tfembed.errors import ConfigError
from tfembed.experiments.image_input import ImageInput
from tfembed.models import JointEmbedding
from tfembed.towers.text_towers import build_text_tower, fit_text_side

KINDS = {"two_branch": ("dot", "structure_preserving"),  # the papers' (scorer, task)
         "alignment": ("alignment", "bidirectional_ranking")}
TEXT_TOWERS = {"two_branch": "two_branch", "alignment": "brnn"}  # tfembed.towers.text_towers


def build(cfg, dataset, train_texts, strategy):
    """(model, TextSide, ImageInput) for `cfg` (towers built in the strategy's scope)."""
    kind = cfg["model"]["kind"]
    if kind not in KINDS:
        raise ConfigError(f"model.kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "alignment" and cfg["text"]["features"] not in ("ids", "mean_word_vectors"):
        raise ConfigError(f"model.kind=alignment needs word ids, not "
                          f"text.features={cfg['text']['features']}")
    scorer, task = cfg["model"]["scorer"], cfg["model"]["task"]
    if (scorer == "alignment") != (kind == "alignment"):  # region/word sequences need S_kl
        raise ConfigError(f"model.kind={kind} scores with model.scorer={KINDS[kind][0]}, got "
                          f"model.scorer={scorer}")
    dim = cfg["model"]["embed_dim"]
    with strategy.scope():
        text = fit_text_side(TEXT_TOWERS[kind], cfg["text"], train_texts, cfg["seed"])
        image = ImageInput(cfg, dataset, kind)
        image_tower = image.tower(cfg, dim)
        text_tower = build_text_tower(TEXT_TOWERS[kind], text, cfg["text"], dim,
                                      texts=train_texts, seed=cfg["seed"])
        model = JointEmbedding(image_tower, text_tower,
                               scorer=scorer, task=task,
                               task_options=cfg["model"]["task_options"])
    return model, text, image
