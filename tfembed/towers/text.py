"""Text towers: an in-graph preprocessor (raw strings -> ids or counts) plus an encoder.

The preprocessor is `tfembed.text.TextPreprocessor` (tensorflow-text standardisation and
tokens, one op for fitting the vocabulary and serving), so an exported model takes raw
strings. Encoders follow Reed et al. 2016, Sec. 3.2: CNN, LSTM and the hybrid CNN-RNN over
characters or words, bag-of-words, averaged word vectors, and class attributes.
"""

import keras
import numpy as np

from tfembed.errors import ConfigError
from tfembed.layers.elementwise import Log1p
from tfembed.text import TextPreprocessor

# Reed et al.'s alphabet, verbatim from reedscot/cvpr2016 util/MultimodalMinibatchLoaderCaption.lua:
# 70 symbols with '-' twice, so its one-hot vectors are 70 wide and the loader's dictionary
# (filled left to right) sends '-' to the second one (column 60, 1-based); column 37 is never on.
REED_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/\\|_@#$%^&*~`+-=<>()[]{} "
# The tokenizer's vocabulary: Reed's symbols once each (69), in his order.
CHAR_ALPHABET = list(dict.fromkeys(REED_ALPHABET))
TEXT_ENCODERS = ("char_cnn_rnn", "word_cnn_rnn", "char_lstm", "word_lstm", "char_cnn",
                 "word_cnn", "bow", "word2vec", "bilstm", "attributes")
# text.rnn_cell of the CNN-RNN encoders; relu_rnn is Reed's FixedRNN (`ReluRNN` below).
RNN_CELLS = ("gru", "lstm", "rnn", "relu_rnn")
# text.architecture: `custom` builds the CNN-RNN from text.filters / kernels / pools /
# rnn_cell / rnn_units; `reed_hybrid` is Reed's own network layer by layer (REED_HYBRID).
ARCHITECTURES = ("custom", "reed_hybrid")

# Reed's hybrid CNN-RNN encoders as written in reedscot/cvpr2016 (commit 437e242):
#   char_cnn_rnn: modules/HybridCNN.lua (doc_length 201, train_sje_hybrid.lua; cnn_dim 256)
#     201 x 70 one-hot -> TemporalConvolution(70, 384, 4), Threshold, TemporalMaxPooling(3, 3)
#     -> 66 x 384 -> TemporalConvolution(384, 512, 4), Threshold, TemporalMaxPooling(3, 3)
#     -> 21 x 512 -> TemporalConvolution(512, 256, 4), Threshold, TemporalMaxPooling(3, 2)
#     -> 8 x 256 -> FixedRNN.rnn(8, avg, 256) -> Dropout -> Linear(256, emb_dim)
#   word_cnn_rnn: modules/HybridCNNWord.lua (30 words, one-hot over the vocabulary)
#     30 x V -> TemporalConvolution(V, 512, 3), Threshold -> 28 x 512
#     -> TemporalConvolution(512, 512, 2), Threshold -> 27 -> TemporalMaxPooling(3, 3) -> 9
#     -> TemporalConvolution(512, 512, 2), Threshold -> 8 x 512 -> FixedRNN.rnn(8, 1, 512)
#     -> Dropout -> Linear(512, emb_dim)
# Layers: ("conv", filters, kernel) = valid, stride 1, then ReLU (nn.Threshold() is
# x > 1e-6 ? x : 0); ("pool", size, stride) = max-pool, floor mode. Every parameter starts
# uniform in [-0.08, 0.08] (train_sje_hybrid.lua: params:uniform(-0.08, 0.08)).
REED_HYBRID = {
    "char_cnn_rnn": {"length": 201, "rnn_units": 256, "steps": 8, "layers": (
        ("conv", 384, 4), ("pool", 3, 3), ("conv", 512, 4), ("pool", 3, 3),
        ("conv", 256, 4), ("pool", 3, 2))},
    "word_cnn_rnn": {"length": 30, "rnn_units": 512, "steps": 8, "layers": (
        ("conv", 512, 3), ("conv", 512, 2), ("pool", 3, 3), ("conv", 512, 2))},
}
REED_INIT = 0.08


