"""The evaluation as a plan (grain, order, picklable tasks, stages), its progress, and what it says on 64 channels."""

from __future__ import annotations

import pickle
import warnings
from functools import partial

import numpy as np
import pytest

import covwb.eeg._search as search
from covwb.datasets.simulated_eeg import CLASSES, simulate_motor_imagery
from covwb.eeg.epochs import extract_epochs
from covwb.eeg.evaluation import SearchGrid, evaluate, plan_evaluation
from covwb.errors import ParameterError
from covwb.jobs.plan import Plan, Ref, execute

SMALL_GRID = SearchGrid(orders=(1, 2, 3), lags=(1, 2), svm_C=(1.0,), kernels=("linear", "rbf"))


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """30 one-second epochs of 6 channels at 250 Hz, one session."""
    raw = simulate_motor_imagery(seed=3, n_trials_per_class=15, n_sessions=1).raw
    ep = extract_epochs(raw, classes=list(CLASSES), tmin=0.5, tmax=1.5, picks=["FC3", "C3", "CP3", "FC4", "C4", "CP4"])
    return ep.X, ep.y, np.full(len(ep.y), "1")


@pytest.fixture(scope="module")
def eegmmidb() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """16 two-second epochs of the 64-channel EEGMMIDB layout at 160 Hz (321 samples), as the issue's recording."""
    raw = simulate_motor_imagery(seed=0, n_trials_per_class=8, n_sessions=1, sfreq=160.0, layout="eegmmidb").raw
    ep = extract_epochs(raw, classes=list(CLASSES), tmin=0.5, tmax=2.5)
    return ep.X, ep.y, np.full(len(ep.y), "1")


def _run_by_hand(plan: Plan) -> object:
    """Run a plan's stages task by task, as any runner would, checking each task crosses a process boundary."""
    current: object = plan
    while isinstance(current, Plan):
        for task in current.tasks:
            assert pickle.loads(pickle.dumps(task)).key == task.key
        current = current.combine({task.key: execute(task, current.data)[1] for task in current.tasks})
    return current


def test_plan_has_one_task_per_outer_fold_order_and_lag_cheapest_first(small: tuple) -> None:
    X, y, sessions = small
    pipelines = ["acm_ts_svm", "acm_mdm", "ts_svm", "mdm", "csp_lda"]
    plan = plan_evaluation(X, y, sessions, pipelines, n_folds=3, inner_folds=2, grid=SMALL_GRID)
    candidates = [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2)]
    keys = [task.key for task in plan.tasks]
    # order 1 does not depend on the lag: one task per fold, shared by both ACM pipelines and TS + SVM
    assert sorted(keys) == sorted(f"search/fold{f}/order{m}/lag{t}" for f in (1, 2, 3) for m, t in candidates)
    assert all(k.split("/")[2] == "order1" for k in keys[:3])
    weights = [task.weight for task in plan.tasks]
    assert weights[3:] == sorted(weights[3:], reverse=True) and min(weights[3:]) > max(weights[:3])
    assert plan.data["X"] is not None and plan.tasks[0].args[:2] == (Ref("X"), Ref("y"))
    assert {task.fn.__module__ for task in plan.tasks} == {"covwb.eeg._search"}
    assert plan.progress_span[0] == 0.0 and 0.5 < plan.progress_span[1] < 1.0

    first = {task.key: execute(task, plan.data)[1] for task in plan.tasks}
    second = plan.combine(first)
    assert isinstance(second, Plan) and second.progress_span == (plan.progress_span[1], 1.0)
    refits = [k for k in (t.key for t in second.tasks) if k.startswith("refit/")]
    assert {k for k in (t.key for t in second.tasks) if k.startswith("fixed/")} == {
        f"fixed/csp_lda/fold{f}" for f in (1, 2, 3)
    }
    # one refit per distinct winner: at most one per (fold, searched pipeline)
    assert len(set(refits)) == len(refits) <= 3 * 4
    by_hand = second.combine({task.key: execute(task, second.data)[1] for task in second.tasks})
    direct = evaluate(X, y, sessions, pipelines, n_folds=3, inner_folds=2, grid=SMALL_GRID)
    assert by_hand.scores.drop(columns="seconds").equals(direct.scores.drop(columns="seconds"))


