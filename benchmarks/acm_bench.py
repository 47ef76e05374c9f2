"""Nested order x lag grid search for ACM + TS + SVM: fast path against the straightforward way.

Straightforward: for each outer fold, ``GridSearchCV(refit=True)`` over the pipeline
(stack the signal for every (m, tau) -> pyRiemann ``Covariances("cov")`` -> ``TangentSpace`` ->
``SVC``), ``n_jobs=2``. Fast: :func:`covwb.eeg.evaluation.fast_grid_search` with ``n_jobs=2``, timed
before and after the straightforward side (the mean of the two, so that a load that drifts during
the long straightforward run weighs on both sides).
Both on the same simulated epochs and folds, in the same run, one BLAS thread per process; the
worker processes are started (and import both sides' modules) before either side is timed.

Also measured: ACM matrices per second, stacking + pyRiemann ``Covariances("cov")`` against
:class:`covwb.eeg.augmented.LaggedProducts`, over orders 1-10 x lags 1-10 (medians of 3 repeats);
and the wall time of the paper's full grid (orders 1-10 x lags 1-10, 5 outer folds, 3 inner;
sample covariances, as the paper) on the fast path alone, on the built-in simulated recording (160 trials, 22 channels, 2 s),
estimated from timed orders (see :func:`full_grid_estimate`).

Sized like a real 64-channel recording (issue 12): ``acm_64ch_nested_s`` is the wall time of
:func:`covwb.eeg.evaluation.evaluate` with the EEG page's default pipelines (ACM + TS + SVM, ACM + MDM,
TS + SVM, MDM) and settings (OAS, orders 1-4 x lags 1-5, SVM C {0.5, 1, 1.5} x {linear, rbf}, 5 outer x
3 inner folds, 2 processes) on 45 two-second epochs (8-35 Hz) of the simulated 64-channel EEGMMIDB layout
at 160 Hz (321 samples; two classes, 23 + 22 trials), with the ROC-AUC of ACM + TS + SVM and TS + SVM
on the same folds.

Run: ``python benchmarks/acm_bench.py`` (about 25 min on 2 cores; the issue's size). Options:
``--quick`` (orders 1-3 x lags 1-3, no rate or full-grid timings; a few minutes, for iteration),
``--64ch`` (only the 64-channel target), ``--speedup`` (only ``acm_grid_speedup``) and ``--full-grid`` (only the paper's full grid on the fast
path, measured end to end: 5 outer folds, orders 1-10 x lags 1-10, SVM 3 x 2, 3 inner folds, 2
processes; about an hour).
"""

from __future__ import annotations

import argparse
import time

from covwb.runtime import limit_threads

limit_threads()

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from covwb.datasets.simulated_eeg import CLASSES, simulate_motor_imagery
from covwb.eeg.augmented import LaggedProducts, augment
from covwb.eeg.epochs import extract_epochs
from covwb.eeg.evaluation import SearchGrid, evaluate, fast_grid_search, make_folds

N_JOBS = 2
SEED = 42


class MoabbAugmented(TransformerMixin, BaseEstimator):
    """MOABB's ``AugmentedDataset``: stack forward-shifted copies (the straightforward side)."""

    def __init__(self, order: int = 1, lag: int = 1) -> None:
        self.order = order
        self.lag = lag

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> MoabbAugmented:
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return augment(X, self.order, self.lag)


def epochs(n_trials_per_class: int, n_sessions: int) -> tuple[np.ndarray, np.ndarray]:
    """Simulated 0.5-2.5 s epochs (501 samples at 250 Hz), 22 channels, 8-35 Hz, in µV."""
    data = simulate_motor_imagery(seed=0, n_trials_per_class=n_trials_per_class, n_sessions=n_sessions)
    ep = extract_epochs(data.raw, classes=list(CLASSES), tmin=0.5, tmax=2.5)
    return ep.X, ep.y


def epochs_64ch() -> tuple[np.ndarray, np.ndarray]:
    """45 simulated 0.5-2.5 s epochs (321 samples at 160 Hz), 64 EEGMMIDB channels, 8-35 Hz, in µV."""
    data = simulate_motor_imagery(seed=0, n_trials_per_class=23, n_sessions=1, sfreq=160.0, layout="eegmmidb")
    ep = extract_epochs(data.raw, classes=list(CLASSES), tmin=0.5, tmax=2.5, band=(8.0, 35.0))
    return ep.X[:45], ep.y[:45]


