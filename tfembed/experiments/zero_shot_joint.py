"""Joint image-text zero-shot learning (Reed et al. 2016 and the recipes that share it):
train on seen classes with pairs of images and descriptions, evaluate zero-shot
classification and text-to-image retrieval on unseen classes, export for serving."""


import keras
import numpy as np

from tfembed import metrics
from tfembed.data import pipeline
from tfembed.errors import ConfigError
from tfembed.experiments import common
from tfembed.experiments.text_side import TextSide
from tfembed.models import JointEmbedding
from tfembed.towers.image import build_image_tower


def _image_input_shape(kind):
    return (kind[1],) if kind[0] == "features" else tuple(kind[1]) + (3,)


def build(cfg, dataset, train_rows, strategy):
    """Text side, image loader and the JointEmbedding (variables under `strategy`)."""
    train_texts, _ = pipeline.flat_texts(dataset.texts, train_rows)
    attr_dim = None if dataset.class_attributes is None else dataset.class_attributes.shape[1]
    image_size = None if cfg["image"]["tower"] == "features" else tuple(cfg["image"]["size"])
    if image_size is None and dataset.features is None:
        raise ConfigError(f"image.tower=features needs precomputed features, but data set "
                          f"{dataset.name!r} has none: pass --set data.features=FILE or choose a "
                          f"pixel tower (--set image.tower=googlenet|keras_app|efficientnet_lite0)")
    load_image, image_kind = pipeline.image_source(dataset, np.arange(dataset.num_images), image_size)
    projection = cfg["image"].get("projection", "linear")
    with strategy.scope():
        make_tower = lambda: build_image_tower(cfg["image"]["tower"],  # noqa: E731
                                               _image_input_shape(image_kind),
                                               **cfg["image"]["options"])
        tower, image_dim = None, image_kind[1] if image_kind[0] == "features" else None
        if image_dim is None and (projection == "identity" or cfg["model"]["embed_dim"] is None):
            tower = make_tower()  # a pixel tower's output dimension decides the joint one
            image_dim = tower.output.shape[-1]
        embed_dim = joint_dim(cfg, image_dim)
        # The text side is built first otherwise, as before (the order of initialisation).
        text = TextSide(cfg["text"], train_texts, embed_dim, attr_dim, cfg["seed"])
        tower = tower or make_tower()
        if projection == "linear":  # theta(v): a learned linear map after the tower
            tower = keras.Model(tower.input, keras.layers.Dense(
                embed_dim, name="image_projection")(tower.output), name="image_tower")
        model = JointEmbedding(tower, text.encoder, scorer=cfg["model"]["scorer"],
                               task=cfg["model"]["loss"],
                               task_options=cfg["model"]["loss_options"])
    return model, text, load_image, image_kind


IMAGE_PROJECTIONS = ("linear", "identity")  # image.projection (declared in tfembed.config.CHOICES)


def joint_dim(cfg, image_dim):
    """The joint-space dimension: model.embed_dim, or the image tower's output dimension when
    it is None.

    image.projection=identity is Reed's `image_noop` (reedscot/cvpr2016 modules/ImageEncoder.lua:
    the image encoder returns its input; train_sje_hybrid.lua sets emb_dim = image_dim): the
    image tower's output is the joint embedding, so only the text side learns a map into it and
    model.embed_dim must equal the image dimension. image.projection=linear adds a learned
    Dense(model.embed_dim) after the image tower (ImageEncoder.lua with noop=0).
    """
    projection = cfg["image"].get("projection", "linear")
    if projection not in IMAGE_PROJECTIONS:
        raise ConfigError(f"image.projection={projection!r}; valid: {', '.join(IMAGE_PROJECTIONS)}")
    dim = cfg["model"]["embed_dim"]
    if image_dim is None:  # a pixel tower followed by the linear projection
        return int(dim)
    image_dim = int(image_dim)
    if dim is None:
        return image_dim
    if projection == "identity" and int(dim) != image_dim:
        raise ConfigError(
            f"image.projection=identity uses the image tower's {image_dim}-d output as the joint "
            f"embedding (Reed's image_noop), so model.embed_dim must be {image_dim}, got {dim}: "
            f"--set model.embed_dim={image_dim} (or none = the image dimension), or "
            f"--set image.projection=linear")
    return int(dim)


def pair_plan(cfg, dataset, rows, text):
    """Index plan (rows, text rows, labels) and the text table for the training pipeline."""
    steps, batch = cfg["train"]["steps"], cfg["train"]["batch_size"]
    if text.is_text:
        flat, offsets = pipeline.flat_texts(dataset.texts, rows)
        table = text.tokenize(flat)
        counts = np.diff(offsets)
        local, which = pipeline.class_balanced_pairs(dataset.labels[rows], counts, steps, batch,
                                                     cfg["seed"])
        text_rows = offsets[local] + which
    else:  # class attributes play the text role: one "description" per class
        table = dataset.class_attributes.astype(np.float32)
        local, _ = pipeline.class_balanced_pairs(dataset.labels[rows], np.ones(len(rows)), steps,
                                                 batch, cfg["seed"])
        text_rows = dataset.labels[rows][local]
    image_rows = rows[local]
    return (image_rows, text_rows, dataset.labels[image_rows]), table


def embed_split(model, text, load_image, dataset, rows, max_texts=None):
    """Image embeddings of `rows`, text embeddings of their descriptions and text labels."""
    images = np.concatenate([np.asarray(model.encode_image(x))
                             for x in pipeline.image_batches(load_image, rows)])
    if text.is_text:
        flat, offsets = pipeline.flat_texts(dataset.texts, rows)
        text_labels = np.repeat(dataset.labels[rows], np.diff(offsets))
        texts = pipeline.embed_in_batches(model.encode_text, text.tokenize(flat), 512)
    else:
        classes = np.unique(dataset.labels[rows])
        texts = np.asarray(model.encode_text(dataset.class_attributes[classes]))
        text_labels, flat = classes, [dataset.class_names[c] for c in classes]
    return images, texts, text_labels, flat


