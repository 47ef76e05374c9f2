"""Band-pass filtered trial epochs (in microvolts) and power spectra of a continuous recording."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from covwb.eeg.events import TrialEvents, find_trial_events
from covwb.errors import ParameterError
from covwb.settings import Settings, setting

_VOLTAGE_TYPES = frozenset({"eeg", "eog", "emg", "ecg", "seeg", "ecog", "dbs"})
_TO_MICROVOLTS = 1e6
_FLAT_RELATIVE = 1e-7
"""A channel whose standard deviation in a trial is below this fraction of the median one is flat."""


DEFAULT_BAND = (8.0, 35.0)
"""Band-pass edges of :class:`EpochSettings` by default, in Hz (mu and beta rhythms)."""
_BAND_MARGIN_HZ = 0.5
"""The highest band edge a recording takes lies this far below its Nyquist frequency."""


@dataclass(frozen=True)
class EpochSettings(Settings):
    """How epochs are cut: the classes, window, band and channels, in one frozen settings object.

    It is at once the arguments of :func:`extract_epochs` (``**settings.as_kwargs()``) or
    :func:`covwb.eeg.sessions.session_epochs`, a cache key, and the exported settings
    (:meth:`~covwb.settings.Settings.to_dict`); nested in a page's settings (the explorer's ``epochs``),
    it also travels in links and generated scripts. :meth:`resolve` makes the automatic values explicit
    for a recording.

    Parameters
    ----------
    classes : tuple of str or None, default None
        Event labels to keep (at least two when epoching); None for the recording's first two labels.
    tmin, tmax : float, default 0.5 and 2.5
        Window around each event, in seconds (-60 to 3600), both ends included.
    band : tuple of (float, float) or None, default (8.0, 35.0)
        Band-pass edges in Hz; ``None`` for no filter. :meth:`resolve` fits the default band below the
        Nyquist frequency of a slowly sampled recording.
    channels : tuple of str or None, default None
        Channel names; ``None`` for the EEG channels not marked bad.

    Examples
    --------
    >>> settings = EpochSettings(classes=("left_hand", "right_hand"), tmin=0.5, tmax=2.5)
    >>> settings.as_kwargs()["picks"] is None, settings.to_dict()["band"]
    (True, [8.0, 35.0])
    >>> from covwb.datasets import load
    >>> resolved, notes = EpochSettings(tmax=3.0).resolve(load("simulated_eeg", n_trials_per_class=4, n_sessions=1))
    >>> resolved.classes, len(resolved.channels), notes
    (('left_hand', 'right_hand'), 22, ())
    """

    classes: tuple[str, ...] | None = setting(None, label="Classes")
    tmin: float = setting(0.5, label="Window start (s after the event)", low=-60.0, high=3600.0)
    tmax: float = setting(2.5, label="Window end (s)", low=-60.0, high=3600.0)
    band: tuple[float, float] | None = setting(DEFAULT_BAND, label="Band-pass (Hz)", low=0.0)
    channels: tuple[str, ...] | None = setting(None, label="Channels")

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`extract_epochs` and ``session_epochs`` (``events`` aside)."""
        return {
            "classes": list(self.classes or ()),
            "tmin": self.tmin,
            "tmax": self.tmax,
            "band": self.band,
            "picks": None if self.channels is None else list(self.channels),
        }

    def resolve(self, data: Any, *, events: TrialEvents | None = None) -> tuple[EpochSettings, tuple[str, ...]]:
        """These settings made explicit for a recording, with a sentence for each value it cannot take.

        Parameters
        ----------
        data : EEGDataset or mne.io.BaseRaw
            The recording.
        events : TrialEvents or None
            Its events; found with :func:`find_trial_events` when None.

        Returns
        -------
        settings : EpochSettings
            Explicit classes (the first two labels; None when the recording has no events), channels (the
            EEG channels not marked bad; None when it has none) and band (the default band, its high edge
            kept 0.5 Hz below the Nyquist frequency).
        notes : tuple of str
            One sentence per value replaced because the recording lacks it (a class, a channel, a band
            above its Nyquist frequency); the default band is fitted without a note.
        """
        import mne

        from covwb.errors import WorkbenchError

        raw = getattr(data, "raw", data)
        notes: list[str] = []
        if events is None:
            try:
                events = find_trial_events(raw)
            except WorkbenchError:
                events = None
        labels = None if events is None else tuple(events.event_id)
        classes = self.classes
        if classes is not None and labels is not None and not set(classes) <= set(labels):
            missing = next(c for c in classes if c not in labels)
            notes.append(f"The recording has no events labelled {missing!r}; the page uses its first two labels.")
            classes = None
        if classes is None and labels is not None:
            classes = labels[:2]
        names = list(raw.ch_names)
        channels = self.channels
        if channels is not None and not set(channels) <= set(names):
            missing = next(c for c in channels if c not in names)
            notes.append(f"The recording has no channel {missing!r}; the epochs use its EEG channels.")
            channels = None
        if channels is None:
            channels = tuple(names[i] for i in mne.pick_types(raw.info, eeg=True, exclude="bads")) or None
        sfreq = float(raw.info["sfreq"])
        top = sfreq / 2 - _BAND_MARGIN_HZ
        band = self.band
        if band is not None and not _BAND_MARGIN_HZ <= band[0] < band[1] <= top:
            if band != DEFAULT_BAND:
                notes.append(
                    f"The band-pass {band[0]:g}-{band[1]:g} Hz does not fit this recording (Nyquist frequency "
                    f"{sfreq / 2:g} Hz); the page uses its default band."
                )
            band = (min(DEFAULT_BAND[0], top / 2), min(DEFAULT_BAND[1], top))
        return self.replace(classes=classes, channels=channels, band=band), tuple(notes)


