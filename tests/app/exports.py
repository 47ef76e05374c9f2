"""Helpers of the page tests that export an analysis from AppTest and rerun it in a fresh interpreter."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest


class Downloads:
    """Records the deferred download callables a page registers, by file name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from streamlit.runtime.media_file_manager import MediaFileManager

        self.callables: dict[str, Any] = {}
        original = MediaFileManager.add_deferred

        def add_deferred(manager, data_callable, mimetype, coordinates, file_name=None, **kwargs):
            self.callables[file_name] = data_callable
            return original(manager, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

        monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)

    def analysis(self, zip_name: str, folder: Path) -> Path:
        """The page's "Export analysis" zip (``zip_name``), unpacked into ``folder``."""
        data = self.callables[zip_name]()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(folder)
        return folder


def exported_settings(folder: Path) -> dict[str, Any]:
    """The settings an unpacked analysis export recorded, as JSON."""
    return json.loads((folder / "provenance.json").read_text())["settings"]


def rerun_script(folder: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the exported ``analysis.py`` in a fresh interpreter, in its folder."""
    return subprocess.run(
        [sys.executable, "analysis.py", *args], cwd=folder, capture_output=True, text=True, timeout=timeout, check=False
    )


def same_tables(folder: Path, *, rtol: float = 1e-10) -> dict[str, float]:
    """The script's tables (``results/``) against the page's (``tables/``): byte-identical, or equal to ``rtol``.

    Returns the largest absolute difference of each table that is not byte-identical (empty: all identical).
    """
    worst: dict[str, float] = {}
    page = sorted((folder / "tables").glob("*.csv"))
    assert page and {p.name for p in (folder / "results").glob("*.csv")} == {p.name for p in page}
    for path in page:
        mine = (folder / "results" / path.name).read_bytes()
        if mine == path.read_bytes():
            continue
        left = pd.read_csv(path, float_precision="round_trip")
        right = pd.read_csv(folder / "results" / path.name, float_precision="round_trip")
        assert list(left.columns) == list(right.columns), path.name
        numbers = left.select_dtypes("number").columns
        pd.testing.assert_frame_equal(left.drop(columns=numbers), right.drop(columns=numbers))
        a, b = left[numbers].to_numpy(), right[numbers].to_numpy()
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol * np.nanmax(np.abs(a)), err_msg=path.name)
        worst[path.stem] = float(np.nanmax(np.abs(a - b)))
    return worst


def linked(page: str, params: dict[str, str], *, timeout: float = 180) -> AppTest:
    """The page opened from a link with these query parameters, run once."""
    at = AppTest.from_file(page, default_timeout=timeout)
    at.query_params.update(params)
    return at.run()
