"""The dataset explorer as a person uses it: built-in data, uploads of every kind, bad files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from covwb.datasets.catalog import SIMULATED_EEG_NAME
from covwb.datasets.tables import BUILTIN_TABLES
from tests.app.helpers import assert_clean, charts, widget

REPO = Path(__file__).resolve().parents[2]
EXPLORER = str(REPO / "pages" / "1_Dataset_explorer.py")


def _explorer() -> AppTest:
    return AppTest.from_file(EXPLORER, default_timeout=180).run()


def _upload(kind_label: str, files: list[tuple[str, bytes]]) -> AppTest:
    at = _explorer()
    at.sidebar.radio(key="explorer-origin").set_value("Upload").run()
    at.sidebar.selectbox(key="explorer-kind").set_value(kind_label).run()
    uploader = at.sidebar.get("file_uploader")[0]
    payload = [(name, data, "application/octet-stream") for name, data in files]
    uploader.set_value(payload if len(payload) > 1 else payload[0])
    return at.run()


def test_opens_on_the_simulated_recording_with_every_panel() -> None:
    at = _explorer()
    assert_clean(at)
    assert at.sidebar.selectbox(key="explorer-builtin").value == SIMULATED_EEG_NAME
    headers = [h.value for h in at.header]
    assert {"Signals", "Epochs and their covariances", "SPD geometry"} <= set(headers)
    # traces, PSD, epoch covariance, mean covariance, 4 x (distances, MDS), means
    assert charts(at) == 13
    assert len(at.tabs) == 4


@pytest.mark.parametrize("key", list(BUILTIN_TABLES))
def test_every_builtin_table_shows_covariance_and_spectrum(key: str) -> None:
    at = _explorer()
    at.sidebar.selectbox(key="explorer-builtin").set_value(BUILTIN_TABLES[key].name).run()
    assert_clean(at)
    assert charts(at) == 3
    assert at.metric[0].label == "Condition number"


def test_changing_the_estimator_changes_the_condition_number() -> None:
    at = _explorer()
    at.sidebar.selectbox(key="explorer-builtin").set_value(BUILTIN_TABLES["pottery"].name).run()
    sample = float(at.metric[0].value)
    at.selectbox(key="table-estimator").set_value("shrinkage").run()
    at.slider(key="table-estimator-shrink").set_value(0.5).run()
    assert_clean(at)
    assert float(at.metric[0].value) < sample


def test_uploaded_csv_with_decimal_commas_is_read() -> None:
    rows = ["a;b;c"] + [f"{i},5;{(i * 7) % 11},25;{(i * i) % 13},0" for i in range(30)]
    at = _upload("Table (CSV/TSV)", [("values.csv", "\n".join(rows).encode())])
    assert_clean(at)
    assert at.subheader[0].value == "values.csv"
    assert charts(at) == 3


def test_binary_junk_named_csv_gives_a_clear_error() -> None:
    at = _upload("Table (CSV/TSV)", [("junk.csv", bytes(range(256)) * 8)])
    assert not at.exception
    assert len(at.error) == 1
    assert "junk.csv" in at.error[0].value


def test_uploaded_covariance_stack_shows_its_geometry() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((12, 5, 40))
    covs = a @ a.transpose(0, 2, 1) / 40
    buffer = io.BytesIO()
    np.save(buffer, covs)
    at = _upload("Covariance matrices (.npy, .npz, .csv, .mat)", [("covs.npy", buffer.getvalue())])
    assert_clean(at)
    assert charts(at) == 3 + 9


def test_object_npy_is_refused_without_unpickling() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    at = _upload("Covariance matrices (.npy, .npz, .csv, .mat)", [("evil.npy", buffer.getvalue())])
    assert not at.exception
    assert len(at.error) == 1


def test_eeg_as_csv_upload() -> None:
    rng = np.random.default_rng(1)
    lines = ["C3,Cz,C4"] + [",".join(f"{v:.3f}" for v in row) for row in rng.standard_normal((2000, 3)) * 10]
    at = _upload("EEG as CSV (channels in columns)", [("eeg.csv", "\n".join(lines).encode())])
    assert not at.exception
    # A CSV has no events: the signals show, and the epochs section explains why it stops.
    assert charts(at) == 2
    assert len(at.error) == 1 and "event" in at.error[0].value.lower()


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("files", "classes"),
    [
        (["test_raw.set", "test_raw.fdt"], ["square", "rt"]),
        (["test_reduced.edf"], None),
        (["test_bdf_stim_channel.bdf"], None),
    ],
)
def test_reference_eeg_files(shared_data: Path, files: list[str], classes: list[str] | None) -> None:
    at = _upload("EEG recording", [(name, (shared_data / "eeg" / name).read_bytes()) for name in files])
    assert not at.exception, [e.value for e in at.exception]
    assert at.header[0].value == "Signals"
    assert charts(at) >= 2
    if classes is not None:
        assert_clean(at)
        assert set(widget(at.multiselect, "Classes").value) == set(classes)
        assert charts(at) == 13
    else:
        # Short recordings with one event type: a clear message, never a traceback.
        assert len(at.error) <= 1


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["cups.csv", "cups_pcor_reference.csv", "cups_pcor_bshrink_reference.csv"])
def test_reference_composition_tables(shared_data: Path, name: str) -> None:
    at = _upload("Table (CSV/TSV)", [(name, (shared_data / "coda" / name).read_bytes())])
    assert_clean(at)
    oxides = {"Si", "Al", "Fe", "Mg", "Ca", "Na", "K", "Ti", "P", "Mn", "Sb"}
    assert oxides <= set(widget(at.multiselect, "Columns").value)
    assert charts(at) == 3


@pytest.mark.shared_data
def test_reference_mat_trials_are_explained(shared_data: Path) -> None:
    data = (shared_data / "spd" / "mamem_U001.mat").read_bytes()
    at = _upload("Covariance matrices (.npy, .npz, .csv, .mat)", [("mamem_U001.mat", data)])
    assert not at.exception
    assert len(at.error) == 1 and "covarian" in at.error[0].value.lower()
