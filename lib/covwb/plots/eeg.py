"""Figures of EEG signals: stacked channel traces and power spectral densities."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from covwb.errors import ParameterError

MAX_CHANNELS = 10
MAX_POINTS = 5000


def _signals(
    times: np.ndarray, data: np.ndarray, ch_names: Sequence[str], what: str, axis: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validate ``times`` (T,), ``data`` (C, T) and ``ch_names`` (C,); return float64 copies."""
    try:
        t = np.asarray(times, dtype=np.float64)
        x = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"The {what} must hold numbers ({exc}).") from exc
    names = [str(c) for c in ch_names]
    if x.ndim != 2 or t.ndim != 1 or x.shape[1] != t.size or x.shape[0] != len(names):
        raise ParameterError(
            f"Expected {what} of shape (channels, {axis}) = ({len(names)}, {t.size}), "
            f"got {x.shape}; give one row per channel name and one column per {axis[:-1]}."
        )
    if x.size == 0:
        raise ParameterError(f"There is no {what} to show; pick at least one channel.")
    return t, x, names


def _minmax_indices(data: np.ndarray, max_points: int) -> np.ndarray:
    """Per-channel sample indices (C, <= max_points) of ``data`` (C, T) keeping bin extremes.

    Up to ``max_points`` samples every index is kept; beyond, the samples are cut into
    ``max_points // 2`` bins and each bin's minimum and maximum are kept in time order.
    """
    n_channels, n_times = data.shape
    if n_times <= max_points:
        return np.broadcast_to(np.arange(n_times), (n_channels, n_times))
    n_bins = max(1, max_points // 2)
    size = -(-n_times // n_bins)
    used = -(-n_times // size)
    padded = np.pad(data, ((0, 0), (0, used * size - n_times)), mode="edge")
    bins = padded.reshape(n_channels, used, size)
    lo, hi = bins.argmin(axis=2), bins.argmax(axis=2)
    pair = np.stack([np.minimum(lo, hi), np.maximum(lo, hi)], axis=2)
    index = pair + (np.arange(used) * size)[None, :, None]
    return np.minimum(index.reshape(n_channels, 2 * used), n_times - 1)


def traces_figure(
    times: np.ndarray,
    data_uV: np.ndarray,
    ch_names: Sequence[str],
    *,
    title: str,
    max_channels: int = MAX_CHANNELS,
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """Stacked, offset EEG traces, decimated for the browser.

    Each channel is centred on its mean and drawn at its own offset, first channel on top.
    Traces longer than ``max_points`` keep the minimum and maximum of each time bin, so
    peaks and artefacts stay visible.

    Parameters
    ----------
    times : ndarray, shape (T,)
        Sample times in seconds.
    data_uV : ndarray, shape (C, T)
        Signals in microvolts.
    ch_names : sequence of str, length C
        Channel names.
    title : str
        Figure title.
    max_channels : int
        Most channels drawn (the first ones); a note says how many were left out.
    max_points : int
        Most points per trace.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Scatter`` trace per drawn channel; ``customdata`` holds the values in µV.
    """
    if max_points < 2:
        raise ParameterError(f"max_points must be at least 2, got {max_points}.")
    t, x, names = _signals(times, data_uV, ch_names, "signals", "samples")
    if not np.isfinite(x).all():
        raise ParameterError("The signals hold NaN or infinite values; interpolate bad channels.")
    shown = min(x.shape[0], max(1, max_channels))
    x, names = x[:shown], names[:shown]
    centred = x - x.mean(axis=1, keepdims=True)
    spread = np.percentile(centred, 99, axis=1) - np.percentile(centred, 1, axis=1)
    spacing = float(np.median(spread)) * 1.2 or 1.0
    offsets = (shown - 1 - np.arange(shown)) * spacing
    index = _minmax_indices(x, max_points)
    fig = go.Figure()
    for c in range(shown):
        fig.add_trace(
            go.Scatter(
                x=t[index[c]],
                y=centred[c, index[c]] + offsets[c],
                customdata=x[c, index[c]],
                mode="lines",
                name=names[c],
                line={"width": 1},
                hovertemplate="%{fullData.name}<br>%{x:.3f} s<br>%{customdata:.2f} µV<extra></extra>",
            )
        )
    fig.update_layout(title={"text": title}, showlegend=False)
    fig.update_xaxes(title_text="time (s)")
    fig.update_yaxes(
        title_text=f"channel (traces {spacing:.3g} µV apart)", tickvals=offsets.tolist(), ticktext=names, zeroline=False
    )
    if shown < len(ch_names):
        fig.add_annotation(
            text=f"showing {shown} of {len(ch_names)} channels",
            xref="paper",
            yref="paper",
            x=1.0,
            y=1.0,
            xanchor="right",
            yanchor="bottom",
            showarrow=False,
        )
    return fig


def psd_figure(freqs: np.ndarray, psd: np.ndarray, ch_names: Sequence[str], *, title: str) -> go.Figure:
    """Power spectral density per channel on a logarithmic power axis.

    Parameters
    ----------
    freqs : ndarray, shape (F,)
        Frequencies in Hz.
    psd : ndarray, shape (C, F)
        Power spectral densities in µV²/Hz.
    ch_names : sequence of str, length C
        Channel names.
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Scatter`` trace per channel; non-positive powers are not drawn on the log axis.
    """
    f, p, names = _signals(freqs, psd, ch_names, "spectra", "frequencies")
    fig = go.Figure()
    for c, name in enumerate(names):
        fig.add_trace(
            go.Scatter(
                x=f,
                y=p[c],
                mode="lines",
                name=name,
                hovertemplate="%{fullData.name}<br>%{x:.2f} Hz<br>%{y:.3g} µV²/Hz<extra></extra>",
            )
        )
    fig.update_layout(title={"text": title}, legend={"title": {"text": "channel"}})
    fig.update_xaxes(title_text="frequency (Hz)")
    fig.update_yaxes(title_text="power spectral density (µV²/Hz)", type="log")
    return fig
