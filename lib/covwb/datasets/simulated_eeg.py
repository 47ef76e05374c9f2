"""Simulated two-class motor-imagery EEG recording (left hand vs right hand).

Generative model
----------------
**Layout.** ``layout="bci_iv_2a"`` (the default, the built-in recording): the 22 EEG channels of
the BCI Competition IV 2a layout (Fz FC3 FC1 FCz FC2 FC4 C5 C3 C1 Cz C2 C4 C6 CP3 CP1 CPz CP2
CP4 P1 Pz P2 POz). ``layout="eegmmidb"``: the 64 channels of the 10-10 layout of PhysioNet's
EEG Motor Movement/Imagery Database, in its order (:data:`CHANNELS_64`, names as
``mne.datasets.eegbci.standardize`` writes them), best used with ``sfreq=160`` as that
database. Positions are those of MNE's ``standard_1020`` montage (called ``colin27_1020`` since
MNE 1.13, same positions); the default rate is 250 Hz. Samples are stored in volts;
amplitudes below are in µV. The model is the same for both layouts, so the 64 channels sit
closer together and their background is more correlated, as in real high-density recordings.

**Timeline.** Each session starts with 3 s of rest, then ``n_trials_per_class`` trials of
each class in a random order. A trial starts with the cue at t = 0 and has motor imagery
from 0 to ``trial_duration`` s; a rest of 2-3 s (uniform) follows before the next cue.
The sessions are concatenated into one recording; each join is marked with the
``BAD boundary`` and ``EDGE boundary`` annotations that ``mne.concatenate_raws`` writes.

**Sources.** The signal at channel *c* and time *t* is

    x_c(t) = g_s,c [ b_c(t) + Σ_k a_k(t) p_k,c s_k(t) ] + o_s,c

* b: background activity, independent pink (1/f power) noise per channel mixed with the
  spatial covariance Σ_ij = 0.95 exp(-d_ij / 4 cm) + 0.05 δ_ij (d: distance between
  electrodes; the 5 % diagonal stands for sensor noise), 12 µV standard deviation per channel;
* s_k: unit-variance narrow-band sources, each white noise shaped by a Gaussian in
  frequency: posterior alpha (10 Hz, s.d. 1 Hz), left and right sensorimotor mu
  (11 Hz, s.d. 1 Hz) and beta (21 Hz, s.d. 2 Hz); the band limits make their envelopes
  wax and wane randomly;
* p_k: spatial patterns, Gaussian bumps (s.d. 3 cm; 4.5 cm for alpha) centred on POz
  (alpha), C3 (left mu and beta) and C4 (right mu and beta);
* a_k(t): amplitudes, 6 µV (alpha), 5 µV (mu), 2.5 µV (beta), each multiplied per trial by a
  log-normal jitter (s.d. of the log 0.3) that holds from 1 s before the trial's cue to 1 s
  before the next cue;
* event-related desynchronisation: during imagery the mu and beta sources contralateral
  to the imagined hand (left hand: C4 sources; right hand: C3 sources) are multiplied by
  1 - δ w(t), with depth δ ~ N(0.5, 0.15) clipped to [0.05, 0.9] drawn per trial and
  source, and w(t) a window rising from 0 to 1 between 0.25 and 0.75 s after the cue
  and falling back to 0 within 0.5 s after the imagery ends (raised-cosine ramps).
  Ipsilateral sources get a depth N(0, 0.1) clipped to [-0.2, 0.3]: no systematic change;
* session gains and offsets: session 1 has g = 1 and o = 0; each later session has a
  common gain 1.15 times a per-channel gain N(1, 0.03), and a per-channel DC offset
  uniform in ±20 µV.

**Events.** One annotation per trial at the cue, with duration ``trial_duration`` and
description ``left_hand`` or ``right_hand``; its ``extras`` hold ``{"session": "1"}``, ``"2"``...

Everything is drawn from ``numpy.random.default_rng(seed)``: equal seeds give
byte-identical recordings. With the defaults, a tangent-space + linear classifier on
0.5-2.5 s, 8-35 Hz epochs reaches a cross-validated ROC-AUC around 0.9-0.98, not 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covwb.datasets.types import EEGDataset
from covwb.errors import ParameterError

CHANNELS: tuple[str, ...] = (
    "Fz", "FC3", "FC1", "FCz", "FC2", "FC4", "C5", "C3", "C1", "Cz", "C2",
    "C4", "C6", "CP3", "CP1", "CPz", "CP2", "CP4", "P1", "Pz", "P2", "POz",
)  # fmt: skip
"""The 22 EEG channels of the BCI Competition IV 2a layout, in its order."""

CHANNELS_64: tuple[str, ...] = (
    "FC5", "FC3", "FC1", "FCz", "FC2", "FC4", "FC6", "C5", "C3", "C1", "Cz", "C2", "C4", "C6",
    "CP5", "CP3", "CP1", "CPz", "CP2", "CP4", "CP6", "Fp1", "Fpz", "Fp2", "AF7", "AF3", "AFz", "AF4",
    "AF8", "F7", "F5", "F3", "F1", "Fz", "F2", "F4", "F6", "F8", "FT7", "FT8", "T7", "T8", "T9", "T10",
    "TP7", "TP8", "P7", "P5", "P3", "P1", "Pz", "P2", "P4", "P6", "P8", "PO7", "PO3", "POz", "PO4",
    "PO8", "O1", "Oz", "O2", "Iz",
)  # fmt: skip
"""The 64 EEG channels of PhysioNet's EEG Motor Movement/Imagery Database (EEGMMIDB), in its order."""

