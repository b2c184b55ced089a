"""Building blocks of the image-sentence recipes: the text side (one `TextPreprocessor` for
fitting and serving, then a text tower) and the batch plans. The image side is image_input.py."""

import keras
import numpy as np
import tensorflow as tf

from tfembed.errors import ConfigError
from tfembed.layers.two_branch import embedding_branch
from tfembed.text import TextPreprocessor
from tfembed.towers import fisher_vector
from tfembed.towers import text as text_towers
from tfembed.towers import word_vectors as wv
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
