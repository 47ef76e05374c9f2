"""The dataset explorer as a person uses it: built-in data, uploads of every kind, bad files, links, exports."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from covwb.datasets.catalog import SIMULATED_EEG_NAME
from covwb.datasets.tables import BUILTIN_TABLES
from covwb.explore import ExplorerSettings
from covwb.sources import BuiltinSource
from tests.app.exports import Downloads, exported_settings, rerun_script, same_tables
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


def _trials_npy(trials: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, trials)
    return buffer.getvalue()


def test_uploaded_raw_trials_reach_the_geometry_views_with_a_well_posed_default() -> None:
    from tests.io.test_spd import eeg_like_trials

    at = _upload("Covariance matrices (.npy, .npz, .csv, .mat)", [("s001.npy", _trials_npy(eeg_like_trials()))])
    assert_clean(at)
    assert "45 raw trials of 64 channels × 321 samples" in at.sidebar.info[0].value
    described = [m.value for m in at.markdown if "Covariances estimated from raw trials" in m.value]
    assert described and "the default for raw trials" in described[0] and "singular for some trials" in described[0]
    assert charts(at) == 3 + 9
    at.sidebar.selectbox(key="explorer-trial-estimator").set_value("sample").run()
    assert not at.exception
    assert len(at.error) == 1 and "singular" in at.error[0].value and "choose a shrinkage" in at.error[0].value


def _otu_csv(with_ids: bool) -> bytes:
    from tests.io.test_tables import _otu_counts

    counts = _otu_counts()
    if with_ids:
        counts = counts.set_axis([f"S{i:03d}" for i in range(len(counts))]).rename_axis("sample")
    return counts.to_csv(index=with_ids).encode()


@pytest.mark.parametrize("with_ids", [False, True])
def test_a_count_table_with_a_numbered_header_keeps_every_sample(with_ids: bool) -> None:
    at = _upload("Table (CSV/TSV)", [("otu.csv", _otu_csv(with_ids))])
    assert_clean(at)
    header = at.sidebar.selectbox(key="explorer-table-header")
    assert header.value == "auto" and not at.warning
    columns = 128 if with_ids else 127
    assert any(c.value.startswith(f"289 rows × {columns} columns") for c in at.caption)
    header.set_value("none").run()
    assert any(c.value.startswith(f"290 rows × {columns} columns") for c in at.caption)


def test_a_doubtful_header_is_a_warning_that_names_the_switch() -> None:
    at = _upload(
        "Table (CSV/TSV)", [("wavelengths.csv", b"400.5,401.5,402.5\n0.3,0.1,0.2\n0.5,0.2,0.7\n0.4,0.3,0.1\n")]
    )
    assert not at.exception
    assert len(at.warning) == 1 and "'First row is the header'" in at.warning[0].value
    at.sidebar.selectbox(key="explorer-table-header").set_value("first_row").run()
    assert_clean(at)
    assert at.query_params["source.options"] == '[["header","first_row"]]'
    # Three rows for three columns: the only warning left is the singular covariance (the header is settled).
    assert len(at.warning) == 1 and "The covariance matrix is ill-conditioned" in at.warning[0].value
    assert widget(at.multiselect, "Columns").value == ["400.5", "401.5", "402.5"]


def test_an_eegmmidb_like_recording_gets_standard_names_and_a_window_warning() -> None:
    from tests.io.eeg_files import edf_bytes

    names = ("Fc5.", "C3..", "Cz..", "C4..", "Cp3.", "Pz..")
    annotations, onset = [], 1.0
    for k in range(8):
        annotations += [(onset, 1.4, "T0"), (onset + 1.4, 4.1, ("T1", "T2")[k % 2])]
        onset += 5.5
    samples = np.random.default_rng(2).standard_normal((len(names), 48 * 160)) * 20.0
    at = _upload("EEG recording", [("S001R04.edf", edf_bytes(samples, names, 160, annotations))])
    assert_clean(at)
    assert widget(at.multiselect, "Channels shown").value == ["C3", "Cz", "C4"]
    assert widget(at.multiselect, "Classes").value == ["T0", "T1"]
    assert len(at.warning) == 1
    assert "runs past the next event in 8 of 12 epochs ('T0' x8" in at.warning[0].value
    at.number_input(key="explorer-epochs-tmax").set_value(1.2).run()
    assert_clean(at)
    assert not at.warning


def test_the_epoch_controls_give_the_extracted_epochs() -> None:
    at = _explorer()
    assert widget(at.multiselect, "Channels").label == "Channels shown"
    epoch_channels = at.multiselect(key=next(w.key for w in at.multiselect if w.label == "Channels"))
    assert len(epoch_channels.value) == 22
    epoch_channels.set_value(["C3", "Cz", "C4"]).run()
    assert_clean(at)
    assert any(c.value.startswith("160 epochs × 3 channels × 501 samples") for c in at.caption)


# --------------------------------------------------------------------------- links and the analysis export

ZIP_NAME = "Dataset_explorer_analysis.zip"


def linked(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(EXPLORER, default_timeout=180)
    at.query_params.update(params)
    return at.run()


POTTERY_LINK = {
    "source": "builtin",
    "source.name": "pottery",
    "estimator": "oas",
    "columns": '["Al2O3","Fe2O3","CaO"]',
}


def test_a_link_reopens_the_same_view_on_builtin_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    downloads = Downloads(monkeypatch)
    at = _explorer()
    at.sidebar.selectbox(key="explorer-builtin").set_value(BUILTIN_TABLES["pottery"].name).run()
    at.selectbox(key="table-estimator").set_value("oas").run()
    widget(at.multiselect, "Columns").set_value(["Al2O3", "Fe2O3", "CaO"]).run()
    assert_clean(at)
    assert at.query_params == POTTERY_LINK
    shown = ExplorerSettings.from_dict(exported_settings(downloads.analysis(ZIP_NAME, tmp_path / "first")))
    assert shown == ExplorerSettings(
        source=BuiltinSource("pottery"), columns=("Al2O3", "Fe2O3", "CaO"), estimator="oas"
    )

    again = linked(dict(at.query_params))
    assert_clean(again)
    assert again.sidebar.selectbox(key="explorer-builtin").value == BUILTIN_TABLES["pottery"].name
    assert again.selectbox(key="table-estimator").value == "oas"
    assert widget(again.multiselect, "Columns").value == ["Al2O3", "Fe2O3", "CaO"]
    assert again.metric[0].value == at.metric[0].value
    assert again.query_params == at.query_params
    assert ExplorerSettings.from_dict(exported_settings(downloads.analysis(ZIP_NAME, tmp_path / "second"))) == shown


def test_bad_link_values_give_a_message_and_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    at = linked(
        {
            "source": "builtin",
            "source.name": "pottery",
            "estimator": "lda",
            "shrinkage": "a lot",
            "columns": '["Al2O3","no such oxide"]',
            "job": "kept for its owner",
        }
    )
    assert not at.exception and not at.error
    notes = [w.value for w in at.warning]
    assert len(notes) == 3
    assert notes[0].startswith("The link's Covariance estimator was not used") and "'sample'" in notes[0]
    assert "Shrinkage" in notes[1] and "no such oxide" in notes[2]
    assert at.selectbox(key="table-estimator").value == "sample"
    assert len(widget(at.multiselect, "Columns").value) == 9
    assert at.query_params["job"] == "kept for its owner" and "estimator" not in at.query_params
    at.run()
    assert not at.warning


def test_exported_table_analysis_reruns_to_the_same_tables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    downloads = Downloads(monkeypatch)
    at = linked(POTTERY_LINK)
    assert_clean(at)
    folder = downloads.analysis(ZIP_NAME, tmp_path)
    done = rerun_script(folder)
    assert done.returncode == 0, done.stderr
    assert same_tables(folder) == {}
    report = (folder / "report.html").read_text()
    assert report.count('class="figure"') == charts(at) == 3


def test_exported_eeg_analysis_reruns_to_the_same_tables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    downloads = Downloads(monkeypatch)
    at = linked({"metrics": '["euclid","logeuclid"]', "estimator": "oas", "epoch": "7", "epochs.tmax": "2.0"})
    assert_clean(at)
    assert at.slider(key=next(k for k in (s.key for s in at.slider) if k.startswith("epoch-"))).value == 7
    assert at.number_input(key="explorer-epochs-tmax").value == 2.0
    assert at.query_params["epochs.tmax"] == "2.0" and not any(k.startswith("epochs.c") for k in at.query_params)
    folder = downloads.analysis(ZIP_NAME, tmp_path)
    settings = ExplorerSettings.from_dict(json.loads((folder / "provenance.json").read_text())["settings"])
    assert settings.metrics == ("euclid", "logeuclid") and settings.epoch == 7
    assert settings.epochs.classes == ("left_hand", "right_hand") and settings.epochs.tmax == 2.0
    assert len(settings.epochs.channels) == 22
    done = rerun_script(folder)
    assert done.returncode == 0, done.stderr
    worst = same_tables(folder)
    assert {"epoch_covariances_uV2", "distances_euclid", "mean_logeuclid", "traces_uV"} <= {
        p.stem for p in (folder / "tables").glob("*.csv")
    }
    assert worst == {}, worst


def test_an_upload_exports_reruns_from_its_file_and_its_link_waits_for_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    downloads = Downloads(monkeypatch)
    rows = ["x,y,z"] + [f"{i},{(i * 7) % 11},{(i * i) % 13}" for i in range(30)]
    data = ("\n".join(rows) + "\n").encode()
    at = _upload("Table (CSV/TSV)", [("values.csv", data)])
    at.selectbox(key="table-estimator").set_value("ledoit_wolf").run()
    assert_clean(at)
    folder = downloads.analysis(ZIP_NAME, tmp_path / "export")
    (folder / "values.csv").write_bytes(data)
    done = rerun_script(folder)
    assert done.returncode == 0, done.stderr
    assert same_tables(folder) == {}
    (folder / "values.csv").write_bytes(data.replace(b"\n3,", b"\n4,"))
    refused = rerun_script(folder)
    assert refused.returncode == 1 and "differs from the one" in refused.stderr and "Traceback" not in refused.stderr

    link = dict(at.query_params)
    assert link["source"] == "upload" and link["estimator"] == "ledoit_wolf"
    reopened = linked(link)
    assert not reopened.exception
    assert reopened.sidebar.radio(key="explorer-origin").value == "Upload"
    assert "This link was made for 'values.csv'" in reopened.info[0].value
    reopened.sidebar.get("file_uploader")[0].set_value(("values.csv", data, "text/csv"))
    reopened.run()
    assert_clean(reopened)
    assert reopened.selectbox(key="table-estimator").value == "ledoit_wolf"
    other = linked(link)
    other.sidebar.get("file_uploader")[0].set_value(("values.csv", data.replace(b"\n3,", b"\n4,"), "text/csv"))
    other.run()
    assert not other.exception and not other.error
    assert other.selectbox(key="table-estimator").value == "sample"
    assert any("the file uploaded now differs" in w.value for w in other.warning)


def test_raw_trials_export_reruns_to_the_page_covariances_and_their_link_keeps_the_estimator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.io.test_spd import eeg_like_trials

    downloads = Downloads(monkeypatch)
    data = _trials_npy(eeg_like_trials(n_trials=12))
    at = _upload("Covariance matrices (.npy, .npz, .csv, .mat)", [("s001.npy", data)])
    at.sidebar.selectbox(key="explorer-trial-estimator").set_value("ledoit_wolf").run()
    widget(at.multiselect, "Metrics").set_value(["riemann"]).run()
    assert_clean(at)
    assert at.query_params["source.options"] == '[["trial_estimator","ledoit_wolf"]]'
    folder = downloads.analysis(ZIP_NAME, tmp_path / "export")
    (folder / "s001.npy").write_bytes(data)
    done = rerun_script(folder)
    assert done.returncode == 0, done.stderr
    assert same_tables(folder) == {}
    assert {"covariance", "distances_riemann"} <= {p.stem for p in (folder / "tables").glob("*.csv")}

    reopened = linked(dict(at.query_params))
    reopened.sidebar.get("file_uploader")[0].set_value(("s001.npy", data, "application/octet-stream"))
    reopened.run()
    assert_clean(reopened)
    assert reopened.sidebar.selectbox(key="explorer-trial-estimator").value == "ledoit_wolf"
    assert widget(reopened.multiselect, "Metrics").value == ["riemann"]
