"""Scale: the paper's full ACM grid as one Dask job, the two-worker speed-up, and a projection to BNCI2014_001.

Everything runs through the job layer as the app runs it: plans from :func:`covwb.eeg.evaluation.plan_evaluation`
(or :func:`~covwb.eeg.evaluation.plan_search`), submitted to a :class:`covwb.jobs.JobRegistry` whose
:class:`~covwb.jobs.DaskRunner` drives a local Dask cluster set up as the job layer sets up its own (N
single-threaded worker processes on 127.0.0.1, one BLAS thread each; two such clusters are up at once here). Times are
wall-clock seconds from submission to result (:class:`~covwb.jobs.JobInfo` ``finished - created``); cluster
start-up and the first job on a fresh cluster (imports on the workers) are reported separately, never counted.
Per-task compute times come from Dask's task stream.

Data: the built-in recording as the EEG page cuts it (simulated motor imagery, seed 0: 2 sessions of 80 trials,
22 channels, 0.5-2.5 s after the cue at 250 Hz = 501 samples, 8-35 Hz, the recording's own session labels).

Targets
-------
``acm_full_grid_s``
    The paper's full grid — orders 1-10 x lags 1-10, SVM C {0.5, 1, 1.5} x {linear, rbf}, 5 outer x 3 inner
    folds, sample covariances (MOABB's ``Covariances("cov")``, as the paper) — for ACM + TS + SVM, end to end
    on 2 workers (goal <= 1800 s; the last estimate on the old fast path was about 6,400 s). ACM + MDM, the
    paper's other grid pipeline, is not in the target: the target is the grid the 6,400 s estimate and the
    paper's 792 s per outer fold describe (``--with-mdm`` adds it to the same tasks, which then also compute
    MDM's class means; the quick mode measures what it adds). Two outer folds, drawn with seed 42, are run
    again on the fast path alone (:func:`~covwb.eeg.evaluation.fast_grid_search` on those folds, ``n_jobs=1``,
    the two folds in two processes at once); the output says whether their choices (order, lag, C, kernel)
    match the job's, and the largest ROC-AUC difference. Baseline, in the same run: that serial fast path, its
    mean seconds per outer fold times 5 (the whole grid on one process without the job layer), printed as a
    ratio over the job's seconds.
``dask_two_worker_speedup``
    The inner search of one outer fold (:func:`~covwb.eeg.evaluation.plan_search`, ACM + TS + SVM, orders 1-6 x
    lags 1-5, 26 tasks, about 50 s on one worker) on a 1-worker cluster over a 2-worker one, both up at
    once and run alternately, median of 3 repeats each (goal >= 1.7 on 2 cores). Baseline: the same job on the
    1-worker cluster. Both clusters warm (a first job imported the evaluation's modules on every worker).

Projection
----------
From the measured per-task times (recorded per order and lag), the time of the full grid on MOABB's BNCI2014_001
(9 subjects x 2 sessions = 18 evaluations of 288 trials: 22 channels, 4 classes, 2-6 s at 250 Hz = 1001 samples;
5 outer folds each) at 8, 64 and 256 workers, from a simulation of the job: the 18 sessions' plans merged as
:mod:`covwb.batch` merges them (8,190 search tasks), each task's time scaled from the built-in recording by a
factor measured on a simulated session of BNCI2014_001's size, list-scheduled in the plan's order on P workers
as the Dask scheduler hands them out, plus a per-task scheduling overhead measured here, the fetch of each
session's epochs by each worker that needs them (1 GB/s assumed), the refits of stage 2 (which start when the
last search task ends), and the serial reading and epoching of 18 recordings on the client. The table names
what limits each size.

Run: ``python benchmarks/scale_bench.py`` (the full benchmark; its duration is estimated by ``--quick``).
``--speedup`` measures only ``dask_two_worker_speedup``, at its full size.
``--quick`` (a few minutes, for development) measures the speed-up on a smaller job (orders 1-4 x lags 1-4,
2 repeats), times a sample of the full grid's tasks (every order at lag 5, orders 4 and 8 at lags 1 and 10, on one
outer fold, both heads) and runs orders 1-3 x lags 1-3 end to end with the two-fold check; its
``acm_full_grid_s`` is then an ESTIMATE (the full grid's tasks list-scheduled on 2 workers from the sampled times),
said so in the output.
"""

from __future__ import annotations

import argparse
import heapq
import logging
import operator
import os
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covwb.runtime import limit_threads

limit_threads()

import numpy as np

from covwb.eeg.evaluation import SearchGrid, fast_grid_search, make_folds, plan_evaluation, plan_search
from covwb.jobs import DaskRunner, JobRegistry, Plan, Task, merge_plans

