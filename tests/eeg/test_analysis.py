"""The EEG page's analysis: settings and data source, the plan's stages, and a result equal to its parts by hand."""

from __future__ import annotations

import doctest
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import covwb.eeg.analysis as analysis
from covwb.datasets.simulated_eeg import CLASSES, simulate_motor_imagery
from covwb.eeg.analysis import ACMAnalysis, ACMSettings, UploadedRecordings, acm_epochs, analyse_acm, plan_acm
from covwb.eeg.augmented import augmented_covariances
from covwb.eeg.epochs import EpochSettings, extract_epochs
from covwb.eeg.evaluation import evaluate, make_folds
from covwb.eeg.takens import select_order_lag
from covwb.errors import DataSourceError, ParameterError
from covwb.io.uploads import UploadedBytes
from covwb.jobs.plan import Plan, execute, run_plan
from covwb.sources import BuiltinSource, SourceFile, UploadSource

CHANNELS = ("FC3", "C3", "CP3", "FC4", "C4", "CP4")
SMALL = {
    "epochs": EpochSettings(channels=CHANNELS, tmin=0.5, tmax=1.5),
    "pipelines": ("acm_ts_svm", "acm_mdm", "mdm"),
    "orders": (1, 2),
    "lags": (2, 3),
    "svm_C": (1.0,),
    "kernels": ("linear",),
    "n_folds": 3,
    "inner_folds": 2,
}


@pytest.fixture(scope="module")
def recording():
    """The simulated recording, 15 trials per class in each of two sessions (sessions in its annotations)."""
    return simulate_motor_imagery(seed=3, n_trials_per_class=15, n_sessions=2)


@pytest.fixture(scope="module")
def result(recording) -> ACMAnalysis:
    return analyse_acm(ACMSettings(**SMALL), recording)


def _upload_source(names: list[str], sessions: list[str]) -> UploadedRecordings:
    runs = tuple(UploadSource.of("eeg", [UploadedBytes(name, name.encode())]) for name in names)
    return UploadedRecordings(runs=runs, sessions=tuple(sessions))


# --------------------------------------------------------------------------- settings and source


