"""Building blocks of the image-sentence experiments: text preprocessing, image inputs
(pixels, region crops, or features from a data set or a frozen CNN), encoders, batch plans."""

import keras
import numpy as np
import tensorflow as tf

from tfembed.data import pipeline
from tfembed.errors import ConfigError
from tfembed.layers.two_branch import embedding_branch
from tfembed.towers import fisher_vector
from tfembed.towers import regions as region_lib
from tfembed.towers import text as text_towers
from tfembed.towers import word_vectors as wv
from tfembed.towers.image import build_image_tower
from tfembed.towers.word_sequence import brnn_word_encoder, mean_word_vectors


class TextInput:
    """In-graph preprocessor (raw strings -> ids, tf-idf or Fisher vectors) fitted on training
    captions. ids feed an encoder over word vectors; tf-idf and Fisher-vector features
    (`towers.fisher_vector`: GMM, word vectors and PCA baked into the preprocessor) are fixed
    sentence features computed once, and the text encoder is the branch over them."""

    FEATURES = ("ids", "mean_word_vectors", "tfidf", "fisher_vector")

    def __init__(self, cfg, train_texts, seed):
        self.features, self.max_length = cfg["features"], cfg["max_words"]
        vocab = text_towers.word_vocabulary(train_texts, cfg["vocab_size"], cfg.get("min_count", 1))
        if self.features not in self.FEATURES:
            raise ConfigError(f"text.features must be one of {', '.join(self.FEATURES)}, "
                              f"got {self.features!r}")
        source = cfg.get("word_vectors")
        if self.features == "tfidf":
            self.preprocessor = keras.layers.TextVectorization(
                standardize="lower_and_strip_punctuation", output_mode="tf_idf", name="tfidf")
            self.preprocessor.adapt(tf.constant(train_texts))
        else:
            self.preprocessor = text_towers.build_preprocessor("word_lstm", self.max_length, vocab)
        self.vectors = (wv.vectors_for_vocabulary(vocab, source, train_texts, seed, cfg["word_dim"])
                        if source and self.features != "tfidf" else None)
        if self.features == "fisher_vector":
            if self.vectors is None:
                raise ConfigError("text.features=fisher_vector needs text.word_vectors "
                                  "(train, glove6b50d or a vector file)")
            self.preprocessor = fisher_vector.build_fisher_vector_text(
                self.preprocessor, self.vectors, train_texts, cfg.get("fv_components", 30),
                cfg.get("fv_pca_dim"), seed)
        self.vocab_size = int(self.preprocessor.vocabulary_size())

    @property
    def dense(self):
        """True when the preprocessor gives float sentence features (not word ids)."""
        return self.features in ("tfidf", "fisher_vector")

    def tokenize(self, strings, batch=4096):
        if self.features == "fisher_vector":  # [words, K, D] intermediates: smaller batches
            batch = min(batch, 256)
        out = [self.preprocessor(tf.constant(strings[i:i + batch])).numpy()
               for i in range(0, len(strings), batch)]
        return np.concatenate(out).astype(np.float32 if self.dense else np.int64)

    def encoder(self, kind, cfg, embed_dim):
        if kind == "alignment":
            if self.dense:
                raise ConfigError(f"model.kind=alignment needs word ids, not "
                                  f"text.features={self.features}")
            return brnn_word_encoder(self.vocab_size, self.max_length, embed_dim, cfg["rnn_units"],
                                     cfg["word_dim"], self.vectors, cfg["train_word_vectors"])
        if self.features == "tfidf":
            inputs = keras.Input((self.vocab_size,), name="tfidf")
            x = inputs
        elif self.features == "fisher_vector":
            inputs = keras.Input((self.preprocessor.output_dim,), name="fisher_vector")
            x = inputs
        else:
            base = mean_word_vectors(self.vocab_size, self.max_length, cfg["word_dim"], self.vectors,
                                     cfg["train_word_vectors"])
            inputs, x = base.input, base.output
        branch = embedding_branch(x.shape[-1], name="text_branch", **cfg["branch"])
        return keras.Model(inputs, branch(x), name="text_encoder")


class ImageInput:
    """`load(row) -> model input` for every row, and what the image encoder starts from.

    Trainable pixel towers see pixels (two_branch) or region crops (alignment); a frozen CNN
    (`image.frozen`) is run once here and the model trains on its features, as the papers did.
    """

    def __init__(self, cfg, dataset, kind):
        icfg = cfg["image"]
        self.kind, self.tower, self.frozen = kind, icfg["tower"], icfg.get("frozen", False)
        self.crop = tuple(icfg.get("crop_size", (32, 32)))
        use_features = self.tower == "features"
        if use_features and dataset.features is None:
            raise ConfigError("image.tower=features but the data set has no features "
                              "(set data.features=FILE)")
        size = None if use_features else tuple(icfg["size"])
        load, self.source_kind = pipeline.image_source(dataset, np.arange(dataset.num_images), size)
        self.boxes = None
        if kind == "alignment" and not use_features:
            self.boxes = region_lib.region_table(
                dataset.boxes if icfg["regions"] == "boxes" else None, dataset.num_images,
                icfg["max_regions"], icfg.get("grid", 2))
            table = tf.constant(self.boxes)
            load_pixels = load
            load = lambda i: region_lib.crop_regions(load_pixels(i), tf.gather(table, i), self.crop)
        elif kind == "alignment":  # features of the whole image only: one region
            load_features = load
            load = lambda i: load_features(i)[None]
        self.cnn = None if use_features else build_image_tower(
            self.tower, (*(self.crop if kind == "alignment" else size), 3), **icfg["options"])
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

    def encoder(self, cfg, embed_dim):
        """Keras model over `load`'s output -> image embeddings."""
        trainable_cnn = None if (self.cnn is None or self.frozen) else self.cnn
        if self.kind == "alignment":
            return region_lib.region_encoder(trainable_cnn, self.input_shape(), embed_dim)
        inputs = keras.Input(self.input_shape(), name="image")
        x = trainable_cnn(inputs) if trainable_cnn is not None else inputs
        branch = embedding_branch(x.shape[-1], name="image_branch", **cfg["text"]["branch"])
        return keras.Model(inputs, branch(x), name="image_encoder")


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
    """tf.data batches {"image", "text" [B, m, ...], "image_id"} following `plan`."""
    rows, which = plan
    begin = start_step * batch
    text_rows = offsets[rows[begin:], None] + which[begin:]
    table = tf.constant(text_table)
    ds = tf.data.Dataset.from_tensor_slices((rows[begin:], text_rows))
    ds = ds.map(lambda r, t: {"image": load_image(r), "text": tf.gather(table, t), "image_id": r},
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
