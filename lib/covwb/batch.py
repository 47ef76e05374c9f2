"""Command-line batches over many recordings: ``python -m covwb.batch acm FILE… [options]``.

``acm`` evaluates the ACM pipelines and their baselines (:func:`covwb.eeg.evaluation.evaluate`) on every
recording or subject given, as one Dask job (:mod:`covwb.jobs`: a local cluster, or the scheduler of
``--scheduler`` / ``$COVWB_DASK_SCHEDULER``), and writes one CSV in MOABB's results layout plus a
``.settings.json`` sidecar with everything that produced it.

Protocol, as MOABB's evaluations:

* ``--evaluation within`` (default; MOABB's ``WithinSessionEvaluation``): each session of each subject is
  evaluated on its own by stratified k-fold; one row per subject × session × pipeline, whose ``score``
  is the mean over folds, ``time`` the mean seconds per fold (search and fit), ``samples`` the session's
  trials and ``samples_test`` the mean test-fold size;
* ``--evaluation cross`` (``CrossSessionEvaluation``): leave one session out per subject; one row per
  subject × test session × pipeline, ``samples`` being the training trials.

``score`` is ROC-AUC for two classes and accuracy for more, as MOABB's motor-imagery paradigms. The
columns are MOABB's, in its order — ``score, time, samples, samples_test, n_classes, subject, session,
channels, n_sessions, dataset, pipeline`` — followed by the workbench's ``metric`` and, for ACM pipelines,
the ``order`` and ``lag`` chosen in most folds (NaN otherwise), so the file concatenates with MOABB's tables.

Files are read with the app's readers (:mod:`covwb.io.eeg`: EDF/BDF/GDF/FIF, BrainVision and EEGLAB with
their companion files given together) and epoched in this process, one recording at a time (a subject's
recordings are held until its last one is read, then only its epochs); only the epochs travel to the workers.

Grain. Every evaluation is :func:`covwb.eeg.evaluation.plan_evaluation`'s two-stage plan, and the batch is
one job made of all of them (:func:`covwb.jobs.merge_plans`): its first stage holds every evaluation's
search tasks (one per outer fold × order × lag, keys prefixed by the evaluation: ``subject 1, session 2/
search/fold3/order4/lag5``), its second every evaluation's refits. A cluster thus gets hundreds of tasks of
seconds per recording instead of one task of many minutes per recording, interleaved so that every
recording's cheap tasks come first and every recording's heaviest next; a batch of 18 sessions balances on
a few hundred workers, where one task per recording would keep all but 18 idle and end with the slowest
recording. The price is a barrier: the refits start when the last search task of the batch has finished, and
no CSV row appears before the end. Nothing runs inside an inner cross-validation loop.

Bad input. A file that cannot be read, a subject whose epochs cannot be cut (a missing class, a window
outside the recording) and an evaluation that fails on its data (too few trials of a class, matrices that
are not positive definite) are each named in one sentence on standard error and left out of the CSV; the
others are evaluated, and the exit status is 1. A wrong command line (a missing file, label counts that do
not match the files) stops before anything runs, with exit status 2.

Example::

    python -m covwb.batch acm data/S*.edf --classes T1 T2 --tmin 0.5 --tmax 2.5 --output mi.csv
"""

from __future__ import annotations

import argparse
import hashlib
import math
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from covwb.errors import WorkbenchError

__all__ = [
    "DEFAULT_PIPELINES",
    "EXTRA_COLUMNS",
    "MOABB_COLUMNS",
    "BatchResult",
    "build_parser",
    "main",
    "plan_acm_batch",
    "read_recording",
    "recording_files",
]

MOABB_COLUMNS = (
    "score",
    "time",
    "samples",
    "samples_test",
    "n_classes",
    "subject",
    "session",
    "channels",
    "n_sessions",
    "dataset",
    "pipeline",
)
"""Columns of MOABB's results table (``Evaluation.process``), in its order."""

EXTRA_COLUMNS = ("metric", "order", "lag")
"""The workbench's columns after MOABB's: the score's metric and the ACM order and lag chosen most often."""

DEFAULT_PIPELINES = ("acm_ts_svm", "acm_mdm", "ts_svm", "mdm")
"""The EEG page's default pipelines."""


