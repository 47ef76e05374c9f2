"""Dataset explorer: look at a table, an EEG recording or a stack of covariance matrices."""

from __future__ import annotations

import streamlit as st

import ui

ui.setup_page("Dataset explorer", ":material/search:")

from covwb.covariance.estimators import correlation, covariance, covariances, spectrum
from covwb.covariance.geometry import METRICS, mean_covariance, summarise_geometry
from covwb.datasets.fingerprint import fingerprint
from covwb.datasets.types import EEGDataset, TableDataset
from covwb.plots.matrices import (
    distance_heatmap,
    embedding_scatter,
    matrix_heatmap,
    means_figure,
    spectrum_figure,
)

PREVIEW_ROWS, PREVIEW_COLUMNS = 500, 100

st.title("Dataset explorer")
st.caption(
    "Pick a built-in dataset or upload your own in the sidebar. Tables show their covariance and correlation; "
    "EEG recordings show traces, spectra and per-epoch covariances; any stack of covariance matrices shows its "
    "geometry under four metrics."
)

dataset = ui.choose_dataset(("table", "eeg", "eeg_csv", "spd"), key="explorer")
data_id = fingerprint(dataset)
base_settings = {"page": "Dataset explorer", "dataset": dataset.name, "source": dataset.source, "data_id": data_id}

ui.show_dataset_header(dataset)


def show_covariance(matrix, labels: list[str], settings: dict) -> None:
    """Covariance and correlation heatmaps side by side, then the eigenvalue spectrum."""
    left, right = st.columns(2)
    with left:
        fig = matrix_heatmap(matrix, labels, title="Covariance")
        ui.show_figure(fig, "covariance", settings)
    with right:
        fig = matrix_heatmap(correlation(matrix), labels, title="Correlation", zmin=-1.0, zmax=1.0)
        ui.show_figure(fig, "correlation", settings)
    spec = spectrum(matrix)
    st.metric("Condition number", f"{spec.condition_number:.3g}", help="Largest over smallest eigenvalue")
    fig = spectrum_figure(spec.eigenvalues, title="Eigenvalue spectrum")
    ui.show_figure(fig, "spectrum", settings)


def show_geometry(covs, groups, settings: dict) -> None:
    """Pairwise distances, 2-D MDS and means of a stack of SPD matrices under each chosen metric."""
    st.header("SPD geometry")
    chosen = st.multiselect("Metrics", list(METRICS), default=list(METRICS), format_func=METRICS.get)
    if not chosen:
        st.info("Choose at least one metric.")
        return
    progress = st.progress(0.0, text="Computing distances…")
    summaries = {}
    for i, metric in enumerate(chosen):
        progress.progress(i / len(chosen), text=f"{METRICS[metric]} distances and embedding…")
        summaries[metric] = ui.session_cached(
            ("geometry", settings["data_id"], settings.get("covariances"), metric),
            lambda metric=metric: summarise_geometry(covs, metric),
            public=dataset.builtin,
        )
    progress.empty()
    for metric, tab in zip(chosen, st.tabs([METRICS[m] for m in chosen])):
        summary = summaries[metric]
        metric_settings = {**settings, **summary.settings}
        with tab:
            left, right = st.columns(2)
            with left:
                fig = distance_heatmap(summary.distances, None, title=f"Pairwise {METRICS[metric]} distances")
                ui.show_figure(fig, f"distances-{metric}", metric_settings)
            with right:
                fig = embedding_scatter(summary.embedding, groups, title=f"2-D MDS ({METRICS[metric]})")
                ui.show_figure(fig, f"mds-{metric}", metric_settings)
    fig = means_figure({METRICS[m]: summaries[m].mean for m in chosen}, None)
    st.subheader("Means under each metric")
    ui.show_figure(fig, "means", {**settings, "metrics": chosen})


if isinstance(dataset, TableDataset):
    from covwb.io.tables import numeric_columns

    frame = dataset.frame
    shown = frame.iloc[:PREVIEW_ROWS, :PREVIEW_COLUMNS]
    st.dataframe(shown, height=260)
    st.caption(
        f"{len(frame)} rows × {frame.shape[1]} columns (first {len(shown)} rows and {shown.shape[1]} columns shown)."
    )
    with st.expander("Summary statistics"):
        summary = frame.iloc[:, :PREVIEW_COLUMNS].describe(include="all").T
        st.dataframe(summary)
        ui.table_download(summary.reset_index(names="column"), "summary", base_settings)
    numeric = numeric_columns(frame)
    if len(numeric) < 2:
        st.error("This table has fewer than two numeric columns, so there is no covariance to show.")
        st.stop()
    st.header("Covariance")
    columns = st.multiselect("Columns", numeric, default=numeric[:30], key=f"columns-{data_id}")
    estimator, shrinkage = ui.estimator_controls("table-estimator")
    with ui.user_errors():
        if len(columns) < 2:
            st.info("Choose at least two columns.")
            st.stop()
        values = frame[columns].dropna().to_numpy(dtype=float)
        matrix = covariance(values, estimator, shrinkage)
    st.caption(f"{len(values)} complete rows of {len(frame)} used.")
    with ui.user_errors():
        show_covariance(
            matrix, columns, {**base_settings, "columns": columns, "estimator": estimator, "shrinkage": shrinkage}
        )

