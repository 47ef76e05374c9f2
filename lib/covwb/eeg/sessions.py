"""Several recordings as one, and epochs that remember their session.

Uploads of one recording per run are concatenated with ``mne.concatenate_raws`` (which marks
each join with ``BAD boundary``/``EDGE boundary`` annotations, so filters and epochs do not
cross it). Each file gets a session label chosen by the user; a single recording takes its
sessions from the annotations' ``session`` extra field (:func:`covwb.eeg.events.trial_sessions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from covwb.eeg.epochs import extract_epochs
from covwb.eeg.events import TrialEvents, trial_sessions
from covwb.errors import ParameterError


@dataclass(frozen=True)
class Recording:
    """One continuous recording made of one or several files.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Preloaded recording in volts.
    starts : ndarray of int, shape (n_files,)
        First sample (including ``raw.first_samp``) of each file.
    sessions : tuple of str
        Session label of each file; empty for one file whose sessions come from its annotations.
    """

    raw: Any
    starts: np.ndarray
    sessions: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class SessionEpochs:
    """Epochs with their session labels.

    Parameters
    ----------
    X : ndarray of float64, shape (n_trials, n_channels, n_times)
        Band-passed epochs in µV, session after session.
    y : ndarray of str, shape (n_trials,)
        Class labels.
    sessions : ndarray of str, shape (n_trials,)
        Session of each trial.
    ch_names : tuple of str
        Channel names.
    sfreq : float
        Sampling rate in Hz.
    settings : dict
        What :func:`covwb.eeg.epochs.extract_epochs` did, per session counts included.
    warnings : tuple of str
        The warnings of :func:`covwb.eeg.epochs.extract_epochs` for each session (named when
        there are several).
    """

    X: np.ndarray
    y: np.ndarray
    sessions: np.ndarray
    ch_names: tuple[str, ...]
    sfreq: float
    settings: dict[str, Any]
    warnings: tuple[str, ...] = ()


def combine_recordings(raws: Sequence[Any], sessions: Sequence[str], names: Sequence[str]) -> Recording:
    """Concatenate recordings of the same channels and rate, one session label per file.

    Parameters
    ----------
    raws : sequence of mne.io.BaseRaw
        Preloaded recordings in upload order (not modified).
    sessions : sequence of str
        Session label of each recording; empty for one recording whose annotations carry its sessions.
    names : sequence of str
        File names, for error messages.

    Returns
    -------
    Recording

    Raises
    ------
    ParameterError
        Different channels or sampling rates, an empty session label, or mismatched lengths.
    """
    import mne

    if not raws or len(raws) != len(names) or (sessions and len(sessions) != len(raws)):
        raise ParameterError("give one name per recording, and one session label per recording or none.")
    labels = tuple(str(s).strip() for s in sessions)
    for name, label in zip(names, labels):
        if not label:
            raise ParameterError(f"the session label of '{name}' is empty; give every file a session label.")
    first = raws[0]
    for name, raw in zip(names[1:], raws[1:]):
        if list(raw.ch_names) != list(first.ch_names):
            raise ParameterError(
                f"'{name}' has channels {', '.join(raw.ch_names[:6])}... but '{names[0]}' has "
                f"{', '.join(first.ch_names[:6])}...; upload recordings with the same channels in the same order."
            )
        if float(raw.info["sfreq"]) != float(first.info["sfreq"]):
            raise ParameterError(
                f"'{name}' is sampled at {raw.info['sfreq']:g} Hz but '{names[0]}' at {first.info['sfreq']:g} Hz; "
                "upload recordings with one sampling rate."
            )
    lengths = np.array([raw.n_times for raw in raws])
    starts = first.first_samp + np.concatenate([[0], np.cumsum(lengths[:-1])])
    if len(raws) == 1:
        return Recording(raw=first, starts=starts, sessions=labels)
    combined = mne.concatenate_raws([raw.copy() for raw in raws], verbose="error")
    return Recording(raw=combined, starts=starts, sessions=labels)


def event_sessions(recording: Recording, events: TrialEvents) -> np.ndarray:
    """Session of each event: its file's label, or the annotation's ``session`` for a single file.

    Returns
    -------
    ndarray of str, shape (n_events,)
    """
    if len(recording.starts) == 1 and not recording.sessions:
        return trial_sessions(recording.raw, events)
    if len(recording.starts) == 1:
        found = trial_sessions(recording.raw, events)
        return found if len(np.unique(found)) > 1 else np.full(len(found), recording.sessions[0])
    files = np.searchsorted(recording.starts, events.events[:, 0], side="right") - 1
    return np.asarray(recording.sessions, dtype=str)[np.clip(files, 0, len(recording.sessions) - 1)]


def session_epochs(
    recording: Recording,
    events: TrialEvents,
    *,
    classes: Sequence[str],
    tmin: float,
    tmax: float,
    band: tuple[float, float] | None = (8.0, 35.0),
    picks: Sequence[str] | None = None,
) -> SessionEpochs:
    """Epochs of each session, cut by :func:`covwb.eeg.epochs.extract_epochs` and stacked.

    Parameters
    ----------
    recording : Recording
        The (combined) recording.
    events : TrialEvents
        Events found on ``recording.raw``.
    classes, tmin, tmax, band, picks
        As for :func:`~covwb.eeg.epochs.extract_epochs`.

    Returns
    -------
    SessionEpochs

    Raises
    ------
    ParameterError
        As :func:`~covwb.eeg.epochs.extract_epochs`, naming the session where it applies.
    """
    labels = event_sessions(recording, events)
    chosen = [str(c) for c in classes]
    codes = [events.event_id[c] for c in chosen if c in events.event_id]
    parts, settings = [], {}
    for session in dict.fromkeys(labels.tolist()):
        mask = labels == session
        if not np.isin(events.events[mask, 2], codes).any():
            continue
        sub = events.events[mask]
        counts = {k: int(np.count_nonzero(sub[:, 2] == v)) for k, v in events.event_id.items()}
        subset = TrialEvents(events=sub, event_id=events.event_id, origin=events.origin, counts=counts)
        try:
            ep = extract_epochs(
                recording.raw, classes=chosen, tmin=tmin, tmax=tmax, band=band, picks=picks, events=subset
            )
        except ParameterError as error:
            where = f"in session '{session}': " if len(set(labels.tolist())) > 1 else ""
            raise ParameterError(where + str(error)) from error
        parts.append((session, ep))
        settings[session] = ep.settings
    if not parts:
        shown = ", ".join(chosen)
        raise ParameterError(f"no trial of the classes {shown} was found; choose classes the recording has.")
    first = parts[0][1]
    several = len(parts) > 1
    warnings = tuple(
        (f"Session '{session}': {warning}" if several else warning) for session, ep in parts for warning in ep.warnings
    )
    return SessionEpochs(
        X=np.concatenate([ep.X for _, ep in parts]),
        y=np.concatenate([ep.y for _, ep in parts]),
        sessions=np.concatenate([np.full(len(ep.y), session) for session, ep in parts]),
        ch_names=first.ch_names,
        sfreq=first.sfreq,
        settings={
            **{k: v for k, v in first.settings.items() if k not in ("n_trials", "dropped")},
            "sessions": {s: {"n_trials": v["n_trials"], "dropped": v["dropped"]} for s, v in settings.items()},
        },
        warnings=warnings,
    )