def nested_64ch() -> float:
    """Wall time of the page's default evaluation on a 64-channel, 160 Hz, 45-trial recording, in seconds."""
    X, y = epochs_64ch()
    grid = SearchGrid(orders=(1, 2, 3, 4), lags=(1, 2, 3, 4, 5))
    print(
        f"64 channels: {X.shape[0]} trials x {X.shape[1]} channels x {X.shape[2]} samples (2 s at 160 Hz); "
        f"pipelines ACM + TS + SVM, ACM + MDM, TS + SVM, MDM; OAS; orders 1-4 x lags 1-5; "
        f"SVM C {{0.5, 1, 1.5}} x {{linear, rbf}}; 5 outer x 3 inner folds; {N_JOBS} processes",
        flush=True,
    )
    warm_workers()
    start = time.perf_counter()

    def report(fraction: float, text: str) -> None:
        print(f"  {time.perf_counter() - start:6.1f} s  {100 * fraction:5.1f} %  {text}", flush=True)

    result = evaluate(
        X,
        y,
        np.full(len(y), "1"),
        ["acm_ts_svm", "acm_mdm", "ts_svm", "mdm"],
        grid=grid,
        n_folds=5,
        inner_folds=3,
        seed=SEED,
        n_jobs=N_JOBS,
        progress=report,
    )
    seconds = time.perf_counter() - start
    print(result.estimator_note, flush=True)
    for warning in result.warnings:
        print(f"  warning: {warning}", flush=True)
    chosen = result.scores.dropna(subset=["order"])
    for _, row in chosen.iterrows():
        print(
            f"  {row['pipeline']} fold {row['fold']}: order {row['order']:.0f} lag {row['lag']:.0f} "
            f"AUC {row['roc_auc']:.4f}",
            flush=True,
        )
    means = dict(zip(result.summary["pipeline"], result.summary["roc_auc_mean"]))
    for label, auc in means.items():
        print(f"64 channels, {label}: ROC-AUC {auc:.3f} (mean of 5 outer folds)", flush=True)
    print(f"target acm_64ch_auc_acm_ts_svm = {means['ACM + TS + SVM']:.3f}")
    print(f"target acm_64ch_auc_ts_svm = {means['TS + SVM']:.3f}")
    return seconds


def _import_modules(seconds: float) -> None:
    """Import what both sides use, then wait a little so that every worker receives a call."""
    import pyriemann.tangentspace  # noqa: F401
    import sklearn.svm  # noqa: F401

    import covwb.eeg.evaluation  # noqa: F401

    time.sleep(seconds)


def warm_workers() -> None:
    """Start the loky workers before timing: the side timed second would otherwise reuse warm ones."""
    from joblib import Parallel, delayed

    Parallel(n_jobs=N_JOBS, backend="loky")(delayed(_import_modules)(0.5) for _ in range(2 * N_JOBS))


def matrices_per_second(X: np.ndarray) -> tuple[float, float]:
    """ACMs per second over orders 1-10 x lags 1-10: stack + pyRiemann cov, and lagged products."""
    from pyriemann.estimation import Covariances

    pairs = [(m, t) for t in range(1, 11) for m in range(1, 11)]
    n_matrices = len(pairs) * len(X)
    stack_times, fast_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        for m, t in pairs:
            Covariances("cov").transform(augment(X, m, t))
        stack_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        products = LaggedProducts(X)
        for m, t in pairs:
            products.covariances(m, t)
        fast_times.append(time.perf_counter() - start)
    return n_matrices / float(np.median(stack_times)), n_matrices / float(np.median(fast_times))