LAYOUTS: dict[str, tuple[str, ...]] = {"bci_iv_2a": CHANNELS, "eegmmidb": CHANNELS_64}
"""Channel layouts of :func:`simulate_motor_imagery`, by name."""

_LAYOUT_NAMES = {"bci_iv_2a": "BCI Competition IV 2a", "eegmmidb": "PhysioNet EEGMMIDB 10-10"}

CLASSES: tuple[str, str] = ("left_hand", "right_hand")
"""Annotation descriptions of the two classes."""

_MONTAGE = "colin27_1020"
_LEAD_IN_S = 3.0
_REST_S = (2.0, 3.0)
_JITTER_LEAD_S = 1.0
_UV = 1e-6
_BACKGROUND_UV = 12.0
_DECAY_M = 0.04
_NUGGET = 0.05


@dataclass(frozen=True)
class _Source:
    """One narrow-band source: spectral peak, spatial centre, amplitude and the hand it serves."""

    freq: float
    freq_sd: float
    centre: str
    spread_m: float
    amplitude_uv: float
    side: str


_SOURCES: tuple[_Source, ...] = (
    _Source(10.0, 1.0, "POz", 0.045, 6.0, ""),
    _Source(11.0, 1.0, "C3", 0.03, 5.0, "right_hand"),
    _Source(11.0, 1.0, "C4", 0.03, 5.0, "left_hand"),
    _Source(21.0, 2.0, "C3", 0.03, 2.5, "right_hand"),
    _Source(21.0, 2.0, "C4", 0.03, 2.5, "left_hand"),
)


def _spectral_noise(rng: np.random.Generator, shape: np.ndarray, freqs: np.ndarray, n_times: int) -> np.ndarray:
    """Unit-variance Gaussian noise with amplitude spectrum ``shape``, shape (n_rows, n_times).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the random Fourier coefficients.
    shape : numpy.ndarray, shape (n_rows, n_freqs)
        Amplitude of each row at each frequency of ``freqs``.
    freqs : numpy.ndarray, shape (n_freqs,)
        Frequencies (Hz) of a real FFT of length ``2 * (n_freqs - 1)`` >= ``n_times``.
    n_times : int
        Number of samples kept.
    """
    from scipy.fft import irfft

    coefficients = rng.standard_normal((shape.shape[0], len(freqs), 2)).view(np.complex128)[..., 0]
    signal = irfft(coefficients * shape, n=2 * (len(freqs) - 1), axis=1, workers=1)[:, :n_times]
    return signal / signal.std(axis=1, keepdims=True)


def _background(rng: np.random.Generator, freqs: np.ndarray, n_times: int, positions: np.ndarray) -> np.ndarray:
    """Pink background noise with a smooth spatial covariance, 12 µV per channel, shape (n_channels, n_times)."""
    distance = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=-1)
    covariance = (1.0 - _NUGGET) * np.exp(-distance / _DECAY_M) + _NUGGET * np.eye(len(positions))
    pink = np.zeros_like(freqs)
    pink[1:] = 1.0 / np.sqrt(freqs[1:])
    noise = _spectral_noise(rng, np.broadcast_to(pink, (len(positions), len(freqs))), freqs, n_times)
    return _BACKGROUND_UV * (np.linalg.cholesky(covariance) @ noise)


def _rhythms(rng: np.random.Generator, freqs: np.ndarray, n_times: int) -> np.ndarray:
    """Unit-variance narrow-band sources of :data:`_SOURCES`, shape (n_sources, n_times)."""
    centre = np.array([[s.freq] for s in _SOURCES])
    width = np.array([[s.freq_sd] for s in _SOURCES])
    return _spectral_noise(rng, np.exp(-0.5 * ((freqs - centre) / width) ** 2), freqs, n_times)


