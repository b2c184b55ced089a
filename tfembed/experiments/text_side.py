"""Builds the text side of a joint model from a config: vocabulary, in-graph preprocessor,
encoder, and the tokenised description table used by the input pipeline."""

import numpy as np

from tfembed.towers import text as text_towers
from tfembed.towers import word_vectors as wv


class TextSide:
    """Preprocessor + encoder for `config["text"]`, fitted on the training descriptions."""

    def __init__(self, cfg, train_texts, embed_dim, attribute_dim=None, seed=0):
        self.kind = cfg["encoder"]
        self.max_length = cfg["max_chars"] if text_towers.is_char_level(self.kind) else cfg["max_words"]
        vocabulary, vectors = None, None
        if not text_towers.is_char_level(self.kind) and self.kind != "attributes":
            vocabulary = text_towers.word_vocabulary(train_texts, cfg["vocab_size"])
        if self.kind == "word2vec":
            vectors = wv.vectors_for_vocabulary(vocabulary, cfg["word_vectors"], train_texts, seed)
        self.preprocessor = text_towers.build_preprocessor(self.kind, self.max_length, vocabulary)
        vocab_size = None if self.preprocessor is None else self.preprocessor.vocabulary_size()
        self.encoder = text_towers.build_text_encoder(
            self.kind, embed_dim, vocab_size=vocab_size, max_length=self.max_length,
            filters=tuple(cfg["filters"]), rnn_units=cfg["rnn_units"], rnn_cell=cfg["rnn_cell"],
            embed_dim=cfg["embed_dim"], dropout=cfg["dropout"], word_vectors=vectors,
            train_word_vectors=cfg["train_word_vectors"], attribute_dim=attribute_dim)

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
