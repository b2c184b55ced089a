"""Image-sentence retrieval (Karpathy & Fei-Fei 2015, Wang et al. 2016 and later recipes):
train an image encoder and a sentence encoder with a ranking loss over batches holding
several captions per image, evaluate R@K / median / mean rank both ways, export."""

import os

import numpy as np

from tfembed import metrics
from tfembed.data import pipeline
from tfembed.experiments import common
from tfembed.experiments.image_sentence_models import ImageSentenceModel
from tfembed.experiments.image_sentence_parts import ImageInput, TextInput, batch_plan, batches
from tfembed.layers.alignment import alignment_scores


def build(cfg, dataset, strategy):
    kind = cfg["model"]["kind"]
    train_rows = dataset.splits[cfg["data"]["train_split"]]
    train_texts, _ = pipeline.flat_texts(dataset.texts, train_rows)
    with strategy.scope():
        text = TextInput(cfg["text"], train_texts, cfg["seed"])
        image = ImageInput(cfg, dataset, kind)
        model = ImageSentenceModel(kind, image.encoder(cfg, cfg["model"]["embed_dim"]),
                                   text.encoder(kind, cfg["text"], cfg["model"]["embed_dim"]),
                                   cfg["model"]["loss_options"])
    return model, text, image


def embed(model, text, image, dataset, rows):
    """Image embeddings of `rows`, embeddings of all their captions, caption -> local image."""
    images = np.concatenate([np.asarray(model.encode_image(x))
                             for x in pipeline.image_batches(image.load, rows, 64)])
    flat, offsets = pipeline.flat_texts(dataset.texts, rows)
    texts = pipeline.embed_in_batches(model.encode_text, text.tokenize(flat), 256)
    return images, texts, np.repeat(np.arange(len(rows)), np.diff(offsets)), flat


def similarity(model, images, texts):
    if model.kind == "alignment":
        return np.asarray(alignment_scores(images, texts, chunk=50))
    return np.asarray(model.score(images, texts))


def protocol_name(cfg, n_images):
    """The configured protocol when the test set has its size, else an honest subset name."""
    sizes = {"flickr_1k": 1000, "coco_1k_5fold": 5000, "coco_5k": 5000}
    wanted = cfg["protocol"]
    base, val = (wanted[:-4], "_val") if wanted.endswith("_val") else (wanted, "")  # tuning
    return (wanted if sizes.get(base) == n_images
            else f"{base.split('_')[0]}_subset_{n_images}{val}")


def evaluate(model, text, image, dataset, rows, protocol="flickr_1k"):
    images, texts, t2i, _ = embed(model, text, image, dataset, rows)
    sim = similarity(model, images, texts)
    if protocol == "coco_1k_5fold":
        out = metrics.coco_1k_5fold(sim, t2i)
        fold = np.flatnonzero(t2i < 1000)
        chance = metrics.recall_chance(1000, len(fold), t2i[fold])
    else:
        out = metrics.image_text_recall(sim, t2i)
        chance = metrics.recall_chance(len(rows), len(t2i), t2i)
    n_img, n_txt = (1000, len(fold)) if protocol == "coco_1k_5fold" else (len(rows), len(t2i))
    chance.update(median_rank_chance(n_img, n_txt, np.bincount(t2i)))
    return out, {k: chance[k] for k in out if k in chance}


def median_rank_chance(n_img, n_txt, captions_per_image):
    """floor(median) rank of a random ranking: t2i uniform on 1..n_img; i2t the best of an
    image's m captions among n_txt, P(best > r) = C(n_txt - r, m) / C(n_txt, m)."""
    m = int(np.median(captions_per_image[captions_per_image > 0]))
    r = np.arange(1, n_txt + 1)
    above = np.ones(n_txt)
    for j in range(m):
        above *= np.clip((n_txt - r - j) / (n_txt - j), 0, 1)
    return {"t2i_medr": float(np.floor((n_img + 1) / 2)),
            "i2t_medr": float(r[np.argmax(1 - above >= 0.5)])}


def resolve_root(cfg):
    """Fill "{root}" in data / image option paths with the data directory."""
    root = cfg["data"].get("root") or ""
    for section in (cfg["data"], cfg["image"]["options"]):
        for key, value in section.items():
            if isinstance(value, str) and "{root}" in value:
                section[key] = os.path.normpath(value.replace("{root}", root))
    return cfg


def run(cfg, workdir, strategy, export=False):
    cfg = resolve_root(cfg)
    if cfg["model"]["kind"] == "alignment":  # a bad decode.mrf_beta fails before training
        from tfembed.experiments.phrase_alignment import decode_options
        decode_options(cfg)
    dataset = common.load_dataset(cfg["data"])
    splits = {k: dataset.splits[cfg["data"][f"{k}_split"]] for k in ("train", "test")}
    model, text, image = build(cfg, dataset, strategy)
    table = text.tokenize(pipeline.flat_texts(dataset.texts, np.arange(dataset.num_images))[0])
    offsets = pipeline.flat_texts(dataset.texts, np.arange(dataset.num_images))[1]
    t = cfg["train"]
    counts = np.array([len(x) for x in dataset.texts])
    plan = batch_plan(splits["train"], counts, t["steps"], t["batch_size"], t["captions_per_image"],
                      cfg["seed"])
    val_rows = dataset.splits.get(cfg["data"]["val_split"])
    eval_fn = None
    if val_rows is not None and len(val_rows) and t["eval_every"]:
        eval_fn = lambda m: evaluate(m, text, image, dataset, val_rows[:t.get("eval_images", 500)])[0]
    timing = common.train(cfg, model, strategy, workdir,
                          lambda start: batches(image.load, table, offsets, plan, t["batch_size"], start),
                          eval_fn)
    test_rows = splits["test"]
    protocol = protocol_name(cfg, len(test_rows))
    metrics_, chance = evaluate(model, text, image, dataset, test_rows, protocol)
    notes = [] if protocol == cfg["protocol"] else [
        f"test split has {len(test_rows)} images, so this is not the {cfg['protocol']} protocol"]
    beta, mrf_notes = None, [""]
    if model.kind == "alignment":  # Sec. 3.1.4: MRF phrase alignment, beta chosen on val
        from tfembed.experiments import phrase_alignment
        tune_rows = val_rows if val_rows is not None and len(val_rows) else splits["train"]
        found, found_chance, mrf_notes, beta = phrase_alignment.evaluate(
            cfg, dataset, image.boxes, lambda rows: embed(model, text, image, dataset, rows),
            text.tokenize, tune_rows, test_rows)
        metrics_.update(found)
        chance.update(found_chance)
        notes += mrf_notes
    cfg = {**cfg, "protocol": protocol}
    results = common.finish(cfg, workdir, dataset, metrics_, chance, timing, notes)
    if export:
        from tfembed.experiments.image_sentence_export import export_model
        results["export"] = export_model(cfg, workdir, model, text, image, dataset, test_rows,
                                         lambda: embed(model, text, image, dataset, test_rows))
    if cfg.get("plot") and model.kind == "alignment":  # last: a failing plot is a warning
        from tfembed.experiments.alignment_plot import plot_alignment
        common.run_plots(workdir, results, [("alignment plot", lambda: plot_alignment(
            model, text, image, dataset, test_rows[:3], workdir, beta or 0.0, mrf_notes[0]))])
    return results
