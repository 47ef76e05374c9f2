"""EEG classification with augmented covariance matrices (ACM) and Riemannian baselines."""

from __future__ import annotations

from typing import Any

import streamlit as st

import ui

ui.setup_page("EEG augmented covariance", ":material/neurology:")

import numpy as np

from covwb.covariance.estimators import ESTIMATORS
from covwb.datasets.fingerprint import fingerprint
from covwb.eeg.analysis import (
    SELECTIONS,
    ACMAnalysis,
    ACMSettings,
    ACMSource,
    UploadedRecordings,
    acm_epochs,
    acm_recording,
    analyse_acm,
    plan_acm,
)
from covwb.eeg.evaluation import KERNELS, SCHEMES
from covwb.eeg.pipelines import PIPELINES
from covwb.plots.acm import METRIC_NAMES, acm_figures
from covwb.sources import SIMULATED_EEG, BuiltinSource, UploadSource

KEY = "acm"
TITLE = "EEG augmented covariance"
SVM_C_CHOICES = (0.1, 0.5, 1.0, 1.5, 10.0)


def choose_recordings(initial: ACMSource) -> tuple[Any, ACMSource]:
    """Sidebar: the built-in recording (by seed) or uploaded runs with their session labels; data and source."""
    with st.sidebar:
        st.header("Data")
        uploads_first = isinstance(initial, UploadedRecordings)
        origin = st.radio(
            "Source", ["Built-in", "Upload"], index=int(uploads_first), horizontal=True, key=f"{KEY}-origin"
        )
        if origin == "Built-in":
            seed0 = initial.seed if isinstance(initial, BuiltinSource) else 0
            seed = int(st.number_input("Simulation seed", 0, 2**31 - 1, seed0, key=f"{KEY}-data-seed"))
            with ui.user_errors():
                return ui.simulated_eeg(seed), BuiltinSource(SIMULATED_EEG, seed=seed)
        return uploaded_recordings(initial if uploads_first else None)


def uploaded_recordings(initial: UploadedRecordings | None) -> tuple[tuple, UploadedRecordings]:
    """The uploader: one recording per run (a header with its companions counts as one), each with a session."""
    from covwb.io.eeg import SUPPORTED_EEG_SUFFIXES, group_recordings

    files = ui.to_uploads(
        st.file_uploader(
            "EEG recordings (one file per run; BrainVision .vhdr+.vmrk+.eeg, EEGLAB .set+.fdt together)",
            type=sorted({s.rsplit(".", 1)[-1] for s in SUPPORTED_EEG_SUFFIXES}),
            accept_multiple_files=True,
            key=f"{KEY}-upload",
        )
    )
    if not files:
        if initial is not None:
            names = ", ".join(f"'{f.name}' (SHA-256 {f.sha256[:12]}…)" for f in initial.files)
            st.info(ui.plain(f"This link was made for {names}: upload the same files to reopen its view."))
        else:
            st.info("Upload one or more EEG recordings in the sidebar to begin.")
        st.stop()
    linked = dict(zip(initial.names, initial.sessions)) if initial is not None else {}
    runs, datasets, sessions = [], [], []
    with ui.user_errors():
        for i, group in enumerate(group_recordings(files)):
            run = UploadSource.of("eeg", group)
            cache_key = ("upload", "eeg", *(f.digest for f in group))
            datasets.append(ui.session_cached(cache_key, lambda run=run, group=group: run.read(group)))
            label = st.text_input(
                f"Session of {datasets[-1].name}", linked.get(run.files[0].name, "1"), key=f"{KEY}-session-{i}"
            )
            runs.append(run)
            sessions.append(label)
        source = UploadedRecordings(runs=tuple(runs), sessions=tuple(sessions))
    if initial is not None and initial.files != source.files:
        names = ", ".join(f"'{f.name}' (SHA-256 {f.sha256[:12]}…)" for f in initial.files)
        st.warning(
            ui.plain(
                f"This link was made for {names}; the files uploaded now differ, so the page starts from its defaults."
            )
        )
    return tuple(datasets), source


def show_recording(datasets: tuple, recording: Any, events: Any) -> None:
    """Name, source and what reading did; channels, rate, duration and events."""
    if len(datasets) == 1:
        ui.show_dataset_header(datasets[0], warnings=False)  # the result's warnings hold them
    else:
        st.subheader(ui.plain(" + ".join(d.name for d in datasets)))
        with st.expander("What reading the data did", expanded=False):
            for dataset in datasets:
                for line in dataset.report:
                    st.text(f"{dataset.name}: {line}")
    raw = recording.raw
    sfreq = float(raw.info["sfreq"])
    st.caption(
        ui.plain(
            f"{len(raw.ch_names)} channels · {sfreq:g} Hz · {raw.n_times / sfreq:.1f} s · events from "
            f"{events.origin}: " + ", ".join(f"{k} × {v}" for k, v in events.counts.items())
        )
    )