@dataclass(frozen=True)
class Unit:
    """One evaluation of the batch: a subject's session (within sessions) or all its sessions (across)."""

    subject: str
    session: str
    n_sessions: int


@dataclass(frozen=True, eq=False)
class BatchResult:
    """What a batch produced.

    Parameters
    ----------
    results : pandas.DataFrame
        MOABB's columns (:data:`MOABB_COLUMNS`) then :data:`EXTRA_COLUMNS`; one row per evaluation and pipeline.
    failures : tuple of str
        One sentence per evaluation that failed on its input, naming the subject and session.
    settings : dict
        Everything that produced the results.
    """

    results: Any
    failures: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)


# -- reading ---------------------------------------------------------------------------------------------------------


def recording_files(paths: Sequence[Path]) -> list[list[Path]]:
    """Group EEG files into recordings as the app does (companions go with their header), reading headers only.

    Parameters
    ----------
    paths : sequence of Path
        EEG files; BrainVision ``.vhdr`` with its ``.vmrk`` and ``.eeg``, EEGLAB ``.set`` with its ``.fdt``.

    Returns
    -------
    list of list of Path
        The files of each recording, in the order of each recording's first file.

    Raises
    ------
    WorkbenchError
        A path is not a file, or two files share a name.
    """
    from covwb.io.eeg import eeg_suffix, group_recordings
    from covwb.io.uploads import UploadedBytes

    by_name: dict[str, Path] = {}
    for path in paths:
        if not path.is_file():
            raise WorkbenchError(f"'{path}' is not a file; give the EEG files to evaluate.")
        if path.name in by_name:
            raise WorkbenchError(f"two files are named '{path.name}' ({by_name[path.name]}, {path}); rename one.")
        by_name[path.name] = path
    headers = [
        UploadedBytes(name, path.read_bytes() if eeg_suffix(name) in (".vhdr", ".set") else b"")
        for name, path in by_name.items()
    ]
    return [[by_name[f.name] for f in group] for group in group_recordings(headers)]


def read_recording(files: Sequence[Path]) -> Any:
    """Read the files of one recording with the app's reader (:func:`covwb.io.eeg.read_eeg`).

    Returns
    -------
    EEGDataset

    Raises
    ------
    WorkbenchError
        The files do not form one readable recording; the message names them.
    """
    from covwb.io.eeg import read_eeg
    from covwb.io.uploads import UploadedBytes

    try:
        return read_eeg([UploadedBytes(path.name, path.read_bytes()) for path in files])
    except WorkbenchError as error:
        raise WorkbenchError(f"{' + '.join(path.name for path in files)}: {error}") from error


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- the plan --------------------------------------------------------------------------------------------------------


def unit_output(evaluation: Any) -> dict[str, Any]:
    """Per-pipeline fold scores of one unit's :class:`~covwb.eeg.evaluation.Evaluation`, for the CSV rows.

    Returns
    -------
    dict
        ``metric`` (the selection metric), ``n_classes`` and ``pipelines``: per pipeline label, arrays over
        outer folds of ``score``, ``seconds``, ``test_session``, ``test_size``, ``order`` and ``lag``.
    """
    metric = evaluation.metrics[0]
    pipelines = {}
    for label, frame in evaluation.scores.groupby("pipeline", sort=False):
        sizes = evaluation.predictions[label].groupby("fold").size()
        pipelines[label] = {
            "score": frame[metric].to_numpy(float),
            "seconds": frame["seconds"].to_numpy(float),
            "test_session": frame["test_session"].astype(str).to_numpy(),
            "test_size": sizes.reindex(frame["fold"]).to_numpy(int),
            "order": frame["order"].to_numpy(float),
            "lag": frame["lag"].to_numpy(float),
        }
    return {"metric": metric, "n_classes": len(evaluation.classes), "pipelines": pipelines}


def _most_chosen(values: np.ndarray) -> float:
    """The value chosen in most folds (first among ties), NaN when none."""
    kept = [v for v in values.tolist() if not math.isnan(v)]
    return float(max(dict.fromkeys(kept), key=kept.count)) if kept else math.nan


