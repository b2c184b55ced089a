"""The visual feature space DEM embeds into.

Real data: the precomputed CNN features as they are. Synthetic birds: there is no ImageNet to
pretrain on, so a small CNN is trained to classify the images of the *seen* classes only and its
pooled (post-ReLU, so >= 0) activations become the features of every image -- the synthetic
analogue of an ImageNet-pretrained CNN. It is computed on each run; nothing is cached.
"""

import keras
import numpy as np
import tensorflow as tf

from tfembed.towers.image import build_image_tower


def seen_class_cnn(cfg, dataset, rows, strategy):
    """Train conv_small on the images of `rows` (seen classes); returns the frozen
    pixels -> pooled-features model."""
    classes, local = np.unique(dataset.labels[rows], return_inverse=True)
    with strategy.scope():
        tower = build_image_tower("conv_small", tuple(dataset.images.shape[1:]),
                                  **cfg["options"])
        logits = keras.layers.Dense(len(classes), name="seen_class_logits")(tower.output)
        classifier = keras.Model(tower.input, logits)
        classifier.compile(keras.optimizers.Adam(cfg["learning_rate"]),
                           keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                           metrics=["accuracy"])
    data = tf.data.Dataset.from_tensor_slices((dataset.images[rows], local.astype(np.int64)))
    data = data.shuffle(len(rows), seed=cfg["seed"]).map(
        lambda x, y: (tf.cast(x, tf.float32), y)).batch(cfg["batch_size"]).prefetch(2)
    history = classifier.fit(data, epochs=cfg["epochs"], verbose=0)
    pooled = keras.Model(tower.input, tower.get_layer("avg_pool").output, name="visual_features")
    pooled.trainable = False
    return pooled, float(history.history["accuracy"][-1])


def visual_space(cfg, dataset, strategy, train_split):
    """-> (features [N, D] float32, frozen pixel tower or None, (image kind, size), notes);
    a CNN is trained on `train_split` (data.splits.train: seen classes only) when the data set
    has no features."""
    if dataset.features is not None:
        return dataset.features.astype(np.float32), None, ("features", dataset.features.shape[1]), []
    rows = dataset.splits[train_split]
    tower, accuracy = seen_class_cnn(cfg, dataset, rows, strategy)
    features = np.concatenate([
        np.asarray(tower(tf.cast(dataset.images[i:i + 256], tf.float32), training=False))
        for i in range(0, dataset.num_images, 256)])
    note = (f"visual features: conv_small trained on the {len(np.unique(dataset.labels[rows]))} "
            f"{train_split} (seen) classes only, final train accuracy {accuracy:.3f}; "
            f"pooled {features.shape[1]}-d activations")
    return features, tower, ("pixels", tuple(dataset.images.shape[1:3])), [note]