@dataclass(frozen=True)
class EpochData:
    """Epochs of a recording, ready for covariance estimation.

    Parameters
    ----------
    X : numpy.ndarray of float64, shape (n_trials, n_channels, n_times)
        Filtered samples in microvolts.
    y : numpy.ndarray of str, shape (n_trials,)
        Class label of each trial.
    ch_names : tuple of str
        Channel names, length n_channels.
    sfreq : float
        Sampling rate in Hz.
    times : numpy.ndarray of float64, shape (n_times,)
        Time of each sample relative to the event, in seconds (``tmin`` to ``tmax`` inclusive).
    settings : dict
        What was done: classes, window, band, filter, channels, event origin, trial counts, drops.
    warnings : tuple of str
        Sentences on epochs that may mislead, each saying what to do: a window that runs past
        the next event (the epoch then holds the start of what follows).
    """

    X: np.ndarray
    y: np.ndarray
    ch_names: tuple[str, ...]
    sfreq: float
    times: np.ndarray
    settings: dict[str, Any]
    warnings: tuple[str, ...] = ()


def _check_classes(classes: Sequence[str]) -> list[str]:
    """Distinct class labels in the given order; ParameterError for fewer than two."""
    if isinstance(classes, str):
        classes = [classes]
    chosen = list(dict.fromkeys(str(c) for c in classes))
    if len(chosen) < 2:
        shown = f"only '{chosen[0]}' is" if chosen else "none is"
        raise ParameterError(f"choose at least two classes to compare; {shown} selected.")
    return chosen


def _check_window(tmin: float, tmax: float) -> tuple[float, float]:
    """Finite window with ``tmax > tmin``, in seconds."""
    tmin, tmax = float(tmin), float(tmax)
    if not (np.isfinite(tmin) and np.isfinite(tmax)):
        raise ParameterError(f"the epoch window {tmin} to {tmax} s is not a pair of finite numbers; enter seconds.")
    if tmax <= tmin:
        raise ParameterError(f"the epoch window is empty: tmax ({tmax:g} s) must be later than tmin ({tmin:g} s).")
    return tmin, tmax


def _check_band(band: tuple[float, float] | None, sfreq: float) -> tuple[float, float] | None:
    """Band-pass edges inside (0, Nyquist) with low < high, in Hz, or ``None``."""
    if band is None:
        return None
    try:
        low, high = (float(edge) for edge in band)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"the band {band!r} is not a pair of frequencies in Hz; enter (low, high).") from exc
    nyquist = sfreq / 2.0
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0.0 or high >= nyquist:
        raise ParameterError(
            f"the band {low:g}-{high:g} Hz must lie strictly between 0 Hz and the Nyquist frequency "
            f"({nyquist:g} Hz at {sfreq:g} Hz sampling); choose edges inside that range."
        )
    if low >= high:
        raise ParameterError(f"the band {low:g}-{high:g} Hz is empty: its low edge must be below its high edge.")
    return low, high


