"""Label-embedding baselines on the shared contract (JointEmbedding with a label-table text
tower, tfembed.experiments.label_embedding_models). WSABIE (Weston et al. 2011): annotation
with caption terms (or class labels), and its image embedding V x scored for semantic retrieval
like Gordo & Larlus. DeViSE (Frome et al. 2013): zero-shot classification by the nearest
class-name word vector, evaluated with the GBU per-class protocol. Every run ends with the run
bundle (tfembed.export.run_bundle), so `tfembed export RUN_DIR` needs no data set."""

import numpy as np

from tfembed import metrics
from tfembed.data import pipeline, relevance
from tfembed.errors import ConfigError, DataError
from tfembed import evaluators
from tfembed.evaluators import gbu, semantic_ranking
from tfembed.experiments import common, semantic_retrieval
from tfembed.experiments.dem_training import index_plan
from tfembed.experiments.label_embedding_models import devise_model, label_dataset_fn, wsabie_model
from tfembed.export import run_bundle
from tfembed.text import word_tokens
from tfembed.towers import word_vectors
from tfembed.towers.image import build_image_tower
from tfembed.training.strategy import is_chief


def _image_side(cfg, dataset):
    size = None if cfg["image"]["tower"] == "features" else tuple(cfg["image"]["size"])
    load_image, kind = pipeline.image_source(dataset, np.arange(dataset.num_images), size)
    shape = (kind[1],) if kind[0] == "features" else tuple(kind[1]) + (3,)
    return load_image, kind, shape


def _train(cfg, model, load_image, rows, labels, positive, workdir, strategy):
    t = cfg["train"]
    plan = index_plan(rows, t["steps"], t["batch_size"], cfg["seed"])
    labels = labels(plan) if callable(labels) else labels[plan]
    trials = cfg["model"]["trials"] if positive is not None else 0
    fn = label_dataset_fn(load_image, plan, labels, positive, trials,
                          positive.shape[1] if positive is not None else 0, t["batch_size"],
                          cfg["seed"])
    return common.train(cfg, model, strategy, workdir, fn)


def _embed(model, load_image, rows):
    return np.concatenate([np.asarray(model.encode_image(x))
                           for x in pipeline.image_batches(load_image, rows)])


def _labels(model):
    """The label table's vectors of the model's label columns."""
    return np.asarray(model.encode_text(model.label_texts))


def _finish(cfg, workdir, model, kind, results, export, prototypes, gallery=None):
    """Run bundle with the evaluated weights, then (--export) the same path as `tfembed export`."""
    if not is_chief():
        return results
    run_bundle.save(workdir, model, kind, None, gallery=gallery, prototypes=prototypes,
                    k=cfg["export"]["top_k"], model_name=cfg["recipe"])
    if export:
        results["export"] = run_bundle.export_run(workdir)
    return results


def _caption_labels(cfg, dataset):
    """Caption terms as labels: tf-idf fitted on the training captions, multi-hot [N, Y]."""
    train = dataset.splits[cfg["data"]["splits"]["train"]]
    tfidf = relevance.CaptionTfidf([dataset.texts[r] for r in train], cfg["labels"]["min_df"],
                                   cfg["labels"]["max_terms"])
    return tfidf, tfidf.counts(dataset.texts) > 0


def run_wsabie(cfg, workdir, strategy, export=False):
    by_class = cfg["labels"]["source"] == "classes"
    evals = evaluators.selected(cfg, "annotation", optional=() if by_class else (
        "semantic_ranking", "user_study"))
    common.save_config(cfg, workdir, __name__ + ".run_wsabie")
    dataset = common.load_dataset(cfg["data"])
    load_image, kind, shape = _image_side(cfg, dataset)
    train, test = (dataset.splits[cfg["data"]["splits"][k]] for k in ("train", "test"))
    if by_class:  # labels: the training classes (test rows are images of those classes)
        classes = np.unique(dataset.labels[train])
        positive = dataset.labels[:, None] == classes[None, :]
    else:
        tfidf, positive = _caption_labels(cfg, dataset)
    m = cfg["model"]
    with strategy.scope():
        tower = build_image_tower(cfg["image"]["tower"], shape, **cfg["image"]["options"])
        model = wsabie_model(tower, m["embed_dim"], positive.shape[1], m["margin"], m["max_norm"],
                             m["scorer"], m["task"])
    # Each time an image recurs in the plan, a new positive label is its WARP anchor.
    lists = [np.flatnonzero(p) for p in positive]

    def anchors(plan):
        draw = np.random.default_rng(cfg["seed"]).random(len(plan))
        return np.array([lists[r][int(u * len(lists[r]))] for r, u in zip(plan, draw)])
    rows = train[positive[train].any(axis=1)]  # no known term: nothing to rank
    timing = _train(cfg, model, load_image, rows, anchors, positive, workdir, strategy)
    emb = _embed(model, load_image, test)
    scores = np.asarray(model.score(emb, _labels(model)))
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
    if "semantic_ranking" in evals:  # the semantic-retrieval comparison with Gordo & Larlus
        embeddings = semantic_retrieval.baseline_embeddings(dataset, test, cfg["seed"])
        embeddings["wsabie"] = emb
        true_rel = relevance.similarity(tfidf.vectors([dataset.texts[r] for r in test]))
        ranking, rchance, curves = semantic_ranking.evaluate(embeddings, true_rel, "wsabie",
                                                             cfg["seed"], cfg["eval"],
                                                             study="user_study" in evals)
        out.update(ranking), chance.update(rchance)
        notes.append("relevance: tf-idf of the test captions, vocabulary fitted on train")
        notes += semantic_ranking.protocol_notes(curves, cfg["eval"])  # R axis, units
    results = common.finish(cfg, workdir, dataset, out, chance, timing, notes)
    # classify_prototypes = annotation with the learned label vectors; retrieve = test images.
    names = [dataset.class_names[c] for c in classes] if by_class else tfidf.terms
    gallery = None if by_class else ([dataset.image_ids[r] for r in test], emb)
    return _finish(cfg, workdir, model, kind, results, export, (list(names), _labels(model)),
                   gallery)