def test_takens_plan_has_one_task_per_outer_fold(small: tuple) -> None:
    X, y, sessions = small
    plan = plan_evaluation(
        X, y, sessions, ["acm_ts_svm", "acm_mdm"], n_folds=2, selection="takens", inner_folds=2, grid=SMALL_GRID
    )
    assert sorted(t.key for t in plan.tasks) == ["takens/fold1", "takens/fold2"]
    result = _run_by_hand(plan)
    assert [s.order for s in result.takens["ACM + TS + SVM"]] == list(result.scores["order"][:2].astype(int))


def test_worker_processes_give_the_same_scores(small: tuple) -> None:
    X, y, sessions = small
    grid = SearchGrid(orders=(1, 2), lags=(2,), svm_C=(1.0,), kernels=("linear", "rbf"))
    kwargs = {"n_folds": 2, "inner_folds": 2, "grid": grid}
    alone = evaluate(X, y, sessions, ["acm_ts_svm", "mdm"], **kwargs)
    workers = evaluate(X, y, sessions, ["acm_ts_svm", "mdm"], n_jobs=2, **kwargs)
    assert alone.scores.drop(columns="seconds").equals(workers.scores.drop(columns="seconds"))


def test_progress_starts_with_cheap_steps_and_a_time_estimate(small: tuple) -> None:
    X, y, sessions = small
    seen: list[tuple[float, str]] = []
    evaluate(
        X,
        y,
        sessions,
        ["acm_ts_svm", "mdm"],
        n_folds=3,
        inner_folds=2,
        grid=SMALL_GRID,
        progress=lambda f, t: seen.append((f, t)),
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    done = [text for _, text in seen if " done (" in text]
    # before: the first report came after the largest order had finished, with no estimate of the time left
    assert "order 1 done (1/" in done[0] and "left" in done[0]
    assert len(done) == len(seen) - 2  # every task reports; the two stage starts are the only other messages
    assert all("outer fold" in text for text in done)


def test_default_estimator_is_oas_and_the_result_says_why(small: tuple) -> None:
    X, y, sessions = small
    grid = SearchGrid(orders=(1, 2), lags=(2,), svm_C=(1.0,), kernels=("linear",))
    result = evaluate(X, y, sessions, ["acm_mdm"], n_folds=2, inner_folds=2, grid=grid)
    assert result.settings["estimator"] == "oas"
    assert result.estimator_note == result.settings["estimator_note"]
    assert result.estimator_note.startswith("Covariances: Oracle approximating shrinkage (OAS), the default.")
    assert "12 rows estimated from 247 samples" in result.estimator_note
    sample = evaluate(X, y, sessions, ["acm_mdm"], n_folds=2, inner_folds=2, grid=grid, estimator="sample")
    assert sample.estimator_note.startswith("Covariances: Sample (unbiased), as chosen (MOABB's choice).")
    assert result.warnings == sample.warnings == ()


def test_orders_up_to_10_are_searchable_on_64_channels_with_shrinkage(eegmmidb: tuple) -> None:
    X, y, sessions = eegmmidb
    assert X.shape == (16, 64, 321)
    grid = SearchGrid(orders=tuple(range(1, 11)), lags=(1, 2, 3, 4, 5), svm_C=(1.0,), kernels=("linear",))
    plan = plan_evaluation(X, y, sessions, ["acm_ts_svm"], n_folds=2, inner_folds=2, grid=grid)
    assert len(plan.tasks) == 2 * (1 + 9 * 5)
    # before: "too short for order 10" for every estimator (640 rows, 271 samples)
    with pytest.raises(ParameterError, match="keeps 271 samples for 640 rows; choose the OAS estimator"):
        plan_evaluation(X, y, sessions, ["acm_ts_svm"], n_folds=2, inner_folds=2, grid=grid, estimator="sample")
    # what the order-10 tasks will estimate: SPD and well-conditioned (running them takes minutes: the benchmark)
    shrunk = search._covariances(X[:4], 10, 5, "oas")
    assert shrunk[0].shape == (4, 640, 640) and shrunk[1] < 1e5


def test_ill_conditioned_sample_matrices_are_a_warning_with_what_to_do(eegmmidb: tuple) -> None:
    X, y, sessions = eegmmidb
    grid = SearchGrid(orders=(1, 4), lags=(5,), svm_C=(1.0,), kernels=("linear",))
    kwargs = {"n_folds": 2, "inner_folds": 2, "grid": grid}
    sample = evaluate(X, y, sessions, ["acm_ts_svm"], estimator="sample", **kwargs)
    (warning,) = sample.warnings
    assert "ill-conditioned (condition number up to" in warning and "at order 4, lag 5:" in warning
    assert "use the OAS estimator" in warning and "order 1" not in warning
    assert evaluate(X, y, sessions, ["acm_ts_svm"], **kwargs).warnings == ()


def test_unconverged_means_are_a_warning(small: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    from covwb.covariance.karcher import karcher_mean

    monkeypatch.setattr(search, "karcher_mean", partial(karcher_mean, maxiter=1))
    X, y, sessions = small
    grid = SearchGrid(orders=(2,), lags=(2,), svm_C=(1.0,), kernels=("linear",))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = evaluate(X, y, sessions, ["acm_ts_svm"], n_folds=2, inner_folds=2, grid=grid)
    (warning,) = result.warnings
    assert warning.startswith("6 of 6 Riemannian means stopped without converging (gradient norm up to")
    assert warning.endswith(
        "Lower the largest order, or check the recording for flat, duplicated or re-referenced channels."
    )


def test_library_warnings_of_fixed_pipelines_are_relayed(small: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    import covwb.eeg.pipelines as pipelines

    class Noisy(LinearDiscriminantAnalysis):
        def fit(self, X: np.ndarray, y: np.ndarray) -> Noisy:
            warnings.warn("Convergence not reached", UserWarning, stacklevel=2)
            return super().fit(X.reshape(len(X), -1), y)

        def predict(self, X: np.ndarray) -> np.ndarray:
            return super().predict(X.reshape(len(X), -1))

        def decision_function(self, X: np.ndarray) -> np.ndarray:
            return super().decision_function(X.reshape(len(X), -1))

    monkeypatch.setattr(pipelines, "build_pipeline", lambda key, **kwargs: Noisy())
    X, y, sessions = small
    result = evaluate(X[:, :, :60], y, sessions, ["csp_lda"], n_folds=2, inner_folds=2)
    assert result.warnings == (
        "CSP + LDA: a library warned while fitting on outer folds 1–2: “Convergence not reached”. Its score there "
        "may be off; a shrinkage estimator (OAS) or fewer channels usually helps.",
    )


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_precomputed_svm_kernels_are_the_ones_svc_builds(kernel: str) -> None:
    from sklearn.svm import SVC

    rng = np.random.default_rng(7)
    f_train, f_test = rng.standard_normal((40, 300)) * 3 + 1, rng.standard_normal((15, 300)) * 3 + 1
    y_train = np.repeat(["a", "b"], 20)
    f_train[y_train == "b"] += 0.4
    reference = SVC(C=0.7, kernel=kernel).fit(f_train, y_train).decision_function(f_test)
    train_kernel, test_kernel = search._svm_kernels(f_train, f_test, {kernel})[kernel]
    got = SVC(C=0.7, kernel="precomputed").fit(train_kernel, y_train).decision_function(test_kernel)
    np.testing.assert_allclose(got, reference, rtol=1e-9, atol=1e-12)