def _ramp(x: np.ndarray) -> np.ndarray:
    """Raised-cosine step from 0 (x <= 0) to 1 (x >= 1)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def _schedule(
    rng: np.random.Generator, n_trials_per_class: int, n_sessions: int, trial_duration: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Cue times (s), labels, sessions, session start times (s) and total duration (s)."""
    per_session = 2 * n_trials_per_class
    labels = np.concatenate(
        [rng.permutation(np.repeat(np.array(CLASSES), n_trials_per_class)) for _ in range(n_sessions)]
    )
    rests = rng.uniform(*_REST_S, size=(n_sessions, per_session))
    steps = trial_duration + rests
    within = _LEAD_IN_S + np.concatenate([np.zeros((n_sessions, 1)), np.cumsum(steps[:, :-1], axis=1)], axis=1)
    lengths = within[:, -1] + steps[:, -1]
    starts = np.concatenate([[0.0], np.cumsum(lengths[:-1])])
    cues = (within + starts[:, None]).ravel()
    sessions = np.repeat(np.arange(1, n_sessions + 1), per_session)
    return cues, labels, sessions, starts, float(lengths.sum())


def _envelopes(
    rng: np.random.Generator,
    times: np.ndarray,
    cues: np.ndarray,
    labels: np.ndarray,
    trial_duration: float,
) -> np.ndarray:
    """Amplitude of each source over time (µV), with per-trial jitter and ERD, shape (n_sources, n_times)."""
    n_trials, n_sources = len(cues), len(_SOURCES)
    jitter = np.exp(0.3 * rng.standard_normal((n_trials, n_sources)))
    contralateral = np.array([[s.side == label for s in _SOURCES] for label in labels])
    depth = np.where(
        contralateral,
        np.clip(rng.normal(0.5, 0.15, (n_trials, n_sources)), 0.05, 0.9),
        np.clip(rng.normal(0.0, 0.1, (n_trials, n_sources)), -0.2, 0.3),
    )
    depth[:, [s.side == "" for s in _SOURCES]] = 0.0
    trial = np.clip(np.searchsorted(cues - _JITTER_LEAD_S, times, side="right") - 1, 0, n_trials - 1)
    rel = times - cues[trial]
    window = _ramp((rel - 0.25) / 0.5) * (1.0 - _ramp((rel - trial_duration) / 0.5))
    amplitude = np.array([s.amplitude_uv for s in _SOURCES])[:, None]
    return amplitude * jitter[trial].T * (1.0 - depth[trial].T * window[None, :])


def _check(n_trials_per_class: int, n_sessions: int, sfreq: float, trial_duration: float, layout: str) -> None:
    """Raise ParameterError for settings the model cannot honour."""
    if layout not in LAYOUTS:
        raise ParameterError(f"unknown channel layout {layout!r}; choose one of {', '.join(map(repr, LAYOUTS))}.")
    if int(n_trials_per_class) != n_trials_per_class or n_trials_per_class < 2:
        raise ParameterError(f"n_trials_per_class is {n_trials_per_class}; use a whole number of at least 2.")
    if int(n_sessions) != n_sessions or n_sessions < 1:
        raise ParameterError(f"n_sessions is {n_sessions}; use a whole number of at least 1.")
    if not np.isfinite(sfreq) or sfreq < 100.0:
        raise ParameterError(f"sfreq is {sfreq:g} Hz; use at least 100 Hz so that the 8-35 Hz rhythms fit.")
    if not np.isfinite(trial_duration) or trial_duration < 1.0:
        raise ParameterError(f"trial_duration is {trial_duration:g} s; use at least 1 s.")