SEED = 42
FULL_GRID = SearchGrid()
LAG_SAMPLE = 5
"""Every order is timed at this lag in the quick mode; orders 4 and 8 also at lags 1 and 10."""
BNCI = {"sessions": 18, "trials": 288, "classes": 4, "channels": 22, "samples": 1001, "folds": 5, "hours": 0.75}
"""BNCI2014_001 as MOABB serves it: 9 subjects x 2 sessions of 288 trials, 2-6 s at 250 Hz; about 45 min of
recording per session (6 runs of 48 trials and the eye-movement runs)."""
BANDWIDTH = 1e9
"""Bytes per second assumed for a worker fetching a session's epochs on a cluster network (about 10 GbE)."""
WORKERS = (8, 64, 256)
ESTIMATOR = "sample"
"""Covariance estimator of every job (``--estimator``): the paper's and MOABB's sample covariance."""


# -- data --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Recording:
    """Epochs of one recording, cut as the EEG page cuts them, and the client-side seconds that took."""

    X: np.ndarray
    y: np.ndarray
    sessions: np.ndarray
    prep_s: float
    duration_s: float


def builtin_recording() -> Recording:
    """The built-in recording, written to FIF and read back and epoched as ``covwb.batch`` does (timed)."""
    from covwb.batch import read_recording
    from covwb.datasets import load
    from covwb.eeg.events import find_trial_events
    from covwb.eeg.sessions import combine_recordings, session_epochs

    data = load("simulated_eeg")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "simulated_eeg_raw.fif"
        data.raw.save(path, verbose="error")
        start = time.perf_counter()
        dataset = read_recording([path])
        recording = combine_recordings([dataset.raw], [], [dataset.name])
        epochs = session_epochs(
            recording,
            find_trial_events(recording.raw),
            classes=["left_hand", "right_hand"],
            tmin=0.5,
            tmax=2.5,
            band=(8.0, 35.0),
        )
        prep = time.perf_counter() - start
    return Recording(epochs.X, epochs.y, epochs.sessions, prep, float(data.raw.times[-1]))


def bnci_sized_session() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A simulated session of BNCI2014_001's size: 288 trials (two classes here), 22 channels, 1001 samples."""
    from covwb.datasets.simulated_eeg import CLASSES, simulate_motor_imagery
    from covwb.eeg.epochs import extract_epochs

    data = simulate_motor_imagery(seed=1, n_trials_per_class=BNCI["trials"] // 2, n_sessions=1, trial_duration=4.0)
    epochs = extract_epochs(data.raw, classes=list(CLASSES), tmin=0.0, tmax=4.0, band=(8.0, 35.0))
    return epochs.X, epochs.y, np.full(len(epochs.y), "1")


# -- the job layer on a local cluster ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskTime:
    """One Dask task of a job: the plan's task key, its stage, its compute and data-fetch seconds, its worker."""

    key: str
    stage: int
    compute_s: float
    transfer_s: float
    worker: str


@dataclass(frozen=True, eq=False)
class JobRun:
    """A job's result, its seconds from submission to result, and its tasks' times."""

    result: Any
    seconds: float
    tasks: list[TaskTime] = field(default_factory=list)


class JobCluster:
    """The job layer's local cluster (its helper process) with ``n_workers`` workers, and a registry on it."""

    def __init__(self, n_workers: int) -> None:
        from distributed import Client, LocalCluster

        from covwb.runtime import _THREAD_VARIABLES

        start = time.perf_counter()
        # the job layer's local cluster, as covwb.jobs.cluster starts it (two of them are up at once here)
        self._cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
            env=dict.fromkeys(_THREAD_VARIABLES, "1"),
        )
        self.client = Client(self._cluster, set_as_default=False)
        self.client.wait_for_workers(n_workers, timeout=120)
        self.n_workers = n_workers
        self.startup_s = time.perf_counter() - start
        self.registry = JobRegistry(DaskRunner(self.client))

    def run(self, plan: Plan, name: str, *, loud: bool = False) -> JobRun:
        """Submit ``plan`` as a job, wait for it, and collect its tasks' times from the task stream."""
        from distributed import get_task_stream

        last = 0.0
        with get_task_stream(client=self.client) as stream:
            job_id = self.registry.submit(plan, owner="scale_bench", name=name)
            while (info := self.registry.info(job_id)).active:
                if loud and time.monotonic() - last > 60:
                    last = time.monotonic()
                    print(f"    {100 * info.fraction:5.1f} %  {info.step}", flush=True)
                time.sleep(0.1)
        if info.status != "done":
            raise RuntimeError(f"job {name!r} ended {info.status}: {info.error}")
        tasks = [_task_time(record) for record in stream.data]
        return JobRun(self.registry.result(job_id), float(info.finished - info.created), [t for t in tasks if t])

    def close(self) -> None:
        self.client.close()
        self._cluster.close()


