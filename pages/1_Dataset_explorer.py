"""Dataset explorer: look at a table, an EEG recording or a stack of covariance matrices."""

from __future__ import annotations

import streamlit as st

import ui

ui.setup_page("Dataset explorer", ":material/search:")

from covwb.covariance.geometry import NUMPY_METRICS
from covwb.datasets.types import EEGDataset, TableDataset
from covwb.explore import MAX_CHANNELS, WINDOWS_S, ExplorerSettings, explore, trial_events
from covwb.plots.explorer import explorer_figures

PREVIEW_ROWS, PREVIEW_COLUMNS = 500, 100
KEY = "explorer"
TITLE = "Dataset explorer"

st.title(TITLE)
st.caption(
    "Pick a built-in dataset or upload your own in the sidebar. Tables show their covariance and correlation; "
    "EEG recordings show traces, spectra and per-epoch covariances; any stack of covariance matrices shows its "
    "geometry under four metrics."
)

# ---------------------------------------------------------------- data and the settings the page starts from
linked = ui.settings_from_url(ExplorerSettings)
dataset, source = ui.choose_data(("table", "eeg", "eeg_csv", "spd"), key=KEY, initial=linked.source)
ui.show_dataset_header(dataset, warnings=False)  # the result's warnings hold them
with ui.user_errors():
    initial = ui.settings_for_data(linked, source, dataset)
data_id = source.fingerprint()[:16]
progress_slot = st.empty()
warnings_slot = st.container()


def estimator_controls(key: str) -> dict:
    """Estimator choice and, for fixed shrinkage, its intensity, starting from the page's settings."""
    estimator, shrinkage = ui.estimator_controls(key, default=initial.estimator, shrinkage=initial.shrinkage)
    return {"estimator": estimator, "shrinkage": shrinkage}


def geometry_controls() -> tuple[str, ...]:
    """The geometry section's header and metric choice."""
    st.header("SPD geometry")
    return tuple(
        st.multiselect(
            "Metrics",
            list(NUMPY_METRICS),
            default=list(initial.metrics),
            format_func=NUMPY_METRICS.get,
            key=f"metrics-{data_id}",
        )
    )


def show_covariance(figures: dict, settings: ExplorerSettings, condition_number: float) -> None:
    """Covariance and correlation heatmaps side by side, then the eigenvalue spectrum."""
    left, right = st.columns(2)
    with left:
        ui.show_figure(figures["covariance"], "covariance", settings)
    with right:
        ui.show_figure(figures["correlation"], "correlation", settings)
    st.metric("Condition number", f"{condition_number:.3g}", help="Largest over smallest eigenvalue")
    ui.show_figure(figures["spectrum"], "spectrum", settings)


def show_geometry(figures: dict, result, settings: ExplorerSettings) -> None:
    """Pairwise distances and 2-D MDS under each metric in tabs, then the means side by side."""
    geometry = result.geometry or {}
    if result.stopped:
        st.error(ui.plain(result.stopped))
        return
    if not geometry:
        st.info("Choose at least one metric.")
        return
    for metric, tab in zip(geometry, st.tabs([NUMPY_METRICS[m] for m in geometry])):
        with tab:
            left, right = st.columns(2)
            with left:
                ui.show_figure(figures[f"distances-{metric}"], f"distances-{metric}", settings)
            with right:
                ui.show_figure(figures[f"mds-{metric}"], f"mds-{metric}", settings)
    st.subheader("Means under each metric")
    ui.show_figure(figures["means"], "means", settings)


def run(settings: ExplorerSettings):
    """The page's one library call, cached step by step, with a progress bar while it runs."""
    bar = progress_slot.progress(0.0, text="Computing…")
    with ui.user_errors():
        result = explore(
            settings,
            dataset,
            memo=ui.memo(public=dataset.builtin),
            progress=lambda done, text: bar.progress(done, text=text),
        )
    progress_slot.empty()
    with warnings_slot:
        ui.show_warnings(result.warnings)
    return result


