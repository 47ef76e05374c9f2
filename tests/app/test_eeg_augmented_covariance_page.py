"""The augmented-covariance page as a person uses it: built-in recording, uploads, bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import assert_clean

REPO = Path(__file__).resolve().parents[2]
PAGE = str(REPO / "pages" / "2_EEG_augmented_covariance.py")


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=240).run()


def _small(at: AppTest, pipelines: list[str]) -> None:
    """A quick configuration: few folds, a 2 x 2 grid, one SVM setting."""
    at.multiselect(key="acm-pipelines").set_value(pipelines)
    at.slider(key="acm-orders").set_value((1, 2))
    at.slider(key="acm-lags").set_value((4, 5))
    at.multiselect(key="acm-svmc").set_value([1.0])
    at.multiselect(key="acm-kernels").set_value(["linear"])
    at.number_input(key="acm-folds").set_value(3)
    at.number_input(key="acm-inner").set_value(2)


def _upload(at: AppTest, files: list[tuple[str, bytes]]) -> AppTest:
    at.sidebar.radio(key="acm-origin").set_value("Upload").run()
    uploader = at.sidebar.get("file_uploader")[0]
    uploader.set_value([(name, data, "application/octet-stream") for name, data in files])
    return at.run()


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_builtin_recording_runs_end_to_end() -> None:
    at = _page()
    assert_clean(at)
    assert "Run evaluation" in at.info[0].value
    assert at.selectbox(key="acm-est").value == "oas"
    _small(at, ["acm_ts_svm", "ts_svm", "csp_lda"])
    at.button(key="acm-run").click().run()
    assert_clean(at)
    # which estimator ran and why, and nothing to warn about with OAS on the built-in recording
    assert any(c.startswith("Covariances: Oracle approximating shrinkage (OAS), the default.") for c in _captions(at))
    assert not at.warning
    headers = [h.value for h in at.header]
    assert {"Scores", "Order × lag search", "Takens curves", "Predictions", "Covariance views"} <= set(headers)
    summary = at.dataframe[0].value
    assert list(summary["pipeline"]) == ["ACM + TS + SVM", "TS + SVM", "CSP + LDA"]
    assert (summary["roc_auc_mean"] > 0.8).all()
    # scores, grid heatmap, Takens, confusion, ROC, class means, ACM class means, embedding
    assert len(at.get("plotly_chart")) == 8
    # A rerun with the same settings keeps the results without pressing the button again.
    at.selectbox(key="acm-pick").set_value("TS + SVM").run()
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 8


def test_single_class_is_a_clear_message() -> None:
    at = _page()
    at.multiselect(key=next(w.key for w in at.multiselect if w.label == "Classes")).set_value(["left_hand"]).run()
    assert not at.exception
    assert len(at.error) == 1 and "two classes" in at.error[0].value


def test_window_outside_the_recording_is_a_clear_message() -> None:
    at = _page()
    at.number_input(key="acm-tmin").set_value(1000.0)
    at.number_input(key="acm-tmax").set_value(1002.0).run()
    assert not at.exception
    assert len(at.error) == 1


def test_epochs_too_short_for_the_grid_is_a_clear_message() -> None:
    at = _page()
    at.number_input(key="acm-tmin").set_value(0.5)
    at.number_input(key="acm-tmax").set_value(0.6)
    at.multiselect(key="acm-pipelines").set_value(["acm_mdm"])
    at.slider(key="acm-orders").set_value((1, 10))
    at.slider(key="acm-lags").set_value((10, 10))
    at.button(key="acm-run").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "too short" in at.error[0].value


@pytest.mark.shared_data
def test_eeglab_upload_square_vs_rt(shared_data: Path) -> None:
    at = _page()
    at = _upload(at, [(n, (shared_data / "eeg" / n).read_bytes()) for n in ("test_raw.set", "test_raw.fdt")])
    assert_clean(at)
    classes_key = next(w.key for w in at.multiselect if w.label == "Classes")
    at.multiselect(key=classes_key).set_value(["square", "rt"])
    at.number_input(key="acm-tmin").set_value(0.0)
    at.number_input(key="acm-tmax").set_value(1.0)
    _small(at, ["acm_ts_svm", "mdm"])
    at.button(key="acm-run").click().run()
    assert_clean(at)
    assert len(at.dataframe[0].value) == 2


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["test_reduced.edf", "test_bdf_stim_channel.bdf"])
def test_recordings_with_too_few_trials_explain_why(shared_data: Path, name: str) -> None:
    at = _upload(_page(), [(name, (shared_data / "eeg" / name).read_bytes())])
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    assert "trial" in at.error[0].value


def test_two_uploaded_runs_as_sessions_allow_cross_session_evaluation(tmp_path: Path) -> None:
    from covwb.datasets.simulated_eeg import simulate_motor_imagery

    files = []
    for seed in (1, 2):
        raw = simulate_motor_imagery(seed=seed, n_trials_per_class=8, n_sessions=1).raw
        path = tmp_path / f"run{seed}.fif"
        raw.save(path, verbose="error")
        files.append((path.name, path.read_bytes()))
    at = _upload(_page(), files)
    assert_clean(at)
    at.text_input(key="acm-session-1").set_value("2")
    at.radio(key="acm-scheme").set_value("cross")
    _small(at, ["ts_svm", "mdm"])
    at.button(key="acm-run").click().run()
    assert_clean(at)
    folds = at.dataframe[1].value
    assert sorted(folds["test_session"].unique()) == ["1", "2"]


def test_ill_conditioned_64_channel_upload_shows_a_warning_with_what_to_do(tmp_path: Path) -> None:
    from covwb.datasets.simulated_eeg import simulate_motor_imagery

    raw = simulate_motor_imagery(seed=4, n_trials_per_class=8, n_sessions=1, sfreq=160.0, layout="eegmmidb").raw
    path = tmp_path / "sixty_four.fif"
    raw.save(path, verbose="error")
    at = _upload(_page(), [(path.name, path.read_bytes())])
    assert_clean(at)
    at.selectbox(key="acm-est").set_value("sample")
    at.multiselect(key="acm-pipelines").set_value(["acm_ts_svm"])
    at.slider(key="acm-orders").set_value((4, 4))
    at.slider(key="acm-lags").set_value((5, 5))
    at.multiselect(key="acm-svmc").set_value([1.0])
    at.multiselect(key="acm-kernels").set_value(["linear"])
    at.number_input(key="acm-folds").set_value(2)
    at.number_input(key="acm-inner").set_value(2)
    at.button(key="acm-run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(c.startswith("Covariances: Sample (unbiased), as chosen") for c in _captions(at))
    (warning,) = [w.value for w in at.warning]
    assert "ill-conditioned" in warning and "at order 4, lag 5" in warning and "use the OAS estimator" in warning


def test_orders_with_more_rows_than_samples_are_refused_only_for_the_sample_estimator() -> None:
    at = _page()
    at.number_input(key="acm-tmin").set_value(0.5)
    at.number_input(key="acm-tmax").set_value(0.9)
    at.multiselect(key="acm-pipelines").set_value(["acm_mdm"])
    at.selectbox(key="acm-est").set_value("sample")
    at.slider(key="acm-orders").set_value((4, 4))
    at.slider(key="acm-lags").set_value((5, 5))
    at.button(key="acm-run").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "81 samples for 88 rows; choose the OAS estimator" in at.error[0].value
    at.selectbox(key="acm-est").set_value("oas")
    at.number_input(key="acm-folds").set_value(2)
    at.number_input(key="acm-inner").set_value(2)
    at.button(key="acm-run").click().run()
    assert_clean(at)
    assert list(at.dataframe[1].value["order"]) == [4, 4]
