"""The SPD batch-norm page as a person uses it: synthetic batch, simulated EEG with training, uploads, bad files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.app.helpers import assert_clean, charts

REPO = Path(__file__).resolve().parents[2]
PAGE = str(REPO / "pages" / "3_SPD_batch_norm.py")
GEOMETRY_CHARTS = 7  # spectra, condition numbers, distances, MDS, barycentre residuals, ridge, precision


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=180).run()


def _upload(name: str, data: bytes) -> AppTest:
    at = _page()
    at.sidebar.radio(key="spd-source").set_value("Dataset").run()
    at.sidebar.radio(key="spd-origin").set_value("Upload").run()
    at.sidebar.selectbox(key="spd-kind").set_value("Covariance matrices (.npy, .npz, .csv, .mat)").run()
    at.sidebar.get("file_uploader")[0].set_value((name, data, "application/octet-stream"))
    return at.run()


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_synthetic_batch_shows_every_geometry_panel() -> None:
    at = _page()
    assert_clean(at)
    assert charts(at) == GEOMETRY_CHARTS
    summary = at.dataframe[0].value
    assert list(summary["metric"]) == ["AIRM", "LEM", "BW", "GBW", "θ-GBW"]
    assert summary["median log10 κ after"].max() < summary["median log10 κ before"].min()
    assert any("class labels" in info.value for info in at.info)
    at.sidebar.slider(key="syn-cond").set_value(10.0).run()
    at.toggle(key="bn-as-coded").set_value(True).run()
    at.selectbox(key="bn-m").set_value("airm_mean").run()
    assert_clean(at)
    assert charts(at) == GEOMETRY_CHARTS


def test_simulated_eeg_trains_every_variant() -> None:
    at = _page()
    at.sidebar.radio(key="spd-source").set_value("Dataset").run()
    assert_clean(at)
    assert charts(at) == GEOMETRY_CHARTS
    at.number_input(key="tr-epochs").set_value(1)
    at.number_input(key="tr-seeds").set_value(1)
    at.number_input(key="tr-hidden").set_value(4).run()
    at.button(key="tr-run").click().run()
    assert_clean(at)
    assert charts(at) == GEOMETRY_CHARTS + 1
    table = at.dataframe[-1].value
    assert len(table) == 6 and table["test accuracy mean (%)"].between(0, 100).all()


def test_labelled_covariance_upload_trains() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((24, 4, 30))
    covs = a @ a.transpose(0, 2, 1) / 30
    covs[12:] *= np.array([3.0, 1.0, 1.0, 0.3])[:, None] * np.array([3.0, 1.0, 1.0, 0.3])[None, :]
    at = _upload("covs.npz", _npz(covs=covs, y=np.repeat([0, 1], 12)))
    assert_clean(at)
    assert charts(at) == GEOMETRY_CHARTS
    at.multiselect(key="tr-variants").set_value(["bw", "pgbw"])
    at.number_input(key="tr-epochs").set_value(2)
    at.number_input(key="tr-seeds").set_value(2).run()
    at.button(key="tr-run").click().run()
    assert_clean(at)
    table = at.dataframe[-1].value
    assert list(table["seeds"]) == [2, 2]


def test_non_symmetric_upload_gives_a_clear_error() -> None:
    covs = np.stack([np.eye(3)] * 4)
    covs[1, 0, 2] = 0.5
    buffer = io.BytesIO()
    np.save(buffer, covs)
    at = _upload("bad.npy", buffer.getvalue())
    assert not at.exception
    assert len(at.error) == 1 and "symmetric" in at.error[0].value.lower()
