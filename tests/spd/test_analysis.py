"""The SPD page's analysis: its settings object, the geometry panels' result and warnings, training as a plan."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pandas as pd
import pytest

from covwb.errors import ParameterError
from covwb.io.uploads import UploadedBytes
from covwb.jobs import run_plan
from covwb.sources import BuiltinSource, UploadSource
from covwb.spd import demos
from covwb.spd.analysis import (
    PANEL_LIMIT,
    SPDSettings,
    SPDTraining,
    SyntheticSource,
    analyse_spd,
    plan_spd_training,
)
from covwb.spd.synthetic import synthetic_batch
from covwb.spd.training import TrainConfig

SMALL = SyntheticSource(n_matrices=12, dim=4)
TWO = ("riemann", "wasserstein")


def _labelled_upload(n: int = 24, size: int = 4, seed: int = 0) -> tuple[UploadSource, object]:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, size, 40))
    covs = a @ a.transpose(0, 2, 1) / 40
    covs[n // 2 :] *= np.outer([2.0] + [1.0] * (size - 1), [2.0] + [1.0] * (size - 1))
    buffer = io.BytesIO()
    np.savez(buffer, covs=covs, y=np.repeat(["rest", "task"], n // 2))
    upload = UploadedBytes("covs.npz", buffer.getvalue())
    source = UploadSource.of("spd", [upload])
    return source, source.read([upload])


# --------------------------------------------------------------------------- settings


def test_settings_travel_as_link_document_and_python() -> None:
    source, _ = _labelled_upload()
    settings = SPDSettings(
        source=source,
        metrics=TWO,
        theta=0.25,
        variants=("none", "gbw_theta"),
        seeds=3,
        training=TrainConfig(epochs=4, lr=0.02, theta=0.75),
        train=True,
    )
    assert SPDSettings.from_query(settings.to_query()) == (settings, ())
    assert SPDSettings.from_dict(settings.to_dict()) == settings
    namespace: dict = {}
    for line in settings.python_imports():
        exec(line, namespace)
    assert eval(settings.to_python(), namespace) == settings
    assert settings.to_query()["training.epochs"] == "4" and settings.to_query()["training.theta"] == "0.75"
    assert SPDSettings().to_query() == {"source": "synthetic"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ridge_dim": 5, "ridge_rank": 5}, "rank must be below the dimension 5"),
        ({"variants": (), "train": True}, "at least one variant"),
        ({"metrics": ("riemann", "riemann")}, "Each metric may be chosen once"),
        ({"metrics": ("airm",)}, "Metrics must be one of"),
        ({"estimator": "lda"}, "Covariance estimator must be one of"),
    ],
)
def test_impossible_settings_are_refused_with_a_sentence(changes: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        SPDSettings(**changes)


def test_a_synthetic_source_loads_the_synthetic_batch_as_builtin_data() -> None:
    source = SyntheticSource(n_matrices=9, dim=5, log10_condition=6.0, ridge=1e-8, seed=4)
    stack = source.load()
    expected = synthetic_batch(9, 5, 6.0, rank_deficient=True, ridge=1e-8, seed=4)
    np.testing.assert_array_equal(stack.matrices, expected.matrices)
    assert stack.builtin and stack.labels.tolist() == expected.labels.tolist()
    with pytest.raises(ParameterError, match="Ridge"):
        SyntheticSource(ridge=3e-7)


def test_resolve_fits_the_hidden_size_and_resets_what_a_stack_does_not_use() -> None:
    source, stack = _labelled_upload(size=4)
    settings = SPDSettings(source=source, estimator="sample", training=TrainConfig(n_hidden=9))
    resolved, notes = settings.resolve(stack)
    assert resolved.training.n_hidden == 4 and resolved.estimator == "oas"
    assert notes == ("The BiMap output size 9 is larger than the 4 × 4 matrices; the page uses 4.",)
    assert SPDSettings(source=source).resolve(stack)[1] == ()  # the default size is fitted silently
    with pytest.raises(ParameterError, match="BiMap output size 9"):
        analyse_spd(settings, stack)


# --------------------------------------------------------------------------- geometry


def test_panels_tables_and_the_warnings_of_the_default_synthetic_batch() -> None:
    result = analyse_spd(SPDSettings())
    assert list(result.panels) == ["riemann", "logeuclid", "wasserstein", "gbw", "gbw_theta"]
    assert result.n_matrices == 30 and result.size == 8 and result.labels is None
    assert result.groups.tolist()[:2] == ["rank-deficient", "regular"]
    tables = result.tables()
    assert list(tables)[:3] == ["bn_summary", "bn_riemann", "bn_spectra_riemann"]
    assert {"barycentre_residuals", "ridge_sensitivity", "precision_failures"} <= set(tables)
    assert tables["bn_riemann"].shape == (30, 11) and tables["bn_spectra_riemann"].shape == (30 * 8, 4)
    assert tables["bn_summary"]["folded (%)"].round(2).tolist() == [0.0, 0.0, 3.33, 3.33, 0.0]
    assert [int(tables[f"bn_{m}"]["folded"].sum()) for m in result.panels] == [0, 0, 1, 1, 0]  # which matrix folded
    folded = [w for w in result.warnings if "folded 1 of 30 matrices" in w]
    assert [w.split(" ")[0] for w in folded] == ["BW", "GBW"]
    assert not any("barycentre" in w for w in result.warnings)  # the AIRM mean converges (step halving)
    assert all(panel.mean_converged for panel in result.panels.values())


def test_ill_conditioned_and_unconverged_panels_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    result = analyse_spd(SPDSettings(source=SyntheticSource(log10_condition=11.0), metrics=("logeuclid",)))
    (warning,) = [w for w in result.warnings if "ill-conditioned" in w]
    assert warning.startswith("29 of 30 matrices are ill-conditioned (condition number up to")  # the ridge caps one
    monkeypatch.setattr(demos, "PANEL_MEAN_ITERATIONS", 2)
    stopped = analyse_spd(SPDSettings(source=SMALL, metrics=TWO)).warnings
    assert any(w.startswith("The AIRM barycentre of this batch stopped after 2 iterations") for w in stopped)
    assert any(w.startswith("The BW barycentre of this batch stopped after 2 iterations") for w in stopped)


def test_steps_are_cached_by_what_they_read() -> None:
    cache: dict = {}
    calls: list[tuple] = []

    def memo(key, compute):
        if key not in cache:
            calls.append(key)
            cache[key] = compute()
        return cache[key]

    settings = SPDSettings(source=SMALL, metrics=("riemann", "gbw_theta"))
    first = analyse_spd(settings, memo=memo)
    assert [key[1] for key in calls] == ["panel", "panel", "residuals", "ridge", "precision"]
    calls.clear()
    again = analyse_spd(settings.replace(theta=0.25, seeds=5, training=TrainConfig(epochs=3)), memo=memo)
    assert [(key[1], key[-3]) for key in calls] == [("panel", 0.25)]  # only θ-GBW reads θ
    assert again.panels["riemann"] is first.panels["riemann"]
    calls.clear()
    analyse_spd(settings.replace(ridge_rank=4, source=SyntheticSource(n_matrices=12, dim=4, seed=1)), memo=memo)
    assert [key[1] for key in calls] == ["panel", "panel", "residuals", "ridge"]  # precision reads no data


def test_the_panels_use_the_first_matrices_of_a_large_stack() -> None:
    result = analyse_spd(SPDSettings(source=SyntheticSource(n_matrices=80, dim=3), metrics=("logeuclid",)))
    assert result.n_matrices == 80 and result.n_panel == PANEL_LIMIT
    assert len(result.tables()["bn_logeuclid"]) == PANEL_LIMIT


# --------------------------------------------------------------------------- training


def test_training_needs_labels_and_runs_as_a_plan_equal_to_the_analysis() -> None:
    with pytest.raises(ParameterError, match="a synthetic batch has none"):
        plan_spd_training(SPDSettings(source=SMALL))
    source, stack = _labelled_upload()
    settings = SPDSettings(source=source, metrics=("logeuclid",), variants=TWO, seeds=2, training=TrainConfig(epochs=2))
    plan = plan_spd_training(settings, stack)
    assert [t.label for t in plan.tasks] == ["AIRM-BN, seed 0", "BW-BN, seed 0", "AIRM-BN, seed 1", "BW-BN, seed 1"]
    previews: list[pd.DataFrame] = []
    training = run_plan(plan, preview=previews.append)
    assert isinstance(training, SPDTraining) and training.classes == ("rest", "task")
    assert training.settings == settings.replace(training=TrainConfig(epochs=2, n_hidden=4)).training_part()
    assert [len(p[["variant", "seed"]].drop_duplicates()) for p in previews] == [1, 2, 3, 4]
    assert previews[1]["variant"].unique().tolist() == ["AIRM-BN", "BW-BN"]
    tables = training.tables()
    assert "seconds" not in tables["training_curves"] and "seconds per epoch" not in tables["training_summary"]
    assert (tables["training_time"]["seconds"] > 0).all() and len(tables["training_time"]) == 4
    assert tables["training_folding"].shape == (2 * 2, 6)

    analysed = analyse_spd(settings.replace(train=True), stack)
    assert analysed.settings.train and analysed.training is not None
    for name in ("training_curves", "training_summary", "training_folding"):
        pd.testing.assert_frame_equal(analysed.tables()[name], tables[name])
    geometry = analyse_spd(settings, stack)
    assert geometry.with_training(training).tables().keys() == analysed.tables().keys()
    with pytest.raises(ParameterError, match="other data or training settings"):
        geometry.with_training(dataclasses.replace(training, settings=training.settings.replace(seeds=3)))


def test_short_training_is_reported_as_unfinished() -> None:
    source, stack = _labelled_upload()
    settings = SPDSettings(source=source, variants=("logeuclid",), seeds=1, training=TrainConfig(epochs=1))
    training = run_plan(plan_spd_training(settings, stack))
    (warning,) = training.warnings
    assert warning.startswith("The training loss was still falling when training stopped for LEM-BN (1 of 1 seeds)")


def test_eeg_epochs_give_labelled_covariances_in_microvolts() -> None:
    from covwb.datasets import load

    recording = load("simulated_eeg", n_trials_per_class=6, n_sessions=1)
    settings = SPDSettings(source=BuiltinSource("simulated_eeg"), metrics=("logeuclid",), estimator="ledoit_wolf")
    result = analyse_spd(settings, recording)
    assert result.unit == "µV²" and result.size == 22 and result.n_matrices == 12
    assert sorted(set(result.labels)) == ["left_hand", "right_hand"]
    assert result.settings.epochs.classes == ("left_hand", "right_hand") and len(result.settings.epochs.channels) == 22
    narrow = settings.replace(epochs=result.settings.epochs.replace(channels=("C3", "Cz", "C4")))
    assert analyse_spd(narrow, recording).size == 3