def _task_time(record: dict) -> TaskTime | None:
    """A task-stream record of a job task as a :class:`TaskTime` (None for other records)."""
    key = record.get("key")
    if not (isinstance(key, tuple) and len(key) == 3):
        return None
    compute = sum(s["stop"] - s["start"] for s in record["startstops"] if s["action"] == "compute")
    fetch = sum(s["stop"] - s["start"] for s in record["startstops"] if s["action"] == "transfer")
    return TaskTime(
        key=str(key[1]),
        stage=int(str(key[0]).rsplit("-", 2)[-2]),
        compute_s=float(compute),
        transfer_s=float(fetch),
        worker=str(record.get("worker", "")),
    )


@contextmanager
def clusters(*sizes: int) -> Iterator[dict[int, JobCluster]]:
    """Local clusters of the given sizes, up at the same time, each warmed by a first job (imports)."""
    started: dict[int, JobCluster] = {}
    try:
        for n in sizes:
            started[n] = JobCluster(n)
            print(f"cluster of {n} worker(s): started in {started[n].startup_s:.1f} s (not counted)", flush=True)
        yield started
    finally:
        for cluster in started.values():
            cluster.close()


def warm(cluster: JobCluster, rec: Recording) -> None:
    """A first job that imports the evaluation's modules on every worker (timed, not counted)."""
    folds = make_folds(rec.y, rec.sessions, "within", 5, SEED)
    grid = SearchGrid(orders=(1, 2), lags=(1, 2, 3, 4), svm_C=(1.0,), kernels=("linear",))
    plan = plan_search(rec.X[folds[0][0]], rec.y[folds[0][0]], head="svm", grid=grid, estimator=ESTIMATOR)
    run = cluster.run(plan, "warm-up")
    print(f"cluster of {cluster.n_workers} worker(s): first job (imports) {run.seconds:.1f} s (not counted)")


# -- measurements ------------------------------------------------------------------------------------------------------


def scheduling_overhead(cluster: JobCluster, n_tasks: int = 400) -> float:
    """Seconds per task of a job of no-op tasks: scheduler, worker and client bookkeeping of one task."""
    plan = Plan(tuple(Task(str(i), operator.add, (i, 1)) for i in range(n_tasks)), combine=len, name="no-op")
    run = cluster.run(plan, "no-op")
    per_task = run.seconds / n_tasks
    print(
        f"scheduling overhead: {n_tasks} no-op tasks on {cluster.n_workers} workers in {run.seconds:.2f} s = "
        f"{1000 * per_task:.1f} ms per task",
        flush=True,
    )
    return per_task


def two_worker_speedup(
    one: JobCluster, two: JobCluster, rec: Recording, orders: tuple[int, ...], lags: tuple[int, ...], repeats: int
) -> tuple[float, dict[tuple[int, int], float]]:
    """Median seconds of one fold's inner search on 1 worker over 2, alternating; and its per-task times."""
    train = make_folds(rec.y, rec.sessions, "within", 5, SEED)[0][0]
    grid = SearchGrid(orders=orders, lags=lags)
    plan = plan_search(rec.X[train], rec.y[train], head="svm", grid=grid, estimator=ESTIMATOR)
    print(
        f"speed-up job: inner search of outer fold 1 ({len(train)} trials), ACM + TS + SVM, orders "
        f"{orders[0]}-{orders[-1]} x lags {lags[0]}-{lags[-1]}, {len(plan.tasks)} tasks, {ESTIMATOR} covariances; "
        f"{repeats} repeats on each cluster, alternating",
        flush=True,
    )
    seconds: dict[int, list[float]] = {1: [], 2: []}
    chosen: set[int] = set()
    per_task: dict[tuple[int, int], list[float]] = defaultdict(list)
    for repeat in range(repeats):
        for cluster in (one, two):
            run = cluster.run(plan, f"speed-up {cluster.n_workers}")
            seconds[cluster.n_workers].append(run.seconds)
            chosen.add(run.result.best_index)
            busy = sum(t.compute_s for t in run.tasks)
            for t in run.tasks:
                per_task[_order_lag(t.key)].append(t.compute_s)
            print(
                f"  repeat {repeat + 1}, {cluster.n_workers} worker(s): {run.seconds:.1f} s "
                f"(task compute {busy:.1f} s in all)",
                flush=True,
            )
    if len(chosen) != 1:
        print("  WARNING: the speed-up job chose differently on the two clusters", flush=True)
    m1, m2 = statistics.median(seconds[1]), statistics.median(seconds[2])
    print(f"speed-up job: median {m1:.1f} s on 1 worker, {m2:.1f} s on 2 workers: {m1 / m2:.2f}x", flush=True)
    return m1 / m2, {k: statistics.median(v) for k, v in per_task.items()}


