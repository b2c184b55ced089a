"""The text side of every recipe: one fitted `TextPreprocessor`, the word vectors aligned with
its vocabulary when a tower starts from them, and the tokenised text tables training reads.

Reed's encoders, the image-sentence towers (BRNN, mean word vectors, tf-idf, Fisher vectors),
DEM's Bi-LSTM and Gordo's tf-idf all start here, so the vocabulary is fitted, used for training,
saved with the run (`save` -> RUN_DIR/exportable/text_preprocessor.json via run_bundle) and run
in the exported graph by the same object: fit and serve cannot tokenise differently. Which tower
sits on top is the recipe's choice (tfembed.towers.text_towers.build_text_tower).
"""

import numpy as np

from tfembed.text.preprocessor import TextPreprocessor
from tfembed.towers import word_vectors as wv

# Layer names of the preprocessor in the exported graph, by what it emits.
CHAR_NAME, WORD_NAME, COUNTS_NAME = "char_tokenizer", "word_tokenizer", "bow_vectorizer"


class TextSide:
    """`preprocessor` (None: the "text" is a class attribute table, Reed's attributes encoder)
    and optional `vectors` [vocabulary_size, D] (rows 0/1 = padding / unknown, zero)."""

    def __init__(self, preprocessor=None, vectors=None):
        self.preprocessor, self.vectors = preprocessor, vectors

    @classmethod
    def fit(cls, texts, level="word", output="ids", max_length=None, vocab_size=None,
            min_count=1, vocabulary=None, word_vectors=None, word_dim=100, seed=0, name=None):
        """Fit on the training `texts` (or take a fixed `vocabulary`, e.g. a char alphabet).
        `word_vectors`: None, "train" (word2vec on `texts`, `word_dim`-d), a name such as
        "glove6b50d", or a vector file (tfembed.towers.word_vectors.load_vectors)."""
        name = name or (CHAR_NAME if level == "char" else
                        COUNTS_NAME if output == "counts" else WORD_NAME)
        pre = TextPreprocessor(level=level, output=output,
                               max_length=None if output == "counts" else max_length,
                               vocab_size=vocab_size, min_count=min_count,
                               vocabulary=vocabulary, name=name)
        if vocabulary is None:
            pre.adapt(texts)
        vectors = None
        if word_vectors:
            vectors = wv.vectors_for_vocabulary(pre.vocabulary(), word_vectors, texts, seed, word_dim)
        return cls(pre, vectors)

    @classmethod
    def load(cls, run_dir):
        """The side saved by `save` (the preprocessor; vectors live in the trained tower)."""
        return cls(TextPreprocessor.load(run_dir))

    def save(self, run_dir):
        """<run_dir>/text_preprocessor.json; None when there is no preprocessor."""
        return None if self.preprocessor is None else self.preprocessor.save(run_dir)

    @property
    def is_text(self):
        return self.preprocessor is not None

    @property
    def output(self):
        return self.preprocessor.output_mode

    @property
    def max_length(self):
        return self.preprocessor.max_length

    @property
    def vocab_size(self):
        """Embedding rows (ids) or count columns (counts) a tower over this side needs."""
        return int(self.preprocessor.vocabulary_size())

    def tokenize(self, strings, batch_size=4096):
        """Strings -> the tower's inputs, computed once so training gathers rows: int64 ids
        [N, max_length] or float32 counts [N, V]."""
        dtype = np.float32 if self.output == "counts" else np.int64
        out = [np.asarray(self.preprocessor(np.asarray(list(strings[i:i + batch_size]), object)))
               for i in range(0, len(strings), batch_size)]
        if not out:
            width = self.vocab_size if self.output == "counts" else self.max_length
            return np.zeros((0, width), dtype)
        return np.concatenate(out).astype(dtype)

    def text_fn(self, model):
        """Raw strings -> joint-space embeddings (export and evaluation)."""
        return lambda strings: model.encode_text(self.preprocessor(strings))