def simulate_motor_imagery(
    *,
    seed: int = 0,
    n_trials_per_class: int = 40,
    n_sessions: int = 2,
    sfreq: float = 250.0,
    trial_duration: float = 4.0,
    layout: str = "bci_iv_2a",
) -> EEGDataset:
    """Simulate a left-hand vs right-hand motor-imagery recording (model in the module docstring).

    Parameters
    ----------
    seed : int
        Seed of every random draw.
    n_trials_per_class : int
        Trials of each class in each session (>= 2).
    n_sessions : int
        Number of sessions concatenated into the recording (>= 1).
    sfreq : float
        Sampling rate in Hz (>= 100).
    trial_duration : float
        Imagery period after each cue, in seconds (>= 1).
    layout : {"bci_iv_2a", "eegmmidb"}
        Channels: the 22 of BCI Competition IV 2a (the built-in recording) or the 64 of PhysioNet's
        EEGMMIDB (:data:`LAYOUTS`). The default layout gives the same bytes as before it existed.

    Returns
    -------
    EEGDataset
        ``raw`` is a preloaded ``mne.io.RawArray`` of shape (n_channels, n_times) in volts with the
        montage set and one annotation per trial (``extras`` hold the session).

    Raises
    ------
    ParameterError
        For counts below the minimum, ``sfreq`` under 100 Hz, ``trial_duration`` under 1 s or an
        unknown layout.

    Examples
    --------
    A recording shaped like one EEGMMIDB subject's imagery runs (64 channels at 160 Hz):

    >>> data = simulate_motor_imagery(seed=1, n_trials_per_class=3, n_sessions=1, sfreq=160.0, layout="eegmmidb")
    >>> len(data.raw.ch_names), data.raw.info["sfreq"]
    (64, 160.0)
    """
    import mne
    from scipy.fft import next_fast_len

    _check(n_trials_per_class, n_sessions, sfreq, trial_duration, layout)
    channels = LAYOUTS[layout]
    rng = np.random.default_rng(seed)
    cues, labels, sessions, starts, duration = _schedule(rng, int(n_trials_per_class), int(n_sessions), trial_duration)
    n_times = int(round(duration * sfreq))
    times = np.arange(n_times) / sfreq
    montage = mne.channels.make_standard_montage(_MONTAGE)
    ch_pos = montage.get_positions()["ch_pos"]
    positions = np.array([ch_pos[name] for name in channels], dtype=np.float64)
    freqs = np.fft.rfftfreq(next_fast_len(n_times, real=True), d=1.0 / sfreq)
    centres = positions[[channels.index(s.centre) for s in _SOURCES]]
    spreads = np.array([s.spread_m for s in _SOURCES])[:, None]
    patterns = np.exp(-0.5 * (np.linalg.norm(positions[None] - centres[:, None], axis=-1) / spreads) ** 2)
    rhythms = _envelopes(rng, times, cues, labels, trial_duration) * _rhythms(rng, freqs, n_times)
    data_uv = _background(rng, freqs, n_times, positions) + np.einsum("kc,kt->ct", patterns, rhythms)
    bounds = np.searchsorted(times, np.append(starts, duration))
    for session in range(1, n_sessions):
        gain = 1.15 * rng.normal(1.0, 0.03, (len(channels), 1))
        offset = rng.uniform(-20.0, 20.0, (len(channels), 1))
        segment = slice(bounds[session], bounds[session + 1])
        data_uv[:, segment] = data_uv[:, segment] * gain + offset

    info = mne.create_info(list(channels), sfreq, "eeg")
    raw = mne.io.RawArray(data_uv * _UV, info, verbose="error")
    raw.set_montage(montage, verbose="error")
    joins = starts[1:]
    raw.set_annotations(
        mne.Annotations(
            onset=np.concatenate([cues, joins, joins]),
            duration=np.concatenate([np.full(len(cues), trial_duration), np.zeros(2 * len(joins))]),
            description=[*labels, *["BAD boundary"] * len(joins), *["EDGE boundary"] * len(joins)],
            extras=[{"session": str(s)} for s in sessions] + [{} for _ in range(2 * len(joins))],
        )
    )
    layout_name = _LAYOUT_NAMES[layout]
    return EEGDataset(
        name="Simulated motor imagery"
        if layout == "bci_iv_2a"
        else f"Simulated motor imagery ({len(channels)} channels)",
        raw=raw,
        source=f"simulated (seed {seed})",
        builtin=True,
        licence="CC0-1.0 (generated by the workbench)",
        description=(
            f"Two-class motor imagery (left hand vs right hand) simulated on the {len(channels)} channels of the "
            f"{layout_name} layout: pink background noise with a smooth spatial covariance, "
            "posterior alpha, and mu and beta rhythms over C3 and C4 that lose about half their "
            "amplitude over the hemisphere contralateral to the imagined hand."
        ),
        report=(
            f"{len(channels)} EEG channels at {sfreq:g} Hz, {duration:.1f} s in {n_sessions} session(s).",
            f"{n_trials_per_class} trials of each class per session ({len(cues)} in all), cue at t = 0, "
            f"imagery for {trial_duration:g} s.",
            "Sessions after the first have a gain of about 1.15 and per-channel DC offsets.",
            "Electrode positions from MNE's standard_1020 montage (named colin27_1020 in MNE 1.13).",
        ),
    )