def _rows(unit: Unit, out: dict[str, Any], n_trials: int, n_channels: int, scheme: str, dataset: str) -> list[dict]:
    """MOABB-layout rows of one unit's evaluation."""
    rows = []
    for pipeline, folds in out["pipelines"].items():
        common = {
            "n_classes": out["n_classes"],
            "subject": unit.subject,
            "channels": n_channels,
            "n_sessions": unit.n_sessions,
            "dataset": dataset,
            "pipeline": pipeline,
            "metric": out["metric"],
        }
        if scheme == "within":
            rows.append(
                {
                    "score": float(np.mean(folds["score"])),
                    "time": float(np.mean(folds["seconds"])),
                    "samples": n_trials,
                    "samples_test": int(np.mean(folds["test_size"])),
                    "session": unit.session,
                    **common,
                    "order": _most_chosen(folds["order"]),
                    "lag": _most_chosen(folds["lag"]),
                }
            )
            continue
        for i in range(len(folds["score"])):
            rows.append(
                {
                    "score": float(folds["score"][i]),
                    "time": float(folds["seconds"][i]),
                    "samples": n_trials - int(folds["test_size"][i]),
                    "samples_test": int(folds["test_size"][i]),
                    "session": str(folds["test_session"][i]),
                    **common,
                    "order": float(folds["order"][i]),
                    "lag": float(folds["lag"][i]),
                }
            )
    return rows


def _where(unit: Unit) -> str:
    return f"subject {unit.subject}" + (f", session {unit.session}" if unit.session else "")


def _combine(
    outcomes: dict[str, Any],
    units: dict[str, Unit],
    shapes: dict[str, tuple[int, ...]],
    scheme: str,
    dataset: str,
    settings: dict[str, Any],
    failures: tuple[str, ...],
) -> BatchResult:
    """The CSV rows of the evaluations that ran, in the units' order, and a sentence per one that failed."""
    import pandas as pd

    from covwb.jobs import Failed

    rows, failed = [], list(failures)
    for key, unit in units.items():
        outcome = outcomes.get(key)
        if isinstance(outcome, Failed):
            failed.append(f"{_where(unit)}: {outcome.message}")
        elif outcome is not None:
            n_trials, n_channels = shapes[key][:2]
            rows.extend(_rows(unit, unit_output(outcome), n_trials, n_channels, scheme, dataset))
    frame = pd.DataFrame(rows, columns=[*MOABB_COLUMNS, *EXTRA_COLUMNS])
    return BatchResult(results=frame, failures=tuple(failed), settings=settings)


def plan_acm_batch(
    subjects: dict[str, Any],
    *,
    options: dict[str, Any],
    scheme: str,
    dataset: str,
    settings: dict[str, Any],
) -> Any:
    """The batch as one :class:`~covwb.jobs.Plan`: every unit's evaluation plan, merged (module notes).

    Parameters
    ----------
    subjects : dict of str to SessionEpochs
        Epochs of each subject, sessions labelled.
    options : dict
        Keyword arguments of :func:`covwb.eeg.evaluation.plan_evaluation` besides the data.
    scheme : {"within", "cross"}
        Within-session k-fold per session, or leave one session out per subject.
    dataset : str
        The ``dataset`` column.
    settings : dict
        Recorded in the result.

    Returns
    -------
    Plan
        Its final ``combine`` returns a :class:`BatchResult`; a unit whose plan cannot be built (too few
        trials of a class for the folds, say) is among its failures without running.
    """
    from functools import partial

    from covwb.eeg.evaluation import plan_evaluation
    from covwb.jobs import merge_plans

    units, shapes, plans, failures = {}, {}, {}, []
    for subject, epochs in subjects.items():
        names = list(dict.fromkeys(epochs.sessions.tolist()))
        parts = [(s, epochs.sessions == s) for s in names] if scheme == "within" else [("", slice(None))]
        for session, mask in parts:
            unit = Unit(subject=subject, session=session, n_sessions=len(names))
            key = _where(unit).replace("/", "|")
            while key in units:
                key += "'"
            X, y, sessions = epochs.X[mask], epochs.y[mask], epochs.sessions[mask]
            try:
                plans[key] = plan_evaluation(X, y, sessions, scheme=scheme, **options)
            except WorkbenchError as error:
                failures.append(f"{_where(unit)}: {error}")
                continue
            units[key], shapes[key] = unit, X.shape
    finish = partial(
        _combine,
        units=units,
        shapes=shapes,
        scheme=scheme,
        dataset=dataset,
        settings=settings,
        failures=tuple(failures),
    )
    return merge_plans(plans, name="ACM evaluation", finish=finish)


