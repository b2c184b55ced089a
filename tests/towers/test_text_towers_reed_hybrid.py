"""text.architecture=reed_hybrid against Reed's Torch code, layer by layer.

The expected values below are written from reedscot/cvpr2016 (commit 437e242), not from our
code: modules/HybridCNN.lua (char), modules/HybridCNNWord.lua (word), modules/FixedRNN.lua
(the ReLU RNN), util/MultimodalMinibatchLoaderCaption.lua (alphabet, one-hot documents),
train_sje_hybrid.lua (doc_length 201, cnn_dim 256, params:uniform(-0.08, 0.08)).
"""

import numpy as np
import pytest
import tensorflow as tf

from tfembed.errors import ConfigError
from tfembed.towers.text import apply_architecture
from tfembed.towers import text as text_towers

# HybridCNN.lua, in order: (layer, filters or pool size, kernel or stride, output length).
# Its comments give the lengths after each pool: "66 x 256", "21 x 256", "8 x 256".
REED_CHAR = [("conv", 384, 4, 198), ("pool", 3, 3, 66), ("conv", 512, 4, 63), ("pool", 3, 3, 21),
             ("conv", 256, 4, 18), ("pool", 3, 2, 8)]
# HybridCNNWord.lua: comments "28", "27", "9", "8 x ...".
REED_WORD = [("conv", 512, 3, 28), ("conv", 512, 2, 27), ("pool", 3, 3, 9), ("conv", 512, 2, 8)]
ALPHABET_SIZE = 70      # #self.alphabet in MultimodalMinibatchLoaderCaption.lua
WORD_VOCAB = 1000       # any vocabulary: TemporalConvolution(vocab_size, 512, 3)


def reed_char_encoder(output_dim=1024):
    s = text_towers.reed_hybrid_settings("char_cnn_rnn")
    return text_towers.build_text_encoder(
        "char_cnn_rnn", output_dim, vocab_size=len(text_towers.CHAR_ALPHABET) + 2,
        max_length=s["max_chars"], filters=s["filters"], kernels=s["kernels"], pools=s["pools"],
        rnn_cell=s["rnn_cell"], rnn_units=s["rnn_units"], architecture="reed_hybrid")


def reed_word_encoder(output_dim=1024):
    s = text_towers.reed_hybrid_settings("word_cnn_rnn")
    return text_towers.build_text_encoder(
        "word_cnn_rnn", output_dim, vocab_size=WORD_VOCAB + 2, max_length=s["max_words"],
        filters=s["filters"], kernels=s["kernels"], pools=s["pools"], rnn_cell=s["rnn_cell"],
        rnn_units=s["rnn_units"], architecture="reed_hybrid")


def conv_and_pool_layers(model):
    out = []
    for layer in model.layers:
        name = type(layer).__name__
        if name in ("Conv1D", "OneHotConv1D"):
            kernel = layer.kernel_size[0] if name == "Conv1D" else layer.kernel_size
            if name == "Conv1D":
                assert layer.strides == (1,) and layer.padding == "valid"
            assert layer.activation.__name__ == "relu"
            out.append(("conv", layer.filters, kernel, layer.output.shape[1]))
        elif name == "MaxPooling1D":
            assert layer.padding == "valid"
            out.append(("pool", layer.pool_size[0], layer.strides[0], layer.output.shape[1]))
    return out


def test_char_hybrid_is_hybridcnn_lua_layer_by_layer():
    enc = reed_char_encoder()
    assert enc.input.shape[1] == 201  # doc_length
    assert enc.get_layer("reed_one_hot").output.shape[1:] == (201, ALPHABET_SIZE)
    assert conv_and_pool_layers(enc) == REED_CHAR
    rnn = enc.get_layer("relu_rnn")
    assert isinstance(rnn, text_towers.ReluRNN) and rnn.output.shape[1:] == (8, 256)  # FixedRNN(8,..,256)
    assert enc.get_layer("time_mean").output.shape[1:] == (256,)
    assert enc.output.shape[1:] == (1024,)  # Linear(cnn_dim, emb_dim)


