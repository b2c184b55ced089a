"""The semantic inputs of a semantic -> visual model (DEM's text tower), by modality:

attributes  class attribute vectors;  sentences  class sentence embeddings (CUB sent_splits);
words       class-name embeddings (mean word vector of the name's words; Word2Vec trained on
            the training descriptions, or loaded vectors such as 'glove6b50d');
fusion      attributes + words together;  descriptions  per-image descriptions (Bi-LSTM);
attributes+descriptions  DEM's multi-modality fusion of a class attribute row with one
            description of an image of that class (Sec. 3.2; the paper's best CUB setting).
Class-level tables are L2-normalised per class so modalities enter on one scale (they are
label tables, like WSABIE's). Descriptions go through the shared `tfembed.text.TextSide` and
the `dem_bilstm` tower (tfembed.towers.text_towers): one preprocessor fitted on the training
descriptions, saved with the run (run_bundle) and run in the exported graph. The fused
attributes+descriptions tower needs a class's attribute row beside the text, so a raw string
alone cannot be embedded: its export serves images and classify_prototypes (the baked class
prototypes), not embed_text (`preprocessor` is None).
"""

import numpy as np

from tfembed.data import pipeline
from tfembed.errors import ConfigError
from tfembed.metrics import class_means
from tfembed.towers import semantic as towers
from tfembed.towers.text_towers import build_text_tower, fit_text_side
from tfembed.towers import word_vectors as wv

MODALITIES = ("attributes", "sentences", "words", "fusion", "descriptions",
              "attributes+descriptions")
TEXT_MODALITIES = ("descriptions", "attributes+descriptions")  # per-image texts


def _unit_rows(x):
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class SemanticInputs:
    def __init__(self, kind, cfg, dataset, train_rows, seed=0):
        if kind not in MODALITIES:
            raise ConfigError(f"unknown semantic modality {kind!r}; known: {', '.join(MODALITIES)}")
        self.kind, self.cfg, self.dataset = kind, cfg, dataset
        train_texts, _ = pipeline.flat_texts(dataset.texts, train_rows)
        self.tables, self.text = {}, None
        if kind in ("attributes", "fusion", "attributes+descriptions"):
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
        if kind in TEXT_MODALITIES:
            if not train_texts:
                raise ConfigError(f"{dataset.name} has no descriptions for the Bi-LSTM encoder")
            self.text = fit_text_side("dem_bilstm", cfg, train_texts, seed)
            flat, self.offsets = pipeline.flat_texts(dataset.texts, np.arange(dataset.num_images))
            self.ids = self.text.tokenize(flat)
            # text row -> its image's class (the attribute row fused with that text)
            self.text_labels = np.repeat(dataset.labels, np.diff(self.offsets))

    @property
    def preprocessor(self):
        """What an export runs on raw strings for embed_text: the descriptions'
        TextPreprocessor; None for class-level tables and for attributes+descriptions (its
        tower also needs a class's attribute row, so the export has no embed_text)."""
        return self.text.preprocessor if self.kind == "descriptions" else None

    @property
    def class_level(self):
        return self.kind not in TEXT_MODALITIES

    @property
    def notes(self):
        """Lines for the DEM results.json of this modality."""
        if self.kind != "attributes+descriptions":
            return []
        return ["attributes+descriptions: each image's class attributes fused with one of its "
                "descriptions (Sec. 3.2 multi-modality fusion); prototypes = class mean over the "
                "class's descriptions, each fused with the class's attributes; the export serves "
                "embed_image and classify_prototypes only (no embed_text: the tower needs a "
                "class's attributes beside the text)"]

    def build_encoder(self, visual_dim, weight_decay=0.0):
        """DEM's text tower into the `visual_dim`-d feature space, Eq. 1's weight decay as
        kernel regularisers."""
        c, wd = self.cfg, weight_decay
        if self.kind == "descriptions":
            return build_text_tower("dem_bilstm", self.text, c, visual_dim, weight_decay=wd)
        if self.kind == "attributes+descriptions":
            return towers.attributes_descriptions_encoder(
                self.tables["attributes"].shape[1], self.text.vocab_size, self.text.max_length,
                visual_dim, c["hidden_dim"], c["word_dim"], c["rnn_units"], wd,
                c["bilstm_pooling"])
        if self.kind == "fusion":
            return towers.fusion_mlp({k: v.shape[1] for k, v in self.tables.items()}, visual_dim,
                                     c["hidden_dim"], weight_decay=wd)
        (name, table), = self.tables.items()
        return towers.semantic_mlp(table.shape[1], visual_dim, c["hidden_dim"], name, wd)

    def inputs(self, which):
        """Text-tower inputs: class ids -> {table: rows} (class level), text rows -> ids
        (descriptions) or {"attributes": their class rows, "ids": ids} (attributes+descriptions)."""
        if self.class_level:
            return {k: v[which] for k, v in self.tables.items()}
        if self.kind == "attributes+descriptions":
            return {"attributes": self.tables["attributes"][self.text_labels[which]],
                    "ids": self.ids[which]}
        return self.ids[which]

    def class_matrix(self):
        """[C, A] concatenation of the class-level tables (for the closed-form baselines)."""
        return np.concatenate([self.tables[k] for k in sorted(self.tables)], axis=1)

    def prototypes(self, encode, classes, rows):
        """Visual-space prototypes of `classes`; descriptions: mean over the class's images in
        `rows` of their encoded descriptions (Reed's class embedding), each fused with the
        class's attributes for attributes+descriptions."""
        if self.class_level:
            return np.asarray(encode(self.inputs(classes)))
        rows = rows[np.isin(self.dataset.labels[rows], classes)]
        counts = np.asarray([len(self.dataset.texts[r]) for r in rows])
        text_rows = np.concatenate([np.arange(self.offsets[r], self.offsets[r + 1]) for r in rows])
        emb = pipeline.embed_in_batches(lambda batch: encode(self.inputs(batch)), text_rows, 512)
        local = np.searchsorted(classes, np.repeat(self.dataset.labels[rows], counts))
        return class_means(emb, local, len(classes))
