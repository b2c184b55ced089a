"""The semantic side of a semantic -> visual model, by modality:

attributes  class attribute vectors;  sentences  class sentence embeddings (CUB sent_splits);
words       class-name embeddings (mean word vector of the name's words; Word2Vec trained on
            the training descriptions, or loaded vectors such as 'glove6b50d');
fusion      attributes + words together;  descriptions  per-image descriptions (Bi-LSTM).
Class-level tables are L2-normalised per class so modalities enter on one scale. The side
builds DEM's text tower (`build_encoder`) and its inputs (`inputs`): a dict of class rows, or
the word ids of `tfembed.text.TextPreprocessor`, fitted on the training descriptions, which the
run saves (run_bundle) and the export runs in the graph: fit and serve tokenise alike.
"""

import numpy as np

from tfembed.data import pipeline
from tfembed.errors import ConfigError
from tfembed.metrics import class_means
from tfembed.text import TextPreprocessor
from tfembed.towers import semantic as towers
from tfembed.towers import word_vectors as wv

MODALITIES = ("attributes", "sentences", "words", "fusion", "descriptions")


def _unit_rows(x):
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class SemanticSide:
    def __init__(self, kind, cfg, dataset, train_rows, seed=0):
        if kind not in MODALITIES:
            raise ConfigError(f"unknown semantic modality {kind!r}; known: {', '.join(MODALITIES)}")
        self.kind, self.cfg, self.dataset = kind, cfg, dataset
        train_texts, _ = pipeline.flat_texts(dataset.texts, train_rows)
        self.tables, self.preprocessor = {}, None
        if kind in ("attributes", "fusion"):
            if dataset.class_attributes is None:
                raise ConfigError(f"{dataset.name} has no class attributes")
            self.tables["attributes"] = _unit_rows(dataset.class_attributes)
        if kind == "sentences":
            if "sent" not in dataset.class_embeddings:
                raise ConfigError(f"{dataset.name} has no class sentence embeddings (sent_splits.mat)")
            self.tables["sentences"] = _unit_rows(dataset.class_embeddings["sent"])
        if kind in ("words", "fusion"):
            source = cfg["word_vectors"]
            if source == "train" and not train_texts:
                raise ConfigError("word_vectors 'train' needs training descriptions; "
                                  f"{dataset.name} has none (use e.g. glove6b50d)")
            kv = (wv.train_word2vec(train_texts, cfg["word_dim"], seed) if source == "train"
                  else wv.load_vectors(source))
            self.tables["words"] = _unit_rows(wv.class_name_embeddings(kv, dataset.class_names))
        if kind == "descriptions":
            if not train_texts:
                raise ConfigError(f"{dataset.name} has no descriptions for the Bi-LSTM encoder")
            self.preprocessor = TextPreprocessor(
                level="word", output="ids", max_length=cfg["max_words"],
                vocab_size=cfg["vocab_size"], name="word_tokenizer").adapt(train_texts)
            flat, self.offsets = pipeline.flat_texts(dataset.texts, np.arange(dataset.num_images))
            self.ids = np.concatenate([self.preprocessor(np.asarray(flat[i:i + 4096], object)).numpy()
                                       for i in range(0, len(flat), 4096)]).astype(np.int64)

    @property
    def class_level(self):
        return self.preprocessor is None

    def build_encoder(self, visual_dim, weight_decay=0.0):
        """DEM's text tower into the `visual_dim`-d feature space, Eq. 1's weight decay as
        kernel regularisers."""
        c, wd = self.cfg, weight_decay
        if self.kind == "descriptions":
            return towers.description_encoder(self.preprocessor.vocabulary_size(), c["max_words"],
                                              visual_dim, c["word_dim"], c["rnn_units"],
                                              weight_decay=wd, pooling=c["bilstm_pooling"])
        if self.kind == "fusion":
            return towers.fusion_mlp({k: v.shape[1] for k, v in self.tables.items()}, visual_dim,
                                     c["hidden_dim"], weight_decay=wd)
        (name, table), = self.tables.items()
        return towers.semantic_mlp(table.shape[1], visual_dim, c["hidden_dim"], name, wd)

    def inputs(self, which):
        """Text-tower inputs: class ids -> {table: rows} (class level), or text rows -> ids."""
        if self.class_level:
            return {k: v[which] for k, v in self.tables.items()}
        return self.ids[which]

    def class_matrix(self):
        """[C, A] concatenation of the class-level tables (for the closed-form baselines)."""
        return np.concatenate([self.tables[k] for k in sorted(self.tables)], axis=1)

    def prototypes(self, encode, classes, rows):
        """Visual-space prototypes of `classes`; descriptions: mean over the class's images in
        `rows` of their encoded descriptions (Reed's class embedding)."""
        if self.class_level:
            return np.asarray(encode(self.inputs(classes)))
        rows = rows[np.isin(self.dataset.labels[rows], classes)]
        counts = np.asarray([len(self.dataset.texts[r]) for r in rows])
        text_rows = np.concatenate([np.arange(self.offsets[r], self.offsets[r + 1]) for r in rows])
        emb = pipeline.embed_in_batches(encode, self.ids[text_rows], 512)
        local = np.searchsorted(classes, np.repeat(self.dataset.labels[rows], counts))
        return class_means(emb, local, len(classes))
