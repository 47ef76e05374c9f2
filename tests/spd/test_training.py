"""Seeded SPDNet training with each variant: built-in simulated EEG, MAMEM SSVEP, bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from covwb.covariance.estimators import covariances
from covwb.errors import ParameterError, SPDInputError
from covwb.spd.synthetic import synthetic_batch
from covwb.spd.training import VARIANTS, TrainConfig, all_curves, summarise, train_spdnet

TINY = TrainConfig(n_hidden=3, epochs=2, batch_size=10, lr=2e-2)


def _two_classes() -> tuple[np.ndarray, np.ndarray]:
    a = synthetic_batch(20, 4, 1.0, seed=1).matrices
    scale = np.diag([2.0, 1.0, 1.0, 0.5])
    b = scale @ synthetic_batch(20, 4, 1.0, seed=2).matrices @ scale
    return np.concatenate([a, b]), np.array(["a"] * 20 + ["b"] * 20)


def test_every_variant_trains_reproducibly_with_live_callbacks() -> None:
    covs, labels = _two_classes()
    seen: list[tuple[str, int, int]] = []
    results = [
        train_spdnet(covs, labels, variant, seed=0, config=TINY, callback=lambda v, s, r: seen.append((v, s, r.epoch)))
        for variant in VARIANTS
    ]
    assert seen == [(v, 0, e) for v in VARIANTS for e in (1, 2)]
    for result in results:
        assert len(result.history) == 2 and all(np.isfinite(r.train_loss) for r in result.history)
        assert 0.0 <= result.test_accuracy <= 1.0 and result.settings["n_test"] == 10
    again = train_spdnet(covs, labels, "bw", seed=0, config=TINY)
    assert again.curves()[["train_loss", "test_accuracy"]].equals(results[3].curves()[["train_loss", "test_accuracy"]])
    assert len(all_curves(results)) == 2 * len(VARIANTS)
    table = summarise(results + [train_spdnet(covs, labels, "bw", seed=1, config=TINY)])
    assert list(table["variant"]) == list(VARIANTS.values())
    assert table.set_index("variant").loc["BW-BN", "seeds"] == 2


def test_learns_a_separable_problem() -> None:
    covs, labels = _two_classes()
    result = train_spdnet(covs, labels, "bw", seed=0, config=TrainConfig(n_hidden=4, epochs=15, batch_size=10))
    assert result.test_accuracy >= 0.9
    assert result.history[-1].train_loss < result.history[0].train_loss


def test_builtin_simulated_eeg_covariances() -> None:
    from covwb.datasets.simulated_eeg import simulate_motor_imagery
    from covwb.eeg.epochs import extract_epochs

    raw = simulate_motor_imagery(seed=0, n_trials_per_class=10, n_sessions=1).raw
    epochs = extract_epochs(raw, classes=["left_hand", "right_hand"], tmin=0.5, tmax=2.5, band=(8.0, 30.0))
    covs = covariances(epochs.X, "oas")
    result = train_spdnet(covs, epochs.y, "pgbw", seed=0, config=TrainConfig(n_hidden=4, epochs=2, batch_size=8))
    assert result.settings["classes"] == ["left_hand", "right_hand"]
    assert np.isfinite(result.history[-1].train_loss)


@pytest.mark.shared_data
@pytest.mark.parametrize("variant", ["none", "airm", "bw", "gbw"])
def test_mamem_ssvep_covariances(shared_data: Path, variant: str) -> None:
    from scipy.io import loadmat

    mat = loadmat(shared_data / "spd" / "mamem_U001.mat")
    X, y = mat["x_test"], mat["y_test"].ravel()
    assert X.shape == (500, 8, 125) and set(np.unique(y)) == {0, 1, 2, 3, 4}
    covs = covariances(X[::5], "sample")
    result = train_spdnet(covs, y[::5], variant, seed=0, config=TrainConfig(n_hidden=6, epochs=2, batch_size=20))
    assert result.settings["classes"] == ["0", "1", "2", "3", "4"]
    assert all(np.isfinite(r.train_loss) for r in result.history)


def test_bad_inputs_raise_typed_errors() -> None:
    covs, labels = _two_classes()
    with pytest.raises(SPDInputError, match="label"):
        train_spdnet(covs, labels[:-1], "bw", config=TINY)
    with pytest.raises(SPDInputError, match="two classes"):
        train_spdnet(covs, ["a"] * 40, "bw", config=TINY)
    with pytest.raises(SPDInputError):
        train_spdnet(covs[:, :3], labels, "bw", config=TINY)
    bad = covs.copy()
    bad[3, 0, 0] = np.nan
    with pytest.raises(SPDInputError):
        train_spdnet(bad, labels, "bw", config=TINY)
    with pytest.raises(SPDInputError, match="at least 2"):
        train_spdnet(covs[:21], labels[:21], "bw", config=TINY)
    with pytest.raises(ParameterError):
        train_spdnet(covs, labels, "bw", config=TrainConfig(n_hidden=9))
    with pytest.raises(ParameterError):
        train_spdnet(covs, labels, "euclid", config=TINY)
