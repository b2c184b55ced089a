"""Semantic -> visual towers (Zhang, Xiang, Gong 2017, DEM): map a class's semantic
representation into the visual feature space, where classification is nearest neighbour.

Every tower is a Keras functional model over a dict of named inputs and ends in FC + ReLU,
because the visual features it regresses onto (pooled post-ReLU CNN activations) are >= 0.
"""

import keras

SCALED_TANH = (1.7159, 2.0 / 3.0)  # LeCun's scaled tanh, f(x) = 1.7159 tanh(2x/3)


def semantic_mlp(input_dim, visual_dim, hidden_dim=700, input_name="attributes"):
    """One modality (attributes or word vectors): FC + ReLU, FC + ReLU."""
    inputs = keras.Input((int(input_dim),), name=input_name)
    x = keras.layers.Dense(hidden_dim, activation="relu", name="fc1")(inputs)
    outputs = keras.layers.Dense(visual_dim, activation="relu", name="fc2")(x)
    return keras.Model({input_name: inputs}, outputs, name=f"{input_name}_to_visual")


def fusion_mlp(input_dims, visual_dim, hidden_dim=900):
    """Several modalities: one FC per modality, summed, scaled tanh, then FC + ReLU."""
    inputs = {name: keras.Input((int(dim),), name=name) for name, dim in input_dims.items()}
    parts = [keras.layers.Dense(hidden_dim, name=f"fc_{name}")(x) for name, x in inputs.items()]
    x = keras.layers.Add(name="sum")(parts) if len(parts) > 1 else parts[0]
    a, b = SCALED_TANH
    x = keras.layers.Lambda(lambda t: a * keras.ops.tanh(b * t), name="scaled_tanh")(x)
    outputs = keras.layers.Dense(visual_dim, activation="relu", name="fc_out")(x)
    return keras.Model(inputs, outputs, name="fusion_to_visual")


def description_encoder(vocab_size, max_length, visual_dim, embed_dim=64, units=128,
                        word_vectors=None, train_word_vectors=True):
    """Word ids of one description -> Bi-LSTM, averaged over the words, -> FC + ReLU.

    `word_vectors` ([vocab_size, dim], e.g. Word2Vec on the training descriptions) initialises
    the word embedding; otherwise it is learned from scratch with `embed_dim` dimensions.
    """
    inputs = keras.Input((int(max_length),), dtype="int64", name="ids")
    dim = embed_dim if word_vectors is None else word_vectors.shape[1]
    emb = keras.layers.Embedding(vocab_size, dim, mask_zero=True, name="word_embedding",
                                 trainable=word_vectors is None or train_word_vectors)
    x = emb(inputs)
    if word_vectors is not None:
        emb.set_weights([word_vectors])
    x = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True),
                                   name="bilstm")(x)
    x = keras.layers.GlobalAveragePooling1D(name="mean_over_words")(x)  # mask-aware
    outputs = keras.layers.Dense(visual_dim, activation="relu", name="fc_out")(x)
    return keras.Model({"ids": inputs}, outputs, name="description_to_visual")


def regularised_kernels(model):
    """The FC weight matrices the L2 penalty applies to."""
    return [layer.kernel for layer in model.layers if isinstance(layer, keras.layers.Dense)]