def _order_lag(key: str) -> tuple[int, int]:
    """(order, lag) of a search or refit task key (``…/order4/lag5…``)."""
    found = re.search(r"/order(\d+)/lag(\d+)", key)
    if found is None:
        raise ValueError(f"task key {key!r} names no order and lag")
    return int(found[1]), int(found[2])


@dataclass(frozen=True)
class TaskCosts:
    """Seconds of one outer fold's search task per (order, lag): ACM + TS + SVM alone, and with ACM + MDM."""

    svm: dict[tuple[int, int], float]
    both: dict[tuple[int, int], float]


def sampled_task_times(
    cluster: JobCluster, X: np.ndarray, y: np.ndarray, sessions: np.ndarray, keys: list
) -> TaskCosts:
    """Run a sample of the full grid's stage-1 tasks (outer fold 1, both heads) as a job; their seconds."""
    lags = tuple(sorted({lag for _, lag in keys}))
    grid = SearchGrid(orders=tuple(range(1, 11)), lags=lags)
    full = plan_evaluation(X, y, sessions, ["acm_ts_svm", "acm_mdm"], grid=grid, estimator=ESTIMATOR)
    wanted = {f"search/fold1/order{m}/lag{1 if m == 1 else t}" for m, t in keys}
    tasks = tuple(task for task in full.tasks if task.key in wanted)
    run = cluster.run(Plan(tasks, combine=dict, data=full.data, name="sampled tasks"), "sampled tasks", loud=True)
    svm, both = {}, {}
    for t in run.tasks:
        inside = run.result[t.key]["seconds"]
        share = (inside["shared"] + inside["svm"]) / max(sum(inside.values()), 1e-9)
        svm[_order_lag(t.key)], both[_order_lag(t.key)] = t.compute_s * share, t.compute_s
    return TaskCosts(svm, both)


def bnci_scale(
    cluster: JobCluster, builtin: dict[tuple[int, int], float], orders: tuple[int, ...]
) -> tuple[float, int]:
    """Task time on a BNCI2014_001-sized session over the built-in recording's, same (order, lag); its epochs' bytes.

    Measured on the ACM + TS + SVM part of the tasks (the Karcher means and tangent spaces, whose cost grows with
    the number of training trials); MDM's class means grow the same way, so one factor serves both.
    """
    X, y, sessions = bnci_sized_session()
    costs = sampled_task_times(cluster, X, y, sessions, [(m, LAG_SAMPLE) for m in orders])
    ratios = [costs.svm[(m, LAG_SAMPLE)] / builtin[(m, LAG_SAMPLE)] for m in orders]
    for m, ratio in zip(orders, ratios):
        print(
            f"BNCI2014_001-sized session ({len(y)} trials x {X.shape[2]} samples) over the built-in recording, "
            f"order {m}, lag {LAG_SAMPLE}: {costs.svm[(m, LAG_SAMPLE)]:.1f} s / {builtin[(m, LAG_SAMPLE)]:.1f} s = "
            f"{ratio:.2f}x",
            flush=True,
        )
    return float(np.mean(ratios)), int(X.nbytes)


def interpolate(measured: dict[tuple[int, int], float], lags: tuple[int, ...]) -> dict[tuple[int, int], float]:
    """Every (order, lag) of the full grid from the quick sample: the time at lag 5 times a lag factor.

    The factor at lags 1 and 10 is the mean of the measured ratios at orders 4 and 8, linear in between (the lag
    only changes the number of samples the embedding keeps, so its effect is small and smooth).
    """
    factor = {LAG_SAMPLE: 1.0}
    for lag in (1, 10):
        factor[lag] = float(np.mean([measured[(m, lag)] / measured[(m, LAG_SAMPLE)] for m in (4, 8)]))
    known = sorted(factor)
    out = {}
    for m in range(1, 11):
        for lag in lags:
            f = float(np.interp(lag, known, [factor[k] for k in known]))
            out[(m, lag)] = measured[(1, 1)] if m == 1 else measured[(m, LAG_SAMPLE)] * f
    return out


def print_task_table(title: str, times: dict[tuple[int, int], float]) -> None:
    """Seconds per task, orders down, lags across ("·" where not measured)."""
    lags = sorted({lag for _, lag in times})
    print(title)
    print("    order \\ lag " + "".join(f"{lag:>8d}" for lag in lags))
    for m in range(1, 11):
        cells = [times.get((m, lag)) if m > 1 or lag == 1 else None for lag in lags]
        row = "".join(f"{c:8.2f}" if c is not None else f"{'·':>8}" for c in cells)
        print(f"    {m:>13d} {row}")


