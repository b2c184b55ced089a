"""Image captioning with a multimodal RNN (Karpathy & Fei-Fei 2015, Sec. 3.2): teacher-forced
training on (image, caption) pairs of the train split, greedy or beam-search decoding of the
test images, corpus BLEU-1..4 against all their reference captions (`bleu_corpus`), beside the
BLEU of a constant "most frequent training caption" baseline scored on the same references."""

import collections
import os

import numpy as np
import tensorflow as tf

from tfembed import evaluators
from tfembed.data import pipeline
from tfembed.errors import ConfigError
from tfembed.experiments import common
from tfembed.experiments.image_sentence import resolve_root
from tfembed.export import exporter
from tfembed.metrics.bleu import corpus_bleu, tokenize
from tfembed.towers import caption as caption_lib
from tfembed.towers import caption_search
from tfembed.towers import text as text_towers
from tfembed.towers.image import build_image_tower


def image_input(cfg, dataset):
    """`load(row)` over all rows, ("features", D) or ("pixels", (H, W)), and the image encoder."""
    tower = cfg["image"]["tower"]
    if tower == "features" and dataset.features is None:
        raise ConfigError("image.tower=features but the data set has no features "
                          "(set data.features=FILE)")
    size = None if tower == "features" else tuple(cfg["image"]["size"])
    load, kind = pipeline.image_source(dataset, np.arange(dataset.num_images), size)
    shape = (kind[1],) if kind[0] == "features" else (*kind[1], 3)
    encoder = build_image_tower(tower, shape, **cfg["image"]["options"])
    return load, kind, encoder


def baseline_caption(captions):
    """The most frequent training caption (after tokenising); ties, e.g. when no caption repeats,
    go to the one of median length whose words are most frequent on average."""
    normal = [" ".join(tokenize(c)) for c in captions]
    counts = collections.Counter(normal)
    top = max(counts.values())
    tied = sorted({c for c in normal if counts[c] == top})
    words = collections.Counter(w for c in normal for w in c.split())
    median = int(np.median([len(c.split()) for c in normal]))
    return max(tied, key=lambda c: (len(c.split()) == median,
                                    np.mean([words[w] for w in c.split()] or [0])))


def train_batches(load, table, pairs, batch, start_step):
    rows, caption_rows = pairs
    begin = start_step * batch
    words = tf.constant(table)
    ds = tf.data.Dataset.from_tensor_slices((rows[begin:], caption_rows[begin:]))
    ds = ds.map(lambda r, c: {"image": load(r), "words": tf.gather(words, c)},
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def pair_plan(dataset, train_rows, offsets, steps, batch, seed):
    """Every (image, caption) pair of the train split once per epoch, shuffled."""
    rows = np.repeat(train_rows, [len(dataset.texts[r]) for r in train_rows])
    captions = np.concatenate([offsets[r] + np.arange(len(dataset.texts[r])) for r in train_rows])
    rng, need = np.random.default_rng(seed), steps * batch
    epochs = need // len(rows) + 1
    order = np.concatenate([rng.permutation(len(rows)) for _ in range(epochs)])[:need]
    return rows[order], captions[order]


def generate_captions(model, load, rows, vocabulary, max_len, beam):
    images = np.concatenate([b.numpy() for b in pipeline.image_batches(load, rows, 128)])
    ids = caption_search.decode(model, images, max_len, beam)
    return [caption_lib.decode_ids(r, vocabulary) for r in ids]


def run(cfg, workdir, strategy, export=False):
    cfg = resolve_root(cfg)
    evaluators.selected(cfg, "captioning")
    dataset = common.load_dataset(cfg["data"])
    train_rows = dataset.splits[cfg["data"]["splits"]["train"]]
    test_rows = dataset.splits[cfg["data"]["splits"]["test"]]
    all_texts, offsets = pipeline.flat_texts(dataset.texts, np.arange(dataset.num_images))
    train_texts = pipeline.flat_texts(dataset.texts, train_rows)[0]
    t, m = cfg["train"], cfg["model"]
    vocabulary = text_towers.word_vocabulary(train_texts, cfg["text"]["vocab_size"],
                                             cfg["text"]["min_count"])
    table = caption_lib.encode_captions(all_texts, vocabulary, cfg["text"]["max_words"])
    with strategy.scope():
        load, kind, encoder = image_input(cfg, dataset)
        model = caption_lib.CaptionModel(encoder, len(vocabulary) + len(caption_lib.SPECIAL),
                                         m["word_dim"], m["units"], m["cell"], m["dropout"])
    pairs = pair_plan(dataset, train_rows, offsets, t["steps"], t["batch_size"], cfg["seed"])
    timing = common.train(cfg, model, strategy, workdir,
                          lambda start: train_batches(load, table, pairs, t["batch_size"], start))
    max_len = cfg["text"]["max_words"] + 1
    hyps = generate_captions(model, load, test_rows, vocabulary, max_len, cfg["decode"]["beam"])
    refs = [dataset.texts[r] for r in test_rows]
    metrics = corpus_bleu(hyps, refs)
    baseline = baseline_caption(train_texts)
    chance = corpus_bleu([baseline] * len(refs), refs)
    beam = cfg["decode"]["beam"]
    notes = [f"{len(test_rows)} test images, each against all its references; decoding: "
             f"{'greedy' if beam == 1 else f'beam {beam}'}; chance = BLEU of the constant "
             f"training caption {baseline!r}",
             *[f"sample {dataset.image_ids[r]}: {h!r} (ref {refs[i][0]!r})"
               for i, (r, h) in enumerate(zip(test_rows[:3], hyps[:3]))]]
    results = common.finish(cfg, workdir, dataset, metrics, chance, timing, notes)
    if export:
        results["export"] = export_captioner(cfg, workdir, model, kind, vocabulary, max_len)
    return results


def export_captioner(cfg, workdir, model, kind, vocabulary, max_len):
    """Shared exporter + a `generate` signature: image bytes (or features) -> caption [N]."""
    generate = caption_lib.greedy_generate_fn(model, vocabulary, max_len)
    if kind[0] == "pixels":
        size = kind[1]
        decode = lambda x: tf.map_fn(lambda b: pipeline.decode_and_resize(b, size), x,
                                     fn_output_signature=tf.TensorSpec([*size, 3], tf.float32))
        signature = [tf.TensorSpec([None], tf.string, name="image")]
        fn = lambda image: {"caption": generate(decode(image))}
        example = {"image": np.asarray([tf.io.encode_png(tf.zeros([*size, 3], tf.uint8)).numpy()],
                                       dtype=object)}
    else:
        signature = [tf.TensorSpec([None, kind[1]], tf.float32, name="features")]
        fn = lambda features: {"caption": generate(features)}
        example = {"features": np.zeros((1, kind[1]), np.float32)}
    spec = exporter.ServingSpec(
        track=[model], image_fn=lambda x: model.init(x, training=False), score_fn=None,
        image_kind=kind[0], image_size=kind[1] if kind[0] == "pixels" else None,
        feature_dim=kind[1] if kind[0] == "features" else None,
        endpoints=[("generate", fn, signature)])
    path = exporter.export(spec, os.path.join(workdir, "export"), model_name=cfg["recipe"],
                           warmup=[("generate", example)])
    print(f"exported SavedModel: {path}")
    return path
