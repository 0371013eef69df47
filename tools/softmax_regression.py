"""Multinomial logistic regression in NumPy: the categorizer's last layer over sentence vectors.

The objective is scikit-learn's (`LogisticRegression(C=…)`, multinomial, L2, the intercept not
penalised): the summed cross-entropy plus ||W||² / (2C). It is smooth and strongly convex, so Nesterov's
accelerated gradient with the step its curvature bound allows reaches the same optimum; a few thousand
examples of a few hundred dimensions train in well under a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float64]


def softmax(scores: Matrix) -> Matrix:
    """Row-wise probabilities of scores."""
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


class SoftmaxRegression:
    """Probabilities of labels for vectors, fitted with an L2 penalty of 1 / (2C)."""

    def __init__(self, c: float = 10.0, tolerance: float = 1e-6, max_steps: int = 5000) -> None:
        self.c = c
        self.tolerance = tolerance
        self.max_steps = max_steps
        self.labels: list[str] = []
        self._weights: Matrix = np.zeros((0, 0))

    def fit(self, vectors: NDArray[np.floating], labels: Sequence[str]) -> SoftmaxRegression:
        """Fit to vectors (one row each) and their labels; the labels are kept sorted."""
        self.labels = sorted(set(labels))
        if len(self.labels) < 2:
            raise ValueError("a regression needs at least two labels")
        x = np.hstack([np.asarray(vectors, dtype=np.float64), np.ones((len(labels), 1))])
        index = {label: i for i, label in enumerate(self.labels)}
        y = np.zeros((len(labels), len(self.labels)))
        y[np.arange(len(labels)), [index[label] for label in labels]] = 1.0
        self._weights = self._minimise(x, y)
        return self

    def _minimise(self, x: Matrix, y: Matrix) -> Matrix:
        n = len(x)
        penalty = np.ones((x.shape[1], 1))
        penalty[-1] = 0.0  # the intercept's row
        ridge = 1.0 / (self.c * n)  # the objective over n, so that the step does not depend on n
        smooth = 0.5 * float((x * x).sum(axis=1).max()) + ridge
        momentum = (math.sqrt(smooth / ridge) - 1) / (math.sqrt(smooth / ridge) + 1)
        weights = np.zeros((x.shape[1], y.shape[1]))
        ahead = weights
        for _ in range(self.max_steps):
            gradient = x.T @ (softmax(x @ ahead) - y) / n + ridge * penalty * ahead
            if float(np.abs(gradient).max()) < self.tolerance:
                return ahead
            following = ahead - gradient / smooth
            ahead, weights = following + momentum * (following - weights), following
        return weights

    def probabilities(self, vectors: NDArray[np.floating]) -> Matrix:
        """One row of probabilities per vector, in the order of `labels`."""
        x = np.asarray(vectors, dtype=np.float64)
        return softmax(x @ self._weights[:-1] + self._weights[-1])