def straightforward(X: np.ndarray, y: np.ndarray, outer: list, grid: SearchGrid) -> list[float]:
    """Per-fold ROC-AUC of GridSearchCV over the full pipeline, refitted on each outer training fold."""
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    pipeline = Pipeline(
        [
            ("acm", MoabbAugmented()),
            ("cov", Covariances("cov")),
            ("ts", TangentSpace(metric="riemann")),
            ("svc", SVC()),
        ]
    )
    param_grid = {
        "acm__order": list(grid.orders),
        "acm__lag": list(grid.lags),
        "svc__C": list(grid.svm_C),
        "svc__kernel": list(grid.kernels),
    }
    scores = []
    for fold, (train, test) in enumerate(outer, start=1):
        search = GridSearchCV(
            pipeline,
            param_grid,
            cv=StratifiedKFold(3, shuffle=True, random_state=SEED),
            scoring="roc_auc",
            n_jobs=N_JOBS,
            refit=True,
        ).fit(X[train], y[train])
        scores.append(float(get_scorer("roc_auc")(search, X[test], y[test])))
        print(f"  straightforward fold {fold}: {search.best_params_} AUC {scores[-1]:.4f}", flush=True)
    return scores


def fast_side(X: np.ndarray, y: np.ndarray, outer: list, grid: SearchGrid) -> tuple[float, list[float]]:
    """Wall time and per-fold ROC-AUC of the fast nested search (sample covariances, as the straightforward side)."""
    start = time.perf_counter()
    per_fold, _ = fast_grid_search(
        X,
        y,
        outer,
        head="svm",
        orders=grid.orders,
        lags=grid.lags,
        grid=grid,
        estimator="sample",
        n_jobs=N_JOBS,
        seed=SEED,
    )
    seconds = time.perf_counter() - start
    for fold, p in enumerate(per_fold, start=1):
        print(
            f"  fast fold {fold}: order {p['order']} lag {p['lag']} C {p['C']} {p['kernel']} AUC {p['roc_auc']:.4f}",
            flush=True,
        )
    print(f"fast nested grid search: {seconds:.1f} s", flush=True)
    return seconds, [p["roc_auc"] for p in per_fold]


def full_grid_estimate(grid: SearchGrid) -> float:
    """Estimated fast-path wall time of the paper's grid on the built-in recording, in seconds.

    The full grid (orders 1-10 x lags 1-10, SVM 3 x 2, 5 outer x 3 inner folds, 160 trials) would
    take hours on 2 cores here, so one outer fold is timed for orders 1, 2, 4, 6, 8, 10 at lag 5
    (3 inner tangent-space fits + the refit each), the other orders are interpolated on a log-log
    scale, and the total is  t(1) x 5 folds + sum_{m>=2} t(m) x 10 lags x 5 folds, shared by 2 processes.
    """
    X, y = epochs(n_trials_per_class=40, n_sessions=2)
    outer = make_folds(y, np.full(len(y), "1"), "within", 5, SEED)[:1]
    measured = {}
    for order in (1, 2, 4, 6, 8, 10):
        start = time.perf_counter()
        fast_grid_search(
            X,
            y,
            outer,
            head="svm",
            orders=(order,),
            lags=(5,),
            grid=SearchGrid(),
            estimator="sample",
            n_jobs=1,
            seed=SEED,
        )
        measured[order] = time.perf_counter() - start
        print(f"  full-grid timing: order {order}, lag 5, one outer fold: {measured[order]:.1f} s", flush=True)
    known = np.array(sorted(measured))
    times = np.exp(np.interp(np.log(np.arange(1, 11)), np.log(known), np.log([measured[m] for m in known])))
    total = (times[0] * 5 + times[1:].sum() * 10 * 5) / N_JOBS
    print(
        f"full grid on the built-in recording ({len(y)} trials x 22 channels x 501 samples, orders 1-10 x "
        f"lags 1-10, SVM 3 x 2, 5 outer x 3 inner folds), fast path, estimated from the timings above: "
        f"{total:.0f} s = {total / 3600:.2f} h on {N_JOBS} processes",
        flush=True,
    )
    return total


