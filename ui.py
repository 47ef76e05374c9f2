"""The few Streamlit helpers that every page shares.

Page set-up, typed-error display, the per-session cache for uploaded data, the dataset
picker and the widget groups pages share (header row, estimator, epochs), the export
buttons, settings links and the analysis export, and the job helpers. Computation stays
in :mod:`covwb`; this module only wires widgets.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st

from covwb.datasets.catalog import SIMULATED_EEG_NAME
from covwb.errors import WorkbenchError
from covwb.io.uploads import UploadedBytes
from covwb.runtime import limit_threads
from covwb.settings import Settings
from covwb.sources import SIMULATED_EEG, BuiltinSource, DataSource, UploadSource

T = TypeVar("T")

MAX_UPLOAD_MB = 200
"""Largest upload, in MiB, for one file and for the files of one uploader together; equals ``server.maxUploadSize``."""
UNEXPECTED_ERROR_PREFIX = "Unexpected error"
"""How the message of an error that is not a :class:`~covwb.errors.WorkbenchError` starts (a bug, not bad input)."""
UNEXPECTED_ERRORS_KEY = "_workbench_unexpected_errors"
"""Session-state key of the type names of the unexpected errors this session met (the last 20)."""

_LOG = logging.getLogger("covariance_workbench")
_CACHE_KEY = "_workbench_session_cache"
_CACHE_ENTRIES = 24
_PUBLIC_ENTRIES = 64
_EXPORT_NOTICES_KEY = "_workbench_export_notices"
_SHARED_CACHE_TTL_S = 6 * 3600


PAGES: tuple[tuple[str, str, str, str], ...] = (
    (
        "pages/1_Dataset_explorer.py",
        "Dataset explorer",
        ":material/search:",
        "Tables, EEG recordings and covariance stacks: covariance and correlation under four estimators, "
        "eigenvalue spectra, EEG traces and spectra, per-epoch covariances, and pairwise distances, 2-D "
        "embeddings and means under the affine-invariant, log-Euclidean, Bures–Wasserstein and Euclidean metrics.",
    ),
    (
        "pages/2_EEG_augmented_covariance.py",
        "EEG augmented covariance",
        ":material/neurology:",
        "Classify motor-imagery EEG with augmented (delay-embedded) covariance matrices and Riemannian "
        "pipelines against the classic baselines, with a fast nested order × lag search and Takens-style selection.",
    ),
    (
        "pages/3_SPD_batch_norm.py",
        "SPD batch normalisation",
        ":material/tune:",
        "Riemannian batch normalisation of SPD matrices under the (generalised, power-deformed) "
        "Bures–Wasserstein metric beside AIRM and log-Euclidean, in a trainable SPD network, with its geometry "
        "made visible.",
    ),
    (
        "pages/4_Compositional_partial_correlations.py",
        "Compositional partial correlations",
        ":material/donut_small:",
        "Reference-independent partial correlations between parts (Erb), basis shrinkage when parts outnumber "
        "samples, variation array, network, biplot and ternary diagrams.",
    ),
    (
        "pages/5_Distance_covariance_fairness.py",
        "Distance-covariance fairness",
        ":material/balance:",
        "Models regularised by dCov, JdCov or CCdCov between predictions and several protected attributes of "
        "mixed types, with intersectional metrics and λ calibration.",
    ),
)
"""The method pages: script path, label, icon and one-sentence description (sidebar and home page)."""


def setup_page(title: str, icon: str = ":material/hub:") -> None:
    """Configure the page and cap BLAS to one thread; call first on every page."""
    limit_threads()
    st.set_page_config(page_title=f"{title} · Covariance Workbench", page_icon=icon, layout="wide")
    _sidebar_navigation()


def _sidebar_navigation() -> None:
    """Links to the home page ("Home") and every method page, at the top of the sidebar.

    Streamlit's own page list names the entry script after its file ("app"); it is switched off
    (``client.showSidebarNavigation = false``) and replaced by these links. A page run as an app of
    its own (``streamlit run pages/…`` or ``AppTest.from_file``) has no other pages to link to and shows none.
    """
    from streamlit.errors import StreamlitPageNotFoundError

    with st.sidebar:
        try:
            st.page_link("app.py", label="Home", icon=":material/home:")
        except StreamlitPageNotFoundError:
            return
        for path, label, icon, _ in PAGES:
            st.page_link(path, label=label, icon=icon)
        st.divider()


@contextmanager
def user_errors() -> Iterator[None]:
    """Show an error as ``st.error`` and stop this run of the page; the next input runs normally.

    A :class:`~covwb.errors.WorkbenchError` (bad input) shows its own sentence. Any other
    exception (a bug, or the server running out of memory) shows a message that starts
    with :data:`UNEXPECTED_ERROR_PREFIX` and names the exception type only; its traceback
    goes to the server log, its type name to ``st.session_state[UNEXPECTED_ERRORS_KEY]``.
    Nothing computed by the failed step is cached (see :func:`session_cached`).
    """
    try:
        yield
    except WorkbenchError as error:
        st.error(plain(str(error)))
        st.stop()
    except Exception as error:
        _LOG.exception("Unexpected error in a page step")
        seen = st.session_state.setdefault(UNEXPECTED_ERRORS_KEY, [])
        seen.append(type(error).__name__)
        del seen[:-20]
        st.error(_unexpected_message(error))
        st.stop()


def _unexpected_message(error: BaseException) -> str:
    """The sentence shown for an exception that is not a WorkbenchError."""
    kind = type(error).__name__
    if isinstance(error, MemoryError):
        return (
            f"{UNEXPECTED_ERROR_PREFIX} ({kind}): the server ran out of memory for this step, and nothing of it was "
            "kept. Try a smaller file, fewer channels or lighter settings."
        )
    return (
        f"{UNEXPECTED_ERROR_PREFIX} ({kind}) in this step; nothing of it was kept and the details are in the "
        "server log. Change the input or the settings and try again."
    )


def plain(text: str) -> str:
    """``text`` with Markdown's link and image brackets escaped, for user-provided names in Markdown elements.

    Streamlit renders ``st.error``, ``st.caption``, headers and tables' captions as Markdown
    (never raw HTML here); escaping ``[`` and ``]`` keeps an uploaded name such as
    ``![x](https://host/p.png)`` from loading an image or showing a link in the visitor's browser.
    """
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def to_uploads(files: Any) -> list[UploadedBytes]:
    """Turn Streamlit ``UploadedFile`` objects (one, several or none) into :class:`UploadedBytes`.

    Sizes are checked before anything is read: a file, or several together, over
    :data:`MAX_UPLOAD_MB` MiB shows an ``st.error`` and stops this run of the page.
    """
    if files is None:
        return []
    if not isinstance(files, list):
        files = [files]
    sizes = [_size_of(f) for f in files]
    limit = MAX_UPLOAD_MB * 1024 * 1024
    over = [(f.name, size) for f, size in zip(files, sizes) if size > limit]
    if over or sum(sizes) > limit:
        name, size = over[0] if over else (f"These {len(files)} files", sum(sizes))
        name = plain(name)
        shown = f"'{name}' is" if over else f"{name} are"
        st.error(
            f"{shown} {size / 2**20:.1f} MiB, over this server's upload limit of {MAX_UPLOAD_MB} MiB, so "
            "nothing was read. Upload a smaller file: crop the recording, keep fewer channels or rows."
        )
        st.stop()
    return [UploadedBytes(name=f.name, data=f.getvalue()) for f in files]


def _size_of(file: Any) -> int:
    """Size in bytes of an uploaded file, without copying it."""
    size = getattr(file, "size", None)
    return int(size) if isinstance(size, int) else len(file.getvalue())


def session_cached(key: tuple[Any, ...], compute: Callable[[], T], *, public: bool = False) -> T:
    """Return ``compute()``, cached under ``key`` for this browser session, or for all sessions if public.

    Everything derived from uploaded data stays in this session's own cache, so that one
    user's uploads and results never reach another session. ``key`` must identify the
    inputs fully (an upload's SHA-256 digest plus the parameters), never a sample of an
    array. Each cache keeps its most recent entries only. A ``compute()`` that raises, or
    that a rerun interrupts (Streamlit's control-flow exceptions), stores nothing, so the
    next call computes afresh.

    Parameters
    ----------
    key : tuple
        Hashable, complete description of the inputs.
    compute : callable
        Computes the value; called at most once per key while the entry is kept.
    public : bool
        True only when the value derives from built-in data (``dataset.builtin``) and
        parameters alone. It is then kept in one server-wide cache, computed once even when
        several sessions ask at the same time, and must be treated as read-only.
    """
    if public:
        return _public_results().get(key, compute)
    cache: OrderedDict[tuple[Any, ...], Any] = st.session_state.setdefault(_CACHE_KEY, OrderedDict())
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = compute()
    cache[key] = value
    while len(cache) > _CACHE_ENTRIES:
        cache.popitem(last=False)
    return value


class _SharedResults:
    """A thread-safe LRU of results derived from built-in data, with one lock per key being computed."""

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._values: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[tuple[Any, ...], threading.Lock] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """The value under ``key``, computing it once if absent (other callers wait for it)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            try:
                value = compute()
                with self._lock:
                    self._values[key] = value
                    while len(self._values) > self._entries:
                        self._values.popitem(last=False)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return value


@st.cache_resource(max_entries=1, ttl=_SHARED_CACHE_TTL_S, show_spinner=False)
def _public_results() -> _SharedResults:
    """The server-wide cache of results derived from built-in data only."""
    return _SharedResults(_PUBLIC_ENTRIES)


def show_figure(fig: Any, name: str, settings: Mapping[str, Any] | Settings) -> None:
    """Draw a Plotly figure with its download buttons: PNG, SVG, PDF, HTML and the settings as JSON.

    ``name`` identifies the figure on the page (widget keys, file names). Files are produced
    only when a button is clicked; each carries ``settings``.
    """
    from covwb import export

    st.plotly_chart(fig, key=f"chart-{name}")
    _show_export_notice(name)

    static = export.static_export_available()
    if not static:
        st.caption("PNG, SVG and PDF export need Chromium on the server (`apt-get install chromium`); HTML works.")
    columns = st.columns(len(export.FIGURE_FORMATS) + 1, gap="small")
    for column, fmt in zip(columns, export.FIGURE_FORMATS):
        disabled = fmt != "html" and not static
        with column:
            st.download_button(
                fmt.upper(),
                data=_deferred(lambda fmt=fmt: export.export_figure(fig, fmt, name=name, settings=settings), name, fmt),
                file_name=export.file_name(name, fmt),
                mime=export.MIME_TYPES[fmt],
                key=f"export-{name}-{fmt}",
                disabled=disabled,
                help="Needs Chromium on the server" if disabled else f"Download as {fmt.upper()}",
                on_click="ignore",
            )
    with columns[-1]:
        _settings_button(settings, name, kind="figure")


def table_download(frame: Any, name: str, settings: Mapping[str, Any] | Settings) -> None:
    """Download buttons for a result table: the CSV (built on click) and its settings as JSON."""
    from covwb import export

    _show_export_notice(name)
    left, right = st.columns(2, gap="small")
    left.download_button(
        "Download CSV",
        data=_deferred(lambda: export.export_table(frame, name=name, settings=settings), name, "csv"),
        file_name=export.file_name(name, "csv"),
        mime=export.MIME_TYPES["csv"],
        key=f"export-{name}-csv",
        on_click="ignore",
    )
    with right:
        _settings_button(settings, name, kind="table")


def _settings_button(settings: Mapping[str, Any] | Settings, name: str, *, kind: str) -> None:
    """The settings of a figure or table as a JSON download."""
    from covwb import export

    settings_file = export.export_settings(settings, name=name, kind=kind)
    st.download_button(
        "Settings",
        data=settings_file.data,
        file_name=settings_file.file_name,
        mime=settings_file.mime,
        key=f"export-{name}-{kind}-settings",
        on_click="ignore",
    )


def _deferred(make: Callable[[], Any], name: str, fmt: str) -> Callable[[], bytes]:
    """Wrap an export so that it runs on click and returns its bytes.

    The click runs outside the page script, where nothing can be drawn: a failure is
    logged, noted for this session (the next run of the page shows it next to the
    figure or table, see :func:`_show_export_notice`) and re-raised, so the button
    shows that the download failed. The next click tries again (the static renderer
    restarts itself, see :mod:`covwb.export`).
    """
    notices = _export_notices()

    def run() -> bytes:
        try:
            data = make().data
        except WorkbenchError as error:
            _LOG.warning("%s export of %r failed: %s", fmt.upper(), name, error)
            notices[name] = f"The last {fmt.upper()} download of this item failed: {error}"
            raise
        except Exception as error:
            _LOG.exception("%s export of %r failed", fmt.upper(), name)
            fallback = ", or download the figure as HTML" if fmt in ("png", "svg", "pdf") else ""
            notices[name] = (
                f"The last {fmt.upper()} download of this item failed ({UNEXPECTED_ERROR_PREFIX.lower()}: "
                f"{type(error).__name__}; details in the server log). Click the button again{fallback}."
            )
            raise
        notices.pop(name, None)
        return data

    return run


def _export_notices() -> MutableMapping[str, str]:
    """This session's messages about failed downloads, by figure or table name."""
    return st.session_state.setdefault(_EXPORT_NOTICES_KEY, {})


def _show_export_notice(name: str) -> None:
    """Show, once, why the last download of ``name`` failed."""
    message = _export_notices().pop(name, None)
    if message:
        st.warning(message, icon=":material/download:")


UPLOAD_KINDS = {
    "table": "Table (CSV/TSV)",
    "eeg": "EEG recording",
    "eeg_csv": "EEG as CSV (channels in columns)",
    "spd": "Covariance matrices (.npy, .npz, .csv, .mat)",
}


@st.cache_resource(max_entries=4, ttl=_SHARED_CACHE_TTL_S, show_spinner="Simulating the EEG recording…")
def simulated_eeg(seed: int) -> Any:
    """The built-in simulated recording for ``seed`` (``covwb.datasets.load("simulated_eeg", seed=seed)``), shared."""
    from covwb.datasets import SIMULATED_EEG, load

    return load(SIMULATED_EEG, seed=seed)


@st.cache_resource(max_entries=16, ttl=_SHARED_CACHE_TTL_S, show_spinner="Loading the table…")
def _builtin_table(key: str) -> Any:
    """The built-in table ``key`` (``covwb.datasets.load(key)``), shared read-only across sessions."""
    from covwb.datasets import load

    return load(key)


def choose_dataset(kinds: tuple[str, ...], *, key: str = "data", table_kind: str | None = None) -> Any:
    """Sidebar widgets to pick a built-in dataset or upload one; returns the typed dataset.

    The same widgets as :func:`choose_data`, for pages that do not record their data source.
    """
    return choose_data(kinds, key=key, table_kind=table_kind)[0]


def choose_data(
    kinds: tuple[str, ...], *, key: str = "data", table_kind: str | None = None, initial: DataSource | None = None
) -> tuple[Any, DataSource]:
    """Sidebar widgets to pick a built-in dataset or upload one; returns the typed dataset and its source.

    Parameters
    ----------
    kinds : tuple of str
        Which kinds the page accepts, among ``"table"``, ``"eeg"``, ``"eeg_csv"``, ``"spd"``.
    key : str
        Prefix of the widget keys, unique per page.
    table_kind : {"composition", "fairness"} or None
        Offer only the built-in tables of this kind (its default first); all of them when None.
    initial : BuiltinSource, UploadSource or None
        The source the widgets start from (a shared link's); the first built-in dataset when None.

    Returns
    -------
    dataset : TableDataset, EEGDataset or SPDStack
        Built-in data are shared read-only across sessions; uploads are parsed once per session and cached
        by their source (names, SHA-256 and reader options).
    source : BuiltinSource or UploadSource
        Where the dataset comes from, for the page's settings object.
    """
    from covwb.datasets.tables import BUILTIN_TABLES, builtin_keys

    with st.sidebar:
        st.header("Data")
        upload_first = isinstance(initial, UploadSource)
        origin = st.radio(
            "Source", ["Built-in", "Upload"], index=int(upload_first), horizontal=True, key=f"{key}-origin"
        )
        if origin == "Built-in":
            options: dict[str, str] = {}
            if "eeg" in kinds:
                options[SIMULATED_EEG_NAME] = SIMULATED_EEG
            if "table" in kinds:
                keys = builtin_keys(table_kind) if table_kind else tuple(BUILTIN_TABLES)
                options.update({BUILTIN_TABLES[k].name: k for k in keys})
            names = list(options.values())
            start = names.index(initial.name) if isinstance(initial, BuiltinSource) and initial.name in names else 0
            label = st.selectbox("Dataset", list(options), index=start, key=f"{key}-builtin")
            with user_errors():
                if options[label] == SIMULATED_EEG:
                    seed0 = initial.seed if isinstance(initial, BuiltinSource) else 0
                    seed = int(st.number_input("Simulation seed", 0, 2**31 - 1, seed0, key=f"{key}-seed"))
                    return simulated_eeg(seed), BuiltinSource(SIMULATED_EEG, seed=seed)
                return _builtin_table(options[label]), BuiltinSource(options[label])
        kind_labels = {UPLOAD_KINDS[k]: k for k in kinds if k in UPLOAD_KINDS}
        readers = list(kind_labels.values())
        start = readers.index(initial.reader) if upload_first and initial.reader in readers else 0
        kind = kind_labels[st.selectbox("File type", list(kind_labels), index=start, key=f"{key}-kind")]
        return _upload(kind, key, initial if upload_first else None)


def show_dataset_header(dataset: Any, *, warnings: bool = True) -> None:
    """The dataset's name, source, licence, description, its warnings and what reading it did.

    ``warnings=False`` leaves the dataset's warnings to a page whose result carries them (the explorer's).
    """
    st.subheader(plain(dataset.name))
    st.caption(plain(f"Source: {dataset.source}") + (f" · Licence: {dataset.licence}" if dataset.licence else ""))
    if dataset.description:
        st.markdown(plain(dataset.description))
    if warnings:
        show_warnings(dataset.warnings)
    if dataset.report:
        with st.expander("What reading the data did", expanded=False):
            for line in dataset.report:
                st.text(line)


def _upload(kind: str, key: str, initial: UploadSource | None) -> tuple[Any, UploadSource]:
    """Uploader for one kind of file; stops the page until something is uploaded.

    The file is read through its :class:`~covwb.sources.UploadSource`, the same call an exported
    analysis makes; the reader's options (sampling rate, unit...) are recorded in it.
    """
    from covwb.io.eeg import SUPPORTED_EEG_SUFFIXES

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
    linked = dict(initial.options) if initial is not None and initial.reader == kind else {}
    options: dict[str, Any] = {}
    if kind in ("table", "eeg_csv") or (kind == "spd" and files and files[0].suffix == ".csv"):
        options["header"] = header_control(f"{key}-{kind}", initial=str(linked.get("header", "auto")))
    if kind == "eeg_csv":
        sfreq0 = float(linked.get("sfreq", 250.0))
        options["sfreq"] = float(st.number_input("Sampling rate (Hz)", 1.0, 100_000.0, sfreq0, key=f"{key}-sfreq"))
        units = ["uV", "mV", "V", "nV"]
        unit0 = units.index(linked["unit"]) if linked.get("unit") in units else 0
        options["unit"] = st.selectbox("Unit of the values", units, index=unit0, key=f"{key}-unit")
    if not files:
        if initial is not None and initial.reader == kind:
            names = ", ".join(f"'{f.name}' (SHA-256 {f.sha256[:12]}…)" for f in initial.files)
            st.info(plain(f"This link was made for {names}: upload the same file to reopen its view."))
        else:
            st.info("Upload a file in the sidebar to begin.")
        st.stop()
    with user_errors():
        if kind == "spd":
            return _covariance_upload(files[0], key, options, linked)
        source = UploadSource.of(kind, files, **options)
        cache_key = ("upload", kind, *(f.digest for f in files), source.options)
        return session_cached(cache_key, lambda: source.read(files)), source


def _covariance_upload(
    upload: UploadedBytes, key: str, options: dict[str, Any], linked: Mapping[str, Any]
) -> tuple[Any, UploadSource]:
    """An upload of covariance matrices, or of raw trials whose covariances are estimated as chosen here.

    The file is parsed once (:func:`covwb.io.spd.read_spd_or_trials`); raw trials get the estimator
    controls, and their covariances come from :func:`covwb.io.spd.trial_covariances`. These are the two
    steps of :func:`covwb.io.spd.read_covariances`, the ``"spd"`` reader, so the returned source (with the
    estimator among its options) rereads the same matrices in an exported analysis.
    """
    from covwb.datasets.types import TrialStack
    from covwb.io.spd import read_spd_or_trials, trial_covariances

    data = session_cached(("spd", upload.digest, options.get("header")), lambda: read_spd_or_trials(upload, **options))
    if not isinstance(data, TrialStack):
        return data, UploadSource.of("spd", [upload], **options)
    estimator, shrinkage = trial_covariance_controls(data, key=key, initial=linked)
    options["trial_estimator"] = estimator
    if estimator == "shrinkage":
        options["trial_shrinkage"] = shrinkage
    source = UploadSource.of("spd", [upload], **options)
    stack = session_cached(
        ("upload", "spd", upload.digest, source.options), lambda: trial_covariances(data, estimator, shrinkage)
    )
    return stack, source


def header_control(key: str, *, initial: str = "auto") -> str:
    """The header choice of a table uploader: automatic, first row is the header, or no header row.

    Parameters
    ----------
    key : str
        Prefix of the widget key (``<key>-header``).
    initial : str
        The choice the widget starts from (a shared link's); ``"auto"`` when it is not one of the choices.

    Returns
    -------
    str
        A key of :data:`covwb.io.tables.HEADER_CHOICES` (``"auto"``, ``"first_row"``, ``"none"``),
        for the ``header`` argument (a reader option) of the table readers.
    """
    from covwb.io.tables import HEADER_CHOICES

    choices = list(HEADER_CHOICES)
    return st.selectbox(
        "Header row",
        choices,
        index=choices.index(initial) if initial in choices else 0,
        format_func=HEADER_CHOICES.get,
        key=f"{key}-header",
        help="Automatic: the first row names the columns when it holds no numbers, or holds distinct whole numbers "
        "(such as 0, 1, 2, ...) over rows of another pattern; a warning says when this is in doubt.",
    )


def estimator_controls(key: str, *, default: str = "sample", shrinkage: float = 0.1) -> tuple[str, float]:
    """Covariance estimator choice and, for fixed shrinkage, its intensity.

    Parameters
    ----------
    key : str
        Widget key of the estimator (the intensity's is ``<key>-shrink``), unique per page.
    default, shrinkage : str and float
        The estimator and intensity the widgets start from (a page's settings); ``default`` falls back to
        ``"sample"`` when it is not a key of :data:`covwb.covariance.estimators.ESTIMATORS`.

    Returns
    -------
    tuple of (str, float)
        A key of :data:`covwb.covariance.estimators.ESTIMATORS` and the shrinkage intensity in [0, 1]
        (used by ``"shrinkage"`` only).
    """
    from covwb.covariance.estimators import ESTIMATORS

    left, right = st.columns(2)
    names = list(ESTIMATORS)
    estimator = left.selectbox(
        "Covariance estimator",
        names,
        index=names.index(default) if default in names else names.index("sample"),
        format_func=ESTIMATORS.get,
        key=key,
    )
    intensity = right.slider(
        "Shrinkage", 0.0, 1.0, float(shrinkage), 0.01, key=f"{key}-shrink", disabled=estimator != "shrinkage"
    )
    return estimator, intensity


def trial_covariance_controls(trials: Any, *, key: str, initial: Mapping[str, Any] | None = None) -> tuple[str, float]:
    """The covariance estimator of raw trials (a :class:`~covwb.datasets.types.TrialStack`) uploaded as covariances.

    Says what the file holds and offers the estimator (OAS by default, see :func:`covwb.io.trial_covariances`).

    Parameters
    ----------
    trials : TrialStack
        The uploaded trials.
    key : str
        Prefix of the widget keys (``<key>-trial-estimator``).
    initial : Mapping or None
        Reader options the widgets start from (a shared link's ``trial_estimator``, ``trial_shrinkage``).

    Returns
    -------
    tuple of (str, float)
        The estimator and shrinkage intensity: the ``trial_estimator`` and ``trial_shrinkage`` options of
        :func:`covwb.io.spd.read_covariances`.
    """
    from covwb.io.spd import DEFAULT_TRIAL_ESTIMATOR

    start = dict(initial or {})
    n_trials, n_channels, n_samples = trials.trials.shape
    st.info(
        plain(
            f"'{trials.name}' holds {n_trials} raw trials of {n_channels} channels × {n_samples} samples, not "
            "covariance matrices: one covariance per trial is estimated with the estimator below."
        )
    )
    return estimator_controls(
        f"{key}-trial-estimator",
        default=str(start.get("trial_estimator", DEFAULT_TRIAL_ESTIMATOR)),
        shrinkage=float(start.get("trial_shrinkage", 0.1)),
    )


def epoch_controls(raw: Any, events: Any, *, key: str, data_id: str, initial: Any = None) -> Any:
    """The epoch settings of a page that epochs EEG: classes, channels, window and band.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording (its channels and sampling rate set the choices).
    events : covwb.eeg.events.TrialEvents
        Its events (their labels are the classes offered).
    key : str
        Prefix of the widget keys, unique per page.
    data_id : str
        Identifies the data: the class and channel choices start afresh for new data.
    initial : covwb.eeg.epochs.EpochSettings or None
        The settings the widgets start from (a page's, e.g. from its link), made explicit for the recording
        (``EpochSettings.resolve``: the first two labels, the EEG channels not marked bad, the band fitted
        below the Nyquist frequency); values it cannot take are replaced silently (a page that reads them
        from a link says so with :func:`settings_for_data`); a band of None (no filter) starts the slider at
        the default band. ``EpochSettings()`` when None.

    Returns
    -------
    covwb.eeg.epochs.EpochSettings
        Frozen settings: the arguments of ``extract_epochs``/``session_epochs`` (``**settings.as_kwargs()``),
        a cache key, and the exported settings (``settings.to_dict()``).
    """
    from covwb.eeg.epochs import DEFAULT_BAND, EpochSettings

    start, _ = (initial or EpochSettings()).resolve(raw, events=events)
    labels = list(events.event_id)
    left, right = st.columns(2)
    classes = left.multiselect("Classes", labels, default=list(start.classes), key=f"{key}-classes-{data_id}")
    channels = right.multiselect(
        "Channels", list(raw.ch_names), default=list(start.channels or ()), key=f"{key}-channels-{data_id}"
    )
    first, second, third = st.columns(3)
    tmin = first.number_input("Window start (s after the event)", -60.0, 3600.0, start.tmin, 0.1, key=f"{key}-tmin")
    tmax = second.number_input("Window end (s)", -60.0, 3600.0, start.tmax, 0.1, key=f"{key}-tmax")
    top = float(raw.info["sfreq"]) / 2 - 0.5
    band = start.band or (min(DEFAULT_BAND[0], top / 2), min(DEFAULT_BAND[1], top))
    band = third.slider("Band-pass (Hz)", 0.5, top, band, 0.5, key=f"{key}-band")
    return EpochSettings(
        classes=tuple(classes),
        tmin=float(tmin),
        tmax=float(tmax),
        band=(float(band[0]), float(band[1])),
        channels=tuple(channels),
    )


def show_warnings(warnings: Any) -> None:
    """Each warning sentence of a result or dataset as an ``st.warning``, escaped for Markdown."""
    for warning in warnings:
        st.warning(plain(warning), icon=":material/warning:")


# ---------------------------------------------------------------------------------------------------------------------
# Settings objects: links and the analysis export. A page keeps its settings in one frozen covwb.settings.Settings
# object; these helpers carry it to and from the URL and turn the page's result into an "Export analysis" download
# (covwb.export.analysis).
# ---------------------------------------------------------------------------------------------------------------------

_LINK_NOTES_KEY = "_workbench_link_notes_shown"
S = TypeVar("S", bound=Settings)


def settings_from_url(cls: type[S]) -> S:
    """The settings a shared link holds: ``st.query_params`` read as ``cls``.

    Keys that are not fields of ``cls`` are left to whoever owns them. A value the link cannot set
    (malformed, out of range, not one of the choices) keeps its default, and a warning says which
    (once per session). Called at the start of every run, it also returns what :func:`settings_to_url`
    wrote at the end of the previous one, so a page's widgets and its URL stay in step.
    """
    settings, notes = cls.from_query(st.query_params.to_dict())
    _warn_once(notes)
    return settings


def settings_for_data(linked: S, source: DataSource, data: Any) -> S:
    """The settings a page starts from for ``data``: the link's for the same data source, else the defaults.

    The result is made explicit for the data (``Settings.resolve``); every value the data cannot take
    is replaced and said so in a warning (once per session). An upload that differs from the file a link
    was made for is said so too; the same file read with other options (another header row, say) starts
    from the defaults silently. Widgets take their defaults from the returned object.
    """
    notes: list[str] = []
    start = linked
    if linked.source != source:
        start = type(linked)(source=source)
        uploads = isinstance(linked.source, UploadSource) and isinstance(source, UploadSource)
        if uploads and linked.source.files != source.files:
            names = ", ".join(f"'{f.name}' (SHA-256 {f.sha256[:12]}…)" for f in linked.source.files)
            notes.append(
                f"This link was made for {names}; the file uploaded now differs, so the page starts from its "
                "default settings."
            )
    resolved, more = start.resolve(data)
    _warn_once([*notes, *more])
    return resolved


def settings_to_url(settings: Settings, *, defaults: Settings | None = None) -> None:
    """Write the page's settings into the URL, so that a copied link reopens this view.

    Only the settings' own keys are touched: values equal to ``defaults`` (the data's defaults, say)
    are removed, the others written where they changed (see ``Settings.to_query``).
    """
    wanted = settings.to_query(defaults)
    own = set(type(settings).labels())
    for key in st.query_params.to_dict():
        if key.partition(".")[0] in own and key not in wanted:
            del st.query_params[key]
    for key, value in wanted.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


def memo(*, public: bool) -> Callable[[tuple[Any, ...], Callable[[], T]], T]:
    """The cache a page hands to its library call (``memo=``): :func:`session_cached` with ``public``."""
    return lambda key, compute: session_cached(key, compute, public=public)


def export_analysis(
    settings: Settings,
    result: Any,
    *,
    call: Callable[..., Any],
    title: str,
    figures: Mapping[str, Any] | None = None,
    data: Any = None,
) -> None:
    """The "Export analysis" download: a zip of ``analysis.py``, ``analysis.ipynb``, provenance, report, tables.

    The zip is built when the button is clicked (see :func:`covwb.export.export_analysis`); a failure is
    shown on the next run, as for the other downloads.
    """
    from covwb import export

    name = "analysis"
    _show_export_notice(name)
    st.download_button(
        "Export analysis",
        data=_deferred(
            lambda: export.export_analysis(settings, result, call=call, title=title, figures=figures, data=data),
            name,
            "zip",
        ),
        file_name=export.file_name(f"{title} analysis", "zip"),
        mime="application/zip",
        key="export-analysis",
        icon=":material/code:",
        help="A zip with a Python script and a notebook that rerun this analysis with the covwb package, "
        "its provenance, an HTML report and the tables.",
        on_click="ignore",
    )


def _warn_once(notes: Sequence[str]) -> None:
    """Show each note as a warning the first time this session meets it (notes may hold link text: escaped)."""
    shown: set[str] = st.session_state.setdefault(_LINK_NOTES_KEY, set())
    for note in notes:
        if note not in shown:
            shown.add(note)
            st.warning(plain(note), icon=":material/link:")


# ---------------------------------------------------------------------------------------------------------------------
# Jobs: long work off the page (covwb.jobs). A page submits with submit_job() and returns at once; job_result() shows
# the progress in a polling fragment with a Cancel button while the job runs, and returns the result once it is done.
# The job id lives in the session and in the URL (?<slot>_job=<id>), so that a reload finds it again.
# ---------------------------------------------------------------------------------------------------------------------

JOB_POLL_S = 1.0
"""Seconds between two looks at a running job's progress."""

_JOB_OWNER_KEY = "_workbench_job_owner"
_JOB_NOTICE_KEY = "_workbench_job_notice"


def job_owner() -> str:
    """This browser session's owner name for jobs: random, kept in the session, never shown or shared."""
    import secrets

    return st.session_state.setdefault(_JOB_OWNER_KEY, secrets.token_urlsafe(16))


def _job_param(slot: str) -> str:
    """The URL query parameter holding the job id of ``slot``."""
    return f"{slot}_job"


def _job_state(slot: str) -> str:
    """The session-state key holding the job id of ``slot``."""
    return f"_workbench_job_{slot}"


def _forget_job(slot: str) -> None:
    """Drop the job of ``slot`` from the session and the URL."""
    st.session_state.pop(_job_state(slot), None)
    if _job_param(slot) in st.query_params:
        del st.query_params[_job_param(slot)]


def submit_job(slot: str, plan: Any, *, key: Any, public: bool, name: str) -> str:
    """Start a background job for ``slot`` (one per page section) and remember it; returns its id at once.

    A job of the same owner (or a public one) already queued, running or done under ``key`` is reused.
    An earlier, still-running job of this slot with another key is cancelled for this session: pressing
    Run with new settings replaces it.

    Parameters
    ----------
    slot : str
        Names the job on the page (widget keys, the URL parameter ``<slot>_job``); unique per page.
    plan : covwb.jobs.Plan or callable returning one
        The work; a callable runs in the job's thread (so slow set-up does not hold the page).
    key : hashable
        Complete description of the inputs and settings (an upload's digest plus the settings).
    public : bool
        True only when the result derives from built-in data alone (shared by all sessions).
    name : str
        What the job computes, shown above its progress bar.
    """
    from covwb import jobs

    previous = st.session_state.get(_job_state(slot)) or st.query_params.get(_job_param(slot))
    with user_errors():
        job_id = jobs.submit(plan, owner=job_owner(), public=public, key=key, name=name)
    if previous and previous != job_id:
        try:
            jobs.cancel(previous, owner=job_owner())
        except jobs.JobNotFound:
            pass
    st.session_state[_job_state(slot)] = job_id
    st.query_params[_job_param(slot)] = job_id
    return job_id


def job_result(
    slot: str, *, key: Any, poll_s: float = JOB_POLL_S, show_preview: Callable[[Any], None] | None = None
) -> Any:
    """The result of the job of ``slot`` when it is done with ``key``; otherwise show its state and return None.

    * no job (never submitted, cancelled): shows nothing (or what the last Cancel did) and returns None;
    * queued or running: a fragment polls every ``poll_s`` seconds and shows a progress bar with the step and
      the time left, how long it has run, where it runs, and a Cancel button; changing widgets does not stop
      it; when it ends, the whole page reruns; with ``show_preview``, the fragment also draws what the
      finished tasks already show (``show_preview(covwb.jobs.preview(job_id))``, once there is a preview: see
      :attr:`covwb.jobs.Plan.preview`);
    * failed: shows why with ``st.error``; returns None;
    * done with another key (the settings changed since it was submitted, or a reload reset them): says so
      and returns None, so that a page never shows a result under settings that did not produce it;
    * done with ``key``: returns the result (read-only; it may be shared by other sessions when public).

    The job is found from the session, or after a reload from the URL parameter ``<slot>_job``.

    Examples
    --------
    A page (``plan_sweep`` builds a :class:`covwb.jobs.Plan`)::

        key = ("sweep", settings)
        if st.button("Run sweep", type="primary"):
            ui.submit_job("sweep", lambda: plan_sweep(data, settings), key=key, public=data.builtin, name="λ sweep")
        result = ui.job_result("sweep", key=key)
        if result is None:
            st.info("Choose the settings, then press **Run sweep**.")
            st.stop()
        show(result)
    """
    from covwb import jobs

    notice = st.session_state.get(_JOB_NOTICE_KEY, {}).pop(slot, None)
    if notice:
        st.info(notice)
    job_id = st.session_state.get(_job_state(slot))
    from_url = job_id is None
    if from_url:
        job_id = st.query_params.get(_job_param(slot))
    if not job_id:
        return None
    try:
        info = jobs.attach(job_id, owner=job_owner()) if from_url else jobs.info(job_id)
    except jobs.JobNotFound as error:
        _forget_job(slot)
        st.info(plain(f"The job in this page's link is gone: {error}"))
        return None
    st.session_state[_job_state(slot)] = job_id
    if st.query_params.get(_job_param(slot)) != job_id:  # e.g. back from another page, which cleared the URL
        st.query_params[_job_param(slot)] = job_id
    if info.active:
        _job_progress(slot, job_id, key, poll_s, show_preview)
        return None
    if info.status == "failed":
        st.error(plain(info.error))
        return None
    if info.status == "cancelled":
        _forget_job(slot)
        return None
    if info.key != key:
        st.info(
            "The last result of this section was computed with other settings than those now on the page, so it is "
            "not shown; press the Run button to compute these settings."
        )
        return None
    return jobs.result(job_id)


def _job_progress(slot: str, job_id: str, key: Any, poll_s: float, show_preview: Callable[[Any], None] | None) -> None:
    """The polling fragment: progress bar, step, time, where it runs, Cancel, and the preview if asked for."""
    from covwb import jobs

    @st.fragment(run_every=poll_s)
    def progress() -> None:
        try:
            info = jobs.info(job_id)
        except jobs.JobNotFound:
            st.rerun()
        if not info.active:
            st.rerun()
        title = f"{info.name}: " if info.name else ""
        st.progress(info.fraction, text=plain(f"{title}{info.step}"))
        when = "queued behind other jobs" if info.status == "queued" else f"running for {_clock(info.elapsed_s())}"
        st.caption(f"{when}. {jobs.describe()} You may change settings or reload the page; the job goes on.")
        if info.key != key:
            st.caption(
                "This job computes the settings from when it was started; press the Run button to compute the "
                "settings now on the page instead."
            )
        if st.button("Cancel", key=f"{slot}-job-cancel", icon=":material/cancel:"):
            jobs.cancel(job_id, owner=job_owner())
            _forget_job(slot)
            st.session_state.setdefault(_JOB_NOTICE_KEY, {})[slot] = f"{info.name or 'The job'} was cancelled."
            st.rerun()
        if show_preview is not None:
            try:
                shown = jobs.preview(job_id)
            except jobs.JobNotFound:
                st.rerun()
            if shown is not None:
                show_preview(shown)

    progress()


def _clock(seconds: float) -> str:
    """'42 s', '3 min 05 s', '1 h 02 min'."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"