def test_settings_with_uploaded_runs_round_trip_through_links_documents_and_python() -> None:
    settings = ACMSettings(
        source=_upload_source(["S001R04.edf", "S001R08.edf"], ["day 1", "day 2"]),
        epochs=EpochSettings(classes=("T1", "T2"), tmax=2.0),
        estimator="sample",
        orders=(1, 2, 3),
        svm_C=(1.5, 0.5),
        scheme="cross",
        seed=7,
    )
    query = settings.to_query()
    assert query["source"] == "recordings" and '"day 2"' in query["source.sessions"]
    assert ACMSettings.from_query(query) == (settings, ())
    assert ACMSettings.from_dict(settings.to_dict()) == settings
    namespace: dict = {}
    exec("\n".join(settings.python_imports()), namespace)
    assert eval(settings.to_python(), namespace) == settings
    assert [f.name for f in settings.source.files] == ["S001R04.edf", "S001R08.edf"]
    assert settings.grid.svm_C == (0.5, 1.5)
    assert "as session 'day 2'" in settings.source.describe()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: ACMSettings(source=BuiltinSource("pottery")), "is a table"),
        (lambda: ACMSettings(orders=(1, 2, 2)), "order is given twice"),
        (lambda: ACMSettings(svm_C=(0.0,)), "SVM C must be between"),
        (lambda: ACMSettings(pipelines=()), "Pipelines needs at least 1"),
        (lambda: ACMSettings(pipelines=("acm_ts_svm", "lda")), "Pipelines must be one of"),
        (lambda: ACMSettings(orders=(11,)), "Orders m must be between 1 and 10"),
        (lambda: _upload_source(["a.edf", "b.edf"], ["1"]), "one session label per recording"),
        (lambda: _upload_source(["a.edf"], [" "]), "session label of 'a.edf' is empty"),
        (
            lambda: UploadedRecordings(
                runs=(
                    UploadSource(reader="eeg_csv", files=(SourceFile("a.csv", "0" * 64),), options=(("sfreq", 250),)),
                ),
                sessions=("1",),
            ),
            "recordings with events",
        ),
    ],
)
def test_settings_refuse_what_they_cannot_mean(make, words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        make()


def test_a_bad_link_keeps_the_defaults_and_says_which() -> None:
    settings, notes = ACMSettings.from_query(
        {"estimator": "lda", "orders": "[0,99]", "scheme": "sideways", "seed": "x", "epochs.tmax": "2.0"}
    )
    assert settings == ACMSettings(epochs=EpochSettings(tmax=2.0))
    assert len(notes) == 4
    assert notes[0].startswith("The link's Covariance estimator was not used") and "'oas'" in notes[0]
    assert "Orders m" in notes[1] and "Evaluation" in notes[2] and "Seed" in notes[3]


def test_data_that_do_not_match_the_source_are_refused(recording) -> None:
    source = _upload_source(["a.fif", "b.fif"], ["1", "2"])
    with pytest.raises(ParameterError, match="2 EEG recording"):
        plan_acm(ACMSettings(source=source, **SMALL), recording)


def test_a_class_the_recording_lacks_is_refused_with_the_sentence(recording) -> None:
    settings = ACMSettings(**{**SMALL, "epochs": EpochSettings(classes=("left_hand", "feet"))})
    with pytest.raises(ParameterError, match="no events labelled 'feet'"):
        plan_acm(settings, recording)


# --------------------------------------------------------------------------- the result, against its parts


def test_result_equals_its_parts_computed_by_hand(recording, result: ACMAnalysis) -> None:
    """Epochs from plain MNE, scores from evaluate(), views against pyRiemann, Takens on the first fold."""
    from pyriemann.geometry.mean import mean_riemann
    from pyriemann.geometry.tangentspace import tangent_space

    raw = recording.raw
    sessions = [extra["session"] for extra in raw.annotations.extras if "session" in extra]  # one per trial, in order
    epochs = extract_epochs(raw, classes=list(CLASSES), tmin=0.5, tmax=1.5, picks=list(CHANNELS))
    np.testing.assert_array_equal(result.labels, epochs.y)
    assert result.settings.epochs.classes == CLASSES and result.ch_names == CHANNELS
    assert list(result.sessions) == sessions == ["1"] * 30 + ["2"] * 30
    settings = result.settings
    direct = evaluate(
        epochs.X,
        epochs.y,
        result.sessions,
        list(settings.pipelines),
        n_folds=3,
        inner_folds=2,
        grid=settings.grid,
        seed=settings.seed,
    )
    pd.testing.assert_frame_equal(
        result.evaluation.scores.drop(columns="seconds"), direct.scores.drop(columns="seconds")
    )
    pd.testing.assert_frame_equal(result.evaluation.summary, direct.summary)
    chosen = result.evaluation.scores.dropna(subset=["order"])
    pairs = list(zip(chosen["order"].astype(int), chosen["lag"].astype(int)))
    assert pairs.count((result.order, result.lag)) == max(pairs.count(p) for p in pairs)

    covs = augmented_covariances(epochs.X, 1, 1, "oas")
    for label in CLASSES:
        reference = mean_riemann(covs[epochs.y == label], tol=1e-12, maxiter=200)
        np.testing.assert_allclose(result.means[label], reference, rtol=1e-7, atol=1e-9 * np.abs(reference).max())
    acm = augmented_covariances(epochs.X, result.order, result.lag, "oas")
    if result.order > 1:
        assert result.acm_means is not None and result.acm_means["left_hand"].shape == (6 * result.order,) * 2
        assert result.acm_names[6] == f"FC3(t+{result.lag})"
    # the map: principal axes of pyRiemann's tangent vectors at the Riemannian mean, up to each axis's sign
    vectors = tangent_space(acm, mean_riemann(acm, tol=1e-12, maxiter=200), metric="riemann")
    centred = vectors - vectors.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    expected = u[:, :2] * s[:2]
    signs = np.sign(np.sum(expected * result.embedding, axis=0))
    np.testing.assert_allclose(result.embedding * signs, expected, atol=1e-6 * np.abs(expected).max())
    np.testing.assert_allclose(result.explained, s[:2] ** 2 / np.sum(s**2), rtol=1e-6)

    train = make_folds(epochs.y, result.sessions, "within", 3, settings.seed)[0][0]
    takens = select_order_lag(epochs.X[train], max_lag=30, max_order=10, seed=settings.seed)
    (reference_curve,) = result.takens
    assert result.takens_reference and (reference_curve.order, reference_curve.lag) == (takens.order, takens.lag)
    np.testing.assert_array_equal(reference_curve.ami, takens.ami)


def test_tables_say_what_the_page_shows(result: ACMAnalysis) -> None:
    tables = result.tables()
    expected = {
        "score_summary",
        "fold_scores",
        "grid_scores",
        "predictions",
        "trials",
        "class_means_uV2",
        "tangent_embedding",
        "tangent_embedding_variance",
        "takens_curves",
    }
    assert expected <= set(tables) and set(tables) - expected <= {"acm_class_means_uV2"}
    assert list(tables["score_summary"]["pipeline"]) == ["ACM + TS + SVM", "ACM + MDM", "MDM"]
    grid = tables["grid_scores"]
    assert len(grid) == 2 * 2 * 2 and set(grid["pipeline"]) == {"ACM + TS + SVM", "ACM + MDM"}
    first = grid[grid["pipeline"] == "ACM + MDM"].set_index(["order", "lag"])["mean_inner_roc_auc"]
    assert first[(2, 3)] == result.evaluation.grid_scores["ACM + MDM"][1, 1]
    predictions = tables["predictions"]
    assert len(predictions) == 3 * 60 and list(predictions.columns[:3]) == ["pipeline", "trial", "fold"]
    means = tables["class_means_uV2"]
    assert list(means.columns) == ["class", "row", *CHANNELS] and len(means) == 2 * 6
    block = means[means["class"] == "right_hand"][list(CHANNELS)].to_numpy()
    np.testing.assert_array_equal(block, result.means["right_hand"])
    assert result.warnings == ()  # OAS on a clean recording: nothing to say, the estimator sentence included
    curves = tables["takens_curves"]
    assert set(curves["curve"]) == {"ami_nats", "cao_e1"} and curves["chosen"].sum() == 2
    assert set(curves["role"]) == {"reference (grid search chose)"}


def test_the_plan_runs_the_evaluation_then_the_views_on_the_same_epochs(recording) -> None:
    plan = plan_acm(ACMSettings(**SMALL), recording)
    stages, messages = [], []
    current = plan
    while isinstance(current, Plan):
        stages.append(current)
        current = current.combine({task.key: execute(task, current.data)[1] for task in current.tasks})
    assert [s.name for s in stages] == ["order × lag search", "refits and fixed pipelines", "covariance views"]
    assert all(s.data["X"] is plan.data["X"] for s in stages)  # sent to the workers once
    assert stages[0].progress_span[0] == 0.0 and stages[1].progress_span[1] == stages[2].progress_span[0] < 1.0
    assert {t.key for t in stages[2].tasks} >= {"views/order1/lag1", "views/takens"}
    assert isinstance(current, ACMAnalysis)

    run_plan(plan_acm(ACMSettings(**SMALL), recording), progress=lambda f, text: messages.append((f, text)))
    fractions = [f for f, _ in messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(text.startswith("covariance views: ") for _, text in messages)


def test_the_takens_selection_shows_the_curves_that_chose(recording) -> None:
    settings = ACMSettings(**{**SMALL, "pipelines": ("acm_mdm",), "selection": "takens", "n_folds": 2})
    result = analyse_acm(settings, recording)
    assert not result.takens_reference and len(result.takens) == 2
    assert result.takens == tuple(result.evaluation.takens["ACM + MDM"])
    assert "grid_scores" not in result.tables()
    assert set(result.tables()["takens_curves"]["role"]) == {"selection"}


def test_the_recording_and_epochs_are_computed_once_through_the_memo(recording) -> None:
    store: dict = {}
    calls: list = []

    def memo(key, compute):
        calls.append(key[0])
        if key not in store:
            store[key] = compute()
        return store[key]

    settings = ACMSettings(**SMALL)
    epochs = acm_epochs(settings, recording, memo=memo)
    plan = plan_acm(settings, recording, memo=memo)
    assert plan.data["X"] is epochs.X
    assert sorted({k[0] for k in store}) == ["acm-epochs", "acm-recording"] and len(store) == 2


# --------------------------------------------------------------------------- uploads and warnings


def test_uploaded_runs_load_from_their_files_with_their_sessions(tmp_path: Path) -> None:
    uploads = []
    for seed in (1, 2):
        raw = simulate_motor_imagery(seed=seed, n_trials_per_class=6, n_sessions=1).raw
        path = tmp_path / f"run{seed}_raw.fif"
        raw.save(path, verbose="error")
        uploads.append(UploadedBytes(path.name, path.read_bytes()))
    runs = tuple(UploadSource.of("eeg", [u]) for u in uploads)
    settings = ACMSettings(
        **{**SMALL, "source": UploadedRecordings(runs=runs, sessions=("A", "B")), "scheme": "cross"},
    )
    data = settings.source.load(tmp_path)
    result = analyse_acm(settings, data)
    assert list(result.sessions) == ["A"] * 12 + ["B"] * 12
    assert list(result.evaluation.scores["test_session"].unique()) == ["A", "B"]
    assert set(result.tables()["trials"]["session"]) == {"A", "B"}
    (tmp_path / "run2_raw.fif").write_bytes(uploads[1].data[:-1] + b"\0")
    with pytest.raises(DataSourceError, match="'run2_raw.fif' differs from the one"):
        settings.source.load(tmp_path)
    (tmp_path / "run1_raw.fif").unlink()
    with pytest.raises(DataSourceError, match="'run1_raw.fif'.* is not in"):
        settings.source.load(tmp_path)


def test_a_window_past_the_next_event_and_dropped_epochs_are_warnings() -> None:
    raw = simulate_motor_imagery(seed=5, n_trials_per_class=5, n_sessions=1, trial_duration=1.0).raw
    settings = ACMSettings(
        **{**SMALL, "pipelines": ("mdm",), "n_folds": 2, "epochs": EpochSettings(channels=CHANNELS, tmax=3.5)}
    )
    from covwb.datasets.types import EEGDataset

    dataset = EEGDataset(name="short trials", raw=raw, source="test", warnings=("Reading doubted something.",))
    result = analyse_acm(settings, dataset)
    assert result.warnings[0] == "Reading doubted something."
    assert any("runs past the next event" in w for w in result.warnings), result.warnings


def test_sample_estimator_on_64_channels_warns_with_the_estimator_sentence() -> None:
    raw = simulate_motor_imagery(seed=4, n_trials_per_class=8, n_sessions=1, sfreq=160.0, layout="eegmmidb").raw
    from covwb.datasets.types import EEGDataset

    settings = ACMSettings(
        estimator="sample",
        pipelines=("acm_mdm",),
        orders=(2,),
        lags=(5,),
        n_folds=2,
        inner_folds=2,
    )
    result = analyse_acm(settings, EEGDataset(name="64", raw=raw, source="test"))
    assert result.estimator_note.startswith("Covariances: Sample (unbiased), as chosen")
    assert result.estimator_note in result.warnings
    assert "128 rows estimated from 311 samples" in result.estimator_note


def test_a_mean_of_the_views_that_stops_early_is_a_warning(recording, monkeypatch: pytest.MonkeyPatch) -> None:
    import covwb.eeg.evaluation as evaluation

    original = evaluation.class_means

    def stalling(covs, y):
        warnings.warn(
            "Karcher mean: gradient norm 1.00e-06 > tol 1e-08 after 50 evaluations.", RuntimeWarning, stacklevel=2
        )
        return original(covs, y)

    monkeypatch.setattr(evaluation, "class_means", stalling)
    settings = ACMSettings(**{**SMALL, "pipelines": ("mdm",), "n_folds": 2})
    result = analyse_acm(settings, recording)
    (note,) = [w for w in result.warnings if "covariance views" in w]
    assert note.startswith("1 of 3 Riemannian means of the covariance views") and "approximate" in note
    # OAS ran: the advice is not to choose it
    assert note.endswith("Choose a lower order, or check the recording for flat, duplicated or re-referenced channels.")


def test_docstring_examples_run() -> None:
    outcome = doctest.testmod(analysis, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert outcome.attempted > 5 and outcome.failed == 0