def evaluation_controls(initial: ACMSettings) -> dict:
    """Estimator, pipelines, order/lag selection, SVM grid, Takens range, folds and seed."""
    names = list(ESTIMATORS)
    estimator = st.selectbox(
        "Covariance estimator",
        names,
        index=names.index(initial.estimator),
        format_func=ESTIMATORS.get,
        key=f"{KEY}-est",
        help="OAS (the default) stays well-posed at every order; the sample covariance is MOABB's choice and needs "
        "many more samples than the order × channels rows of the augmented matrices.",
    )
    pipelines = st.multiselect(
        "Pipelines",
        list(PIPELINES),
        default=list(initial.pipelines),
        format_func=lambda k: PIPELINES[k].label,
        key=f"{KEY}-pipelines",
    )
    c1, c2, c3 = st.columns(3)
    selections = list(SELECTIONS)
    selection = c1.radio(
        "Order and lag of the ACM",
        selections,
        index=selections.index(initial.selection),
        format_func=SELECTIONS.get,
        key=f"{KEY}-selection",
    )
    orders = c2.slider("Orders m", 1, 10, (min(initial.orders), max(initial.orders)), key=f"{KEY}-orders")
    lags = c3.slider("Lags τ (samples)", 1, 10, (min(initial.lags), max(initial.lags)), key=f"{KEY}-lags")
    c1, c2, c3 = st.columns(3)
    choices = sorted({*SVM_C_CHOICES, *initial.svm_C})
    svm_C = c1.multiselect("SVM C", choices, default=sorted(initial.svm_C), key=f"{KEY}-svmc")
    kernels = c2.multiselect("SVM kernels", list(KERNELS), default=list(initial.kernels), key=f"{KEY}-kernels")
    max_lag = c3.number_input("Takens: largest lag (samples)", 2, 100, initial.max_lag, key=f"{KEY}-maxlag")
    c1, c2, c3, c4 = st.columns(4)
    schemes = list(SCHEMES)
    scheme = c1.radio(
        "Evaluation", schemes, index=schemes.index(initial.scheme), format_func=SCHEMES.get, key=f"{KEY}-scheme"
    )
    n_folds = c2.number_input("Folds (within-session)", 2, 10, initial.n_folds, key=f"{KEY}-folds")
    inner_folds = c3.number_input("Inner folds (search)", 2, 10, initial.inner_folds, key=f"{KEY}-inner")
    seed = c4.number_input("Seed", 0, 2**31 - 1, initial.seed, key=f"{KEY}-seed")
    return {
        "estimator": estimator,
        "pipelines": tuple(pipelines),
        "selection": selection,
        "orders": tuple(range(orders[0], orders[1] + 1)),
        "lags": tuple(range(lags[0], lags[1] + 1)),
        "svm_C": tuple(sorted(svm_C)),
        "kernels": tuple(kernels),
        "max_lag": int(max_lag),
        "scheme": scheme,
        "n_folds": int(n_folds),
        "inner_folds": int(inner_folds),
        "seed": int(seed),
    }