# -- the full grid, end to end, and the fast path's serial run of two folds ------------------------------------------


def reference_fold(X: np.ndarray, y: np.ndarray, fold: tuple[np.ndarray, np.ndarray], grid: SearchGrid) -> tuple:
    """The fast path's serial run (n_jobs=1) of one outer fold: its choice and ROC-AUC, and the seconds it took."""
    limit_threads()
    start = time.perf_counter()
    per_fold, _ = fast_grid_search(
        X, y, [fold], head="svm", orders=grid.orders, lags=grid.lags, grid=grid, estimator=ESTIMATOR, n_jobs=1
    )
    return per_fold[0], time.perf_counter() - start


@dataclass(frozen=True)
class FoldCheck:
    """Two outer folds of the job against the fast path's serial run of the same folds."""

    match: bool
    """Whether the job chose the same (order, lag, C, kernel) as the serial run in both folds."""
    worst_delta_auc: float
    serial_fold_s: float
    """Mean seconds of one outer fold on the serial fast path (one process, ``n_jobs=1``)."""


def check_two_folds(rec: Recording, evaluation: Any, grid: SearchGrid) -> FoldCheck:
    """Compare two outer folds (drawn with seed 42) with the fast path's serial run of them, one process each."""
    from joblib import Parallel, delayed

    folds = make_folds(rec.y, rec.sessions, "within", 5, SEED)
    drawn = sorted(int(f) for f in np.random.default_rng(SEED).choice(len(folds), 2, replace=False))
    print(f"serial fast path (n_jobs=1) on outer folds {drawn[0] + 1} and {drawn[1] + 1}, one process each:")
    start = time.perf_counter()
    serial = Parallel(n_jobs=2)(delayed(reference_fold)(rec.X, rec.y, folds[f], grid) for f in drawn)
    wall = time.perf_counter() - start
    rows = evaluation.scores[evaluation.scores["pipeline"] == "ACM + TS + SVM"].set_index("fold")
    worst, match = 0.0, True
    for f, (mine, seconds) in zip(drawn, serial):
        job = rows.loc[f + 1]
        job_choice = (int(job["order"]), int(job["lag"]), float(job["C"]), str(job["kernel"]))
        ref_choice = (int(mine["order"]), int(mine["lag"]), float(mine["C"]), str(mine["kernel"]))
        delta = abs(float(job["roc_auc"]) - float(mine["roc_auc"]))
        worst, match = max(worst, delta), match and job_choice == ref_choice
        same = "same choice" if job_choice == ref_choice else "DIFFERENT CHOICE"
        print(
            f"  outer fold {f + 1}: job {job_choice} AUC {job['roc_auc']:.4f}; serial {ref_choice} AUC "
            f"{mine['roc_auc']:.4f} ({seconds:.0f} s); {same}, |delta AUC| {delta:.2e}",
            flush=True,
        )
    print(f"  serial runs: {wall:.0f} s (two folds at once)", flush=True)
    print(f"two sampled outer folds: the job's choices {'MATCH' if match else 'DO NOT MATCH'} the serial fast path's")
    return FoldCheck(match, worst, float(np.mean([seconds for _, seconds in serial])))


def end_to_end(cluster: JobCluster, rec: Recording, grid: SearchGrid, pipelines: list[str]) -> JobRun:
    """The evaluation of ``pipelines`` on ``grid`` as one job; prints its choices."""
    plan = plan_evaluation(rec.X, rec.y, rec.sessions, pipelines, grid=grid, estimator=ESTIMATOR, n_folds=5)
    print(
        f"end to end: {', '.join(pipelines)}, orders {grid.orders[0]}-{grid.orders[-1]} x lags "
        f"{grid.lags[0]}-{grid.lags[-1]}, 5 outer x 3 inner folds: {len(plan.tasks)} search tasks, then the refits",
        flush=True,
    )
    run = cluster.run(plan, "end to end", loud=True)
    scores = run.result.scores
    for _, row in scores.dropna(subset=["order"]).iterrows():
        svm = f" C {row['C']:g} {row['kernel']}" if row["kernel"] else ""
        print(
            f"  {row['pipeline']} fold {row['fold']}: order {row['order']:.0f} lag {row['lag']:.0f}{svm} "
            f"AUC {row['roc_auc']:.4f}"
        )
    for warning in run.result.warnings:
        print(f"  warning: {warning}")
    stage1 = [t for t in run.tasks if t.stage == 0]
    stage2 = [t for t in run.tasks if t.stage == 1]
    print(
        f"end to end: {run.seconds:.1f} s on {cluster.n_workers} workers; task compute {sum(t.compute_s for t in stage1):.0f}"
        f" s in stage 1 ({len(stage1)} tasks), {sum(t.compute_s for t in stage2):.1f} s in stage 2 ({len(stage2)})",
        flush=True,
    )
    return run