def _resolve_picks(raw: Any, picks: Sequence[str] | None) -> list[str]:
    """Channel names to use: the given ones (checked), or the good EEG channels."""
    import mne

    if picks is None:
        names = [raw.ch_names[i] for i in mne.pick_types(raw.info, eeg=True, exclude="bads")]
        if not names:
            raise ParameterError("the recording has no good EEG channel; select the channels to use explicitly.")
        return names
    names = [picks] if isinstance(picks, str) else [str(p) for p in picks]
    if not names:
        raise ParameterError("no channel is selected; select at least one EEG channel.")
    known = set(raw.ch_names)
    for name in names:
        if name not in known:
            raise ParameterError(f"unknown channel '{name}'; the recording's channels are: {', '.join(raw.ch_names)}.")
    repeated = [n for n in dict.fromkeys(names) if names.count(n) > 1]
    if repeated:
        raise ParameterError(f"channel '{repeated[0]}' is selected twice; select each channel once.")
    for name, kind in zip(names, raw.get_channel_types(picks=names)):
        if kind not in _VOLTAGE_TYPES:
            raise ParameterError(
                f"channel '{name}' is a {kind} channel, not a voltage (EEG) channel; leave it out of the selection."
            )
    return names


def _check_finite(raw: Any, names: list[str]) -> None:
    """ParameterError naming the first channel with NaN or infinite samples."""
    data = raw.get_data(picks=names)
    finite = np.isfinite(data)
    if not finite.all():
        row = int(np.flatnonzero(~finite.all(axis=1))[0])
        first = int(np.argmin(finite[row]))
        raise ParameterError(
            f"channel '{names[row]}' has NaN or infinite samples from {raw.times[first]:.3f} s; "
            "leave it out or repair the recording."
        )


def _select_events(events: TrialEvents, classes: list[str]) -> tuple[np.ndarray, dict[str, int]]:
    """Events of the chosen classes and their ids; ParameterError for unknown or rare classes."""
    for label in classes:
        if label not in events.event_id:
            raise ParameterError(
                f"unknown class '{label}'; the recording's event labels are: {', '.join(events.event_id)}."
            )
    event_id = {label: events.event_id[label] for label in classes}
    selected = events.events[np.isin(events.events[:, 2], list(event_id.values()))]
    _check_counts(selected, event_id, "in the recording")
    return selected, event_id


def _check_counts(events: np.ndarray, event_id: dict[str, int], where: str) -> dict[str, int]:
    """Trials per class; ParameterError when a class has fewer than two."""
    counts = {label: int(np.count_nonzero(events[:, 2] == code)) for label, code in event_id.items()}
    for label, n in counts.items():
        if n < 2:
            raise ParameterError(
                f"class '{label}' has {n} trial(s) {where}; each class needs at least 2 trials "
                "(choose other classes or a window that fits more trials)."
            )
    return counts


def _inside_recording(raw: Any, events: np.ndarray, tmin: float, tmax: float) -> np.ndarray:
    """Events whose window [tmin, tmax] lies within the recording; ParameterError when none does."""
    sfreq = float(raw.info["sfreq"])
    start = events[:, 0] + int(round(tmin * sfreq))
    stop = events[:, 0] + int(round(tmax * sfreq))
    inside = (start >= raw.first_samp) & (stop <= raw.last_samp)
    if not inside.any():
        raise ParameterError(
            f"the window {tmin:g} to {tmax:g} s around the events falls outside the recording "
            f"({raw.times[-1]:.2f} s long) for every trial; choose a window closer to the events."
        )
    return events[inside]