# -- command line ----------------------------------------------------------------------------------------------------


def _range(text: str) -> tuple[int, ...]:
    """'1-4' -> (1, 2, 3, 4); '1,3,5' -> (1, 3, 5)."""
    try:
        if "-" in text:
            low, high = (int(v) for v in text.split("-", 1))
            values = tuple(range(low, high + 1))
        else:
            values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a range like 1-4 or a list like 1,3,5") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' must hold whole numbers of at least 1")
    return values


class _HelpWithDefaults(argparse.RawDescriptionHelpFormatter):
    """Appends "(default: …)" to options that have one and do not state it themselves."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, argparse.SUPPRESS) or "default" in text or not action.option_strings:
            return text
        value = action.default
        shown = (
            " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
            if isinstance(value, (list, tuple))
            else value
        )
        return f"{text} (default: {shown})"


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m covwb.batch`` argument parser."""
    from covwb.covariance.estimators import ESTIMATORS
    from covwb.eeg.evaluation import KERNELS
    from covwb.eeg.pipelines import PIPELINES
    from covwb.jobs.cluster import SCHEDULER_ENV

    parser = argparse.ArgumentParser(
        prog="python -m covwb.batch",
        description="Batches of Covariance Workbench analyses over many recordings, run as Dask jobs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    acm = commands.add_parser(
        "acm",
        help="evaluate the ACM pipelines and their baselines on many recordings; write a MOABB-layout CSV",
        description=(
            "Evaluate augmented-covariance (ACM) pipelines and their baselines with\n"
            "cross-validation on every recording or subject, as one Dask job, and write\n"
            "one CSV in MOABB's results layout (score, time, samples, samples_test,\n"
            "n_classes, subject, session, channels, n_sessions, dataset, pipeline; then\n"
            "metric, order, lag) with a .settings.json sidecar. Scores are ROC-AUC for\n"
            "two classes, accuracy for more, as in MOABB's motor-imagery paradigms."
        ),
        epilog=(
            "example:\n"
            "  python -m covwb.batch acm S001R04.edf S001R08.edf S002R04.edf S002R08.edf \\\n"
            "      --subjects 1 1 2 2 --classes T1 T2 --output eegmmidb.csv\n\n"
            "exit status: 0 every recording was evaluated; 1 a file, subject or evaluation\n"
            "failed on its data (each named in one sentence on standard error and left out\n"
            "of the CSV; the others are in it) or the job failed; 2 a wrong command line\n"
            "(nothing ran); 130 interrupted (nothing written)."
        ),
        formatter_class=_HelpWithDefaults,
    )
    acm.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="EEG recordings: EDF/BDF/GDF/FIF, BrainVision (.vhdr with its .vmrk and .eeg) or EEGLAB (.set with "
        "its .fdt); give companion files too",
    )
    data = acm.add_argument_group("data")
    data.add_argument(
        "--subjects",
        nargs="+",
        metavar="LABEL",
        help="subject of each recording, in order; recordings of one subject are joined (default: each "
        "recording is a subject named after its file)",
    )
    data.add_argument(
        "--sessions",
        nargs="+",
        metavar="LABEL",
        help="session of each recording, in order (default: the sessions in a recording's annotations, else 1)",
    )
    data.add_argument("--dataset", help="the dataset column (default: the folder of the first file)")
    data.add_argument(
        "--classes",
        nargs="+",
        metavar="LABEL",
        help="event labels to classify (default: the first recording's first two)",
    )
    data.add_argument("--channels", nargs="+", metavar="NAME", help="channels (default: EEG channels not marked bad)")
    data.add_argument("--tmin", type=float, default=0.5, help="window start, seconds after each event")
    data.add_argument("--tmax", type=float, default=2.5, help="window end, seconds after each event")
    data.add_argument("--band", type=float, nargs=2, default=(8.0, 35.0), metavar=("LOW", "HIGH"), help="band-pass, Hz")
    method = acm.add_argument_group("evaluation")
    method.add_argument(
        "--pipelines",
        nargs="+",
        choices=list(PIPELINES),
        default=list(DEFAULT_PIPELINES),
        metavar="KEY",
        help=f"pipelines, among {', '.join(PIPELINES)}",
    )
    method.add_argument(
        "--evaluation",
        choices=["within", "cross"],
        default="within",
        help="within-session k-fold per session, or leave one session out per subject",
    )
    method.add_argument("--folds", type=int, default=5, help="folds of the within-session evaluation")
    method.add_argument("--inner-folds", type=int, default=3, help="inner folds of the order x lag search")
    method.add_argument(
        "--selection", choices=["grid", "takens"], default="grid", help="ACM order and lag: nested grid or Takens"
    )
    method.add_argument("--orders", type=_range, default="1-4", help="ACM orders searched, e.g. 1-4 or 1,3,5")
    method.add_argument("--lags", type=_range, default="1-5", help="ACM lags searched, in samples, e.g. 1-5")
    method.add_argument("--svm-c", type=float, nargs="+", default=[0.5, 1.0, 1.5], metavar="C", help="SVM C values")
    method.add_argument("--kernels", nargs="+", choices=list(KERNELS), default=list(KERNELS), help="SVM kernels")
    method.add_argument(
        "--estimator",
        choices=list(ESTIMATORS),
        default="oas",
        help="covariance estimator; OAS stays well conditioned at high orders on many channels, where the "
        "sample estimator does not",
    )
    method.add_argument("--seed", type=int, default=42, help="seed of every shuffle")
    run = acm.add_argument_group("running")
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=f"Dask scheduler to run on, e.g. tcp://10.0.0.5:8786 (default: ${SCHEDULER_ENV}, else a local "
        "cluster on this machine)",
    )
    run.add_argument("--workers", type=int, help="worker processes of the local cluster (default: one per core)")
    run.add_argument("--output", type=Path, default=Path("acm-results.csv"), help="the results CSV to write")
    return parser


