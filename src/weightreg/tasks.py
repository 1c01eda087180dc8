"""The three tasks, as Keras writes them: what the output layer is, what the loss is, and what
score a study reports.

| task       | output layer           | loss (per row, on the logits)      | score            |
| ---------- | ---------------------- | ---------------------------------- | ---------------- |
| binary     | Dense(1, sigmoid)      | binary cross-entropy               | accuracy         |
| multiclass | Dense(classes, softmax)| sparse categorical cross-entropy   | accuracy (argmax)|
| regression | Dense(1), linear       | squared error                      | R²               |

Keras computes both cross-entropies from the logits behind the sigmoid or softmax, without
clipping (`keras.src.backend.tensorflow.nn._get_logits`), which is what the engine does. The
engine and the study ask the task for its loss, score and names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from weightreg import backend

NAMES = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Task:
    name: str  # one of NAMES
    outputs: int  # the output layer's width
    activation: str | None  # the output layer's Keras activation (None: linear)
    keras_loss: str  # the loss as `model.compile` names it
    score_name: str  # what the score is (every table's column is `test_score`, for every
    # task, so that one chart and one `dvc exp show` column serve them all): accuracy or R²
    classifies: bool  # rows are right or wrong (McNemar's test), or have squared errors

    def loss(self, logits, y):
        """The data loss of every row: [K, rows] from logits [K, rows] or [K, rows, classes]."""
        tf = backend.tensorflow()

        if self.name == "multiclass":
            labels = tf.broadcast_to(tf.cast(y, tf.int32), tf.shape(logits)[:-1])
            return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        y = tf.broadcast_to(y, tf.shape(logits))  # test labels are shared by all members
        if self.name == "binary":
            return tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)
        return tf.square(logits - y)

    def row_score(self, logits, y):
        """What each row adds to the score, [K, rows]: 1 where it is classified right (0 where
        not), or its squared error."""
        tf = backend.tensorflow()

        if self.name == "binary":
            return tf.cast(tf.cast(tf.sigmoid(logits) > 0.5, tf.float32) == y, tf.float32)
        if self.name == "multiclass":
            # Keras' accuracy for integer labels: the argmax of the output (ties: the first).
            predicted = tf.cast(tf.argmax(logits, axis=-1, output_type=tf.int32), tf.float32)
            return tf.cast(predicted == y, tf.float32)
        return self.loss(logits, y)

    def scores(self, mean_row_score: np.ndarray, y: np.ndarray,
               counts: np.ndarray | None = None) -> np.ndarray:
        """The score from the mean of `row_score` over rows whose targets are `y` ([rows], or
        [K, rows] for members' own rows, of which the first `counts` ([K]) are real where
        given): the exact fraction of rows right (float64), or R² = 1 - MSE / variance of the
        targets, as `sklearn.metrics.r2_score` computes it."""
        mean_row_score = np.asarray(mean_row_score, np.float64)
        rows = y.shape[-1] if counts is None else counts
        if self.classifies:
            return np.rint(mean_row_score * rows) / rows
        if counts is None:
            variance = np.var(np.asarray(y, np.float64), axis=-1)
        else:
            real = np.arange(y.shape[-1]) < np.asarray(counts)[:, None]
            variance = np.var(np.asarray(y, np.float64), axis=-1, where=real)
        # Constant targets: r2_score's answer, 1 for a perfect fit and 0 otherwise.
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(variance > 0, 1.0 - mean_row_score / variance,
                            np.where(mean_row_score == 0, 1.0, 0.0))

    def trivial(self, y_train: np.ndarray, y_test: np.ndarray) -> tuple[float, str]:
        """The test score of a predictor that ignores the features, and what it predicts:
        the training rows' most frequent class, or their mean (R² 0, by definition of R²:
        a model at or below it explains nothing)."""
        if not self.classifies:
            return 0.0, "the mean"
        majority = np.bincount(np.asarray(y_train, int)).argmax()
        return float(np.mean(np.asarray(y_test) == majority)), "the majority class"


def binary() -> Task:
    return Task("binary", 1, "sigmoid", "binary_crossentropy", "accuracy", True)


def multiclass(classes: int) -> Task:
    return Task("multiclass", classes, "softmax", "sparse_categorical_crossentropy",
                "accuracy", True)


def regression() -> Task:
    return Task("regression", 1, None, "mean_squared_error", "R²", False)


BINARY = binary()


def of(name: str, classes: int = 2) -> Task:
    """The task called `name`; `classes` is the output width of a multiclass task."""
    if name == "binary":
        return BINARY
    if name == "multiclass":
        return multiclass(classes)
    if name == "regression":
        return regression()
    raise ValueError(f"task = {name!r}; expected one of {', '.join(NAMES)}")