def is_char_level(kind):
    return kind.startswith("char_")


def word_vocabulary(texts, max_size=10000, min_count=1):
    """Most frequent words of the training texts, fitted by `TextPreprocessor.adapt` so the
    words are exactly the tokens the in-graph preprocessor produces (ties alphabetical)."""
    return TextPreprocessor(max_length=1, vocab_size=max_size, min_count=min_count,
                            name="vocabulary").adapt(texts).vocabulary()


def build_preprocessor(kind, max_length, vocabulary=None, texts=None, vocab_size=None):
    """A `tfembed.text.TextPreprocessor` for encoder `kind`: strings [N] -> int64 ids
    [N, max_length] (characters over CHAR_ALPHABET for char_*), or float32 counts [N, V] for
    `bow`; None for `attributes`. Word vocabularies come from `vocabulary`, or are fitted on
    `texts` (capped at `vocab_size` words)."""
    if kind == "attributes":
        return None
    if is_char_level(kind):
        return TextPreprocessor(level="char", max_length=max_length, vocabulary=CHAR_ALPHABET,
                                name="char_tokenizer")
    if vocabulary is None and texts is None:
        raise ConfigError(f"text encoder {kind!r} needs a word vocabulary")
    bow = kind == "bow"
    pre = TextPreprocessor(output="counts" if bow else "ids", max_length=None if bow else max_length,
                           vocab_size=vocab_size, vocabulary=vocabulary,
                           name="bow_vectorizer" if bow else "word_tokenizer")
    return pre if vocabulary is not None else pre.adapt(texts)


def min_length(layers, kernel, pool):
    """Shortest input that survives `layers` rounds of valid conv(kernel) + max-pool(pool)."""
    return spec_min_length(conv_spec([0] * layers, kernel, pool))


def _pool_pair(pool):
    """A text.pools entry -> (size, stride), or None for no pooling (None, 1, [1, 1])."""
    if pool is None:
        return None
    size, stride = (pool, pool) if isinstance(pool, int) else tuple(pool)
    if (size, stride) == (1, 1):
        return None
    if size < 1 or stride < 1:
        raise ConfigError(f"pool {pool!r}: size and stride must be >= 1")
    return int(size), int(stride)


def _layers(filters, kernels, pools):
    """(filters, kernels, pools) one entry per conv layer, pools as (size, stride) or None."""
    n = len(filters)
    kernels = list(kernels) if isinstance(kernels, (list, tuple)) else [kernels] * n
    pools = list(pools) if isinstance(pools, (list, tuple)) else [pools] * n
    if len(kernels) != n or len(pools) != n:
        raise ConfigError(f"text.kernels ({len(kernels)}) and text.pools ({len(pools)}) need "
                          f"one entry per conv layer of text.filters ({n})")
    return [int(f) for f in filters], [int(k) for k in kernels], [_pool_pair(p) for p in pools]


def conv_spec(filters, kernels, pools):
    """The layer list of a conv stack: one ("conv", filters, kernel) per entry of `filters`,
    each followed by ("pool", size, stride) unless its pool is None / 1. `kernels` and `pools`
    are one int for every layer or a list with one entry per layer; a pool entry is an int
    (size = stride) or [size, stride]."""
    spec = []
    for f, k, pair in zip(*_layers(filters, kernels, pools)):
        spec.append(("conv", f, k))
        if pair:
            spec.append(("pool",) + pair)
    return tuple(spec)


def spec_lengths(spec, length):
    """Sequence length after each layer of `spec` (valid convs, floor-mode pooling)."""
    out = []
    for kind, a, b in spec:
        length = length - b + 1 if kind == "conv" else (length - a) // b + 1
        out.append(length)
    return out


def spec_min_length(spec):
    """Shortest input for which every layer of `spec` has at least one output step."""
    length = 1
    for kind, a, b in reversed(spec):
        length = length + b - 1 if kind == "conv" else (length - 1) * b + a
    return length


