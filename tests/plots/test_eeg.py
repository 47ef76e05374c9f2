"""EEG figures: stacked traces (offsets, decimation, channel cap) and PSDs."""

from __future__ import annotations

import numpy as np
import pytest

from covwb.errors import ParameterError
from covwb.plots.eeg import MAX_POINTS, psd_figure, traces_figure


def signals(n_channels: int, n_times: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    times = np.arange(n_times) / 250.0
    return times, 20.0 * rng.standard_normal((n_channels, n_times)) + 5.0


def test_short_traces_are_drawn_whole_and_stacked() -> None:
    times, data = signals(3, 200)
    fig = traces_figure(times, data, ["Fz", "Cz", "Pz"], title="Raw EEG")
    assert len(fig.data) == 3
    offsets = list(fig.layout.yaxis.tickvals)
    assert offsets[0] > offsets[1] > offsets[2] == 0.0
    assert list(fig.layout.yaxis.ticktext) == ["Fz", "Cz", "Pz"]
    for c, trace in enumerate(fig.data):
        assert trace.name == ["Fz", "Cz", "Pz"][c]
        np.testing.assert_array_equal(trace.x, times)
        np.testing.assert_array_equal(trace.customdata, data[c])
        np.testing.assert_allclose(np.asarray(trace.y) - offsets[c], data[c] - data[c].mean())
    assert fig.layout.xaxis.title.text == "time (s)"
    assert "µV" in fig.layout.yaxis.title.text
    assert fig.layout.title.text == "Raw EEG"


def test_long_traces_are_decimated_keeping_extremes() -> None:
    times, data = signals(2, 60_001)
    data[1, 33_333] = 1e4
    fig = traces_figure(times, data, ["A", "B"], title="t")
    for c, trace in enumerate(fig.data):
        assert len(trace.x) <= MAX_POINTS
        assert np.all(np.diff(trace.x) >= 0)
        assert max(trace.customdata) == data[c].max() and min(trace.customdata) == data[c].min()
        index = np.rint(np.asarray(trace.x) * 250.0).astype(int)
        np.testing.assert_array_equal(trace.customdata, data[c, index])
    assert 1e4 in fig.data[1].customdata


def test_at_most_ten_channels_with_a_note() -> None:
    times, data = signals(14, 100)
    names = [f"E{i}" for i in range(14)]
    fig = traces_figure(times, data, names, title="t")
    assert len(fig.data) == 10
    assert [t.name for t in fig.data] == names[:10]
    assert "10 of 14 channels" in fig.layout.annotations[0].text


def test_traces_refuse_bad_input() -> None:
    times, data = signals(2, 50)
    with pytest.raises(ParameterError, match="shape"):
        traces_figure(times[:-1], data, ["a", "b"], title="t")
    with pytest.raises(ParameterError, match="shape"):
        traces_figure(times, data, ["a"], title="t")
    data[0, 3] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        traces_figure(times, data, ["a", "b"], title="t")


def test_psd_figure() -> None:
    freqs = np.linspace(0.5, 40, 80)
    psd = np.vstack([1 / freqs, 2 / freqs])
    fig = psd_figure(freqs, psd, ["O1", "O2"], title="PSD")
    assert [t.name for t in fig.data] == ["O1", "O2"]
    np.testing.assert_array_equal(fig.data[1].y, psd[1])
    np.testing.assert_array_equal(fig.data[0].x, freqs)
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.yaxis.title.text == "power spectral density (µV²/Hz)"
    assert fig.layout.xaxis.title.text == "frequency (Hz)"
    with pytest.raises(ParameterError, match="shape"):
        psd_figure(freqs, psd.T, ["O1", "O2"], title="PSD")