def _epochs_by_subject(args: argparse.Namespace, groups: list[list[Path]]) -> tuple[dict[str, Any], list[str]]:
    """Read the recordings one by one, join each subject's, and cut the epochs of every session.

    A subject's recordings are held only until its last one is read; then only its epochs are kept.
    Returns the epochs by subject and one sentence per recording or subject that could not be used.

    Raises
    ------
    WorkbenchError
        The command line is inconsistent (label counts, two recordings of one name without ``--subjects``).
    """
    n = len(groups)
    for option in ("subjects", "sessions"):
        given = getattr(args, option)
        if given is not None and len(given) != n:
            raise WorkbenchError(f"--{option} gives {len(given)} labels for {n} recordings; give one per recording.")
    labels = [str(s) for s in args.subjects] if args.subjects else None
    expected = {s: labels.count(s) for s in labels} if labels else {}
    pending: dict[str, list[tuple[int, Any]]] = {}
    out: dict[str, Any] = {}
    failures: list[str] = []
    broken: set[str] = set()
    for i, files in enumerate(groups):
        if labels and labels[i] in broken:
            continue
        try:
            dataset = read_recording(files)
        except WorkbenchError as error:
            if labels and expected[labels[i]] > 1:
                broken.add(labels[i])
                pending.pop(labels[i], None)
                failures.append(f"{error} Subject {labels[i]}'s other recordings are left out too.")
            else:
                failures.append(str(error))
            continue
        subject = labels[i] if labels else dataset.name
        if not labels and (subject in out or subject in pending):
            raise WorkbenchError(f"two recordings are named '{subject}'; tell them apart with --subjects.")
        pending.setdefault(subject, []).append((i, dataset))
        if len(pending[subject]) == expected.get(subject, 1):
            try:
                out[subject] = _subject_epochs(args, subject, pending.pop(subject))
            except WorkbenchError as error:
                failures.append(str(error))
    return out, failures


def _subject_epochs(args: argparse.Namespace, subject: str, members: list[tuple[int, Any]]) -> Any:
    """The epochs of one subject's recordings, sessions labelled; sets ``args.classes`` on first use."""
    from covwb.eeg.events import find_trial_events
    from covwb.eeg.sessions import combine_recordings, session_epochs

    names = [dataset.name for _, dataset in members]
    if args.sessions:
        sessions = [str(args.sessions[i]) for i, _ in members]
    else:
        sessions = [] if len(members) == 1 else ["1"] * len(members)
    try:
        recording = combine_recordings([dataset.raw for _, dataset in members], sessions, names)
        events = find_trial_events(recording.raw)
        if args.classes is None:
            args.classes = list(events.event_id)[:2]
        return session_epochs(
            recording,
            events,
            classes=args.classes,
            tmin=args.tmin,
            tmax=args.tmax,
            band=tuple(args.band),
            picks=args.channels,
        )
    except WorkbenchError as error:
        raise WorkbenchError(f"subject {subject} ({', '.join(names)}): {error}") from error