def test_char_hybrid_parameter_count_by_hand():
    # TemporalConvolution(in, out, k): k*in*out + out; nn.Linear(in, out): in*out + out.
    conv1 = 4 * 70 * 384 + 384          # 107,904
    conv2 = 4 * 384 * 512 + 512         # 786,944
    conv3 = 4 * 512 * 256 + 256         # 524,544
    rnn = 2 * (256 * 256 + 256)         # FixedRNN: i2h and h2h, each Linear(256, 256): 131,584
    out = 256 * 1024 + 1024             # Linear(256, 1024): 263,168
    enc = reed_char_encoder()
    trainable = sum(int(np.prod(w.shape)) for w in enc.trainable_weights)
    assert trainable == conv1 + conv2 + conv3 + rnn + out == 1_814_144
    # The only other weights: the frozen id -> one-hot table (71 ids x 70 columns).
    assert enc.count_params() - trainable == 71 * 70


def test_word_hybrid_is_hybridcnnword_lua_layer_by_layer_and_parameter_count():
    enc = reed_word_encoder()
    assert enc.input.shape[1] == 30
    assert conv_and_pool_layers(enc) == REED_WORD
    assert enc.get_layer("relu_rnn").output.shape[1:] == (8, 512)  # FixedRNN(length=8, 1, 512)
    by_hand = ((3 * WORD_VOCAB * 512 + 512) + 2 * (2 * 512 * 512 + 512)
               + 2 * (512 * 512 + 512) + (512 * 1024 + 1024))
    assert enc.count_params() == by_hand == 3_636_736


def fixed_rnn_reference(x, wi, bi, wh, bh):
    """FixedRNN.lua in NumPy: relu[1] = ReLU(i2h(x1)); relu[i] = ReLU(i2h(xi) + h2h(relu[i-1]));
    output = sum / nstep."""
    h = np.maximum(x[:, 0] @ wi + bi, 0)
    total = h.copy()
    for t in range(1, x.shape[1]):
        h = np.maximum(x[:, t] @ wi + bi + h @ wh + bh, 0)
        total += h
    return total / x.shape[1]


def test_relu_rnn_is_fixedrnn_lua():
    rng = np.random.default_rng(0)
    layer = text_towers.ReluRNN(5)
    x = rng.normal(size=(3, 8, 4)).astype(np.float32)
    layer(x)  # build
    wi, bi = rng.normal(size=(4, 5)), rng.normal(size=5)
    wh, bh = rng.normal(size=(5, 5)) * 0.3, rng.normal(size=5)
    layer.i2h.set_weights([wi, bi])
    layer.h2h.set_weights([wh, bh])
    got = np.asarray(layer(x)).mean(axis=1)
    np.testing.assert_allclose(got, fixed_rnn_reference(x, wi, bi, wh, bh), rtol=1e-5, atol=1e-5)
    # The first step has no h2h term (not even its bias), unlike SimpleRNN's single bias.
    np.testing.assert_allclose(np.asarray(layer(x))[:, 0], np.maximum(x[:, 0] @ wi + bi, 0),
                               rtol=1e-5, atol=1e-5)
    # i2h Linear(4, 5) and h2h Linear(5, 5), each with its own bias (SimpleRNN: 4*5 + 5*5 + 5).
    assert sum(int(np.prod(w.shape)) for w in layer.weights) == (4 * 5 + 5) + (5 * 5 + 5)


def test_reed_one_hot_columns_follow_the_lua_dictionary():
    matrix = text_towers.reed_one_hot_matrix()
    assert matrix.shape == (71, ALPHABET_SIZE)
    assert not matrix[0].any() and not matrix[1].any()  # padding, unknown: zero vectors
    assert np.all(matrix[2:].sum(1) == 1)
    pre = text_towers.build_preprocessor("char_cnn_rnn", 5, None)
    ids = pre(tf.constant(["a-}é "])).numpy()[0]
    cols = [int(np.argmax(matrix[i])) if matrix[i].any() else None for i in ids]
    # Lua: dict[c] = i over the string, so the second '-' (position 60, 1-based) wins; 'a' = 1,
    # '}' = 69, ' ' = 70; 'é' is not in the alphabet.
    assert cols == [0, 59, 68, None, 69]
    assert not matrix[:, 36].any()  # the first '-' column is never on
    pre = text_towers.build_preprocessor("char_cnn_rnn", 8, None)
    ids = pre(tf.constant(["ab"])).numpy()[0]
    assert not matrix[ids[2:]].any()  # the rest of the 201-long document stays zero


