"""ACM against MOABB's AugmentedDataset definition, written out here, and numpy.cov."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.covariance import OAS, ledoit_wolf, shrunk_covariance

from covwb.eeg.augmented import (
    DEFAULT_ESTIMATOR,
    AugmentedCovariances,
    LaggedProducts,
    augment,
    augmented_covariances,
)
from covwb.errors import ParameterError


def moabb_augmented_dataset(X: np.ndarray, order: int, lag: int) -> np.ndarray:
    """MOABB ``AugmentedDataset(order, lag).transform``, as in moabb/pipelines/features.py."""
    if order == 1:
        return X
    X_fin = []
    for i in np.arange(X.shape[0]):
        X_p = X[i][:, : -order * lag]
        X_p = np.concatenate([X_p] + [X[i][:, p * lag : -(order - p) * lag] for p in range(1, order)], axis=0)
        X_fin.append(X_p)
    return np.array(X_fin)


def _epochs(seed: int, n: int = 4, c: int = 3, t: int = 80) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c, t)) * 10.0 + rng.normal(0, 5, (n, c, 1))


@pytest.mark.parametrize(("order", "lag"), [(1, 1), (1, 7), (2, 1), (3, 5), (6, 4), (10, 5)])
def test_augment_matches_moabb(order: int, lag: int) -> None:
    X = _epochs(0, t=120)
    np.testing.assert_array_equal(augment(X, order, lag), moabb_augmented_dataset(X, order, lag))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_channels=st.integers(1, 5),
    n_times=st.integers(20, 90),
    order=st.integers(1, 6),
    lag=st.integers(1, 6),
)
def test_lagged_products_equal_numpy_cov_of_the_moabb_signal(
    seed: int, n_channels: int, n_times: int, order: int, lag: int
) -> None:
    if n_times - order * lag < 2:
        return
    X = _epochs(seed, c=n_channels, t=n_times)
    reference = np.stack([np.cov(trial) for trial in moabb_augmented_dataset(X, order, lag)]).reshape(
        len(X), order * n_channels, order * n_channels
    )
    got = LaggedProducts(X).covariances(order, lag)
    assert np.abs(got - reference).max() <= 1e-10 * np.abs(reference).max()
    np.testing.assert_array_equal(got, got.transpose(0, 2, 1))


def test_order_one_is_the_plain_covariance_whatever_the_lag() -> None:
    X = _epochs(1)
    plain = np.stack([np.cov(trial) for trial in X])
    for lag in (1, 3, 9):
        np.testing.assert_allclose(augmented_covariances(X, 1, lag, "sample"), plain, rtol=1e-12)


def test_one_lagged_products_object_serves_a_whole_grid() -> None:
    X = _epochs(2, t=100)
    products = LaggedProducts(X)
    for lag in (1, 2, 5):
        for order in (1, 2, 4, 7):
            ref = np.stack([np.cov(t) for t in moabb_augmented_dataset(X, order, lag)])
            np.testing.assert_allclose(products.covariances(order, lag), ref, rtol=1e-10, atol=1e-10)


SHRUNK = {
    "oas": lambda S: OAS().fit(S).covariance_,
    "ledoit_wolf": lambda S: ledoit_wolf(S)[0],
    "shrinkage": lambda S: shrunk_covariance(np.cov(S, rowvar=False), 0.3),
}


@pytest.mark.parametrize("estimator", list(SHRUNK))
@pytest.mark.parametrize(("order", "lag", "n_times"), [(1, 3, 60), (3, 4, 60), (6, 2, 30)])
def test_shrinkage_estimators_match_scikit_learn_on_the_stacked_signal(
    estimator: str, order: int, lag: int, n_times: int
) -> None:
    X = _epochs(3, n=3, t=n_times)
    got = augmented_covariances(X, order, lag, estimator=estimator, shrinkage=0.3)
    for trial, cov in zip(moabb_augmented_dataset(X, order, lag), got):
        np.testing.assert_allclose(cov, SHRUNK[estimator](trial.T), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(got, got.transpose(0, 2, 1))


def test_default_estimator_is_oas_and_well_posed_with_more_rows_than_samples() -> None:
    # 64 channels, order 6: 384 rows from 321 - 30 samples; the sample ACM is singular there.
    X = np.random.default_rng(9).standard_normal((2, 64, 321))
    assert DEFAULT_ESTIMATOR == "oas" and AugmentedCovariances().get_params()["estimator"] == "oas"
    shrunk = AugmentedCovariances(order=6, lag=5).fit_transform(X)
    np.testing.assert_allclose(shrunk, augmented_covariances(X, 6, 5, "oas"))
    assert np.linalg.eigvalsh(shrunk).min() > 0 and np.linalg.cond(shrunk).max() < 1e4
    assert np.linalg.matrix_rank(augmented_covariances(X, 6, 5, "sample")[0]) < 384


def test_transformer_is_a_stateless_sklearn_estimator() -> None:
    X = _epochs(4)
    est = clone(AugmentedCovariances(order=2, lag=3))
    assert est.get_params()["order"] == 2
    out = est.fit(X).transform(X)
    assert out.shape == (4, 6, 6)


@pytest.mark.parametrize(
    ("order", "lag", "n_times", "words"),
    [(4, 10, 40, "too short"), (0, 1, 40, "order"), (2, 0, 40, "lag"), (1.5, 1, 40, "order")],
)
def test_bad_settings_are_parameter_errors(order: float, lag: int, n_times: int, words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        augmented_covariances(_epochs(5, t=n_times), order, lag)


def test_nan_sample_is_named() -> None:
    X = _epochs(6)
    X[1, 2, 10] = np.nan
    with pytest.raises(ParameterError, match="trial 2, channel 3"):
        augmented_covariances(X, 2, 2)