def _check_not_flat(X: np.ndarray, names: list[str]) -> None:
    """ParameterError naming a channel that is flat (zero variance) in some trial."""
    spread = X.std(axis=2)
    reference = np.median(spread)
    flat = spread <= _FLAT_RELATIVE * reference if reference > 0 else np.ones_like(spread, dtype=bool)
    if flat.any():
        channel = int(np.flatnonzero(flat.any(axis=0))[0])
        n_trials = int(flat[:, channel].sum())
        raise ParameterError(
            f"channel '{names[channel]}' is flat (no variation) in {n_trials} of {len(X)} trial(s); "
            "leave it out of the selection."
        )


def _past_next_event(
    all_events: np.ndarray, kept: np.ndarray, labels: np.ndarray, sfreq: float, tmin: float, tmax: float
) -> str | None:
    """A warning when the window of some kept epochs ends after the onset of the next event of any label."""
    onsets = np.unique(all_events[:, 0])
    following = np.searchsorted(onsets, kept[:, 0], side="right")
    has_next = following < onsets.size
    gap = np.where(has_next, onsets[np.minimum(following, onsets.size - 1)] - kept[:, 0], np.iinfo(np.int64).max)
    over = has_next & (int(round(tmax * sfreq)) > gap)
    if not over.any():
        return None
    classes, counts = np.unique(labels[over], return_counts=True)
    per_class = ", ".join(f"'{c}' x{n}" for c, n in zip(classes, counts))
    shortest = float(gap[over].min()) / sfreq
    return (
        f"The window {tmin:g} to {tmax:g} s runs past the next event in {int(over.sum())} of {len(kept)} epochs "
        f"({per_class}; the shortest gap to the next event is {shortest:.2f} s), so those epochs hold the start "
        f"of what follows; end the window before {shortest:.2f} s, or leave those classes out."
    )


def extract_epochs(
    raw: Any,
    *,
    classes: Sequence[str],
    tmin: float,
    tmax: float,
    band: tuple[float, float] | None = (8.0, 35.0),
    picks: Sequence[str] | None = None,
    events: TrialEvents | None = None,
) -> EpochData:
    """Cut band-pass filtered epochs around the events of the chosen classes.

    A copy of the recording is filtered (zero-phase FIR, not across ``EDGE`` boundaries)
    before epoching; there is no baseline correction. Windows that run past the recording
    or overlap a ``BAD`` annotation are dropped and counted in ``settings["dropped"]``.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Continuous recording in volts.
    classes : sequence of str
        Event labels to keep (at least two), as in ``events.event_id``.
    tmin, tmax : float
        Window around each event in seconds; both ends included, so the epochs have
        ``round(tmax * sfreq) - round(tmin * sfreq) + 1`` samples.
    band : tuple of float or None
        Band-pass edges (low, high) in Hz, inside (0, Nyquist); ``None`` for no filter.
    picks : sequence of str or None
        Channel names; ``None`` for the EEG channels not marked bad.
    events : TrialEvents or None
        Events to use; ``None`` to find them with :func:`find_trial_events`.

    Returns
    -------
    EpochData
        ``X`` float64 of shape (n_trials, n_channels, n_times) in µV, labels ``y`` of shape (n_trials,);
        ``warnings`` says when the window runs past the next event (of any label) for some epochs.

    Raises
    ------
    ParameterError
        Unknown class or channel, a single class, fewer than 2 trials in a class, band
        outside (0, Nyquist) or empty, window empty or outside the recording, flat channel,
        NaN samples, non-voltage channel.
    EEGFormatError
        When ``events`` is ``None`` and the recording has no events.

    Examples
    --------
    >>> import mne, numpy as np
    >>> signals = np.random.default_rng(0).standard_normal((3, 3000)) * 1e-5  # volts, 30 s at 100 Hz
    >>> raw = mne.io.RawArray(signals, mne.create_info(["C3", "Cz", "C4"], 100.0, "eeg"), verbose=False)
    >>> _ = raw.set_annotations(mne.Annotations([2, 6, 10, 14, 18, 22], 1.0, ["left", "right"] * 3))
    >>> epochs = extract_epochs(raw, classes=["left", "right"], tmin=0.0, tmax=2.0)
    >>> epochs.X.shape, epochs.y[:2].tolist(), epochs.settings["unit"], epochs.warnings
    ((6, 3, 201), ['left', 'right'], 'µV', ())
    """
    import mne

    sfreq = float(raw.info["sfreq"])
    chosen = _check_classes(classes)
    tmin, tmax = _check_window(tmin, tmax)
    edges = _check_band(band, sfreq)
    names = _resolve_picks(raw, picks)
    trial_events = events if events is not None else find_trial_events(raw)
    selected, event_id = _select_events(trial_events, chosen)
    inside = _inside_recording(raw, selected, tmin, tmax)
    _check_finite(raw, names)

    data = raw.copy().pick(names).load_data(verbose="error")
    if edges is not None:
        data.filter(*edges, picks=names, method="fir", skip_by_annotation="edge", verbose="error")
    epochs = mne.Epochs(
        data,
        inside,
        event_id=event_id,
        tmin=tmin,
        tmax=tmax,
        baseline=None,
        proj=False,
        preload=True,
        reject_by_annotation=True,
        event_repeated="drop",
        verbose="error",
    )
    counts = _check_counts(epochs.events, event_id, "left after dropping windows outside the recording or on BAD spans")
    X = np.asarray(epochs.get_data(copy=True), dtype=np.float64) * _TO_MICROVOLTS
    _check_not_flat(X, names)
    label_of = {code: label for label, code in event_id.items()}
    y = np.array([label_of[int(code)] for code in epochs.events[:, 2]], dtype=str)
    available = {label: int(np.count_nonzero(selected[:, 2] == code)) for label, code in event_id.items()}
    settings = {
        "classes": chosen,
        "tmin": tmin,
        "tmax": tmax,
        "band": edges,
        "filter": (
            f"zero-phase FIR band-pass {edges[0]:g}-{edges[1]:g} Hz (MNE firwin), not across EDGE boundaries"
            if edges is not None
            else "none"
        ),
        "baseline": None,
        "unit": "µV",
        "picks": names,
        "events": trial_events.origin,
        "n_trials": counts,
        "dropped": {label: available[label] - counts[label] for label in chosen},
    }
    overlap = _past_next_event(trial_events.events, epochs.events, y, sfreq, tmin, tmax)
    return EpochData(
        X=X,
        y=y,
        ch_names=tuple(names),
        sfreq=sfreq,
        times=np.asarray(epochs.times, dtype=np.float64),
        settings=settings,
        warnings=(overlap,) if overlap else (),
    )


