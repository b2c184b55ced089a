"""One text preprocessor: standardisation, tokens, vocabulary and lookup in one Keras layer.

Fitting and serving run the same graph op (`TextPreprocessor.tokens`), so the vocabulary can
never be built from tokens the exported model does not produce (the old Python regex split
"red-crowned" into {red, crowned} while the Keras tokenizer served "redcrowned", unknown).
TF Text ops used (linked by stock TF Serving): `tensorflow_text.normalize_utf8` (NFKC) and
`tensorflow_text.regex_split`; core ops: `tf.strings.lower(encoding="utf-8")`,
`tf.strings.unicode_split`, `tf.lookup.StaticHashTable`, `tf.math.bincount`.

Token rule (level="word"): a token is a maximal run of Unicode letters, combining marks and
digits; everything else (spaces, punctuation, '_', symbols) separates tokens and is dropped.
So "red-crowned bird's wing" -> [red, crowned, bird, s, wing]. "'s" is not kept as its own
token: it would make the tokens depend on an apostrophe list (', ’, ʼ), and splitting it off
as "s" matches both the old Python vocabulary and `class_name_words`, so vocabularies stay
comparable with earlier runs and word2vec trained on the same tokens.

Ids (as keras.layers.TextVectorization laid them out, so the encoders are unchanged):
output="ids": int64 [N, max_length], 0 = padding, 1 = out of vocabulary, vocabulary[i] = i + 2;
output="counts": float32 [N, len(vocabulary) + 1], column 0 counts unknown tokens,
vocabulary[i] is column i + 1.
"""

import collections
import json
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from tfembed.errors import ConfigError, DataError

FILENAME = "text_preprocessor.json"
PAD, OOV = 0, 1
LEVELS, OUTPUTS = ("word", "char"), ("ids", "counts")
# RE2 syntax: \w is ASCII-only in RE2, so Unicode classes keep "café" one token.
WORD_DELIMITER = r"[^\p{L}\p{M}\p{N}]+"


def standardize(strings):
    """NFKC (full-width letters, ligatures -> plain forms), then Unicode lower case."""
    return tf.strings.lower(tf_text.normalize_utf8(strings, "NFKC"), encoding="utf-8")


def word_tokens(texts, batch_size=4096):
    """[str] -> [[token]]: the word tokens the graph produces, for Python-side consumers
    (word2vec training) that must see exactly what the served model sees."""
    pre = TextPreprocessor(level="word", output="ids", max_length=1)
    out = []
    for i in range(0, len(texts), batch_size):
        out += [[t.decode("utf-8") for t in row] for row in pre.tokens(texts[i:i + batch_size]).to_list()]
    return out


