"""Building blocks of the image-sentence recipes: the text side (one `TextPreprocessor` for
fitting and serving, then a text tower), the image side (pixels, region crops, or features
from a data set or a frozen CNN; the serving image tower), batch plans."""

import keras
import numpy as np
import tensorflow as tf

from tfembed.data import pipeline
from tfembed.errors import ConfigError
from tfembed.layers.two_branch import embedding_branch
from tfembed.text import TextPreprocessor
from tfembed.towers import fisher_vector
from tfembed.towers import regions as region_lib
from tfembed.towers import text as text_towers
from tfembed.towers import word_vectors as wv
from tfembed.towers.image import build_image_tower
from tfembed.towers.word_sequence import TfIdf, brnn_word_encoder, mean_word_vectors


class TextInput:
    """`preprocessor` (a TextPreprocessor: raw strings -> word ids, or token counts for tf-idf)
    fitted on the training captions, and the text tower over its output. Fixed sentence
    features are the tower's first, non-trainable layer (`TfIdf`, `fisher_vector.FisherVector`
    with its GMM fitted on the preprocessor's own tokens), so the exported `embed_text` is
    preprocessor -> tower, the path training used."""

    FEATURES = ("ids", "mean_word_vectors", "tfidf", "fisher_vector")

    def __init__(self, cfg, train_texts, seed):
        self.features, self.max_length = cfg["features"], cfg["max_words"]
        if self.features not in self.FEATURES:
            raise ConfigError(f"text.features must be one of {', '.join(self.FEATURES)}, "
                              f"got {self.features!r}")
        self.vectors, self.sentence_features = None, None
        if self.features == "tfidf":
            self.preprocessor = TextPreprocessor(
                output="counts", vocab_size=cfg["vocab_size"], min_count=cfg["min_count"],
                name="bow_vectorizer").adapt(train_texts)
            self.sentence_features = TfIdf.fitted(self.tokenize(train_texts), name="tfidf")
            return
        vocab = text_towers.word_vocabulary(train_texts, cfg["vocab_size"], cfg["min_count"])
        self.preprocessor = text_towers.build_preprocessor("word_lstm", self.max_length, vocab)
        source = cfg["word_vectors"]
        if source:
            self.vectors = wv.vectors_for_vocabulary(vocab, source, train_texts, seed,
                                                     cfg["word_dim"])
        if self.features == "fisher_vector":
            if self.vectors is None:
                raise ConfigError("text.features=fisher_vector needs text.word_vectors "
                                  "(train, glove6b50d or a vector file)")
            self.sentence_features = fisher_vector.build_fisher_vector(
                self.preprocessor, self.vectors, train_texts, cfg["fv_components"],
                cfg["fv_pca_dim"], seed)

    @property
    def vocab_size(self):
        return int(self.preprocessor.vocabulary_size())

    def tokenize(self, strings, batch=4096):
        """The tower's inputs for `strings`: int64 ids [N, L] or float32 counts [N, V]."""
        out = [np.asarray(self.preprocessor(tf.constant(list(strings[i:i + batch]))))
               for i in range(0, len(strings), batch)]
        dtype = np.float32 if self.features == "tfidf" else np.int64
        return np.concatenate(out).astype(dtype) if out else np.zeros((0, 1), dtype)

    def tower(self, kind, cfg, embed_dim):
        if kind == "alignment":
            if self.features in ("tfidf", "fisher_vector"):
                raise ConfigError(f"model.kind=alignment needs word ids, not "
                                  f"text.features={self.features}")
            return brnn_word_encoder(self.vocab_size, self.max_length, embed_dim, cfg["rnn_units"],
                                     cfg["word_dim"], self.vectors, cfg["train_word_vectors"])
        if self.sentence_features is not None:
            inputs = (keras.Input((self.vocab_size,), name="counts") if self.features == "tfidf"
                      else keras.Input((self.max_length,), dtype="int64", name="ids"))
            x = self.sentence_features(inputs)
        else:
            base = mean_word_vectors(self.vocab_size, self.max_length, cfg["word_dim"],
                                     self.vectors, cfg["train_word_vectors"])
            inputs, x = base.input, base.output
        branch = embedding_branch(x.shape[-1], name="text_branch", **cfg["branch"])
        return keras.Model(inputs, branch(x), name="text_tower")