def refit_ratio(run: JobRun) -> float:
    """Median seconds of a refit over those of the search task of the same fold, order and lag."""
    search = {t.key: t.compute_s for t in run.tasks if t.key.startswith("search/")}
    ratios = []
    for t in run.tasks:
        if t.key.startswith("refit/"):
            fold = t.key.split("/")[1]
            m, lag = _order_lag(t.key)
            ratios.append(t.compute_s / search[f"search/{fold}/order{m}/lag{1 if m == 1 else lag}"])
    return float(np.median(ratios))


def per_order_lag(run: JobRun) -> dict[tuple[int, int], float]:
    """Mean seconds of the search tasks over outer folds, per (order, lag)."""
    times: dict[tuple[int, int], list[float]] = defaultdict(list)
    for t in run.tasks:
        if t.key.startswith("search/"):
            times[_order_lag(t.key)].append(t.compute_s)
    return {k: float(np.mean(v)) for k, v in times.items()}


# -- simulation: list scheduling in the plan's order ---------------------------------------------------------------


def list_schedule(
    durations: list[float], workers: int, *, overhead: float = 0.0, data: list[int] | None = None, fetch: float = 0.0
) -> tuple[float, float]:
    """Makespan of tasks handed in order to the next free worker; and the most fetch seconds one worker spent.

    Each task costs its duration plus ``overhead``, plus ``fetch`` seconds when its worker has not yet held
    the task's data entry (``data[i]``).
    """
    free = [(0.0, w) for w in range(workers)]
    held: list[set[int]] = [set() for _ in range(workers)]
    fetched = [0.0] * workers
    for i, seconds in enumerate(durations):
        at, w = heapq.heappop(free)
        extra = 0.0
        if data is not None and data[i] not in held[w]:
            held[w].add(data[i])
            extra = fetch
            fetched[w] += fetch
        heapq.heappush(free, (at + seconds + overhead + extra, w))
    return max(at for at, _ in free), max(fetched)


def full_grid_estimate(
    rec: Recording, times: dict[tuple[int, int], float], rho: float, overhead: float, workers: int = 2
) -> tuple[float, float]:
    """Seconds of the full grid's job on ``workers`` from per-task times: stage 1 list-scheduled, stage 2 bound."""
    plan = plan_evaluation(rec.X, rec.y, rec.sessions, ["acm_ts_svm"], grid=FULL_GRID, estimator=ESTIMATOR)
    durations = [times[_order_lag(t.key)] for t in plan.tasks]
    stage1, _ = list_schedule(durations, workers, overhead=overhead)
    refits = [rho * max(times.values())] * 5  # worst case: every fold chose order 10
    stage2, _ = list_schedule(refits, workers, overhead=overhead)
    return stage1, stage2


@dataclass(frozen=True)
class Projection:
    workers: int
    total_s: float
    compute_s: float
    longest_s: float
    stage1_s: float
    stage2_s: float
    scheduler_s: float
    fetch_s: float
    prep_s: float
    limit: str