def evaluate(model, text, load_image, dataset, rows, seed=0, single_queries=1000):
    """Zero-shot metrics of `model` on `rows` (unseen classes): see `zero_shot_metrics`."""
    images, texts, text_labels, _ = embed_split(model, text, load_image, dataset, rows)
    score_fn = lambda a, b: np.asarray(model.score(a, b))
    return zero_shot_metrics(score_fn, images, texts, dataset.labels[rows], text_labels,
                             seed, single_queries if text.is_text else 0)


def zero_shot_metrics(score_fn, images, texts, labels, text_labels, seed=0, single_queries=1000):
    """Reed 2016's zero-shot protocol on embeddings, each metric with its exact chance.

    Class embedding = mean of the class's text embeddings (Reed Sec. 5; `torch.mean(out, 1)`
    in reedscot/cvpr2016 `retrieval_sje_tcnn.lua`). `zsl_top1_per_image` (protocol
    `reed_per_image`) and `zsl_top1_per_class` (`gbu_per_class`) classify each image among the
    test classes. `retrieval_ap@K` is Reed's AP@K: each class-mean query ranks every test
    image and scores the fraction of its top K from the class (precision@K,
    `util/util_retrieval.lua` `retrieval_at_k`); `retrieval_map@K` is truncated mean AP@K.
    `retrieval_single_query_ap@50` does the same with one description per query
    (`single_queries` of them, drawn with `seed`; 0 skips it).
    """
    classes = np.unique(labels)
    local = np.searchsorted(classes, labels)
    text_local = np.searchsorted(classes, text_labels)
    class_emb = metrics.class_means(texts, text_local, len(classes))
    scores = score_fn(images, class_emb)
    out = {"zsl_top1_per_image": metrics.top1_per_image(scores, local),
           "zsl_top1_per_class": metrics.top1_per_class(scores, local)}
    chance = {k: metrics.chance_top1(len(classes)) for k in out}
    relevant = local[None, :] == np.arange(len(classes))[:, None]
    for k in (1, 5, 10, 50):
        out[f"retrieval_ap@{k}"] = metrics.mean_precision_at_k(scores.T, relevant, k)
        chance[f"retrieval_ap@{k}"] = metrics.chance_precision_at_k(relevant, k)
        out[f"retrieval_map@{k}"] = metrics.mean_ap_at_k(scores.T, relevant, k)
        chance[f"retrieval_map@{k}"] = metrics.chance_ap_at_k(relevant, k)
    if single_queries:
        pick = np.random.default_rng(seed).permutation(len(texts))[:single_queries]
        q_scores = score_fn(images, texts[pick]).T
        q_relevant = text_local[pick][:, None] == local[None, :]
        out["retrieval_single_query_ap@50"] = metrics.mean_precision_at_k(q_scores, q_relevant, 50)
        chance["retrieval_single_query_ap@50"] = metrics.chance_precision_at_k(q_relevant, 50)
        out["retrieval_single_query_map@50"] = metrics.mean_ap_at_k(q_scores, q_relevant, 50)
        chance["retrieval_single_query_map@50"] = metrics.chance_ap_at_k(q_relevant, 50)
    return out, chance


def _setup(cfg, strategy):
    dataset = common.load_dataset(cfg["data"])
    train_rows = dataset.splits[cfg["data"]["train_split"]]
    test_rows = dataset.splits[cfg["data"]["test_split"]]
    return (dataset, train_rows, test_rows) + build(cfg, dataset, train_rows, strategy)


def export_run(cfg, run_dir, strategy, version=None):
    """`tfembed export RUN_DIR`: rebuild the model, restore its last checkpoint, export."""
    dataset, _, test_rows, model, text, load_image, image_kind = _setup(cfg, strategy)
    common.restore_weights(model, run_dir)
    return common.export_joint(cfg, run_dir, model, text, image_kind, dataset, test_rows,
                               load_image, embed_split, version=version)


def run(cfg, workdir, strategy, export=False):
    """Train, evaluate and (optionally) export; returns the results dict."""
    common.save_config(cfg, workdir, __name__)
    dataset, train_rows, test_rows, model, text, load_image, image_kind = _setup(cfg, strategy)
    plan, table = pair_plan(cfg, dataset, train_rows, text)
    batch = cfg["train"]["batch_size"]

    def dataset_fn(start_step):
        return pipeline.pair_dataset(load_image, table, plan, plan[1], batch, start_step)

    val_rows = dataset.splits.get(cfg["data"]["val_split"]) if cfg["data"]["val_split"] else None
    eval_fn = None
    if val_rows is not None and len(val_rows) and cfg["train"]["eval_every"]:
        eval_fn = lambda m: evaluate(m, text, load_image, dataset, val_rows, cfg["seed"], 200)[0]
    timing = common.train(cfg, model, strategy, workdir, dataset_fn, eval_fn)
    metrics_, chance = evaluate(model, text, load_image, dataset, test_rows, cfg["seed"])
    results = common.finish(cfg, workdir, dataset, metrics_, chance, timing)
    if export:
        results["export"] = common.export_joint(cfg, workdir, model, text, image_kind, dataset,
                                                test_rows, load_image, embed_split)
    if cfg["plot"]:  # last: a failing plot is a warning (common.run_plots)
        common.run_plots(workdir, results, [("query plot", lambda: common.plot_queries(
            model, text, load_image, dataset, test_rows, workdir, embed_split))])
    return results