def power_spectrum(raw: Any, *, picks: Sequence[str] | None, fmax: float) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density of the continuous recording.

    Welch segments are 2 s long (0.5 Hz resolution; the whole recording when shorter),
    Hann-windowed, half-overlapping, and skip spans annotated ``BAD``.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Continuous recording in volts.
    picks : sequence of str or None
        Channel names; ``None`` for the EEG channels not marked bad.
    fmax : float
        Highest frequency returned, in Hz, in (0, Nyquist].

    Returns
    -------
    freqs : numpy.ndarray of float64, shape (n_freqs,)
        Frequencies in Hz, from 0 to ``fmax``.
    psd : numpy.ndarray of float64, shape (n_channels, n_freqs)
        Power spectral density in µV²/Hz.

    Raises
    ------
    ParameterError
        Unknown or non-voltage channel, ``fmax`` outside (0, Nyquist], NaN samples.
    """
    sfreq = float(raw.info["sfreq"])
    fmax = float(fmax)
    if not np.isfinite(fmax) or fmax <= 0.0 or fmax > sfreq / 2.0:
        raise ParameterError(
            f"fmax is {fmax:g} Hz; choose a frequency above 0 and at most the Nyquist frequency ({sfreq / 2:g} Hz)."
        )
    names = _resolve_picks(raw, picks)
    _check_finite(raw, names)
    n_fft = int(min(raw.n_times, round(2.0 * sfreq)))
    spectrum = raw.compute_psd(
        method="welch", picks=names, fmin=0.0, fmax=fmax, n_fft=n_fft, n_overlap=n_fft // 2, verbose="error"
    )
    psd, freqs = spectrum.get_data(return_freqs=True)
    return np.asarray(freqs, dtype=np.float64), np.asarray(psd, dtype=np.float64) * _TO_MICROVOLTS**2
