"""Structured joint embedding loss (Reed et al. 2016, Eq. 3-5; Akata et al. 2015 SJE).

With pairs (v_n, t_n) of class y_n in a batch and pair scores S[i, j] = F(v_i, t_j):
  image side  l_v(n) = max_y [ D(y_n, y) + mean_{j: y_j = y} S[n, j] - S[n, n] ]_+
  text side   l_t(n) = max_y [ D(y_n, y) + mean_{i: y_i = y} S[i, n] - S[n, n] ]_+
D is the 0-1 loss and y ranges over the classes present in the batch. Because F is bilinear,
the mean of S over a class's texts is F against the class-mean text embedding ("class-averaged
text embeddings over the batch"). DS-SJE = l_v + l_t (symmetric); DA-SJE = l_v only.
`violation="sum"` sums hinges over classes instead of taking the max (Reed's Torch code).
"""

import tensorflow as tf


def _class_average(scores, labels, axis):
    """Average `scores` over the batch entries of each class along `axis` -> [N, K]."""
    classes, index = tf.unique(labels)
    one_hot = tf.one_hot(index, tf.size(classes), dtype=scores.dtype)  # [N, K]
    counts = tf.reduce_sum(one_hot, axis=0)
    if axis == 1:  # over texts (columns) for each image row
        summed = tf.matmul(scores, one_hot)
    else:  # over images (rows) for each text column
        summed = tf.matmul(scores, one_hot, transpose_a=True)
    return summed / counts, one_hot


def _hinge(class_scores, one_hot, positive, margin, violation):
    delta = margin * (1.0 - one_hot)  # 0-1 loss, scaled by the margin
    violations = tf.nn.relu(delta + class_scores - positive[:, None])
    if violation == "max":
        return tf.reduce_max(violations, axis=1)
    if violation == "sum":
        return tf.reduce_sum(violations, axis=1)
    raise ValueError(f"violation must be 'max' or 'sum', got {violation!r}")


def structured_joint_loss(scores, labels, symmetric=True, margin=1.0, violation="max"):
    """Per-pair structured hinge loss [N] from pair scores [N, N] and class labels [N].

    `scores[i, j]` is the compatibility of image i with text j; row n is paired with column n.
    """
    scores = tf.convert_to_tensor(scores)
    labels = tf.reshape(tf.cast(labels, tf.int64), [-1])
    positive = tf.linalg.diag_part(scores)
    image_side, one_hot = _class_average(scores, labels, axis=1)
    loss = _hinge(image_side, one_hot, positive, margin, violation)
    if symmetric:
        text_side, _ = _class_average(scores, labels, axis=0)
        loss = loss + _hinge(text_side, one_hot, positive, margin, violation)
    return loss
