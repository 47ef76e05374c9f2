"""Seeded SPDNet training with each variant: model and split returned, folding counted and warned, the plan of
variants × seeds; built-in simulated EEG, MAMEM SSVEP, bad inputs."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from covwb.covariance.estimators import covariances
from covwb.errors import ParameterError, SPDInputError
from covwb.jobs import Plan, Ref, run_plan
from covwb.spd.spdnet import SPDNet
from covwb.spd.synthetic import synthetic_batch
from covwb.spd.training import VARIANTS, TrainConfig, all_curves, plan_training, summarise, train_spdnet
from tests.spd.conftest import random_spd

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
    again = train_spdnet(covs, labels, "wasserstein", seed=0, config=TINY)
    assert again.curves()[["train_loss", "test_accuracy"]].equals(results[3].curves()[["train_loss", "test_accuracy"]])
    assert len(all_curves(results)) == 2 * len(VARIANTS)
    table = summarise(results + [train_spdnet(covs, labels, "wasserstein", seed=1, config=TINY)])
    assert list(table["variant"]) == list(VARIANTS.values())
    assert table.set_index("variant").loc["BW-BN", "seeds"] == 2


def _with_low_outliers() -> tuple[np.ndarray, np.ndarray]:
    """Two classes of 20 well-estimated 4 x 4 covariances; 4 of them with almost no power along one axis."""
    X = random_spd(40, 4, 7, samples=200)
    scale = np.diag([1.5, 1.0, 1.0, 0.7])
    X[20:] = scale @ X[20:] @ scale
    shrink = np.diag([0.03, 1.0, 1.0, 1.0])
    X[[0, 1, 20, 21]] = shrink @ X[[0, 1, 20, 21]] @ shrink
    return X, np.repeat(["a", "b"], 20)


def test_result_carries_the_trained_model_and_the_split() -> None:
    covs, labels = _two_classes()
    result = train_spdnet(covs, labels, "gbw", seed=3, config=TINY)
    train, test = result.train_indices, result.test_indices
    assert len(test) == 10 and np.array_equal(np.sort(np.concatenate([train, test])), np.arange(40))
    assert list(np.bincount((labels[test] == "b").astype(int))) == [5, 5]  # stratified
    assert isinstance(result.model, SPDNet) and not result.model.training
    with torch.no_grad():
        logits = result.model(torch.from_numpy(covs[test] / result.settings["input_scale"]))
    predicted = np.asarray(result.settings["classes"])[logits.argmax(1).numpy()]
    assert np.mean(predicted == labels[test]) == result.test_accuracy
    again = train_spdnet(covs, labels, "gbw", seed=3, config=TINY)
    assert np.array_equal(again.test_indices, test)
    assert not np.array_equal(train_spdnet(covs, labels, "gbw", seed=4, config=TINY).test_indices, test)


def test_folding_is_counted_per_epoch_and_warned() -> None:
    covs, labels = _with_low_outliers()
    config = TrainConfig(n_hidden=4, epochs=3, batch_size=30)
    runs = {v: train_spdnet(covs, labels, v, seed=0, config=config) for v in ("none", "riemann", "wasserstein", "gbw")}
    for variant in ("none", "riemann"):
        assert runs[variant].folded_train == 0 and runs[variant].warnings == ()
    for variant in ("wasserstein", "gbw"):
        result = runs[variant]
        # the three outliers of the training set fold in every epoch, the held-out one in every evaluation
        assert [(r.folded_train, r.max_batch_fold_fraction, r.folded_test) for r in result.history] == [(3, 0.1, 1)] * 3
        (warning,) = result.warnings
        assert f"{VARIANTS[variant]}, seed 0: folding in 3 of 3 epochs" in warning and "9 of 90" in warning
        curves = result.curves()
        assert (
            curves["folded_train_percent"].tolist() == [10.0] * 3
            and curves["folded_test_percent"].tolist() == [10.0] * 3
        )
    table = summarise(list(runs.values())).set_index("variant")
    assert table.loc["BW-BN", "runs that folded"] == 1 and table.loc["AIRM-BN", "runs that folded"] == 0
    assert table.loc["BW-BN", "most folded in a batch (%)"] == pytest.approx(10.0)


def test_plan_trains_every_variant_and_seed_as_tasks() -> None:
    covs, labels = _two_classes()
    plan = plan_training(covs, labels, ["wasserstein", "none"], seeds=[1, 0], config=TINY)
    assert isinstance(plan, Plan) and len(plan.tasks) == 4
    assert [t.label for t in plan.tasks] == [
        "BW-BN, seed 1",
        "SPDNet (no BN), seed 1",
        "BW-BN, seed 0",
        "SPDNet (no BN), seed 0",
    ]
    assert all(t.fn is train_spdnet and t.args[:2] == (Ref("covs"), Ref("labels")) for t in plan.tasks)
    pickle.loads(pickle.dumps((plan.tasks, dict(plan.data))))
    messages: list[str] = []
    results = run_plan(plan, progress=lambda fraction, text: messages.append(text))
    assert list(results) == ["wasserstein", "none"] and [r.seed for r in results["wasserstein"]] == [0, 1]
    direct = train_spdnet(covs, labels, "wasserstein", seed=1, config=TINY)
    assert results["wasserstein"][1].curves().drop(columns="seconds").equals(direct.curves().drop(columns="seconds"))
    assert "SPDNet training: SPDNet (no BN), seed 0 done (4/4)" in messages[-1]
    with pytest.raises(ParameterError, match="now called|Unknown variant"):
        plan_training(covs, labels, ["bw"])
    with pytest.raises(ParameterError, match="each once"):
        plan_training(covs, labels, ["none"], seeds=[0, 0])
    with pytest.raises(SPDInputError):
        plan_training(covs[:, :3], labels)


def test_learns_a_separable_problem() -> None:
    covs, labels = _two_classes()
    result = train_spdnet(covs, labels, "wasserstein", seed=0, config=TrainConfig(n_hidden=4, epochs=15, batch_size=10))
    assert result.test_accuracy >= 0.9
    assert result.history[-1].train_loss < result.history[0].train_loss


def test_builtin_simulated_eeg_covariances() -> None:
    from covwb.datasets.simulated_eeg import simulate_motor_imagery
    from covwb.eeg.epochs import extract_epochs

    raw = simulate_motor_imagery(seed=0, n_trials_per_class=10, n_sessions=1).raw
    epochs = extract_epochs(raw, classes=["left_hand", "right_hand"], tmin=0.5, tmax=2.5, band=(8.0, 30.0))
    covs = covariances(epochs.X, "oas")
    result = train_spdnet(covs, epochs.y, "gbw_theta", seed=0, config=TrainConfig(n_hidden=4, epochs=2, batch_size=8))
    assert result.settings["classes"] == ["left_hand", "right_hand"]
    assert np.isfinite(result.history[-1].train_loss)


@pytest.mark.shared_data
@pytest.mark.parametrize("variant", ["none", "riemann", "wasserstein", "gbw"])
def test_mamem_ssvep_covariances(shared_data: Path, variant: str) -> None:
    from scipy.io import loadmat

    mat = loadmat(shared_data / "spd" / "mamem_U001.mat")
    X, y = mat["x_test"], mat["y_test"].ravel()
    assert X.shape == (500, 8, 125) and set(np.unique(y)) == {0, 1, 2, 3, 4}
    covs = covariances(X[::5], "sample")
    result = train_spdnet(covs, y[::5], variant, seed=0, config=TrainConfig(n_hidden=6, epochs=2, batch_size=20))
    assert result.settings["classes"] == ["0", "1", "2", "3", "4"]
    assert all(np.isfinite(r.train_loss) for r in result.history)


@pytest.mark.shared_data
def test_raw_ssvep_covariances_fold_under_bw_and_say_so(shared_data: Path) -> None:
    """Issue 12 §7: raw 8 x 8 MAMEM covariances, the page's defaults; BW folds as its learnt dispersion grows."""
    from scipy.io import loadmat

    mat = loadmat(shared_data / "spd" / "mamem_U001.mat")
    covs, y = covariances(mat["x_test"], "sample"), mat["y_test"].ravel()
    config = TrainConfig(n_hidden=8, epochs=10, batch_size=30, lr=5e-3)
    bw = train_spdnet(covs, y, "wasserstein", seed=0, config=config)
    assert bw.folded_train > 0 and bw.history[0].folded_train == 0
    assert len(bw.warnings) == 1 and "folding in" in bw.warnings[0]
    assert float(bw.model.batchnorm.weight.detach()) > 0.6  # the learnt dispersion weight grew from 0.5
    theta = train_spdnet(covs, y, "gbw_theta", seed=0, config=config)
    assert theta.folded_train == 0 and theta.warnings == ()


def test_bad_inputs_raise_typed_errors() -> None:
    covs, labels = _two_classes()
    with pytest.raises(SPDInputError, match="label"):
        train_spdnet(covs, labels[:-1], "wasserstein", config=TINY)
    with pytest.raises(SPDInputError, match="two classes"):
        train_spdnet(covs, ["a"] * 40, "wasserstein", config=TINY)
    with pytest.raises(SPDInputError):
        train_spdnet(covs[:, :3], labels, "wasserstein", config=TINY)
    bad = covs.copy()
    bad[3, 0, 0] = np.nan
    with pytest.raises(SPDInputError):
        train_spdnet(bad, labels, "wasserstein", config=TINY)
    with pytest.raises(SPDInputError, match="at least 2"):
        train_spdnet(covs[:21], labels[:21], "wasserstein", config=TINY)
    with pytest.raises(ParameterError):
        train_spdnet(covs, labels, "wasserstein", config=TrainConfig(n_hidden=9))
    with pytest.raises(ParameterError):
        train_spdnet(covs, labels, "euclid", config=TINY)
    with pytest.raises(ParameterError, match="Unknown variant 'bw'"):
        train_spdnet(covs, labels, "bw", config=TINY)