def test_one_hot_conv_equals_conv1d_over_one_hot_words():
    rng = np.random.default_rng(1)
    vocab, filters, k = 7, 4, 3
    layer = text_towers.OneHotConv1D(filters, k, vocab + 2)
    ids = rng.integers(0, vocab + 2, size=(2, 9))
    layer(ids)
    w, b = rng.normal(size=(k, vocab, filters)), rng.normal(size=filters)
    layer.set_weights([w, b])
    one_hot = np.zeros((2, 9, vocab))
    for n, t in zip(*np.nonzero(ids >= 2)):
        one_hot[n, t, ids[n, t] - 2] = 1
    expected = tf.nn.conv1d(one_hot, w, 1, "VALID").numpy() + b
    np.testing.assert_allclose(np.asarray(layer(ids)), expected, rtol=1e-5, atol=1e-5)


def test_reed_initialisation_is_uniform_008():
    enc = reed_char_encoder(64)
    for w in enc.trainable_weights:
        values = np.asarray(w)
        assert np.abs(values).max() <= 0.08 + 1e-7, w.path
        if values.size > 1000:
            assert np.abs(values).max() > 0.079 and abs(values.mean()) < 0.005, w.path


@pytest.mark.parametrize("change, key", [
    (dict(kernels=[4, 4, 3]), "kernels"), (dict(pools=[3, 3, 3]), "pools"),
    (dict(filters=[384, 512, 128]), "filters"), (dict(rnn_cell="gru"), "rnn_cell"),
    (dict(rnn_units=128), "rnn_units"), (dict(max_length=160), "max_chars")])
def test_reed_hybrid_refuses_a_changed_layer(change, key):
    s = text_towers.reed_hybrid_settings("char_cnn_rnn")
    args = dict(max_length=201, filters=s["filters"], kernels=s["kernels"], pools=s["pools"],
                rnn_cell="relu_rnn", rnn_units=256)
    args.update(change)
    with pytest.raises(ConfigError, match=f"text.{key}.*architecture=custom"):
        text_towers.build_text_encoder("char_cnn_rnn", 8, vocab_size=71,
                                       architecture="reed_hybrid", **args)


def test_reed_hybrid_only_for_the_cnn_rnns():
    with pytest.raises(ConfigError, match="text.encoder=char_lstm use --set text.architecture=custom"):
        apply_architecture({"encoder": "char_lstm", "architecture": "reed_hybrid"})


def test_apply_architecture_records_reeds_values():
    cfg = {"encoder": "char_cnn_rnn", "architecture": "reed_hybrid", "max_chars": 160,
           "filters": [128, 192, 256], "kernels": None, "pools": None, "rnn_cell": "gru",
           "rnn_units": 256, "dropout": 0.1}
    out, changed = apply_architecture(cfg)
    assert out == {**cfg, "max_chars": 201, "filters": [384, 512, 256], "kernels": [4, 4, 4],
                   "pools": [[3, 3], [3, 3], [3, 2]], "rnn_cell": "relu_rnn"}
    assert set(changed) == {"max_chars", "filters", "kernels", "pools", "rnn_cell"}
    assert apply_architecture(out) == (out, {})
    custom = {**cfg, "architecture": "custom"}
    assert apply_architecture(custom) == (custom, {})


def test_custom_architecture_takes_kernels_and_pools_per_layer():
    spec = text_towers.conv_spec([384, 512, 256], [4, 4, 4], [3, 3, [3, 2]])
    assert spec == tuple((kind, a, b) for kind, a, b, _ in REED_CHAR)
    assert text_towers.spec_lengths(spec, 201) == [n for *_, n in REED_CHAR]
    assert text_towers.spec_min_length(spec) == 66  # 66 -> 63 -> 21 -> 18 -> 6 -> 3 -> 1
    assert text_towers.spec_lengths(spec, 65)[-1] == 0
    assert text_towers.min_length(3, 4, 3) == 66  # the uniform stack as before
    assert text_towers.conv_spec([8, 8], 3, [1, None]) == (("conv", 8, 3), ("conv", 8, 3))
    with pytest.raises(ConfigError, match="one entry per conv layer"):
        text_towers.conv_spec([8, 8, 8], [4, 4], 3)
    enc = text_towers.build_text_encoder("char_cnn_rnn", 8, vocab_size=71, max_length=201,
                                         filters=[8, 8, 8], kernels=[4, 4, 4],
                                         pools=[3, 3, [3, 2]], rnn_units=8, rnn_cell="relu_rnn")
    assert [n for *_, n in conv_and_pool_layers(enc)] == [n for *_, n in REED_CHAR]
