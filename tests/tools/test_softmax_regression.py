"""The logistic regression under the embeddings classifier: scikit-learn's objective, in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from tools.softmax_regression import SoftmaxRegression


def test_without_features_the_probabilities_are_the_label_shares() -> None:
    """The intercept is not penalised: with nothing to tell rows apart it learns the base rates."""
    model = SoftmaxRegression(c=10).fit(np.zeros((10, 3)), ["a"] * 7 + ["b"] * 2 + ["c"])
    assert model.probabilities(np.zeros((1, 3)))[0] == pytest.approx([0.7, 0.2, 0.1], abs=1e-4)


def test_it_separates_clusters_and_its_rows_sum_to_one() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(4)[:3] * 3
    x = np.vstack([c + rng.normal(scale=0.5, size=(30, 4)) for c in centres])
    labels = [name for name in ("x", "y", "z") for _ in range(30)]
    model = SoftmaxRegression().fit(x, labels)
    got = model.probabilities(centres)
    assert model.labels == ["x", "y", "z"]
    assert list(got.argmax(axis=1)) == [0, 1, 2]
    assert got.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0])


def test_the_fit_is_the_penalised_optimum() -> None:
    """At the answer the objective's gradient vanishes: what scikit-learn's solver would reach."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 5))
    labels = ["p" if row[0] + 0.3 * rng.normal() > 0 else "q" for row in x]
    c = 2.0
    model = SoftmaxRegression(c=c, tolerance=1e-9, max_steps=100_000).fit(x, labels)
    weights = model._weights
    design = np.hstack([x, np.ones((40, 1))])
    truth = np.array([[label == "p", label == "q"] for label in labels], dtype=float)
    penalty = np.vstack([weights[:-1], np.zeros((1, 2))])
    gradient = design.T @ (model.probabilities(x) - truth) + penalty / c
    assert np.abs(gradient).max() < 1e-5


def test_more_regularisation_means_less_confidence() -> None:
    x = np.array([[1.0], [-1.0]] * 5)
    labels = ["a", "b"] * 5
    sure = SoftmaxRegression(c=100).fit(x, labels).probabilities(np.array([[1.0]]))[0, 0]
    unsure = SoftmaxRegression(c=0.1).fit(x, labels).probabilities(np.array([[1.0]]))[0, 0]
    assert 0.5 < unsure < sure


def test_one_label_is_refused() -> None:
    with pytest.raises(ValueError, match="two labels"):
        SoftmaxRegression().fit(np.zeros((2, 2)), ["a", "a"])