def show_result(result: ACMAnalysis, settings: ACMSettings, figures: dict) -> None:
    """Scores, the order × lag search, the Takens curves, predictions and the covariance views."""
    ev, metric = result.evaluation, result.metric
    tables = result.tables()
    st.header("Scores")
    st.caption(
        f"{SCHEMES[result.settings.scheme]}, {ev.scores['fold'].nunique()} folds; {METRIC_NAMES[metric]} on the "
        "test folds."
    )
    st.caption(result.estimator_note)
    ui.show_warnings(result.warnings)
    st.dataframe(ev.summary, hide_index=True)
    ui.table_download(ev.summary, "acm-score-summary", settings)
    ui.show_figure(figures["scores"], "acm-scores", settings)
    with st.expander("Scores and chosen settings per fold"):
        st.dataframe(ev.scores, hide_index=True)
        ui.table_download(ev.scores, "acm-fold-scores", settings)

    if ev.grid_scores:
        st.header("Order × lag search")
        for label in ev.grid_scores:
            ui.show_figure(figures[f"grid-{label}"], f"acm-grid-{label}", settings)
        ui.table_download(tables["grid_scores"], "acm-grid-scores", settings)

    if "takens" in figures:
        st.header("Takens curves")
        st.caption(
            "Computed on the first outer training fold, for reference: the grid search chose m and τ. × marks the "
            "lag and order the criteria would choose."
            if result.takens_reference
            else "Computed on each outer training fold; × marks the chosen lag and order."
        )
        ui.show_figure(figures["takens"], "acm-takens", settings)

    st.header("Predictions")
    labels = list(ev.predictions)
    for label, tab in zip(labels, st.tabs(labels)):
        with tab:
            ui.show_figure(figures[f"confusion-{label}"], f"acm-confusion-{label}", settings)
    if "roc" in figures:
        ui.show_figure(figures["roc"], "acm-roc", settings)
    else:
        st.info("ROC curves are shown for two classes; with more, see accuracy and balanced accuracy.")
    ui.table_download(tables["predictions"], "acm-predictions", settings)

    st.header("Covariance views")
    where = "order 1" if result.order == 1 else f"order {result.order}, lag {result.lag}"
    st.caption(
        f"Every trial, {ESTIMATORS[result.settings.estimator]} estimator; the augmented covariances at {where} (the "
        "most often chosen)."
    )
    ui.show_figure(figures["class-means"], "acm-class-means", settings)
    if "acm-class-means" in figures:
        ui.show_figure(figures["acm-class-means"], "acm-class-acm-means", settings)
    ui.show_figure(figures["embedding"], "acm-embedding", settings)
    ui.table_download(tables["tangent_embedding"], "acm-tangent-embedding", settings)


st.title("EEG classification with augmented covariance matrices")
st.caption(
    "Delay-embed each epoch (order m, lag τ), take the covariance of the stacked signal and classify it "
    "with Riemannian tools (Carrara & Papadopoulo, 2023), next to the usual covariance baselines. "
    "Order and lag are searched inside each cross-validation fold, or chosen by the Takens criteria. "
    "The evaluation runs as a background job: you may change settings or reload the page meanwhile."
)

# ---------------------------------------------------------------- data and the settings the page starts from
linked = ui.settings_from_url(ACMSettings)
data, source = choose_recordings(linked.source)
datasets = data if isinstance(data, tuple) else (data,)
public = isinstance(source, BuiltinSource)
memo = ui.memo(public=public)
with ui.user_errors():
    recording, events = acm_recording(source, data, memo=memo)
    initial = ui.settings_for_data(linked, source, data)
    defaults = ACMSettings(source=source).resolve(data, memo=memo)[0]
show_recording(datasets, recording, events)
data_id = (source.fingerprint() if public else fingerprint(repr(source.files)))[:16]  # the files, not the sessions

# ---------------------------------------------------------------- settings
st.header("Settings")
epochs = ui.epoch_controls(recording.raw, events, key=KEY, data_id=data_id, initial=initial.epochs)
choices = evaluation_controls(initial)
with ui.user_errors():
    settings = ACMSettings(source=source, epochs=epochs, **choices)
ui.settings_to_url(settings, defaults=defaults)
with ui.user_errors():
    epoch_data = acm_epochs(settings, data, memo=memo)
n_sessions = len(np.unique(epoch_data.sessions))
st.caption(
    ui.plain(
        f"{len(epoch_data.y)} epochs × {len(epoch_data.ch_names)} channels × {epoch_data.X.shape[-1]} samples in "
        f"{n_sessions} session(s): "
        + ", ".join(f"{c} × {int(np.sum(epoch_data.y == c))}" for c in np.unique(epoch_data.y))
    )
)
epoch_notes = st.container()

# ---------------------------------------------------------------- the job
key = ("acm-evaluation", settings.fingerprint())
if st.button("Run evaluation", type="primary", key=f"{KEY}-run"):
    with ui.user_errors():
        plan = plan_acm(settings, data, memo=memo)
    ui.submit_job(KEY, plan, key=key, public=public, name="ACM evaluation")
result = ui.job_result(KEY, key=key)
if result is None:
    with epoch_notes:  # the result repeats them, with what the evaluation found
        ui.show_warnings([*(w for d in datasets for w in d.warnings), *epoch_data.warnings])
    if f"{KEY}_job" not in st.query_params:
        st.info("Choose the settings, then press **Run evaluation**.")
    st.stop()

figures = acm_figures(result)
show_result(result, settings, figures)
with st.sidebar:
    ui.export_analysis(settings, result, call=analyse_acm, title=TITLE, figures=figures, data=data)