elif isinstance(dataset, EEGDataset):
    from covwb.eeg.epochs import extract_epochs, power_spectrum
    from covwb.eeg.events import find_trial_events
    from covwb.plots.eeg import psd_figure, traces_figure

    raw = dataset.raw
    names = list(raw.ch_names)
    duration = raw.n_times / raw.info["sfreq"]
    fmax = min(60.0, float(raw.info["sfreq"]) / 2)
    st.caption(f"{len(names)} channels · {raw.info['sfreq']:g} Hz · {duration:.1f} s")
    st.header("Signals")
    default_channels = [c for c in ("C3", "Cz", "C4") if c in names] or names[:4]
    picked = st.multiselect(
        "Channels shown", names, default=default_channels, max_selections=10, key=f"channels-{data_id}"
    )
    left, right = st.columns([3, 1])
    start = left.slider("Start (s)", 0.0, duration - 1.0, 0.0, 0.5) if duration > 1.5 else 0.0
    span = right.select_slider("Window (s)", [1.0, 2.0, 5.0, 10.0, 20.0], value=5.0)
    if picked:
        first, last = raw.time_as_index([start, min(start + span, duration)])
        segment = raw.get_data(picks=picked, start=int(first), stop=int(last)) * 1e6
        fig = traces_figure(raw.times[first:last], segment, picked, title="Raw traces")
        ui.show_figure(fig, "traces", {**base_settings, "channels": picked, "start_s": start, "window_s": span})
        with ui.user_errors():
            freqs, psd = ui.session_cached(
                ("psd", data_id, tuple(picked)),
                lambda: power_spectrum(raw, picks=picked, fmax=fmax),
                public=dataset.builtin,
            )
        fig = psd_figure(freqs, psd, picked, title="Power spectral density (Welch)")
        ui.show_figure(fig, "psd", {**base_settings, "channels": picked, "method": "welch", "fmax_hz": fmax})

    st.header("Epochs and their covariances")
    with ui.user_errors():
        events = find_trial_events(raw)
    counts = ", ".join(f"{k} × {v}" for k, v in events.counts.items())
    st.caption(ui.plain(f"Events from {events.origin}: {counts}"))
    epoch = ui.epoch_controls(raw, events, key="explorer-epochs", data_id=data_id)
    estimator, shrinkage = ui.estimator_controls("eeg-estimator")
    epoch_settings = {**base_settings, **epoch.as_dict(), "estimator": estimator, "shrinkage": shrinkage}
    with ui.user_errors():
        epochs = ui.session_cached(
            ("epochs", data_id, epoch),
            lambda: extract_epochs(raw, events=events, **epoch.as_kwargs()),
            public=dataset.builtin,
        )
        covs = ui.session_cached(
            ("covariances", data_id, epoch, estimator, shrinkage),
            lambda: covariances(epochs.X, estimator, shrinkage),
            public=dataset.builtin,
        )
        mean = ui.session_cached(
            ("mean", data_id, fingerprint(covs)), lambda: mean_covariance(covs, "riemann"), public=dataset.builtin
        )
    ui.show_warnings(epochs.warnings)
    st.caption(f"{len(covs)} epochs × {len(epochs.ch_names)} channels × {epochs.X.shape[-1]} samples.")
    epoch_index = st.slider("Epoch", 0, len(covs) - 1, 0) if len(covs) > 1 else 0
    left, right = st.columns(2)
    with left:
        fig = matrix_heatmap(
            covs[epoch_index],
            epochs.ch_names,
            title=f"Epoch {epoch_index} ({epochs.y[epoch_index]}), µV²",
            axis_title="channel",
        )
        ui.show_figure(fig, "epoch-covariance", {**epoch_settings, "epoch": epoch_index})
    with right:
        fig = matrix_heatmap(
            mean,
            epochs.ch_names,
            title="Affine-invariant mean of all epochs, µV²",
            axis_title="channel",
        )
        ui.show_figure(fig, "mean-covariance", epoch_settings)
    with ui.user_errors():
        show_geometry(covs, list(epochs.y), {**epoch_settings, "covariances": fingerprint(covs)})

else:
    stack = dataset
    st.caption(f"{stack.matrices.shape[0]} matrices of {stack.matrices.shape[1]} × {stack.matrices.shape[2]}.")
    count = stack.matrices.shape[0]
    index = st.slider("Matrix", 0, count - 1, 0) if count > 1 else 0
    labels = [str(i) for i in range(stack.matrices.shape[1])]
    with ui.user_errors():
        show_covariance(stack.matrices[index], labels, {**base_settings, "matrix": index})
    groups = list(stack.labels) if stack.labels is not None else None
    with ui.user_errors():
        show_geometry(stack.matrices, groups, {**base_settings, "covariances": data_id})
