"""The home page: what the workbench does, its pages and its built-in data."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from covwb.datasets.tables import BUILTIN_TABLES

REPO = Path(__file__).resolve().parents[2]


def test_home_lists_pages_and_builtin_data() -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Covariance Workbench"
    catalog = at.table[0].value
    assert len(catalog) == 1 + len(BUILTIN_TABLES)
    assert all(catalog["Licence"].str.len() > 0)
    formats = at.table[1].value
    assert {"EDF / EDF+", "BDF", "GDF", "FIF", "BrainVision", "EEGLAB", "EEG as CSV"} <= set(formats.index)
    links = [link.label for link in at.main.get("page_link")]
    assert links[0] == "Dataset explorer"
    assert len(links) == len(list((REPO / "pages").glob("*.py")))
    sidebar = [link.label for link in at.sidebar.get("page_link")]
    assert sidebar == ["Home", *links]