def _conv_stack(x, spec, initializer=None, one_hot_words=None):
    """Temporal conv (valid, ReLU) and max-pool layers of `spec` (see `conv_spec`).

    `one_hot_words` (vocabulary size): the first conv reads word ids as one-hot vectors
    (`OneHotConv1D`) instead of an embedded sequence, as Reed's HybridCNNWord.lua does."""
    need = spec_min_length(spec)
    if x.shape[1] is not None and x.shape[1] < need:
        n = sum(kind == "conv" for kind, _, _ in spec)
        raise ConfigError(f"text length {x.shape[1]} is too short for {n} conv layers "
                          f"({_describe(spec)}): need at least {need}; raise "
                          f"text.max_chars / text.max_words or use fewer text.filters")
    init = {} if initializer is None else {"kernel_initializer": initializer,
                                           "bias_initializer": initializer}
    convs = pools = 0
    for kind, a, b in spec:
        if kind == "conv":
            convs += 1
            if one_hot_words and convs == 1:
                x = OneHotConv1D(a, b, one_hot_words, activation="relu", name="conv1", **init)(x)
            else:
                x = keras.layers.Conv1D(a, b, activation="relu", name=f"conv{convs}", **init)(x)
        else:
            pools += 1
            x = keras.layers.MaxPooling1D(a, strides=b, name=f"pool{pools}")(x)
    return x


def _describe(spec):
    return ", ".join(f"conv {a}x{b}" if kind == "conv" else f"pool {a}/{b}"
                     for kind, a, b in spec)


@keras.saving.register_keras_serializable(package="tfembed")
class ReluRNN(keras.layers.Layer):
    """Reed's plain ReLU RNN, reedscot/cvpr2016 modules/FixedRNN.lua:

        h_1 = relu(W_i x_1 + b_i)
        h_t = relu(W_i x_t + b_i + W_h h_{t-1} + b_h),  t = 2..T

    (i2h and h2h are two nn.Linear with their own biases, shared over time; the first step
    has no h2h term at all.) Returns h_1..h_T, [N, T, units]; FixedRNN's output is their mean
    (MulConstant(1/nstep) of the sum), which the encoder takes. Keras' SimpleRNN with a relu
    activation differs at step 1 (it adds its single bias b_i + b_h there too) and has
    `units` fewer parameters. T must be static (FixedRNN is unrolled over a fixed nstep = 8).
    """

    def __init__(self, units, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.initializers = {"kernel_initializer": kernel_initializer,
                             "recurrent_initializer": recurrent_initializer,
                             "bias_initializer": bias_initializer}
        self.i2h = keras.layers.Dense(self.units, name="i2h",
                                      kernel_initializer=kernel_initializer,
                                      bias_initializer=bias_initializer)
        self.h2h = keras.layers.Dense(self.units, name="h2h",
                                      kernel_initializer=recurrent_initializer,
                                      bias_initializer=bias_initializer)

    def build(self, input_shape):
        if input_shape[1] is None:
            raise ConfigError("text.rnn_cell=relu_rnn unrolls over a fixed number of steps "
                              "(Reed's FixedRNN); the sequence length must be static")
        self.i2h.build(tuple(input_shape[:1]) + tuple(input_shape[2:]))
        self.h2h.build((input_shape[0], self.units))

    def call(self, x):
        steps = [keras.ops.relu(self.i2h(x[:, 0]))]
        for t in range(1, x.shape[1]):
            steps.append(keras.ops.relu(self.i2h(x[:, t]) + self.h2h(steps[-1])))
        return keras.ops.stack(steps, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                **{k: keras.initializers.serialize(keras.initializers.get(v))
                   for k, v in self.initializers.items()}}


@keras.saving.register_keras_serializable(package="tfembed")
class OneHotConv1D(keras.layers.Layer):
    """A valid, stride-1 temporal convolution over one-hot word vectors, computed by lookup:
    out[t] = b + sum_j W[j, id[t+j] - 2] (ids 0 = padding and 1 = out of vocabulary are the zero
    vector). Equal to Conv1D over the [N, L, vocab_size - 2] one-hot input, with the same kernel
    shape (kernel, vocab_size - 2, filters) -- Reed's TemporalConvolution(vocab_size, 512, 3)
    in modules/HybridCNNWord.lua -- without materialising the one-hot tensor."""

    def __init__(self, filters, kernel_size, vocab_size, activation=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.vocab_size = int(filters), int(kernel_size), int(vocab_size)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", initializer=self.kernel_initializer,
                                      shape=(self.kernel_size, self.vocab_size - 2, self.filters))
        self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                    initializer=self.bias_initializer)

    def call(self, ids):
        ids = keras.ops.cast(ids, "int32")
        steps = ids.shape[1] - self.kernel_size + 1
        zeros = keras.ops.zeros((2, self.filters), self.kernel.dtype)
        out = self.bias
        for j in range(self.kernel_size):
            table = keras.ops.concatenate([zeros, self.kernel[j]], axis=0)
            out = out + keras.ops.take(table, ids[:, j:j + steps], axis=0)
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] - self.kernel_size + 1
        return (input_shape[0], steps, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "vocab_size": self.vocab_size,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}