def project(
    times: dict[tuple[int, int], float],
    scale: float,
    rho: float,
    overhead: float,
    bnci_bytes: int,
    prep_s: float,
    pipelines: list[str],
) -> list[Projection]:
    """BNCI2014_001's 18 sessions as one merged job, list-scheduled on 8, 64 and 256 workers."""
    n = BNCI["trials"]
    labels = np.repeat(["feet", "left_hand", "right_hand", "tongue"], n // BNCI["classes"])
    zeros = np.broadcast_to(np.zeros(1), (n, BNCI["channels"], BNCI["samples"]))  # no memory: the plan's shape only
    session = plan_evaluation(zeros, labels, np.full(n, "1"), pipelines, grid=FULL_GRID, estimator=ESTIMATOR)
    merged = merge_plans({f"S{i + 1}": session for i in range(BNCI["sessions"])})
    durations = [times[_order_lag(t.key)] * scale for t in merged.tasks]
    data = [int(t.key.split("/")[0][1:]) for t in merged.tasks]
    heads = len(pipelines)
    refit = rho * max(times.values()) * scale  # worst case: every fold chose order 10
    refits = [refit] * (BNCI["sessions"] * BNCI["folds"] * heads)
    out = []
    for p in WORKERS:
        stage1, fetch = list_schedule(durations, p, overhead=overhead, data=data, fetch=bnci_bytes / BANDWIDTH)
        stage2, _ = list_schedule(refits, p, overhead=overhead)
        scheduler = (len(durations) + len(refits)) * overhead  # the scheduler's serial work, overlapping compute
        compute = sum(durations) / p
        total = prep_s + max(stage1, scheduler) + stage2
        parts = {
            "compute (work / workers)": compute,
            "the longest task": max(durations),
            "stage 2 and reading (serial)": stage2 + prep_s,
            "the scheduler": scheduler,
            "fetching epochs": fetch,
        }
        out.append(
            Projection(
                p, total, compute, max(durations), stage1, stage2, scheduler, fetch, prep_s, max(parts, key=parts.get)
            )
        )
    return out


def print_projection(title: str, rows: list[Projection], n_tasks: int) -> None:
    print(title)
    print(
        f"    {'workers':>7} {'total':>9} {'work/P':>9} {'longest':>8} {'stage 1':>9} {'stage 2':>8} "
        f"{'sched.':>7} {'fetch':>6} {'reading':>8}  limited by"
    )
    for r in rows:
        print(
            f"    {r.workers:>7d} {_clock(r.total_s):>9} {_clock(r.compute_s):>9} {r.longest_s:7.0f}s "
            f"{_clock(r.stage1_s):>9} {r.stage2_s:7.0f}s {r.scheduler_s:6.0f}s {r.fetch_s:5.1f}s {r.prep_s:7.0f}s  "
            f"{r.limit}"
        )
    print(f"    ({n_tasks} search tasks; all times in seconds or h:mm:ss)")


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def estimate_full_run(
    rec: Recording, times: dict[tuple[int, int], float], rho: float, overhead: float, full_grid_s: float, fixed_s: float
) -> float:
    """Seconds the benchmark without ``--quick`` would take, from the quick run's per-task times.

    ``fixed_s`` is what both modes spend alike (reading, cluster starts, first jobs, the overhead and BNCI2014_001
    measurements); then the speed-up job at its full size (list-scheduled on 1 and 2 workers, 3 repeats each), the
    full grid and the serial run of two outer folds at once (one fold's tasks in a row, and its refit).
    """
    train = make_folds(rec.y, rec.sessions, "within", 5, SEED)[0][0]
    grid = SearchGrid(orders=tuple(range(1, 7)), lags=tuple(range(1, 6)))
    plan = plan_search(rec.X[train], rec.y[train], head="svm", grid=grid, estimator=ESTIMATOR)
    durations = [times[_order_lag(t.key)] for t in plan.tasks]
    one, _ = list_schedule(durations, 1, overhead=overhead)
    two, _ = list_schedule(durations, 2, overhead=overhead)
    fold = sum(
        times[(1, 1)] if m == 1 else times[(m, lag)] for m in range(1, 11) for lag in ([1] if m == 1 else range(1, 11))
    )
    serial = fold + rho * max(times.values())
    total = fixed_s + 3 * (one + two) + full_grid_s + serial
    print(
        f"ESTIMATED duration without --quick: {total / 60:.0f} min = {fixed_s / 60:.1f} (set-up and measurements "
        f"as here) + {3 * (one + two) / 60:.1f} (speed-up job: {one:.0f} s on 1 worker, {two:.0f} s on 2, 3 repeats "
        f"each) + {full_grid_s / 60:.1f} (full grid) + {serial / 60:.1f} (serial run of two folds at once)",
        flush=True,
    )
    return total


def main() -> None:
    global ESTIMATOR
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes: estimates acm_full_grid_s from samples")
    parser.add_argument("--with-mdm", action="store_true", help="add ACM + MDM to the full grid's job")
    parser.add_argument("--estimator", default="sample", choices=["sample", "oas"], help="covariances (paper: sample)")
    parser.add_argument("--speedup", action="store_true", help="only dask_two_worker_speedup, at its full size")
    args = parser.parse_args()
    ESTIMATOR = args.estimator
    begin = time.perf_counter()
    spent: dict[str, float] = {}
    rec = builtin_recording()
    print(
        f"built-in recording: {rec.X.shape[0]} trials x {rec.X.shape[1]} channels x {rec.X.shape[2]} samples, "
        f"sessions {', '.join(np.unique(rec.sessions))}; read and epoched in {rec.prep_s:.1f} s; {ESTIMATOR} "
        f"covariances; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )
    pipelines = ["acm_ts_svm", "acm_mdm"] if args.with_mdm else ["acm_ts_svm"]
    quick = args.quick
    repeats, orders, lags = (2, (1, 2, 3, 4), (1, 2, 3, 4)) if quick else (3, tuple(range(1, 7)), tuple(range(1, 6)))
    with clusters(1, 2) as up:
        warm(up[1], rec)
        warm(up[2], rec)
        overhead = scheduling_overhead(up[2])
        spent["set-up"] = time.perf_counter() - begin
        clock = time.perf_counter()
        speedup, speedup_tasks = two_worker_speedup(up[1], up[2], rec, orders, lags, repeats)
        spent["speed-up"] = time.perf_counter() - clock
        if args.speedup:
            print(f"whole benchmark: {time.perf_counter() - begin:.0f} s")
            print(f"target dask_two_worker_speedup = {speedup:.2f}")
            return
        sample = None
        if quick:
            clock = time.perf_counter()
            keys = [(m, LAG_SAMPLE) for m in range(1, 11)] + [(m, lag) for m in (4, 8) for lag in (1, 10)]
            sample = sampled_task_times(up[2], rec.X, rec.y, rec.sessions, keys)
            print_task_table("sampled task seconds, ACM + TS + SVM (outer fold 1, on 2 busy workers):", sample.svm)
            print_task_table("the same tasks with ACM + MDM's class means too:", sample.both)
            spent["sample"] = time.perf_counter() - clock
        clock = time.perf_counter()
        scale, bnci_bytes = bnci_scale(up[2], sample.svm if sample else speedup_tasks, (4, 7) if quick else (4, 6))
        spent["bnci"] = time.perf_counter() - clock
        grid = SearchGrid(orders=(1, 2, 3), lags=(1, 2, 3)) if quick else FULL_GRID
        run = end_to_end(up[2], rec, grid, ["acm_ts_svm"] if quick else pipelines)
    check = check_two_folds(rec, run.result, grid)
    serial_s = 5 * check.serial_fold_s
    print(
        f"baseline: the fast path alone, serial (n_jobs=1), {check.serial_fold_s:.0f} s per outer fold x 5 = "
        f"{serial_s:.0f} s; the same grid as a job on 2 workers {run.seconds:.0f} s ({serial_s / run.seconds:.2f}x)",
        flush=True,
    )
    rho = refit_ratio(run)
    print(f"stage 2: a refit takes {rho:.2f}x the search task of its fold, order and lag (median)")
    if quick:
        times = interpolate(sample.svm, FULL_GRID.lags)
        stage1, stage2 = full_grid_estimate(rec, times, rho, overhead)
        full_s = stage1 + stage2
        print(
            f"ESTIMATED full grid (ACM + TS + SVM) on 2 workers: stage 1 {stage1:.0f} s (its 455 tasks list-scheduled "
            f"in the plan's order from the sampled times) + stage 2 at most {stage2:.0f} s = {full_s:.0f} s",
            flush=True,
        )
        estimate_full_run(rec, times, rho, overhead, full_s, spent["set-up"] + spent["bnci"])
    else:
        full_s = run.seconds
        times = per_order_lag(run)
        print_task_table("measured task seconds of the full grid (mean over the 5 outer folds):", times)
    sessions_prep = rec.prep_s * 3600 * BNCI["hours"] / rec.duration_s * BNCI["sessions"]
    print(
        f"BNCI2014_001: task times x {scale:.2f}; epochs {bnci_bytes / 1e6:.0f} MB per session, fetched at "
        f"{BANDWIDTH / 1e9:g} GB/s; reading and epoching {sessions_prep:.0f} s on the client "
        f"(the built-in recording's {rec.prep_s:.1f} s for {rec.duration_s / 60:.0f} min, for 18 x 45 min)"
    )
    rows = project(times, scale, rho, overhead, bnci_bytes, sessions_prep, pipelines)
    print_projection(f"projected full grid on BNCI2014_001 ({' + '.join(pipelines)}):", rows, 8190)
    if sample is not None:
        both = interpolate(sample.both, FULL_GRID.lags)
        rows = project(both, scale, rho, overhead, bnci_bytes, sessions_prep, ["acm_ts_svm", "acm_mdm"])
        print_projection("the same with ACM + MDM too (the paper's two grid pipelines, sharing each task):", rows, 8190)
    print(
        f"two outer folds, job vs serial fast path: choices {'match' if check.match else 'DIFFER'}, max |delta AUC| "
        f"{check.worst_delta_auc:.2e}"
    )
    print(f"whole benchmark: {time.perf_counter() - begin:.0f} s")
    if quick:
        print(
            "quick mode: acm_full_grid_s below is ESTIMATED from sampled tasks and the speed-up is measured on "
            "orders 1-4 x lags 1-4; run without --quick to measure both"
        )
    print(f"target acm_full_grid_s = {full_s:.0f}")
    print(f"target dask_two_worker_speedup = {speedup:.2f}")


if __name__ == "__main__":
    main()
