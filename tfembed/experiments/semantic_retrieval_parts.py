"""Parts of the semantic-retrieval experiment: the visual encoder (CNN map + R-MAC/GeM, or a
projection of precomputed features), the tf-idf text branch, the triplet model and the
ranking evaluation against caption tf-idf relevance (NDCG@R, PCC@R and their areas over log R)."""

import keras
import numpy as np
import tensorflow as tf

from tfembed import metrics
from tfembed.errors import ConfigError
from tfembed.layers.pooling import RMAC, GeM
from tfembed.losses.triplet import triplet_loss
from tfembed.models import gather_across_replicas
from tfembed.towers.image import build_image_tower


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


def text_encoder(vocab_size, embed_dim):
    """theta(t) = W^T t / ||W^T t|| on a tf-idf vector."""
    inputs = keras.Input((vocab_size,), name="tfidf")
    x = keras.layers.Dense(embed_dim, use_bias=False, name="text_projection")(inputs)
    return keras.Model(inputs, keras.layers.UnitNormalization(name="l2")(x), name="textual")


class TripletEmbeddingModel(keras.Model):
    """L = L_v + text_weight * (L_t1 + L_t2) over (query, relevant, irrelevant) triplets;
    text_weight = 0 is the visual-only (V,V) model."""

    def __init__(self, visual, textual, margin=0.1, text_weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.visual, self.textual = visual, textual
        self.margin, self.text_weight = float(margin), float(text_weight)
        self.textual.trainable = bool(self.text_weight)  # (V,V): the text side is unused
        self.built = True  # both encoders are built functional models

    def encode_image(self, x, training=False):
        return self.visual(x, training=training)

    def encode_text(self, t, training=False):
        return self.textual(t, training=training)

    def encode_both(self, x, t):
        """(V+T) representation: l2(phi(I) + theta(t))."""
        return tf.math.l2_normalize(self.encode_image(x) + self.encode_text(t), axis=-1)

    def compute_batch_loss(self, batch, training=True):
        # Explicit calls: autograph mis-converts generator expressions over the batch keys.
        q = self.encode_image(batch["query"], training)
        p = self.encode_image(batch["positive"], training)
        n = self.encode_image(batch["negative"], training)
        loss = triplet_loss(q, p, n, self.margin)
        if self.text_weight:
            tq = self.encode_text(batch["query_text"], training)
            tp = self.encode_text(batch["positive_text"], training)
            tn = self.encode_text(batch["negative_text"], training)
            loss += self.text_weight * (triplet_loss(q, tp, tn, self.margin)
                                        + triplet_loss(tq, p, n, self.margin))
        _, factor = gather_across_replicas(loss)  # triplets are independent: no gather needed
        return tf.reduce_mean(loss) * factor


def triplet_dataset_fn(load_image, tfidf, triplets, batch_size):
    """dataset_fn(start_step) -> batches of triplet images and their tf-idf vectors."""
    table = tf.constant(tfidf)

    def fetch(t):
        out = {}
        for i, key in enumerate(("query", "positive", "negative")):
            out[key] = load_image(t[i])
            out[key + "_text"] = tf.gather(table, t[i])
        return out

    def dataset_fn(start_step):
        ds = tf.data.Dataset.from_tensor_slices(triplets[start_step * batch_size:])
        ds = ds.map(fetch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    return dataset_fn


def ranking_metrics(pred, true_rel, rs):
    """ndcg_auc / pcc_auc: areas under the NDCG@R and PCC@R curves over log R (Gordo & Larlus
    2017, Table 2 and Fig. 2; see tfembed.metrics.ranking), PCC from R = 2 (one item has no
    correlation); ndcg@10 / ndcg@50 when the database is larger; and the curves."""
    rs = np.asarray(rs)
    ndcg = metrics.curve(metrics.ndcg_at_r, pred, true_rel, rs)
    prs = rs[rs >= 2]
    pcc = metrics.curve(metrics.pcc_at_r, pred, true_rel, prs)
    out = {"ndcg_auc": metrics.area_under_curve(rs, ndcg),
           "pcc_auc": metrics.area_under_curve(prs, pcc) if len(prs) else float("nan")}
    for r in (10, 50):
        if r < pred.shape[1]:
            out[f"ndcg@{r}"] = metrics.ndcg_at_r(pred, true_rel, r)
    return out, {"r": rs.tolist(), "ndcg": ndcg, "pcc_r": prs.tolist(), "pcc": pcc}


def plot_curves(curves, path):
    """NDCG@R and PCC@R of every setting on log-R axes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, c in curves.items():
        axes[0].plot(c["r"], c["ndcg"], marker=".", label=name)
        axes[1].plot(c["pcc_r"], c["pcc"], marker=".", label=name)
    for ax, title in zip(axes, ("NDCG@R", "PCC@R")):
        ax.set_xscale("log"), ax.set_xlabel("R"), ax.set_title(title), ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