def reed_one_hot_matrix():
    """[2 + 69, 70]: tokenizer ids (0 padding, 1 out of vocabulary, 2.. CHAR_ALPHABET) -> Reed's
    70-wide one-hot vectors. Padding and unknown characters are the zero vector (Reed's loader
    leaves the rest of the 201 x 70 document zero after its last character,
    MultimodalMinibatchLoaderCaption.lua); each character's column is its index in the loader's
    dictionary (1-based, last occurrence wins: '-' -> 60)."""
    column = {c: i for i, c in enumerate(REED_ALPHABET)}  # later duplicates overwrite, as in Lua
    matrix = np.zeros((len(CHAR_ALPHABET) + 2, len(REED_ALPHABET)), np.float32)
    for i, c in enumerate(CHAR_ALPHABET):
        matrix[i + 2, column[c]] = 1.0
    return matrix


def reed_hybrid_settings(kind):
    """The text.* values of Reed's hybrid encoder `kind` (REED_HYBRID), in config form."""
    if kind not in REED_HYBRID:
        raise ConfigError(f"text.architecture=reed_hybrid is Reed's CNN-RNN (modules/HybridCNN.lua, "
                          f"modules/HybridCNNWord.lua) and exists for {' and '.join(REED_HYBRID)}; "
                          f"for text.encoder={kind} use --set text.architecture=custom")
    ref = REED_HYBRID[kind]
    convs, pools = [], []
    for kind_, a, b in ref["layers"]:
        if kind_ == "conv":
            convs.append((a, b))
            pools.append(None)
        else:
            pools[-1] = [a, b]
    return {"max_chars" if is_char_level(kind) else "max_words": ref["length"],
            "filters": [f for f, _ in convs], "kernels": [k for _, k in convs],
            "pools": [p if p else 1 for p in pools], "rnn_cell": "relu_rnn",
            "rnn_units": ref["rnn_units"]}


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
    for key, value in reed_hybrid_settings(cfg["encoder"]).items():
        if cfg.get(key) != value:
            changed[key] = (cfg.get(key), value)
            cfg[key] = value
    return cfg, changed


def _rnn(units, cell, return_sequences=True, initializer=None):
    if cell == "relu_rnn":
        init = {} if initializer is None else dict(kernel_initializer=initializer,
                                                   recurrent_initializer=initializer,
                                                   bias_initializer=initializer)
        return ReluRNN(units, name="relu_rnn", **init)
    layers = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "rnn": keras.layers.SimpleRNN}
    if cell not in layers:
        raise ConfigError(f"unknown text.rnn_cell {cell!r}; valid: {', '.join(RNN_CELLS)}")
    return layers[cell](units, return_sequences=return_sequences)