@keras.saving.register_keras_serializable(package="tfembed")
class TextPreprocessor(keras.layers.Layer):
    """strings [N] -> ids [N, max_length] or counts [N, V]; see the module docstring.

    `vocab_size` caps the learned words (reserved ids not counted), `min_count` drops rarer
    words; both apply in `adapt`. A vocabulary passed in (or restored by `from_config`) is
    used as given, in order."""

    def __init__(self, level="word", output="ids", max_length=None, vocab_size=None,
                 min_count=1, vocabulary=None, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        if level not in LEVELS or output not in OUTPUTS:
            raise ConfigError(f"TextPreprocessor: level must be one of {LEVELS} and output one "
                              f"of {OUTPUTS}, got level={level!r}, output={output!r}")
        if output == "ids" and not (isinstance(max_length, int) and max_length > 0):
            raise ConfigError(f"TextPreprocessor output='ids' needs max_length > 0, got {max_length!r}")
        # `output` is a read-only Layer property, hence output_mode.
        self.level, self.output_mode, self.max_length = level, output, max_length
        self.vocab_size, self.min_count = vocab_size, int(min_count)
        self._convert_input_args = False  # strings, not float tensors
        self._allow_non_tensor_positional_args = True
        self.supports_jit = False  # string ops have no XLA kernels
        self._words, self._table = None, None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)
        self.built = True

    # ------------------------------------------------------------------ the one token op
    def tokens(self, strings):
        """strings [N] -> tf.RaggedTensor [N, (tokens)] of standardised words or characters."""
        text = standardize(tf.convert_to_tensor(strings, tf.string))
        if self.level == "char":
            return tf.strings.unicode_split(text, "UTF-8")
        return tf_text.regex_split(text, WORD_DELIMITER)

    # ------------------------------------------------------------------ vocabulary
    def adapt(self, strings, batch_size=4096):
        """Fit the vocabulary on `strings` from the output of `tokens`: most frequent first,
        ties alphabetical (code-point order), then `min_count` and the `vocab_size` cap."""
        strings = list(strings)
        counts = collections.Counter()
        for i in range(0, len(strings), batch_size):
            flat = self.tokens(np.asarray(strings[i:i + batch_size], object)).flat_values
            counts.update(t.decode("utf-8") for t in flat.numpy())
        words = sorted((w for w, c in counts.items() if c >= self.min_count and w),
                       key=lambda w: (-counts[w], w))
        self.set_vocabulary(words[:self.vocab_size] if self.vocab_size is not None else words)
        return self

    def set_vocabulary(self, words):
        words = [str(w) for w in words]
        if not words:
            raise ConfigError("TextPreprocessor: the vocabulary is empty (no tokens in the texts "
                              "it was fitted on)")
        if len(set(words)) != len(words) or "" in words:
            raise ConfigError("TextPreprocessor vocabulary must be distinct non-empty tokens")
        self._words = words
        with tf.init_scope():  # a resource owned by the layer, also when built in a tf.function
            init = tf.lookup.KeyValueTensorInitializer(
                tf.constant(words, tf.string, shape=[len(words)]),
                tf.range(2, len(words) + 2, dtype=tf.int64))
            self._table = tf.lookup.StaticHashTable(init, default_value=OOV)

    def vocabulary(self):
        """The learned tokens, id order (without the reserved padding / OOV entries)."""
        self._check_fitted()
        return list(self._words)

    def get_vocabulary(self):
        """TextVectorization-style list indexed by id: ["", "[UNK]", words...] for ids,
        ["[UNK]", words...] for counts."""
        return (["", "[UNK]"] if self.output_mode == "ids" else ["[UNK]"]) + self.vocabulary()

    def vocabulary_size(self):
        """Embedding rows (ids) or count columns (counts) the encoder needs."""
        return len(self.get_vocabulary())

    def _check_fitted(self):
        if self._words is None:
            raise ConfigError("TextPreprocessor has no vocabulary: call adapt(texts) first")

    # ------------------------------------------------------------------ the layer
    def call(self, strings):
        self._check_fitted()
        ids = tf.ragged.map_flat_values(self._table.lookup, self.tokens(strings))
        if self.output_mode == "ids":
            return ids.to_tensor(default_value=PAD, shape=[None, self.max_length])
        size = len(self._words) + 1
        counts = tf.math.bincount(ids - 1, minlength=size, maxlength=size, dtype=tf.float32,
                                  axis=-1)
        return tf.ensure_shape(counts, [None, size])  # a static width for functional towers

    def compute_output_shape(self, input_shape):
        width = self.max_length if self.output_mode == "ids" else self.vocabulary_size()
        return (input_shape[0], width)

    def get_config(self):
        return {**super().get_config(), "level": self.level, "output": self.output_mode,
                "max_length": self.max_length, "vocab_size": self.vocab_size,
                "min_count": self.min_count, "vocabulary": self._words}

    # ------------------------------------------------------------------ run directory
    def save(self, run_dir):
        """Write <run_dir>/text_preprocessor.json (config + vocabulary) atomically."""
        self._check_fitted()
        os.makedirs(run_dir, exist_ok=True)
        path = os.path.join(run_dir, FILENAME)
        fd, tmp = tempfile.mkstemp(prefix=f".{FILENAME}.", dir=run_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"class": "tfembed>TextPreprocessor", "config": self.get_config()},
                          f, ensure_ascii=False, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        return path

    @classmethod
    def load(cls, run_dir):
        """The preprocessor saved by `save` in `run_dir` (or the .json path itself)."""
        path = run_dir if str(run_dir).endswith(".json") else os.path.join(run_dir, FILENAME)
        try:
            with open(path, encoding="utf-8") as f:
                return cls.from_config(json.load(f)["config"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise DataError(f"cannot read the text preprocessor: {type(err).__name__}: {err}",
                            path=path) from None
