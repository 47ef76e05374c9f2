"""The few Streamlit helpers that every page shares.

Page set-up, typed-error display, the per-session cache for uploaded data and the
export buttons. Computation stays in :mod:`covwb`; this module only wires widgets.
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
    """The built-in simulated recording for ``seed``, shared read-only across sessions."""
    from covwb.datasets.simulated_eeg import simulate_motor_imagery

    return simulate_motor_imagery(seed=seed)


@st.cache_resource(max_entries=16, ttl=_SHARED_CACHE_TTL_S, show_spinner="Loading the table…")
def _builtin_table(key: str) -> Any:
    """The built-in table ``key`` as a TableDataset, shared read-only across sessions."""
    from covwb.datasets.tables import load_builtin_table

    return load_builtin_table(key)


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


def show_dataset_header(dataset: Any) -> None:
    """The dataset's name, source, licence, description and what reading it did."""
    st.subheader(plain(dataset.name))
    st.caption(plain(f"Source: {dataset.source}") + (f" · Licence: {dataset.licence}" if dataset.licence else ""))
    if dataset.description:
        st.markdown(plain(dataset.description))
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
        source = UploadSource.of(kind, files, **options)
        key = ("upload", kind, *(f.digest for f in files), source.options)
        return session_cached(key, lambda: source.read(files)), source


# --------------------------------------------------------------------------- settings objects: links and the analysis export
# A page keeps its settings in one frozen covwb.settings.Settings object; these helpers carry it to and from
# the URL and turn the page's result into an "Export analysis" download (covwb.export.analysis).

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
    was made for is said so too. Widgets take their defaults from the returned object.
    """
    notes: list[str] = []
    start = linked
    if linked.source != source:
        start = type(linked)(source=source)
        if isinstance(linked.source, UploadSource) and isinstance(source, UploadSource):
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
