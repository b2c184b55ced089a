"""Joint image-text zero-shot learning (Reed et al. 2016 and the recipes that share it):
train on seen classes with pairs of images and descriptions, evaluate zero-shot
classification and text-to-image retrieval on unseen classes, export for serving."""


import keras
import numpy as np

from tfembed import evaluators
from tfembed.evaluators import zero_shot
from tfembed.data import pipeline
from tfembed.errors import ConfigError
from tfembed.experiments import common
from tfembed.experiments.zero_shot_baselines import run_baselines
from tfembed.export import run_bundle
from tfembed.metrics import class_means
from tfembed.training.strategy import is_chief
from tfembed.models import JointEmbedding
from tfembed.towers.image import build_image_tower
from tfembed.towers.text_towers import build_text_tower, fit_text_side


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
        kind = cfg["text"]["encoder"]
        text = fit_text_side(kind, cfg["text"], train_texts, cfg["seed"])
        encoder = build_text_tower(kind, text, cfg["text"], embed_dim, attribute_dim=attr_dim)
        tower = tower or make_tower()
        if projection == "linear":  # theta(v): a learned linear map after the tower
            tower = keras.Model(tower.input, keras.layers.Dense(
                embed_dim, name="image_projection")(tower.output), name="image_tower")
        model = JointEmbedding(tower, encoder, scorer=cfg["model"]["scorer"],
                               task=cfg["model"]["task"],
                               task_options=cfg["model"]["task_options"])
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
    return zero_shot.evaluate(model, images, texts, dataset.labels[rows], text_labels, seed,
                              single_queries if text.is_text else 0)


def _setup(cfg, strategy):
    dataset = common.load_dataset(cfg["data"])
    train_rows = dataset.splits[cfg["data"]["splits"]["train"]]
    test_rows = dataset.splits[cfg["data"]["splits"]["test"]]
    return (dataset, train_rows, test_rows) + build(cfg, dataset, train_rows, strategy)


def save_bundle(cfg, workdir, model, text, image_kind, dataset, rows, embedded):
    """What `tfembed export RUN_DIR` publishes: the model, its text preprocessor, the test
    images as the retrieve gallery and the test classes' mean text embeddings as prototypes."""
    if not is_chief():
        return
    images, texts, text_labels, strings = embedded
    classes = np.unique(text_labels)
    prototypes = class_means(texts, np.searchsorted(classes, text_labels), len(classes))
    run_bundle.save(workdir, model, image_kind, text.preprocessor if text.is_text else None,
                    gallery=([dataset.image_ids[r] for r in rows], images),
                    prototypes=([dataset.class_names[c] for c in classes], prototypes),
                    k=cfg["export"]["top_k"], model_name=cfg["recipe"],
                    example_texts=strings[:2] if text.is_text else ())


def run(cfg, workdir, strategy, export=False):
    """Train, evaluate and (optionally) export; returns the results dict."""
    evaluators.selected(cfg, "zero_shot")
    common.save_config(cfg, workdir, __name__)
    dataset, train_rows, test_rows, model, text, load_image, image_kind = _setup(cfg, strategy)
    plan, table = pair_plan(cfg, dataset, train_rows, text)
    batch = cfg["train"]["batch_size"]

    def dataset_fn(start_step):
        return pipeline.pair_dataset(load_image, table, plan, plan[1], batch, start_step)

    val_rows = dataset.splits.get(cfg["data"]["splits"]["val"]) if cfg["data"]["splits"]["val"] else None
    eval_fn = None
    if val_rows is not None and len(val_rows) and cfg["train"]["eval_every"]:
        eval_fn = lambda m: evaluate(m, text, load_image, dataset, val_rows, cfg["seed"], 200)[0]
    timing = common.train(cfg, model, strategy, workdir, dataset_fn, eval_fn)
    images, texts, text_labels, strings = embed_split(model, text, load_image, dataset, test_rows)
    metrics_, chance = zero_shot.evaluate(model, images, texts, dataset.labels[test_rows],
                                          text_labels, cfg["seed"], 1000 if text.is_text else 0)
    base, base_chance, notes = run_baselines(cfg, dataset, train_rows, test_rows, text.is_text)
    results = common.finish(cfg, workdir, dataset, {**metrics_, **base}, {**chance, **base_chance},
                            timing, notes)
    save_bundle(cfg, workdir, model, text, image_kind, dataset, test_rows,
                (images, texts, text_labels, strings))
    if export:
        results["export"] = run_bundle.export_run(workdir)
    if cfg["plot"]:  # last: a failing plot is a warning (common.run_plots)
        common.run_plots(workdir, results, [("query plot", lambda: common.plot_queries(
            model, text, load_image, dataset, test_rows, workdir, embed_split))])
    return results