def _name_words(name):
    """'001.Black_footed_Albatross' -> [black, footed, albatross]: the numbered prefix of a
    CUB class is dropped, the rest goes through the library's one word tokenizer."""
    head, dot, rest = name.strip().partition(".")
    return word_tokens([rest if dot and head.isdigit() else name])[0]


def class_vectors(cfg, dataset):
    """Mean word vector of every class name's words: Word2Vec on the training descriptions
    ("train"), "glove6b50d", or a word-vector file. Returns (vectors [C, d], missing names)."""
    source = cfg["labels"]["word_vectors"]
    if source == "train":
        texts, _ = pipeline.flat_texts(dataset.texts, dataset.splits[cfg["data"]["splits"]["train"]])
        if not texts:
            raise ConfigError(f"labels.word_vectors=train needs descriptions; {dataset.name} has "
                              "none: use glove6b50d or a word-vector file")
        kv = word_vectors.train_word2vec(texts, cfg["labels"]["dim"], cfg["seed"])
    else:
        kv = word_vectors.load_vectors(source)
    vectors, missing = np.zeros((dataset.num_classes, kv.vector_size), np.float32), []
    for i, name in enumerate(dataset.class_names):
        known = [w for w in _name_words(name) if w in kv.key_to_index]
        if known:
            vectors[i] = np.mean([kv[w] for w in known], axis=0)
        elif cfg["labels"]["missing"] == "zero":  # opt-in: such a class scores 0
            missing.append(name)
        else:  # a zero vector would silently become a hub
            raise DataError(f"no word of class name {name!r} has a word vector (words: "
                            f"{_name_words(name)}); --set labels.missing=zero scores it 0",
                            line=i + 1)
    return vectors, missing


def run_devise(cfg, workdir, strategy, export=False):
    evaluators.selected(cfg, "gbu")
    common.save_config(cfg, workdir, __name__ + ".run_devise")
    dataset = common.load_dataset(cfg["data"])
    load_image, kind, shape = _image_side(cfg, dataset)
    vectors, missing = class_vectors(cfg, dataset)
    splits = gbu.gbu_roles(dataset, cfg["data"]["splits"])
    train = splits.pop("trainval")  # evaluated: the test roles only
    seen = np.unique(dataset.labels[train])
    unseen = np.unique(dataset.labels[splits["test_unseen"]])
    with strategy.scope():
        tower = build_image_tower(cfg["image"]["tower"], shape, **cfg["image"]["options"])
        model = devise_model(tower, vectors, seen, cfg["model"]["margin"],
                             cfg["model"]["scorer"], cfg["model"]["task"])
    local = np.full(dataset.num_classes, -1)
    local[seen] = np.arange(len(seen))  # score column of each seen class
    timing = _train(cfg, model, load_image, train, local[dataset.labels], None, workdir,
                    strategy)
    unit = np.asarray(model.encode_text(np.arange(dataset.num_classes)))  # the fixed unit vectors
    rows = np.unique(np.concatenate(list(splits.values())))
    emb = np.zeros((dataset.num_images, unit.shape[1]), np.float32)  # indexed by row
    emb[rows] = _embed(model, load_image, rows)
    # The paper's nearest (unit) label vector: model.score = dot with the unit class vectors.
    out, chance = gbu.evaluate(model, emb, unit, dataset.labels, splits, seen, unseen,
                               seed=cfg["seed"])
    notes = [f"class-name word vectors: {cfg['labels']['word_vectors']} ({vectors.shape[1]}-d)",
             f"classes without any word vector (zero vector, score 0): {missing}"]
    results = common.finish(cfg, workdir, dataset, out, chance, timing, notes)
    # classify_prototypes = zero-shot over every class name.
    return _finish(cfg, workdir, model, kind, results, export,
                   (list(dataset.class_names), unit))

