"""The few Streamlit helpers that every page shares.

Page set-up, typed-error display, the per-session cache for uploaded data and the
export buttons. Computation stays in :mod:`lib`; this module only wires widgets.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st

from lib.datasets.catalog import SIMULATED_EEG_NAME
from lib.errors import WorkbenchError
from lib.io.uploads import UploadedBytes
from lib.runtime import limit_threads

T = TypeVar("T")

_CACHE_KEY = "_workbench_session_cache"
_CACHE_ENTRIES = 24


def setup_page(title: str, icon: str = ":material/hub:") -> None:
    """Configure the page and cap BLAS to one thread; call first on every page."""
    limit_threads()
    st.set_page_config(page_title=f"{title} · Covariance Workbench", page_icon=icon, layout="wide")


@contextmanager
def user_errors() -> Iterator[None]:
    """Show a :class:`~lib.errors.WorkbenchError` as ``st.error`` and stop this run of the page.

    Any other exception is a bug and propagates (Streamlit shows its type only,
    as configured by ``client.showErrorDetails = "type"``).
    """
    try:
        yield
    except WorkbenchError as error:
        st.error(str(error))
        st.stop()


def to_uploads(files: Any) -> list[UploadedBytes]:
    """Turn Streamlit ``UploadedFile`` objects (one, several or none) into :class:`UploadedBytes`."""
    if files is None:
        return []
    if not isinstance(files, list):
        files = [files]
    return [UploadedBytes(name=f.name, data=f.getvalue()) for f in files]


def session_cached(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """Return ``compute()``, cached for this browser session only under ``key``.

    Used for everything derived from uploaded data, so that one user's uploads and
    results never reach another session. ``key`` must identify the inputs fully
    (an upload's SHA-256 digest plus the parameters), never a sample of an array.
    The cache keeps the most recent entries only.
    """
    cache: OrderedDict[tuple[Any, ...], Any] = st.session_state.setdefault(_CACHE_KEY, OrderedDict())
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = compute()
    cache[key] = value
    while len(cache) > _CACHE_ENTRIES:
        cache.popitem(last=False)
    return value


def show_figure(fig: Any, name: str, settings: Mapping[str, Any]) -> None:
    """Draw a Plotly figure with its download buttons: PNG, SVG, PDF, HTML and the settings as JSON.

    ``name`` identifies the figure on the page (widget keys, file names). Files are produced
    only when a button is clicked; each carries ``settings``.
    """
    from lib import export

    st.plotly_chart(fig, key=f"chart-{name}")

    static = export.static_export_available()
    if not static:
        st.caption("PNG, SVG and PDF export need Chromium on the server (`apt-get install chromium`); HTML works.")
    columns = st.columns(len(export.FIGURE_FORMATS) + 1, gap="small")
    for column, fmt in zip(columns, export.FIGURE_FORMATS):
        disabled = fmt != "html" and not static
        with column:
            st.download_button(
                fmt.upper(),
                data=_deferred(lambda fmt=fmt: export.export_figure(fig, fmt, name=name, settings=settings)),
                file_name=export.file_name(name, fmt),
                mime=export.MIME_TYPES[fmt],
                key=f"export-{name}-{fmt}",
                disabled=disabled,
                help="Needs Chromium on the server" if disabled else f"Download as {fmt.upper()}",
                on_click="ignore",
            )
    with columns[-1]:
        _settings_button(settings, name, kind="figure")


def table_download(frame: Any, name: str, settings: Mapping[str, Any]) -> None:
    """Download buttons for a result table: the CSV (built on click) and its settings as JSON."""
    from lib import export

    left, right = st.columns(2, gap="small")
    left.download_button(
        "Download CSV",
        data=_deferred(lambda: export.export_table(frame, name=name, settings=settings)),
        file_name=export.file_name(name, "csv"),
        mime=export.MIME_TYPES["csv"],
        key=f"export-{name}-csv",
        on_click="ignore",
    )
    with right:
        _settings_button(settings, name, kind="table")


def _settings_button(settings: Mapping[str, Any], name: str, *, kind: str) -> None:
    """The settings of a figure or table as a JSON download."""
    from lib import export

    settings_file = export.export_settings(settings, name=name, kind=kind)
    st.download_button(
        "Settings",
        data=settings_file.data,
        file_name=settings_file.file_name,
        mime=settings_file.mime,
        key=f"export-{name}-{kind}-settings",
        on_click="ignore",
    )


def _deferred(make: Callable[[], Any]) -> Callable[[], bytes]:
    """Wrap an export so that it runs on click and returns its bytes."""

    def run() -> bytes:
        return make().data

    return run


UPLOAD_KINDS = {
    "table": "Table (CSV/TSV)",
    "eeg": "EEG recording",
    "eeg_csv": "EEG as CSV (channels in columns)",
    "spd": "Covariance matrices (.npy, .npz, .csv, .mat)",
}


@st.cache_resource(max_entries=4, show_spinner="Simulating the EEG recording…")
def simulated_eeg(seed: int) -> Any:
    """The built-in simulated recording for ``seed``, shared read-only across sessions."""
    from lib.datasets.simulated_eeg import simulate_motor_imagery

    return simulate_motor_imagery(seed=seed)


@st.cache_resource(max_entries=16, show_spinner="Loading the table…")
def _builtin_table(key: str) -> Any:
    from lib.datasets.tables import load_builtin_table

    return load_builtin_table(key)


def choose_dataset(kinds: tuple[str, ...], *, key: str = "data", table_kind: str | None = None) -> Any:
    """Sidebar widgets to pick a built-in dataset or upload one; returns the typed dataset.

    Parameters
    ----------
    kinds : tuple of str
        Which kinds the page accepts, among ``"table"``, ``"eeg"``, ``"eeg_csv"``, ``"spd"``.
    key : str
        Prefix of the widget keys, unique per page.
    table_kind : {"composition", "fairness"} or None
        Offer only the built-in tables of this kind (its default first); all of them when None.

    Returns
    -------
    TableDataset, EEGDataset or SPDStack
        Built-in data are shared read-only across sessions; uploads are parsed once
        per session and cached by content digest.
    """
    from lib.datasets.tables import BUILTIN_TABLES, builtin_keys

    with st.sidebar:
        st.header("Data")
        origin = st.radio("Source", ["Built-in", "Upload"], horizontal=True, key=f"{key}-origin")
        if origin == "Built-in":
            options: dict[str, str] = {}
            if "eeg" in kinds:
                options[SIMULATED_EEG_NAME] = "eeg"
            if "table" in kinds:
                keys = builtin_keys(table_kind) if table_kind else tuple(BUILTIN_TABLES)
                options.update({BUILTIN_TABLES[k].name: k for k in keys})
            label = st.selectbox("Dataset", list(options), key=f"{key}-builtin")
            with user_errors():
                if options[label] == "eeg":
                    seed = int(st.number_input("Simulation seed", 0, 2**31 - 1, 0, key=f"{key}-seed"))
                    return simulated_eeg(seed)
                return _builtin_table(options[label])
        kind_labels = {UPLOAD_KINDS[k]: k for k in kinds if k in UPLOAD_KINDS}
        kind = kind_labels[st.selectbox("File type", list(kind_labels), key=f"{key}-kind")]
        return _upload(kind, key)


def show_dataset_header(dataset: Any) -> None:
    """The dataset's name, source, licence, description and what reading it did."""
    st.subheader(dataset.name)
    st.caption(f"Source: {dataset.source}" + (f" · Licence: {dataset.licence}" if dataset.licence else ""))
    if dataset.description:
        st.markdown(dataset.description)
    if dataset.report:
        with st.expander("What reading the data did", expanded=False):
            for line in dataset.report:
                st.text(line)


def _upload(kind: str, key: str) -> Any:
    """Uploader for one kind of file; stops the page until something is uploaded."""
    from lib.io.eeg import SUPPORTED_EEG_SUFFIXES

    types = {
        "table": ["csv", "tsv", "txt"],
        "eeg": sorted({s.rsplit(".", 1)[-1] for s in SUPPORTED_EEG_SUFFIXES}),
        "eeg_csv": ["csv", "tsv", "txt"],
        "spd": ["npy", "npz", "csv", "mat"],
    }[kind]
    files = to_uploads(
        st.file_uploader(
            UPLOAD_KINDS[kind],
            type=types,
            accept_multiple_files=kind == "eeg",
            key=f"{key}-upload-{kind}",
            help="BrainVision: upload .vhdr, .vmrk and .eeg together; EEGLAB: .set with its .fdt."
            if kind == "eeg"
            else None,
        )
    )
    if kind == "eeg_csv":
        sfreq = float(st.number_input("Sampling rate (Hz)", 1.0, 100_000.0, 250.0, key=f"{key}-sfreq"))
        unit = st.selectbox("Unit of the values", ["uV", "mV", "V", "nV"], key=f"{key}-unit")
    if not files:
        st.info("Upload a file in the sidebar to begin.")
        st.stop()
    with user_errors():
        if kind == "table":
            from lib.io.tables import read_table

            return session_cached(("table", files[0].digest), lambda: read_table(files[0]))
        if kind == "eeg":
            from lib.io.eeg import read_eeg
            from lib.io.uploads import digest_of

            return session_cached(("eeg", digest_of(files)), lambda: read_eeg(files))
        if kind == "eeg_csv":
            from lib.io.eeg_csv import read_eeg_csv

            return session_cached(
                ("eeg_csv", files[0].digest, sfreq, unit),
                lambda: read_eeg_csv(files[0], sfreq=sfreq, unit=unit),
            )
        from lib.io.spd import read_spd_stack

        return session_cached(("spd", files[0].digest), lambda: read_spd_stack(files[0]))