def full_grid_measured() -> float:
    """Wall time of the paper's full grid on the built-in recording, fast path alone, in seconds."""
    X, y = epochs(n_trials_per_class=40, n_sessions=2)
    outer = make_folds(y, np.full(len(y), "1"), "within", 5, SEED)
    grid = SearchGrid()
    start = time.perf_counter()

    def report(fraction: float, text: str) -> None:
        print(f"  {time.perf_counter() - start:7.0f} s  {100 * fraction:5.1f} %  {text}", flush=True)

    per_fold, _ = fast_grid_search(
        X,
        y,
        outer,
        head="svm",
        orders=grid.orders,
        lags=grid.lags,
        grid=grid,
        estimator="sample",
        n_jobs=N_JOBS,
        seed=SEED,
        progress=report,
    )
    seconds = time.perf_counter() - start
    for fold, p in enumerate(per_fold, start=1):
        print(
            f"  full grid fold {fold}: order {p['order']} lag {p['lag']} C {p['C']} {p['kernel']} "
            f"AUC {p['roc_auc']:.4f}",
            flush=True,
        )
    print(
        f"full grid on the built-in recording ({len(y)} trials x 22 channels x 501 samples, orders 1-10 x "
        f"lags 1-10, SVM 3 x 2, 5 outer x 3 inner folds), fast path, measured: {seconds:.0f} s = "
        f"{seconds / 3600:.2f} h on {N_JOBS} processes",
        flush=True,
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="orders 1-3 x lags 1-3 only, for iteration")
    parser.add_argument("--full-grid", action="store_true", help="only measure the paper's full grid")
    parser.add_argument("--64ch", dest="only_64ch", action="store_true", help="only the 64-channel target")
    parser.add_argument("--speedup", action="store_true", help="only acm_grid_speedup, at the issue's size")
    args = parser.parse_args()
    if args.full_grid:
        print(f"target acm_full_grid_measured_seconds = {full_grid_measured():.0f}")
        return
    if args.only_64ch:
        print(f"target acm_64ch_nested_s = {nested_64ch():.1f}")
        return
    X, y = epochs(n_trials_per_class=36, n_sessions=2)
    sessions = np.full(len(y), "1")
    orders, lags = (range(1, 4), range(1, 4)) if args.quick else (range(1, 7), range(1, 6))
    grid = SearchGrid(orders=tuple(orders), lags=tuple(lags), svm_C=(0.5, 1.0, 1.5), kernels=("linear", "rbf"))
    outer = make_folds(y, sessions, "within", 3, SEED)
    print(
        f"size: {X.shape[0]} trials x {X.shape[1]} channels x {X.shape[2]} samples (2 s at 250 Hz); "
        f"orders {grid.orders[0]}-{grid.orders[-1]} x lags {grid.lags[0]}-{grid.lags[-1]}; "
        f"SVM C {{0.5, 1, 1.5}} x {{linear, rbf}}; 3 outer x 3 inner folds; "
        f"{N_JOBS} processes, 1 BLAS thread each",
        flush=True,
    )

    if not (args.quick or args.speedup):
        stack_rate, fast_rate = matrices_per_second(X)
        print(
            f"ACM matrices per second (orders 1-10 x lags 1-10, {len(X)} trials): stack + pyRiemann cov "
            f"{stack_rate:.0f}, lagged products {fast_rate:.0f}",
            flush=True,
        )

    warm_workers()
    fast_s, fast_auc = fast_side(X, y, outer, grid)
    start = time.perf_counter()
    slow_auc = straightforward(X, y, outer, grid)
    slow_s = time.perf_counter() - start
    print(f"straightforward nested grid search: {slow_s:.1f} s", flush=True)
    again_s, _ = fast_side(X, y, outer, grid)
    fast_s = (fast_s + again_s) / 2
    print(f"fast nested grid search, mean of the runs before and after the straightforward one: {fast_s:.1f} s")
    delta = float(np.max(np.abs(np.array(fast_auc) - np.array(slow_auc))))
    print(f"max |delta AUC| per fold, fast - straightforward: {delta:.6f}", flush=True)
    print(f"target acm_grid_speedup = {slow_s / fast_s:.2f}")
    print(f"target acm_grid_max_abs_delta_auc = {delta:.6f}")
    if args.quick or args.speedup:
        return

    print(f"target acm_64ch_nested_s = {nested_64ch():.1f}")
    full_s = full_grid_estimate(grid)
    print(f"target acm_full_grid_estimated_seconds = {full_s:.0f}")
    print(f"target acm_stack_matrices_per_s = {stack_rate:.0f}")
    print(f"target acm_lagged_matrices_per_s = {fast_rate:.0f}")


if __name__ == "__main__":
    main()
