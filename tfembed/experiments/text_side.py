"""Builds the text side of a joint model from a config: the fitted in-graph preprocessor
(tfembed.text.TextPreprocessor), the encoder, and the tokenised description table used by
the input pipeline."""

import numpy as np

from tfembed.towers import text as text_towers
from tfembed.towers import word_vectors as wv


def apply_architecture(text_cfg):
    """`text_cfg` with the layer keys of text.architecture filled in, and the keys it changed.

    `reed_hybrid` sets text.max_chars (max_words), filters, kernels, pools, rnn_cell and
    rnn_units to Reed's values (tfembed.towers.text.REED_HYBRID, from reedscot/cvpr2016
    modules/HybridCNN.lua, HybridCNNWord.lua and FixedRNN.lua), so the recorded config says
    what was built; `custom` leaves them as they are. Encoders other than the CNN-RNNs have
    no Reed-exact form (a ConfigError names text.architecture=custom)."""
    cfg = dict(text_cfg)
    if cfg.get("architecture", "custom") != "reed_hybrid":
        return cfg, {}
    changed = {}
    for key, value in text_towers.reed_hybrid_settings(cfg["encoder"]).items():
        if cfg.get(key) != value:
            changed[key] = (cfg.get(key), value)
            cfg[key] = value
    return cfg, changed


class TextSide:
    """Preprocessor + encoder for `config["text"]`. The one `tfembed.text.TextPreprocessor`
    fits the word vocabulary on the training descriptions, tokenises the training data and is
    exported in the graph; `save(run_dir)` keeps it with the run. Pass `preprocessor` (e.g.
    `TextPreprocessor.load(run_dir)`) to reuse a saved one instead of fitting again."""

    def __init__(self, cfg, train_texts, embed_dim, attribute_dim=None, seed=0, preprocessor=None):
        self.kind = cfg["encoder"]
        self.max_length = cfg["max_chars"] if text_towers.is_char_level(self.kind) else cfg["max_words"]
        if preprocessor is not None or self.kind == "attributes":
            self.preprocessor = preprocessor
        else:
            self.preprocessor = text_towers.build_preprocessor(
                self.kind, self.max_length, texts=train_texts, vocab_size=cfg["vocab_size"])
        vectors = None
        if self.kind == "word2vec":
            vectors = wv.vectors_for_vocabulary(self.preprocessor.vocabulary(), cfg["word_vectors"],
                                                train_texts, seed)
        vocab_size = None if self.preprocessor is None else self.preprocessor.vocabulary_size()
        self.encoder = text_towers.build_text_encoder(
            self.kind, embed_dim, vocab_size=vocab_size, max_length=self.max_length,
            filters=tuple(cfg["filters"]), kernels=cfg.get("kernels"), pools=cfg.get("pools"),
            rnn_units=cfg["rnn_units"], rnn_cell=cfg["rnn_cell"],
            architecture=cfg.get("architecture", "custom"),
            embed_dim=cfg["embed_dim"], dropout=cfg["dropout"], word_vectors=vectors,
            train_word_vectors=cfg["train_word_vectors"], attribute_dim=attribute_dim)

    def save(self, run_dir):
        """Write <run_dir>/text_preprocessor.json (config + vocabulary), so an export from the
        run directory needs no data set; None for attribute encoders (nothing to save)."""
        return None if self.preprocessor is None else self.preprocessor.save(run_dir)

    @property
    def is_text(self):
        return self.preprocessor is not None

    def tokenize(self, strings, batch_size=4096):
        """Strings -> numpy ids (or counts), computed once so training gathers rows."""
        out = [self.preprocessor(np.asarray(strings[i:i + batch_size], dtype=object)).numpy()
               for i in range(0, len(strings), batch_size)]
        dtype = np.float32 if self.kind == "bow" else np.int64
        return np.concatenate(out).astype(dtype)

    def text_fn(self, model):
        """Raw strings -> joint-space embeddings, for export and evaluation."""
        return lambda strings: model.encode_text(self.preprocessor(strings))