# ---------------------------------------------------------------- a table
if isinstance(dataset, TableDataset):
    from covwb.io.tables import numeric_columns

    frame = dataset.frame
    shown = frame.iloc[:PREVIEW_ROWS, :PREVIEW_COLUMNS]
    st.dataframe(shown, height=260)
    st.caption(
        f"{len(frame)} rows × {frame.shape[1]} columns (first {len(shown)} rows and {shown.shape[1]} columns shown)."
    )
    summary_box = st.expander("Summary statistics")
    numeric = numeric_columns(frame)
    settings = initial
    if initial.columns is not None:
        st.header("Covariance")
        columns = st.multiselect("Columns", numeric, default=list(initial.columns), key=f"columns-{data_id}")
        settings = ExplorerSettings(source=source, columns=tuple(columns), **estimator_controls("table-estimator"))
    result = run(settings)
    figures = explorer_figures(result)
    with summary_box:
        st.dataframe(result.summary)
        ui.table_download(result.summary.reset_index(), "summary", settings)
    if result.stopped:
        (st.info if settings.columns is not None else st.error)(ui.plain(result.stopped))
    else:
        st.caption(f"{result.n_complete} complete rows of {result.n_rows} used.")
        show_covariance(figures, settings, result.spectrum.condition_number)

# ---------------------------------------------------------------- an EEG recording
elif isinstance(dataset, EEGDataset):
    raw = dataset.raw
    names = list(raw.ch_names)
    duration = raw.n_times / raw.info["sfreq"]
    st.caption(f"{len(names)} channels · {raw.info['sfreq']:g} Hz · {duration:.1f} s")
    st.header("Signals")
    channels = st.multiselect(
        "Channels shown", names, default=list(initial.channels), max_selections=MAX_CHANNELS, key=f"channels-{data_id}"
    )
    left, right = st.columns([3, 1])
    start = (
        left.slider("Start (s)", 0.0, duration - 1.0, initial.start, 0.5, key=f"start-{data_id}")
        if duration > 1.5
        else 0.0
    )
    window = right.select_slider("Window (s)", list(WINDOWS_S), value=initial.window, key="window")
    signals_box = st.container()

    st.header("Epochs and their covariances")
    events_box = st.container()
    events = ui.session_cached(("trial-events", data_id), lambda: trial_events(raw), public=dataset.builtin)
    epochs = initial.epochs
    if events is not None:
        epochs = ui.epoch_controls(raw, events, key="explorer-epochs", data_id=data_id, initial=initial.epochs)
    estimator = estimator_controls("eeg-estimator")
    epochs_box = st.container()
    metrics = geometry_controls()
    geometry_box = st.container()

    settings = ExplorerSettings(
        source=source,
        channels=tuple(channels),
        start=start,
        window=window,
        epochs=epochs,
        epoch=initial.epoch,
        metrics=metrics,
        **estimator,
    )
    result = run(settings)
    with events_box:
        if result.event_counts is not None:
            counts = ", ".join(f"{k} × {v}" for k, v in result.event_counts.items())
            st.caption(ui.plain(f"Events from {result.event_origin}: {counts}"))
    with epochs_box:
        if result.covariances is None:
            st.error(ui.plain(result.stopped or "The epochs could not be computed."))
        else:
            count = len(result.covariances)
            st.caption(f"{count} epochs × {len(result.epoch_channels)} channels × {result.n_times} samples.")
            epoch = min(initial.epoch, count - 1)
            if count > 1:
                epoch = st.slider("Epoch", 0, count - 1, epoch, key=f"epoch-{data_id}")
            settings = settings.replace(epoch=epoch)
    figures = explorer_figures(result, settings)
    with signals_box:
        if channels:
            ui.show_figure(figures["traces"], "traces", settings)
            ui.show_figure(figures["psd"], "psd", settings)
    if result.covariances is not None:
        with epochs_box:
            left, right = st.columns(2)
            with left:
                ui.show_figure(figures["epoch-covariance"], "epoch-covariance", settings)
            if "mean-covariance" in figures:
                with right:
                    ui.show_figure(figures["mean-covariance"], "mean-covariance", settings)
        with geometry_box:
            show_geometry(figures, result, settings)

# ---------------------------------------------------------------- a stack of covariance matrices
else:
    stack = dataset
    count, p = stack.matrices.shape[0], stack.matrices.shape[1]
    st.caption(f"{count} matrices of {p} × {p}.")
    matrix = st.slider("Matrix", 0, count - 1, initial.matrix, key=f"matrix-{data_id}") if count > 1 else 0
    covariance_box = st.container()
    metrics = geometry_controls()
    geometry_box = st.container()
    settings = ExplorerSettings(source=source, matrix=matrix, metrics=metrics)
    result = run(settings)
    figures = explorer_figures(result)
    with covariance_box:
        show_covariance(figures, settings, result.spectrum.condition_number)
    with geometry_box:
        show_geometry(figures, result, settings)

# ---------------------------------------------------------------- the link and the analysis export
ui.settings_to_url(settings, defaults=ExplorerSettings(source=source).resolve(dataset)[0])
with st.sidebar:
    ui.export_analysis(settings, result, call=explore, title=TITLE, figures=figures, data=dataset)
