"""Parts of the semantic-retrieval experiment (Gordo & Larlus 2017) on the shared contract:
the visual tower (CNN map + R-MAC/GeM, or a projection of precomputed features), the tf-idf
text tower (tfembed.towers.stem_tfidf) over the shared text side's word counts, the JointEmbedding with the `triplet`
task, and the triplet data set. The evaluation is tfembed.evaluators.semantic_ranking."""

import collections

import keras
import numpy as np
import tensorflow as tf

from tfembed.data import relevance
from tfembed.errors import ConfigError
from tfembed.evaluators.semantic_ranking import ranking_metrics  # noqa: F401  (old home)
from tfembed.layers.pooling import RMAC, GeM
from tfembed.models import JointEmbedding
from tfembed.towers.image import build_image_tower
from tfembed.towers.stem_tfidf import StemTfidf  # noqa: F401  (old runs' bundles import it here)
from tfembed.towers.text_towers import build_text_tower, fit_text_side

TOWER = "stem_tfidf"  # Sec. 4: tf-idf over stems -> linear projection
# The pooling layers live in the image tower, so model.keras must be able to rebuild them.
for _layer in (RMAC, GeM):
    keras.saving.register_keras_serializable(package="tfembed")(_layer)


def visual_encoder(image_cfg, image_kind, embed_dim):
    """Image input -> l2-normalised global descriptor phi(I) of `embed_dim`."""
    kind, size = image_kind
    if kind == "features":  # already pooled by the backbone: only the projection is learned
        inputs = keras.Input((size,), name="features")
        x = keras.layers.Dense(embed_dim, name="projection")(inputs)
        return keras.Model(inputs, keras.layers.UnitNormalization(name="l2")(x), name="visual")
    trunk = build_image_tower("conv_small", tuple(size) + (3,), **image_cfg.get("options", {}))
    fmap = trunk.get_layer("conv3_relu").output  # last conv map, before its pooling
    if image_cfg["pooling"] == "rmac":
        x = RMAC(image_cfg["rmac_levels"], projection_dim=embed_dim, name="rmac")(fmap)
    elif image_cfg["pooling"] == "gem":
        x = keras.layers.Dense(embed_dim, name="projection")(GeM(name="gem")(fmap))
        x = keras.layers.UnitNormalization(name="l2")(x)
    else:
        raise ConfigError(f"image.pooling must be 'rmac' or 'gem', got {image_cfg['pooling']!r}")
    return keras.Model(trunk.input, x, name="visual")


# The text side: the caption tf-idf oracle, the shared TextSide (its preprocessor counts
# words; fitted on the same training captions), its surface word -> term map, and each
# image's captions as one text.
Text = collections.namedtuple("Text", "tfidf side stem_ids image_texts")


def fit_text(dataset, train_rows, min_df=1):
    """Relevance tf-idf and the text side fitted on the training images' captions."""
    tfidf = relevance.CaptionTfidf([dataset.texts[r] for r in train_rows], min_df)
    side = fit_text_side(TOWER, {}, [c for r in train_rows for c in dataset.texts[r]])
    image_texts = np.asarray([" ".join(caps) for caps in dataset.texts], object)
    return Text(tfidf, side, tfidf.stem_ids(side.preprocessor.vocabulary()), image_texts)


def build_model(image_cfg, image_kind, text, embed_dim, margin, text_weight, scorer="dot",
                task="triplet"):
    """JointEmbedding(phi, theta, dot on unit vectors, triplet task); text_weight = 0 is the
    visual-only (V,V) model, whose text tower is frozen (it gets no gradient)."""
    visual = visual_encoder(image_cfg, image_kind, embed_dim)
    textual = build_text_tower(TOWER, text.side, {}, embed_dim, stem_ids=text.stem_ids,
                               idf=text.tfidf.idf)
    textual.trainable = bool(text_weight)
    return JointEmbedding(visual, textual, scorer=scorer, task=task,
                          task_options={"margin": float(margin), "text_weight": float(text_weight)})


def encode_texts(model, preprocessor, texts, batch_size=256):
    """theta of raw strings through the preprocessor (as the export does)."""
    texts = np.asarray(texts, object)
    return np.concatenate([np.asarray(model.encode_text(preprocessor(texts[i:i + batch_size])))
                           for i in range(0, len(texts), batch_size)])


def triplet_dataset_fn(load_image, image_texts, preprocessor, triplets, batch_size):
    """dataset_fn(start_step) -> batches of triplet images and the word counts of their
    captions, counted by the preprocessor the export serves."""
    table = tf.constant(np.asarray(image_texts, object), tf.string)

    def fetch(t):
        out = {}
        for i, key in enumerate(("query", "positive", "negative")):
            out[key] = load_image(t[i])
            out[key + "_text"] = tf.gather(table, t[i])
        return out

    width = preprocessor.vocabulary_size()

    def count(batch):
        for key in ("query_text", "positive_text", "negative_text"):
            batch[key] = tf.ensure_shape(preprocessor(batch[key]), [None, width])
        return batch

    def dataset_fn(start_step):
        ds = tf.data.Dataset.from_tensor_slices(triplets[start_step * batch_size:])
        ds = ds.map(fetch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.batch(batch_size, drop_remainder=True)
        return ds.map(count, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    return dataset_fn


def plot_curves(curves, path):
    """NDCG@R and PCC@R of every setting on log-R axes, both axes labelled; returns the
    (closed) figure so its labels can be checked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, c in curves.items():
        axes[0].plot(c["r"], c["ndcg"], marker=".", label=name)
        axes[1].plot(c["pcc_r"], c["pcc"], marker=".", label=name)
    for ax, title, ylabel in zip(axes, ("NDCG@R", "PCC@R"), (
            "NDCG@R (0-1, higher is better)", "PCC@R (Pearson correlation, -1 to 1)")):
        ax.set_xscale("log"), ax.set_title(title), ax.grid(alpha=0.3)
        ax.set_xlabel("R: number of top-ranked results (log scale)"), ax.set_ylabel(ylabel)
    axes[1].legend(fontsize=8, title="setting", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return fig
