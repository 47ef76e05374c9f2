"""The SPD batch-norm page as a person uses it: synthetic batch, simulated EEG with training, uploads, bad files."""

from __future__ import annotations

import base64
import io
import json
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
    at.selectbox(key="bn-m").set_value("riemann_mean").run()
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
    at.multiselect(key="tr-variants").set_value(["wasserstein", "gbw_theta"])
    at.number_input(key="tr-epochs").set_value(2)
    at.number_input(key="tr-seeds").set_value(2).run()
    at.button(key="tr-run").click().run()
    assert_clean(at)
    table = at.dataframe[-1].value
    assert list(table["seeds"]) == [2, 2]


def test_folding_is_shown_per_variant_beside_the_learning_curves() -> None:
    """Issue 12 §7: matrices with almost no power along one axis fold in BW batch norm; the page says so."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((40, 4, 200))
    covs = a @ a.transpose(0, 2, 1) / 200
    scale = np.diag([1.5, 1.0, 1.0, 0.7])
    covs[20:] = scale @ covs[20:] @ scale
    shrink = np.diag([0.03, 1.0, 1.0, 1.0])
    covs[[0, 1, 20, 21]] = shrink @ covs[[0, 1, 20, 21]] @ shrink
    at = _upload("outliers.npz", _npz(covs=covs, y=np.repeat([0, 1], 20)))
    at.multiselect(key="tr-variants").set_value(["riemann", "wasserstein"])
    at.number_input(key="tr-epochs").set_value(2)
    at.number_input(key="tr-seeds").set_value(1)
    at.number_input(key="tr-hidden").set_value(4).run()
    at.button(key="tr-run").click().run()
    assert_clean(at)
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("BW-BN, seed 0: folding in 2 of 2 epochs") and "1 of 1 seeds of BW-BN" in warning
    table = at.dataframe[-1].value
    assert list(table["runs that folded"]) == [0, 1] and table["most folded in a batch (%)"].iloc[1] > 0
    curves = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert "Folded in BW batch norm" in [a["text"] for a in curves["layout"]["annotations"]]
    (folded,) = [t for t in curves["data"] if t.get("xaxis") == "x3" and t["name"] == "BW-BN"]
    percent = np.frombuffer(base64.b64decode(folded["y"]["bdata"]), dtype=folded["y"]["dtype"])
    np.testing.assert_allclose(percent, 10.0)  # 3 of the 30 training matrices, in each epoch


def test_non_symmetric_upload_gives_a_clear_error() -> None:
    covs = np.stack([np.eye(3)] * 4)
    covs[1, 0, 2] = 0.5
    buffer = io.BytesIO()
    np.save(buffer, covs)
    at = _upload("bad.npy", buffer.getvalue())
    assert not at.exception
    assert len(at.error) == 1 and "symmetric" in at.error[0].value.lower()
