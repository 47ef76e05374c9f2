"""Trial events of a continuous recording: from its annotations, else from a trigger channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from covwb.errors import EEGFormatError

_IGNORED_PREFIXES = ("bad", "edge")


@dataclass(frozen=True)
class TrialEvents:
    """Events marking trials in a continuous recording.

    Parameters
    ----------
    events : numpy.ndarray of int, shape (n_events, 3)
        MNE events: sample index (including ``raw.first_samp``), previous value, code.
    event_id : dict of str to int
        Label of each code.
    origin : str
        ``"annotations"`` or ``"stim channel '<name>'"``.
    counts : dict of str to int
        Number of events of each label.
    """

    events: np.ndarray
    event_id: dict[str, int]
    origin: str
    counts: dict[str, int]


def _trial_labels(descriptions: np.ndarray) -> list[str]:
    """Annotation descriptions that can mark trials (not BAD_*, EDGE, bad or edge ones), sorted."""
    kept = {str(d) for d in descriptions if not str(d).strip().lower().startswith(_IGNORED_PREFIXES)}
    return sorted(kept)


def _codes_for(labels: list[str]) -> dict[str, int]:
    """Codes of labels: their own value when all are distinct positive integers, else 1..n in label order."""
    if all(label.isdigit() for label in labels):
        values = [int(label) for label in labels]
        if len(set(values)) == len(values) and min(values) > 0 and max(values) < 2**31:
            return dict(zip(labels, values))
    return {label: code for code, label in enumerate(labels, start=1)}


def _counts(events: np.ndarray, event_id: dict[str, int]) -> dict[str, int]:
    """Number of events of each label."""
    return {label: int(np.count_nonzero(events[:, 2] == code)) for label, code in event_id.items()}


def _from_annotations(raw: Any) -> TrialEvents | None:
    """Events from the recording's annotations, or ``None`` when none can mark a trial."""
    import mne

    labels = _trial_labels(raw.annotations.description)
    if not labels:
        return None
    event_id = _codes_for(labels)
    events, used = mne.events_from_annotations(raw, event_id=event_id, verbose="error")
    if len(events) == 0:
        return None
    events = np.asarray(events, dtype=np.int64)
    used = {label: int(code) for label, code in used.items()}
    return TrialEvents(events=events, event_id=used, origin="annotations", counts=_counts(events, used))


def _from_stim_channels(raw: Any) -> tuple[TrialEvents | None, list[str]]:
    """Events from the first trigger channel that has any, and the names of the trigger channels."""
    import mne

    names = [raw.ch_names[i] for i in mne.pick_types(raw.info, meg=False, stim=True, exclude=[])]
    for name in names:
        events = np.asarray(mne.find_events(raw, stim_channel=name, shortest_event=1, verbose="error"), dtype=np.int64)
        if len(events):
            codes = np.unique(events[:, 2])
            event_id = {str(int(code)): int(code) for code in codes}
            origin = f"stim channel '{name}'"
            return TrialEvents(events=events, event_id=event_id, origin=origin, counts=_counts(events, event_id)), names
    return None, names


def find_trial_events(raw: Any) -> TrialEvents:
    """Find the events that mark trials: annotations first, else a trigger (stim) channel.

    Annotations whose description starts with ``BAD``/``EDGE`` (any case) are ignored;
    the others are numbered with an explicit ``event_id`` (their own values when all
    labels are positive integers such as ``'769'``, else 1..n in alphabetical order).
    Trigger channels are read with ``mne.find_events(..., shortest_event=1)`` and labelled
    ``str(code)``.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Continuous recording.

    Returns
    -------
    TrialEvents
        ``events`` of shape (n_events, 3), their labels, origin and per-label counts.

    Raises
    ------
    EEGFormatError
        When the recording has neither usable annotations nor events on a trigger channel.

    Examples
    --------
    >>> import mne, numpy as np
    >>> raw = mne.io.RawArray(np.zeros((2, 1000)), mne.create_info(["C3", "C4"], 100.0, "eeg"), verbose=False)
    >>> _ = raw.set_annotations(mne.Annotations([1.0, 3.0, 5.0], 0.5, ["left", "right", "left"]))
    >>> events = find_trial_events(raw)
    >>> events.event_id, events.counts, events.origin
    ({'left': 1, 'right': 2}, {'left': 2, 'right': 1}, 'annotations')
    """
    found = _from_annotations(raw)
    if found is not None:
        return found
    found, stim_names = _from_stim_channels(raw)
    if found is not None:
        return found
    if stim_names:
        channels = ", ".join(f"'{n}'" for n in stim_names)
        raise EEGFormatError(
            f"no events: the recording has no trial annotations and its trigger channel(s) {channels} "
            "never change value; upload a recording with event markers."
        )
    raise EEGFormatError(
        "no events: the recording has neither annotations nor a trigger channel; "
        "upload a recording with event markers (annotations or a stim channel)."
    )


def _session_text(extra: dict[str, Any] | None) -> str | None:
    """The ``session`` entry of an annotation's extras as text, or ``None`` when absent or NaN."""
    value = (extra or {}).get("session")
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def trial_sessions(raw: Any, events: TrialEvents) -> np.ndarray:
    """Session label of each event, from the ``session`` extra field of its annotation.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording the events were found in.
    events : TrialEvents
        Events from :func:`find_trial_events` on ``raw``.

    Returns
    -------
    numpy.ndarray of str, shape (n_events,)
        The annotation's ``extras["session"]`` as text, or ``"1"`` where the events come
        from a trigger channel or the annotation carries no session.
    """
    n_events = len(events.events)
    if events.origin != "annotations" or n_events == 0:
        return np.full(n_events, "1")
    annotations = raw.annotations
    samples = raw.time_as_index(annotations.onset, use_rounding=True, origin=annotations.orig_time)
    if annotations.orig_time is not None:
        samples = samples + raw.first_samp
    extras = annotations.extras if annotations.extras is not None else [{}] * len(annotations)
    lookup: dict[tuple[int, int], str] = {}
    for sample, description, extra in zip(samples, annotations.description, extras):
        code = events.event_id.get(str(description))
        session = _session_text(extra)
        if code is not None and session is not None:
            lookup.setdefault((int(sample), code), session)
    return np.array([lookup.get((int(s), int(c)), "1") for s, _, c in events.events], dtype=str)
