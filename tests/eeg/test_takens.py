"""Auto-mutual information, Cao's E1 and the Takens choice of lag and order."""

from __future__ import annotations

import numpy as np
import pytest

from covwb.eeg.takens import (
    TakensAugmentedCovariances,
    auto_mutual_information,
    cao_e1,
    first_minimum,
    saturation_order,
    select_order_lag,
)
from covwb.errors import ParameterError


def _sines(period: float, n: int = 4, c: int = 2, t: int = 400, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, (n, c, 1))
    return np.sin(2 * np.pi * np.arange(t) / period + phase) + noise * rng.standard_normal((n, c, t))


def test_first_minimum_finds_the_first_local_dip() -> None:
    assert first_minimum(np.array([5.0, 3.0, 2.0, 2.5, 1.0])) == 2
    assert first_minimum(np.array([5.0, 4.0, 3.0, 2.0])) == 3


def _henon(n_times: int, seed: int) -> np.ndarray:
    """x-coordinate of the Henon map (a = 1.4, b = 0.3), whose attractor embeds in 2 dimensions."""
    x, y = np.random.default_rng(seed).uniform(-0.1, 0.1, 2)
    out = np.empty(n_times + 100)
    for i in range(len(out)):
        x, y = 1.0 - 1.4 * x * x + y, 0.3 * x
        out[i] = x
    return out[100:]


def test_ami_of_a_noisy_sine_has_its_first_minimum_near_a_quarter_period() -> None:
    ami = auto_mutual_information(_sines(period=40.0, noise=0.3, n=8), max_lag=30)
    assert abs(first_minimum(ami) - 10) <= 2
    assert ami[20] > ami[10]


def test_ami_of_white_noise_is_near_zero_past_lag_zero() -> None:
    X = np.random.default_rng(1).standard_normal((6, 3, 2000))
    ami = auto_mutual_information(X, max_lag=5, n_bins=8)
    assert ami[0] > 1.5
    assert np.all(ami[1:] < 0.03)


def test_ami_is_invariant_to_scale_and_offset() -> None:
    X = _sines(period=25.0, noise=0.3)
    np.testing.assert_allclose(auto_mutual_information(X, 10), auto_mutual_information(3.0 * X + 7.0, 10), atol=1e-12)


def test_cao_e1_saturates_at_dimension_two_for_the_henon_map() -> None:
    X = np.stack([_henon(400, seed) for seed in range(4)])[:, None, :]
    e1 = cao_e1(X, lag=1, max_order=6)
    assert e1.shape == (6,)
    assert e1[0] < 0.5
    assert np.all(np.abs(e1[1:] - 1.0) < 0.06)
    assert saturation_order(e1, 0.05) == 2


def test_saturation_order_on_a_known_curve() -> None:
    assert saturation_order(np.array([0.2, 0.6, 0.9, 0.92, 0.93])) == 3
    assert saturation_order(np.array([0.1, 0.3, 0.5])) == 3


def test_selection_respects_the_epoch_length_and_reports_curves() -> None:
    sel = select_order_lag(_sines(period=40.0, noise=0.1, t=300), max_lag=30, max_order=8)
    assert 1 <= sel.lag <= 30 and 1 <= sel.order <= 8
    assert 300 - sel.order * sel.lag >= 8
    assert len(sel.ami) == len(sel.lags) and len(sel.e1) == len(sel.orders)


def test_transformer_selects_on_training_epochs_only() -> None:
    train, test = _sines(period=40.0, noise=0.3, n=8), _sines(period=12.0, noise=0.3, seed=3)
    est = TakensAugmentedCovariances(max_lag=30, max_order=4).fit(train)
    lag = est.selection_.lag
    covs = est.transform(test)
    assert abs(lag - 10) <= 2
    assert covs.shape == (4, 2 * est.selection_.order, 2 * est.selection_.order)


def test_too_short_epochs_are_refused() -> None:
    with pytest.raises(ParameterError, match="too short"):
        select_order_lag(np.zeros((2, 2, 9)) + np.arange(9))
