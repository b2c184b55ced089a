"""Multimodal RNN caption generator (Karpathy & Fei-Fei 2015, Sec. 3.2).

The image vector v (CNN output or precomputed features) enters once: b_v = W_hi v sets the
recurrent state before the first word (the paper adds b_v at t = 1 only; with h_0 = 0 that is
the same as starting from h_0 = tanh(b_v) up to one squashing). Then x_t = W_w word_t,
h_t = RNN(x_t, h_{t-1}), y_t = softmax(W_oh h_t). Trained with teacher forcing: the input is
`<start> w_1 .. w_n`, the target `w_1 .. w_n <end>`, padding masked out of the cross-entropy.

Token ids: 0 padding, 1 `<start>`, 2 `<end>`, 3 `<unk>`, then the vocabulary words.
"""

import keras
import numpy as np
import tensorflow as tf

from tfembed.errors import ConfigError
from tfembed.metrics.bleu import tokenize
from tfembed.models import gather_across_replicas

PAD, START, END, UNK = 0, 1, 2, 3
SPECIAL = ["<pad>", "<start>", "<end>", "<unk>"]
CELLS = {"gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}


def encode_captions(captions, vocabulary, max_words):
    """[str] -> int32 [N, max_words + 2]: <start> ids.. <end> then padding (long ones cut)."""
    index = {w: i + len(SPECIAL) for i, w in enumerate(vocabulary)}
    out = np.zeros((len(captions), max_words + 2), np.int32)
    for row, caption in enumerate(captions):
        ids = [index.get(w, UNK) for w in tokenize(caption)][:max_words]
        out[row, :len(ids) + 2] = [START, *ids, END]
    return out


def decode_ids(ids, vocabulary):
    """int ids [T] -> the words up to the first <end>, joined with spaces."""
    words = []
    for i in ids:
        if i == END:
            break
        if i >= len(SPECIAL):
            words.append(vocabulary[i - len(SPECIAL)])
    return " ".join(words)


class CaptionModel(keras.Model):
    """`image_encoder` (Keras model: image input -> vector) + a word-level RNN language model.

    Three functional views share the layers: `init` (image -> state), `step`
    ((token [N], state [N, H]) -> (logits [N, V], state)) and `teacher` ((image, words) -> logits).
    """

    def __init__(self, image_encoder, vocab_size, word_dim=256, units=256, cell="gru",
                 dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ConfigError(f"model.cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.image_encoder, self.vocab_size, self.units = image_encoder, vocab_size, units
        project = keras.layers.Dense(units, activation="tanh", name="image_bias")  # b_v
        embed = keras.layers.Embedding(vocab_size, word_dim, name="word_embedding")
        rnn = CELLS[cell](units, return_sequences=True, return_state=True, name="rnn")
        drop = keras.layers.Dropout(dropout, name="dropout")
        out = keras.layers.Dense(vocab_size, name="word_logits")

        image = keras.Input(image_encoder.input_shape[1:], name="image")
        self.init = keras.Model(image, project(image_encoder(image)), name="init")
        words = keras.Input((None,), dtype="int32", name="words")
        seq, _ = rnn(drop(embed(words)), initial_state=self.init(image))
        self.teacher = keras.Model([image, words], out(drop(seq)), name="teacher")
        token = keras.Input((), dtype="int32", name="token")
        state = keras.Input((units,), name="state")
        step_seq, new_state = rnn(embed(token[:, None]), initial_state=state)
        self.step = keras.Model([token, state], [out(step_seq[:, 0]), new_state], name="step")
        # Padding and <start> are never targets: decoders must never emit them.
        self.forbid = tf.constant(np.isin(np.arange(vocab_size), [PAD, START]) * -1e9, tf.float32)
        self.built = True

    def call(self, inputs, training=False):
        return self.teacher([inputs["image"], inputs["words"]], training=training)

    def step_log_probs(self, tokens, state):
        """One decoding step: log p(next word) [N, V] (no <pad>/<start>) and the new state."""
        logits, state = self.step([tokens, state], training=False)
        return tf.nn.log_softmax(logits + self.forbid), state

    def compute_batch_loss(self, batch, training=True):
        """Masked teacher-forcing cross-entropy, mean over the real (non-padding) targets."""
        words = tf.cast(batch["words"], tf.int32)
        image = tf.convert_to_tensor(batch["image"])
        logits = self.teacher([image, words[:, :-1]], training=training)
        targets = words[:, 1:]
        mask = tf.cast(targets != PAD, tf.float32)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
        # Each replica returns its tokens' share of the global mean; the optimizer sums them.
        (count,), factor = gather_across_replicas(tf.reduce_sum(mask)[None])
        loss = tf.reduce_sum(ce * mask) / tf.maximum(tf.reduce_sum(count), 1.0)
        if self.losses:
            loss += tf.add_n(self.losses) * factor
        return loss


def greedy_generate_fn(model, vocabulary, max_len):
    """In-graph greedy decoding for export: image input batch -> caption strings [N].

    tf.while_loop over at most `max_len` steps with core ops; words after the first <end>
    are dropped and the ids mapped to words through a constant table inside the graph.
    """
    table = tf.constant(SPECIAL + list(vocabulary))

    def generate(images):
        state = model.init(images, training=False)
        n = tf.shape(state)[0]
        ids = tf.TensorArray(tf.int32, size=0, dynamic_size=True)

        def body(t, token, state, ended, ids):
            log_probs, state = model.step_log_probs(token, state)
            token = tf.cast(tf.argmax(log_probs, axis=1), tf.int32)
            token = tf.where(ended, tf.fill([n], END), token)
            return t + 1, token, state, ended | (token == END), ids.write(t, token)

        def cond(t, token, state, ended, ids):
            return (t < max_len) & ~tf.reduce_all(ended)

        _, _, _, _, ids = tf.while_loop(
            cond, body, [tf.constant(0), tf.fill([n], START), state, tf.zeros([n], tf.bool), ids])
        ids = tf.transpose(ids.stack())  # [N, steps]
        keep = (tf.cumsum(tf.cast(ids == END, tf.int32), axis=1) == 0) & (ids >= len(SPECIAL))
        words = tf.ragged.boolean_mask(tf.gather(table, ids), keep)
        return tf.strings.reduce_join(words, axis=1, separator=" ")
    return generate
