"""Label-embedding baselines. WSABIE (Weston et al. 2011): annotation with caption terms (or
class labels), and its image embedding V x scored for semantic retrieval like Gordo & Larlus.
DeViSE (Frome et al. 2013): zero-shot classification by the nearest class-name word vector,
evaluated with the GBU per-class protocol."""

import os

import numpy as np

from tfembed import metrics
from tfembed.data import pipeline, relevance
from tfembed.errors import ConfigError
from tfembed.experiments import common, semantic_retrieval
from tfembed.experiments.dem_training import index_plan
from tfembed.experiments.gbu_eval import gbu_metrics
from tfembed.experiments.label_embedding_models import LabelEmbeddingModel, label_dataset_fn
from tfembed.export import exporter
from tfembed.towers import word_vectors
from tfembed.towers.image import build_image_tower


def _image_side(cfg, dataset):
    size = None if cfg["image"]["tower"] == "features" else tuple(cfg["image"]["size"])
    load_image, kind = pipeline.image_source(dataset, np.arange(dataset.num_images), size)
    shape = (kind[1],) if kind[0] == "features" else tuple(kind[1]) + (3,)
    return load_image, kind, shape


def _plan(cfg, rows):
    return index_plan(rows, cfg["train"]["steps"], cfg["train"]["batch_size"], cfg["seed"])


def _train(cfg, model, load_image, plan, plan_labels, positive, workdir, strategy):
    t = cfg["train"]
    num_labels = positive.shape[1] if positive is not None else 0
    fn = label_dataset_fn(load_image, plan, plan_labels, positive, cfg["model"].get("trials", 1),
                          num_labels, t["batch_size"], cfg["seed"])
    return common.train(cfg, model, strategy, workdir, fn)


def _embed(model, load_image, rows):
    return np.concatenate([np.asarray(model.encode_image(x))
                           for x in pipeline.image_batches(load_image, rows)])


def _caption_labels(cfg, dataset):
    """Caption terms as labels: tf-idf fitted on the training captions, multi-hot [N, Y]."""
    train = dataset.splits[cfg["data"]["train_split"]]
    tfidf = relevance.CaptionTfidf([dataset.texts[r] for r in train], cfg["labels"]["min_df"],
                                   cfg["labels"]["max_terms"])
    positive = tfidf.counts(dataset.texts) > 0
    return tfidf, positive


def run_wsabie(cfg, workdir, strategy, export=False):
    common.save_config(cfg, workdir, __name__ + ".run_wsabie")
    dataset = common.load_dataset(cfg["data"])
    load_image, kind, shape = _image_side(cfg, dataset)
    train, test = (dataset.splits[cfg["data"][k]] for k in ("train_split", "test_split"))
    by_class = cfg["labels"]["source"] == "classes"
    if by_class:  # labels: the training classes (test rows are images of those classes)
        classes = np.unique(dataset.labels[train])
        positive = dataset.labels[:, None] == classes[None, :]
    else:
        tfidf, positive = _caption_labels(cfg, dataset)
    with strategy.scope():
        tower = build_image_tower(cfg["image"]["tower"], shape, **cfg["image"]["options"])
        model = LabelEmbeddingModel(tower, cfg["model"]["embed_dim"], positive.shape[1],
                                    margin=cfg["model"]["margin"], max_norm=cfg["model"]["max_norm"])
    # Each time an image recurs in the plan, a new positive label is its WARP anchor.
    lists = [np.flatnonzero(p) for p in positive]
    plan = _plan(cfg, train[positive[train].any(axis=1)])  # no known term: nothing to rank
    draw = np.random.default_rng(cfg["seed"]).random(len(plan))
    anchors = np.array([lists[r][int(u * len(lists[r]))] for r, u in zip(plan, draw)])
    timing = _train(cfg, model, load_image, plan, anchors, positive, workdir, strategy)
    emb = _embed(model, load_image, test)
    scores = np.asarray(model.score(emb))
    pos = positive[test]
    out, chance = {}, {}
    if by_class:
        out["annotation_top1_per_class"] = metrics.top1_per_class(
            scores, np.searchsorted(classes, dataset.labels[test]))
        chance["annotation_top1_per_class"] = metrics.chance_top1(len(classes))
    # Baseline: every image annotated with the most frequent training labels (the prior).
    prior = np.broadcast_to(positive[train].mean(axis=0), scores.shape)
    for k in (1, 5):
        for name, s in (("", scores), ("_frequency_prior", prior)):
            top = np.argsort(-s, axis=1, kind="stable")[:, :k]
            out[f"annotation_p@{k}{name}"] = float(np.take_along_axis(pos, top, 1).mean())
            chance[f"annotation_p@{k}{name}"] = float(pos.mean())  # random ranking
    notes = [f"labels: {cfg['labels']['source']} ({positive.shape[1]})"]
    if not by_class:  # the semantic-retrieval comparison with Gordo & Larlus
        embeddings = semantic_retrieval.baseline_embeddings(dataset, test, cfg["seed"])
        embeddings["wsabie"] = emb
        true_rel = relevance.similarity(tfidf.vectors([dataset.texts[r] for r in test]))
        by_name, curves = semantic_retrieval.score_embeddings(embeddings, true_rel, cfg["seed"],
                                                              cfg.get("eval"))
        ranking, rchance = semantic_retrieval.flatten_with_chance(by_name, "wsabie")
        out.update(ranking), chance.update(rchance)
        notes.append("relevance: tf-idf of the test captions, vocabulary fitted on train")
        notes += semantic_retrieval.protocol_notes(curves, cfg.get("eval"))  # R axis, units
    results = common.finish(cfg, workdir, dataset, out, chance, timing, notes)
    if export:  # classify_prototypes = annotation with the learned label vectors
        names = ([dataset.class_names[c] for c in classes] if by_class else tfidf.terms)
        results["export"] = export_labels(cfg, workdir, model, kind, names,
                                          np.asarray(model.labels))
    return results


