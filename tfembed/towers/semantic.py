"""Semantic -> visual towers (Zhang, Xiang, Gong 2017, DEM): map a class's semantic
representation into the visual feature space, where classification is nearest neighbour.

They are the text towers of DEM's `JointEmbedding` (tfembed.models): class-level towers take
a dict of named inputs, the description encoder the ids of `tfembed.text.TextPreprocessor`,
the attributes + descriptions fusion both (a class attribute row and one description's ids).
Every tower ends in FC + ReLU, because the visual features it regresses onto (pooled
post-ReLU CNN activations) are >= 0. The weight decay of Eq. 1, lambda * sum ||W||^2 over the
FC weight matrices (`regularised_kernels`), is an L2 kernel regulariser on those layers, so
the model adds it to the loss (`model.losses`).
"""

import keras

from tfembed.errors import ConfigError
from tfembed.layers.elementwise import ScaledTanh

SCALED_TANH = (1.7159, 2.0 / 3.0)  # LeCun's scaled tanh, f(x) = 1.7159 tanh(2x/3)
BILSTM_POOLINGS = ("final_states", "mean")  # semantic.bilstm_pooling


def _dense(units, name, weight_decay, activation=None):
    """FC layer; `weight_decay` lambda adds lambda * ||W||^2 (kernel only) to model.losses."""
    reg = keras.regularizers.L2(weight_decay) if weight_decay else None
    return keras.layers.Dense(units, activation=activation, kernel_regularizer=reg, name=name)


def semantic_mlp(input_dim, visual_dim, hidden_dim=700, input_name="attributes", weight_decay=0.0):
    """One modality (attributes or word vectors): FC + ReLU, FC + ReLU."""
    inputs = keras.Input((int(input_dim),), name=input_name)
    x = _dense(hidden_dim, "fc1", weight_decay, "relu")(inputs)
    outputs = _dense(visual_dim, "fc2", weight_decay, "relu")(x)
    return keras.Model({input_name: inputs}, outputs, name=f"{input_name}_to_visual")


def fusion_mlp(input_dims, visual_dim, hidden_dim=900, weight_decay=0.0):
    """Several modalities: one FC per modality, summed, scaled tanh, then FC + ReLU."""
    inputs = {name: keras.Input((int(dim),), name=name) for name, dim in input_dims.items()}
    parts = [_dense(hidden_dim, f"fc_{name}", weight_decay)(x) for name, x in inputs.items()]
    x = keras.layers.Add(name="sum")(parts) if len(parts) > 1 else parts[0]
    x = ScaledTanh(name="scaled_tanh")(x)
    outputs = _dense(visual_dim, "fc_out", weight_decay, "relu")(x)
    return keras.Model(inputs, outputs, name="fusion_to_visual")


def _bilstm_states(inputs, vocab_size, embed_dim, units, word_vectors, train_word_vectors,
                   pooling):
    """Word ids -> [h_fwd; h_bwd] (the final states of both directions: the forward one at the
    last real word, the backward one at the first; padding is masked) or, pooling="mean",
    both directions' outputs averaged over the real words."""
    if pooling not in BILSTM_POOLINGS:
        raise ConfigError(f"semantic.bilstm_pooling must be one of {BILSTM_POOLINGS}, "
                          f"got {pooling!r}")
    dim = embed_dim if word_vectors is None else word_vectors.shape[1]
    emb = keras.layers.Embedding(vocab_size, dim, mask_zero=True, name="word_embedding",
                                 trainable=word_vectors is None or train_word_vectors)
    x = emb(inputs)
    if word_vectors is not None:
        emb.set_weights([word_vectors])
    final = pooling == "final_states"
    x = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=not final),
                                   name="bilstm")(x)
    if not final:
        x = keras.layers.GlobalAveragePooling1D(name="mean_over_words")(x)  # mask-aware
    return x


def description_encoder(vocab_size, max_length, visual_dim, embed_dim=64, units=128,
                        word_vectors=None, train_word_vectors=True, weight_decay=0.0,
                        pooling="final_states"):
    """Word ids [N, max_length] of one description (TextPreprocessor output) -> Bi-LSTM ->
    FC + ReLU into the visual space.

    pooling="final_states" is Zhang et al. 2017 Sec. 3.2 (c): f(W_fwd h_fwd + W_bwd h_bwd)
    with h_fwd / h_bwd the final hidden states of the forward and backward LSTMs, f = ReLU;
    one Dense over [h_fwd; h_bwd] is that sum. pooling="mean" averages both directions'
    outputs over the real words instead (this library's earlier encoder).

    `word_vectors` ([vocab_size, dim], e.g. Word2Vec on the training descriptions) initialises
    the word embedding; otherwise it is learned from scratch with `embed_dim` dimensions.
    """
    inputs = keras.Input((int(max_length),), dtype="int64", name="ids")
    x = _bilstm_states(inputs, vocab_size, embed_dim, units, word_vectors, train_word_vectors,
                       pooling)
    outputs = _dense(visual_dim, "fc_out", weight_decay, "relu")(x)
    return keras.Model(inputs, outputs, name="description_to_visual")


def attributes_descriptions_encoder(attribute_dim, vocab_size, max_length, visual_dim,
                                    hidden_dim=700, embed_dim=64, units=128, weight_decay=0.0,
                                    pooling="final_states"):
    """{"attributes": [N, A], "ids": [N, max_length]} -> the visual space: DEM's multi-modality
    fusion (Sec. 3.2, Fig. 1 (b) with the Bi-LSTM unit of (c)) of a class attribute vector and
    one description. Each modality has its own first layer into `hidden_dim` -- W^(1) a for the
    attributes, W_fwd h_fwd + W_bwd h_bwd (one Dense over [h_fwd; h_bwd]) for the Bi-LSTM --
    summed element-wise, then f2 = scaled tanh (the paper's activation for several
    modalities), then FC + ReLU into the visual space, as `fusion_mlp`."""
    attributes = keras.Input((int(attribute_dim),), name="attributes")
    ids = keras.Input((int(max_length),), dtype="int64", name="ids")
    h = _bilstm_states(ids, vocab_size, embed_dim, units, None, True, pooling)
    parts = [_dense(hidden_dim, "fc_attributes", weight_decay)(attributes),
             _dense(hidden_dim, "fc_descriptions", weight_decay)(h)]
    x = ScaledTanh(name="scaled_tanh")(keras.layers.Add(name="sum")(parts))
    outputs = _dense(visual_dim, "fc_out", weight_decay, "relu")(x)
    return keras.Model({"attributes": attributes, "ids": ids}, outputs,
                       name="attributes_descriptions_to_visual")


def regularised_kernels(model):
    """The FC weight matrices the L2 penalty applies to."""
    return [layer.kernel for layer in model.layers if isinstance(layer, keras.layers.Dense)]