def _progress_printer() -> Any:
    last = {"text": ""}

    def show(fraction: float, text: str) -> None:
        if text != last["text"]:
            print(f"[{fraction:6.1%}] {text}", file=sys.stderr, flush=True)
            last["text"] = text

    return show


def run_acm(args: argparse.Namespace) -> int:
    """The ``acm`` command; returns the exit status."""
    from covwb.eeg.evaluation import SearchGrid
    from covwb.export import settings_json
    from covwb.jobs import DaskRunner, cluster
    from covwb.runtime import limit_threads

    limit_threads()
    start = time.perf_counter()
    subjects, unread = _epochs_by_subject(args, recording_files(args.files))
    if not subjects:
        for failure in unread:
            print(f"Not evaluated: {failure}", file=sys.stderr)
        print("covwb.batch: no recording could be evaluated; nothing was written.", file=sys.stderr)
        return 1
    dataset = args.dataset or args.files[0].resolve().parent.name or "recordings"
    options = {
        "pipelines": list(args.pipelines),
        "n_folds": args.folds,
        "selection": args.selection,
        "grid": SearchGrid(
            orders=args.orders, lags=args.lags, svm_C=tuple(sorted(args.svm_c)), kernels=tuple(args.kernels)
        ),
        "estimator": args.estimator,
        "inner_folds": args.inner_folds,
        "seed": args.seed,
    }
    settings = {
        "command": "acm",
        "files": {str(path): _sha256(path) for path in args.files},
        "subjects": {s: sorted(set(e.sessions.tolist())) for s, e in subjects.items()},
        "dataset": dataset,
        "classes": list(args.classes),
        "channels": args.channels or "EEG channels not marked bad",
        "tmin_s": args.tmin,
        "tmax_s": args.tmax,
        "band_hz": list(args.band),
        "evaluation": args.evaluation,
        "pipelines": list(args.pipelines),
        "n_folds": args.folds,
        "inner_folds": args.inner_folds,
        "selection": args.selection,
        "orders": list(args.orders),
        "lags_samples": list(args.lags),
        "svm_C": sorted(args.svm_c),
        "kernels": list(args.kernels),
        "estimator": args.estimator,
        "seed": args.seed,
    }
    plan = plan_acm_batch(subjects, options=options, scheme=args.evaluation, dataset=dataset, settings=settings)
    if args.scheduler or args.workers:
        cluster.configure(scheduler=args.scheduler, n_workers=args.workers)
    print(
        f"{len(subjects)} subject(s) read in {time.perf_counter() - start:.0f} s; {len(plan.tasks)} search tasks. "
        f"{cluster.describe()}",
        file=sys.stderr,
    )
    try:
        batch = DaskRunner().run(plan, prefix=f"covwb-batch-{secrets.token_hex(6)}", progress=_progress_printer())
    except WorkbenchError as error:  # the cluster, not the input: exit status 1
        print(f"covwb.batch: the job failed: {error}", file=sys.stderr)
        return 1
    finally:
        cluster.close_client()
    failures = [*unread, *batch.failures]
    for failure in failures:
        print(f"Not evaluated: {failure}", file=sys.stderr)
    if batch.results.empty:
        print("covwb.batch: no evaluation finished; nothing was written.", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    batch.results.to_csv(args.output, index=False)
    sidecar = args.output.with_name(args.output.stem + ".settings.json")
    settings = {**batch.settings, "not_evaluated": failures}
    sidecar.write_text(settings_json(settings, name=args.output.stem, kind="table"), encoding="utf-8")
    print(f"Wrote {len(batch.results)} rows to {args.output} (settings in {sidecar.name}).", file=sys.stderr)
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m covwb.batch``; returns the exit status (0 ok, 1 bad data or a failed job, 2 bad command line)."""
    from covwb.jobs import Cancelled

    args = build_parser().parse_args(argv)
    try:
        return run_acm(args)
    except WorkbenchError as error:
        print(f"covwb.batch: {error}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Cancelled):
        print("covwb.batch: cancelled; nothing was written.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