class ImageInput:
    """`load(row) -> image tower input` for every row, the image tower, and the serving path.

    Trainable pixel towers see pixels (two_branch) or region crops of the data set's boxes
    (alignment); a frozen CNN (`image.frozen`) is run once here and the tower trains on its
    features, as the papers did. Served images arrive as bytes without boxes: `serving`
    gives the export's image input and, where the tower does not start from it, a serving
    tower (fixed grid cut in the graph, the frozen CNN, then the trained tower).
    """

    def __init__(self, cfg, dataset, kind):
        icfg = cfg["image"]
        self.kind, self.frozen = kind, icfg["frozen"]
        self.crop, self.max_regions, self.grid = tuple(icfg["crop_size"]), icfg["max_regions"], icfg["grid"]
        use_features = icfg["tower"] == "features"
        if use_features and dataset.features is None:
            raise ConfigError("image.tower=features but the data set has no features "
                              "(set data.features=FILE)")
        size = None if use_features else tuple(icfg["size"])
        load, self.source_kind = pipeline.image_source(dataset, np.arange(dataset.num_images), size)
        self.boxes = None
        if kind == "alignment" and not use_features:
            self.boxes = region_lib.region_table(
                dataset.boxes if icfg["regions"] == "boxes" else None, dataset.num_images,
                self.max_regions, self.grid)
            table, load_pixels = tf.constant(self.boxes), load
            load = lambda i: region_lib.crop_regions(load_pixels(i), tf.gather(table, i), self.crop)  # noqa: E731
        self.cnn = None if use_features else build_image_tower(
            icfg["tower"], (*(self.crop if kind == "alignment" else size), 3), **icfg["options"])
        self.load = load
        if self.frozen and self.cnn is not None:
            self.cnn.trainable = False
            feats = self._run_cnn(dataset.num_images)
            self.load = lambda i, t=tf.constant(feats): tf.gather(t, i)

    def _run_cnn(self, n):
        out = []
        for x in pipeline.image_batches(self.load, np.arange(n), 32):
            if self.kind == "alignment":
                shape = tf.shape(x)
                flat = tf.reshape(x, tf.concat([[-1], shape[2:]], 0))
                y = self.cnn(flat, training=False)
                out.append(tf.reshape(y, [shape[0], shape[1], -1]).numpy())
            else:
                out.append(self.cnn(x, training=False).numpy())
        return np.concatenate(out)

    def input_shape(self):
        return tuple(self.load(tf.constant(0, tf.int64)).shape)

    def tower(self, cfg, embed_dim):
        """Keras model over `load`'s output -> region vectors [N, R, D] or unit vectors [N, D]."""
        trainable_cnn = None if (self.cnn is None or self.frozen) else self.cnn
        if self.kind == "alignment":
            return region_lib.region_encoder(trainable_cnn, self.input_shape(), embed_dim,
                                             name="image_tower")
        inputs = keras.Input(self.input_shape(), name="image")
        x = trainable_cnn(inputs) if trainable_cnn is not None else inputs
        branch = embedding_branch(x.shape[-1], name="image_branch", **cfg["text"]["branch"])
        return keras.Model(inputs, branch(x), name="image_tower")

    def serving(self, tower):
        """(export image input, serving image tower or None = the model's own tower)."""
        kind, size = self.source_kind
        if kind == "features":
            return (kind, size), None
        frozen = self.cnn if self.frozen else None
        if self.kind == "alignment":
            grid = region_lib.region_table(None, 1, self.max_regions, self.grid)[0]
            return (kind, size), region_lib.serving_region_tower(tower, size, grid, self.crop, frozen)
        if frozen is None:
            return (kind, size), None
        pixels = keras.Input((*size, 3), name="pixels")
        return (kind, size), keras.Model(pixels, tower(frozen(pixels)), name="serving_image_tower")


def batch_plan(rows, counts, steps, batch, per_image, seed):
    """[steps*batch] image rows (each epoch a permutation) and [steps*batch, per_image] caption
    indices (distinct captions of the image where it has enough)."""
    rng = np.random.default_rng(seed)
    need = steps * batch
    order = np.concatenate([rng.permutation(rows) for _ in range(need // len(rows) + 1)])[:need]
    if batch > len(rows):
        raise ConfigError(f"train.batch_size {batch} exceeds the {len(rows)} training images")
    which = np.stack([rng.permutation(max(counts[r], per_image))[:per_image] % counts[r]
                      for r in order])
    return order, which


def batches(load_image, text_table, offsets, plan, batch, start_step=0):
    """tf.data batches {"image" [B, ...], "image_id" [B], "text" [B*m, ...] (each image's m
    captions, flattened here), "text_id" [B*m] (the image of each caption)} following `plan`:
    the task's default pairing (`Task.pairs`) builds the positives from the ids."""
    rows, which = plan
    begin = start_step * batch
    text_rows = offsets[rows[begin:], None] + which[begin:]
    per_image = which.shape[1]
    table = tf.constant(text_table)
    ds = tf.data.Dataset.from_tensor_slices((rows[begin:], text_rows))
    ds = ds.map(lambda r, t: {"image": load_image(r), "text": tf.gather(table, t), "image_id": r},
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch, drop_remainder=True).map(lambda b: {
        "image": b["image"], "image_id": b["image_id"],
        "text": tf.reshape(b["text"], [-1, *b["text"].shape[2:]]),
        "text_id": tf.repeat(b["image_id"], per_image)})
    return ds.prefetch(tf.data.AUTOTUNE)