def _word_embedding(inputs, vocab_size, embed_dim, word_vectors, train, mask_zero):
    """Word ids -> vectors. Random (uniform [-1, 1], `embed_dim` wide) unless `word_vectors`
    [vocab_size, D] is given (e.g. GloVe rows aligned with the tokenizer, padding / unknown
    rows zero): then the embedding starts from them, D wide, and `train` says whether it
    is fine-tuned. Pretrained vectors give 25 training classes words they never see."""
    if word_vectors is None:
        return keras.layers.Embedding(vocab_size, embed_dim, mask_zero=mask_zero,
                                      embeddings_initializer=keras.initializers.RandomUniform(-1, 1),
                                      name="embedding")(inputs)
    vectors = np.asarray(word_vectors, np.float32)
    if vectors.shape[0] != vocab_size:
        raise ConfigError(f"text.word_vectors: {vectors.shape[0]} rows for a vocabulary of "
                          f"{vocab_size} word ids")
    emb = keras.layers.Embedding(vocab_size, vectors.shape[1], mask_zero=mask_zero,
                                 trainable=train, name="embedding")
    x = emb(inputs)
    emb.set_weights([vectors])  # not an initializer: the matrix stays out of the model config
    return x


def build_text_encoder(kind, output_dim, vocab_size=None, max_length=None, *,
                       filters=(384, 512, 256), kernel=4, pool=3, kernels=None, pools=None,
                       rnn_units=256, rnn_cell="gru", architecture="custom",
                       embed_dim=64, dropout=0.0, word_vectors=None, train_word_vectors=False,
                       attribute_dim=None):
    """Keras functional encoder: ids [N, L] (counts [N, V], attributes [N, A]) -> [N, output_dim].

    CNN encoders: `filters` per conv layer, `kernels` / `pools` one value or one per layer
    (default: `kernel` / `pool` for characters, 3 / 2 for words; see `conv_spec`).
    `architecture="reed_hybrid"` (char_cnn_rnn, word_cnn_rnn) is Reed's network as written in
    reedscot/cvpr2016 (REED_HYBRID): the layer arguments must be Reed's values
    (`reed_hybrid_settings`), characters enter as Reed's 70-wide one-hot vectors with padding
    zero, words as one-hot vectors over the vocabulary, the recurrence is FixedRNN
    (`ReluRNN`), and every weight and bias starts uniform in [-0.08, 0.08].
    `word_vectors` [vocab_size, D]: word2vec's fixed vectors, and the starting embedding of
    the custom word CNN-RNN / LSTM / CNN (fine-tuned if `train_word_vectors`)."""
    if kind not in TEXT_ENCODERS:
        raise ConfigError(f"unknown text encoder {kind!r}; known: {', '.join(TEXT_ENCODERS)}")
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"unknown text.architecture {architecture!r}; "
                          f"valid: {', '.join(ARCHITECTURES)}")
    char = is_char_level(kind)
    if kernels is None:
        kernels = kernel if char else 3
    if pools is None:
        pools = pool if char else 2
    reed = architecture == "reed_hybrid"
    initializer = None
    if reed:
        want = reed_hybrid_settings(kind)
        length_key = "max_chars" if char else "max_words"
        bad = [f"text.{key} must be {want[key]!r} (got {got!r})" for key, got in
               ((length_key, max_length), ("rnn_cell", rnn_cell), ("rnn_units", rnn_units))
               if got != want[key]]
        got, ref = _layers(filters, kernels, pools), _layers(want["filters"], want["kernels"],
                                                             want["pools"])
        bad += [f"text.{key} must be {want[key]!r} (got {value!r})"
                for key, value, ref_value in zip(("filters", "kernels", "pools"), got, ref)
                if value != ref_value]
        assert bad or conv_spec(filters, kernels, pools) == REED_HYBRID[kind]["layers"]
        if bad:
            where = "modules/HybridCNN.lua" if char else "modules/HybridCNNWord.lua"
            raise ConfigError("text.architecture=reed_hybrid is Reed's network layer by layer "
                              f"(reedscot/cvpr2016 {where}, modules/FixedRNN.lua): "
                              + "; ".join(bad) + "; use text.architecture=custom to change it")
        initializer = keras.initializers.RandomUniform(-REED_INIT, REED_INIT)
    init = {} if initializer is None else {"kernel_initializer": initializer,
                                           "bias_initializer": initializer}
    one_hot_words = None
    if kind == "attributes":
        inputs = keras.Input((attribute_dim,), name="attributes")
        x = inputs
    elif kind == "bow":
        inputs = keras.Input((vocab_size,), name="counts")
        x = Log1p(name="log_counts")(inputs)
    else:
        inputs = keras.Input((max_length,), dtype="int64", name="ids")
        if kind == "word2vec":
            vectors = np.asarray(word_vectors, np.float32)
            emb = keras.layers.Embedding(vectors.shape[0], vectors.shape[1], mask_zero=True,
                                         trainable=train_word_vectors, name="word_vectors")
            x = emb(inputs)
            emb.set_weights([vectors])
        elif char and reed:
            # Reed's 70-wide one-hot characters, padding and unknown characters zero.
            matrix = reed_one_hot_matrix()
            if vocab_size != matrix.shape[0]:
                raise ConfigError(f"reed_hybrid expects the character tokenizer's "
                                  f"{matrix.shape[0]} ids, got vocab_size={vocab_size}")
            emb = keras.layers.Embedding(matrix.shape[0], matrix.shape[1], trainable=False,
                                         name="reed_one_hot")
            x = emb(inputs)
            emb.set_weights([matrix])
        elif char:
            # Characters enter as one-hot vectors, as in Reed et al. (a frozen identity
            # embedding); a small random embedding starves the deep conv stack of signal.
            x = keras.layers.Embedding(vocab_size, vocab_size, embeddings_initializer="identity",
                                       trainable=False, mask_zero=kind == "char_lstm",
                                       name="one_hot")(inputs)
        elif reed:  # HybridCNNWord.lua: the first conv reads one-hot words (OneHotConv1D)
            if word_vectors is not None:
                raise ConfigError("text.architecture=reed_hybrid reads one-hot words (reedscot/"
                                  "cvpr2016 modules/HybridCNNWord.lua), so text.word_vectors "
                                  "cannot initialise it; use text.architecture=custom")
            x, one_hot_words = inputs, vocab_size
        else:
            x = _word_embedding(inputs, vocab_size, embed_dim, word_vectors, train_word_vectors,
                                mask_zero=kind in ("word_lstm", "bilstm"))
        if kind.endswith("cnn_rnn"):
            # Reed's hybrid: temporal conv + max-pool, then a recurrent layer averaged over time.
            x = _conv_stack(x, conv_spec(filters, kernels, pools), initializer, one_hot_words)
            if reed and x.shape[1] != REED_HYBRID[kind]["steps"]:  # FixedRNN.rnn(8, ...)
                raise ConfigError(f"reed_hybrid: {x.shape[1]} RNN steps, Reed's has "
                                  f"{REED_HYBRID[kind]['steps']}")
            x = _rnn(rnn_units, rnn_cell, initializer=initializer)(x)
            x = keras.layers.GlobalAveragePooling1D(name="time_mean")(x)
        elif kind.endswith("_cnn"):
            x = _conv_stack(x, conv_spec(filters, kernels, pools))
            x = keras.layers.GlobalMaxPooling1D()(x)
        elif kind in ("char_lstm", "word_lstm"):
            x = keras.layers.GlobalAveragePooling1D()(_rnn(rnn_units, "lstm")(x))
        elif kind == "bilstm":
            x = keras.layers.Bidirectional(_rnn(rnn_units, "lstm"))(x)
            x = keras.layers.GlobalAveragePooling1D()(x)
        else:  # word2vec: mean of the (masked) word vectors
            x = keras.layers.GlobalAveragePooling1D()(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(output_dim, name="text_projection", **init)(x)
    return keras.Model(inputs, outputs, name=f"{kind}_encoder")
