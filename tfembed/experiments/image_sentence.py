"""Image-sentence retrieval (Karpathy & Fei-Fei 2015, Wang et al. 2016): a JointEmbedding
(image_sentence_models) trained by its task over batches holding several captions per image,
evaluated by tfembed.evaluators.image_text_retrieval (R@K / median / mean rank both ways),
saved as a run bundle (`save_bundle`) that `--export` and `tfembed export RUN_DIR` publish."""

import os

import numpy as np

from tfembed.data import pipeline
from tfembed import evaluators
from tfembed.evaluators import image_text_retrieval
from tfembed.experiments import common
from tfembed.experiments.image_sentence_models import build
from tfembed.experiments.image_sentence_parts import batch_plan, batches
from tfembed.export import run_bundle
from tfembed.training.strategy import is_chief


def embed(model, text, image, dataset, rows):
    """Image embeddings of `rows`, embeddings of all their captions, caption -> local image,
    the captions."""
    images = np.concatenate([np.asarray(model.encode_image(x))
                             for x in pipeline.image_batches(image.load, rows, 64)])
    flat, offsets = pipeline.flat_texts(dataset.texts, rows)
    texts = pipeline.embed_in_batches(model.encode_text, text.tokenize(flat), 256)
    return images, texts, np.repeat(np.arange(len(rows)), np.diff(offsets)), flat


def save_bundle(cfg, workdir, model, text, image, dataset, rows, embedded):
    """RUN_DIR/exportable/ (tfembed.export.run_bundle): the JointEmbedding, its text
    preprocessor, the evaluated test images' embeddings as the `retrieve` gallery (they keep
    the regions the model was evaluated with), and, when the image tower does not start from
    the served input, the serving image tower (ImageInput.serving: served images arrive as
    bytes without boxes, so alignment models cut the whole image + the fixed grid in the graph,
    and a frozen CNN runs in front of the tower that trained on its features)."""
    if not is_chief():
        return None
    images, _, _, strings = embedded
    image_input, serving_tower = image.serving(model.image_tower)
    return run_bundle.save(workdir, model, image_input, text.preprocessor,
                           gallery=([dataset.image_ids[r] for r in rows], images),
                           k=cfg["export"]["top_k"], model_name=cfg["recipe"],
                           example_texts=strings[:2], image_tower=serving_tower)


def protocol_name(cfg, n_images):
    """The configured protocol when the test set has its size, else an honest subset name."""
    return image_text_retrieval.protocol_name(cfg["protocol"], n_images)


def evaluate(model, text, image, dataset, rows, protocol="flickr_1k", embedded=None):
    images, texts, t2i, _ = embedded or embed(model, text, image, dataset, rows)
    return image_text_retrieval.evaluate(t2i, image_embeddings=images, text_embeddings=texts,
                                         score_fn=model.score, protocol=protocol, chunk=50)


def resolve_root(cfg):
    """Fill "{root}" in data / image option paths with the data directory."""
    root = cfg["data"].get("root") or ""
    for section in (cfg["data"], cfg["image"]["options"]):
        for key, value in section.items():
            if isinstance(value, str) and "{root}" in value:
                section[key] = os.path.normpath(value.replace("{root}", root))
    return cfg


def _train(cfg, workdir, strategy, dataset, splits, model, text, image):
    table = text.tokenize(pipeline.flat_texts(dataset.texts, np.arange(dataset.num_images))[0])
    offsets = pipeline.flat_texts(dataset.texts, np.arange(dataset.num_images))[1]
    t = cfg["train"]
    counts = np.array([len(x) for x in dataset.texts])
    plan = batch_plan(splits["train"], counts, t["steps"], t["batch_size"], t["captions_per_image"],
                      cfg["seed"])
    val_rows = splits["val"]
    eval_fn = None
    if val_rows is not None and len(val_rows) and t["eval_every"]:
        eval_fn = lambda m: evaluate(m, text, image, dataset, val_rows[:t["eval_images"]])[0]  # noqa: E731
    return common.train(cfg, model, strategy, workdir,
                        lambda start: batches(image.load, table, offsets, plan, t["batch_size"], start),
                        eval_fn)


def run(cfg, workdir, strategy, export=False):
    cfg = resolve_root(cfg)
    evals = evaluators.selected(cfg, "image_text_retrieval", optional=(
        ("phrase_alignment",) if cfg["model"]["kind"] == "alignment" else ()))
    common.save_config(cfg, workdir, __name__)
    if "phrase_alignment" in evals:  # a bad decode.mrf_beta fails before training
        from tfembed.experiments.phrase_alignment import decode_options
        decode_options(cfg)
    dataset = common.load_dataset(cfg["data"])
    splits = {k: dataset.splits[cfg["data"]["splits"][k]] for k in ("train", "test")}
    splits["val"] = dataset.splits.get(cfg["data"]["splits"]["val"])
    train_texts, _ = pipeline.flat_texts(dataset.texts, splits["train"])
    model, text, image = build(cfg, dataset, train_texts, strategy)
    timing = _train(cfg, workdir, strategy, dataset, splits, model, text, image)
    test_rows, val_rows = splits["test"], splits["val"]
    protocol = protocol_name(cfg, len(test_rows))
    embedded = embed(model, text, image, dataset, test_rows)
    metrics_, chance = evaluate(model, text, image, dataset, test_rows, protocol, embedded)
    notes = [] if protocol == cfg["protocol"] else [
        f"test split has {len(test_rows)} images, so this is not the {cfg['protocol']} protocol"]
    beta, mrf_notes = None, [""]
    if "phrase_alignment" in evals:  # Sec. 3.1.4: MRF phrase alignment, beta on val
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
    save_bundle(cfg, workdir, model, text, image, dataset, test_rows, embedded)
    if export:
        results["export"] = run_bundle.export_run(workdir)
    if cfg["plot"] and cfg["model"]["kind"] == "alignment":  # last: a failing plot is a warning
        from tfembed.experiments.alignment_plot import plot_alignment
        common.run_plots(workdir, results, [("alignment plot", lambda: plot_alignment(
            model, text, image, dataset, test_rows[:3], workdir, beta or 0.0, mrf_notes[0]))])
    return results