def export_labels(cfg, workdir, model, image_kind, names, vectors):
    """embed_image and classify_prototypes (labels = `names`, vectors baked in)."""
    kind, size = image_kind
    spec = exporter.ServingSpec(
        track=[model], image_fn=model.encode_image, score_fn=model.score, image_kind=kind,
        image_size=size if kind == "pixels" else None,
        feature_dim=size if kind == "features" else None, prototypes=(list(names), vectors),
        k=cfg["export"]["top_k"], metric="dot")
    example = common._example_image_bytes(size) if kind == "pixels" else None
    path = exporter.export(spec, os.path.join(workdir, "export"), model_name=cfg["recipe"],
                           warmup=exporter.warmup_requests(spec, example, []))
    print(f"exported SavedModel: {path}")
    return path


def class_vectors(cfg, dataset):
    """Word vectors of every class name: Word2Vec on the training descriptions ("train"),
    "glove6b50d", or a word-vector file."""
    source = cfg["labels"]["word_vectors"]
    if source == "train":
        texts, _ = pipeline.flat_texts(dataset.texts, dataset.splits[cfg["data"]["train_split"]])
        if not texts:
            raise ConfigError(f"labels.word_vectors=train needs descriptions; {dataset.name} has "
                              "none: use glove6b50d or a word-vector file")
        kv = word_vectors.train_word2vec(texts, cfg["labels"]["dim"], cfg["seed"])
    else:
        kv = word_vectors.load_vectors(source)
    names = dataset.class_names
    missing = [n for n in names if not any(w in kv.key_to_index
                                           for w in word_vectors.class_name_words(n))]
    if missing and cfg["labels"]["missing"] == "zero":  # opt-in: such a class scores 0
        known = [n for n in names if n not in missing]
        vectors = np.zeros((len(names), kv.vector_size), np.float32)
        vectors[[names.index(n) for n in known]] = word_vectors.class_name_embeddings(kv, known)
        return vectors, missing
    return word_vectors.class_name_embeddings(kv, names), []


def run_devise(cfg, workdir, strategy, export=False):
    common.save_config(cfg, workdir, __name__ + ".run_devise")
    dataset = common.load_dataset(cfg["data"])
    load_image, kind, shape = _image_side(cfg, dataset)
    vectors, missing = class_vectors(cfg, dataset)
    train = dataset.splits[cfg["data"]["train_split"]]
    seen = np.unique(dataset.labels[train])
    # cfg["split_names"] remaps the GBU roles (None: dropped): the tuning protocol scores on val.
    names = {"test_unseen": "test_unseen", "test_seen": "test_seen"} | cfg.get("split_names", {})
    splits = {role: dataset.splits[n] for role, n in names.items() if n in dataset.splits}
    unseen = np.unique(dataset.labels[splits["test_unseen"]])
    with strategy.scope():
        tower = build_image_tower(cfg["image"]["tower"], shape, **cfg["image"]["options"])
        model = LabelEmbeddingModel(tower, vectors.shape[1], label_vectors=vectors[seen],
                                    loss="hinge_rank", margin=cfg["model"]["margin"])
    local = np.full(dataset.num_classes, -1)
    local[seen] = np.arange(len(seen))
    plan = _plan(cfg, train)
    timing = _train(cfg, model, load_image, plan, local[dataset.labels[plan]], None, workdir,
                    strategy)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def score_fn(rows, classes):  # cosine, as the paper's nearest label vector
        return _embed(model, load_image, rows) @ unit[classes].T

    out, chance = gbu_metrics(score_fn, dataset.labels, splits, seen, unseen,
                              seed=cfg["seed"])
    notes = [f"class-name word vectors: {cfg['labels']['word_vectors']} ({vectors.shape[1]}-d)",
             f"classes without any word vector (zero vector, score 0): {missing}"]
    results = common.finish(cfg, workdir, dataset, out, chance, timing, notes)
    if export:  # classify_prototypes = zero-shot over every class name
        results["export"] = export_labels(cfg, workdir, model, kind, dataset.class_names, unit)
    return results
