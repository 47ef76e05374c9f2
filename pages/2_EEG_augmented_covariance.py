"""EEG classification with augmented covariance matrices (ACM) and Riemannian baselines."""

from __future__ import annotations

import os

import streamlit as st

import ui

ui.setup_page("EEG augmented covariance", ":material/neurology:")

import mne
import numpy as np

from covwb.covariance.estimators import ESTIMATORS
from covwb.datasets.fingerprint import fingerprint
from covwb.eeg.augmented import DEFAULT_ESTIMATOR, augmented_covariances
from covwb.eeg.evaluation import (
    SCHEMES,
    SearchGrid,
    class_means,
    evaluate,
    make_folds,
    most_chosen_order_lag,
    tangent_embedding,
)
from covwb.eeg.events import find_trial_events
from covwb.eeg.pipelines import PIPELINES
from covwb.eeg.sessions import combine_recordings, session_epochs
from covwb.eeg.takens import select_order_lag
from covwb.plots.acm import (
    METRIC_NAMES,
    confusion_figure,
    grid_heatmap,
    roc_figure,
    score_figure,
    takens_figure,
    tangent_embedding_figure,
)
from covwb.plots.matrices import means_figure

KEY = "acm"


def uploaded_recordings() -> tuple[list, list[str]]:
    """Sidebar uploader for one or several recordings; returns the datasets and their session labels."""
    from covwb.io.eeg import SUPPORTED_EEG_SUFFIXES, group_recordings, read_eeg
    from covwb.io.uploads import digest_of

    types = sorted({s.rsplit(".", 1)[-1] for s in SUPPORTED_EEG_SUFFIXES})
    files = ui.to_uploads(
        st.file_uploader(
            "EEG recordings (one file per run; BrainVision .vhdr+.vmrk+.eeg, EEGLAB .set+.fdt together)",
            type=types,
            accept_multiple_files=True,
            key=f"{KEY}-upload",
        )
    )
    if not files:
        st.info("Upload one or more EEG recordings in the sidebar to begin.")
        st.stop()
    datasets, sessions = [], []
    with ui.user_errors():
        for i, group in enumerate(group_recordings(files)):
            dataset = ui.session_cached(("eeg", digest_of(group)), lambda group=group: read_eeg(group))
            datasets.append(dataset)
            sessions.append(st.text_input(f"Session of {dataset.name}", "1", key=f"{KEY}-session-{i}"))
    return datasets, sessions


st.title("EEG classification with augmented covariance matrices")
st.caption(
    "Delay-embed each epoch (order m, lag τ), take the covariance of the stacked signal and classify it "
    "with Riemannian tools (Carrara & Papadopoulo, 2023), next to the usual covariance baselines. "
    "Order and lag are searched inside each cross-validation fold, or chosen by the Takens criteria."
)

with st.sidebar:
    st.header("Data")
    origin = st.radio("Source", ["Built-in", "Upload"], horizontal=True, key=f"{KEY}-origin")
    if origin == "Built-in":
        seed_data = int(st.number_input("Simulation seed", 0, 2**31 - 1, 0, key=f"{KEY}-data-seed"))
        datasets, file_sessions = [ui.simulated_eeg(seed_data)], []
    else:
        datasets, file_sessions = uploaded_recordings()

public = all(d.builtin for d in datasets)
with ui.user_errors():
    recording = ui.session_cached(
        ("acm-recording", tuple(fingerprint(d) for d in datasets), tuple(file_sessions)),
        lambda: combine_recordings([d.raw for d in datasets], file_sessions, [d.name for d in datasets]),
        public=public,
    )
    events = find_trial_events(recording.raw)
raw = recording.raw
data_id = fingerprint((tuple(fingerprint(d) for d in datasets), tuple(file_sessions)))
sfreq = float(raw.info["sfreq"])
st.subheader(ui.plain(" + ".join(d.name for d in datasets)))
st.caption(
    ui.plain(
        f"{len(raw.ch_names)} channels · {sfreq:g} Hz · {raw.n_times / sfreq:.1f} s · events from {events.origin}: "
        + ", ".join(f"{k} × {v}" for k, v in events.counts.items())
    )
)

st.header("Settings")
eeg_names = [raw.ch_names[i] for i in mne.pick_types(raw.info, eeg=True, exclude="bads")]
left, right = st.columns(2)
channels = left.multiselect("Channels", raw.ch_names, default=eeg_names, key=f"{KEY}-channels-{data_id}")
labels = list(events.event_id)
classes = right.multiselect("Classes", labels, default=labels[:2], key=f"{KEY}-classes-{data_id}")
c1, c2, c3, c4 = st.columns(4)
tmin = c1.number_input("Window start (s after the event)", -60.0, 3600.0, 0.5, 0.1, key=f"{KEY}-tmin")
tmax = c2.number_input("Window end (s)", -60.0, 3600.0, 2.5, 0.1, key=f"{KEY}-tmax")
band = c3.slider(
    "Band-pass (Hz)", 0.5, float(sfreq / 2 - 0.5), (8.0, min(35.0, sfreq / 2 - 1.0)), 0.5, key=f"{KEY}-band"
)
estimator = c4.selectbox(
    "Covariance estimator",
    list(ESTIMATORS),
    index=list(ESTIMATORS).index(DEFAULT_ESTIMATOR),
    format_func=ESTIMATORS.get,
    key=f"{KEY}-est",
    help="OAS (the default) stays well-posed at every order; the sample covariance is MOABB's choice and needs "
    "many more samples than the order × channels rows of the augmented matrices.",
)

pipelines = st.multiselect(
    "Pipelines",
    list(PIPELINES),
    default=["acm_ts_svm", "acm_mdm", "ts_svm", "mdm"],
    format_func=lambda k: PIPELINES[k].label,
    key=f"{KEY}-pipelines",
)
c1, c2, c3 = st.columns(3)
selection = c1.radio(
    "Order and lag of the ACM",
    ["grid", "takens"],
    key=f"{KEY}-selection",
    format_func={"grid": "Nested grid search", "takens": "Takens (AMI + Cao E1)"}.get,
)
orders = c2.slider("Orders m", 1, 10, (1, 4), key=f"{KEY}-orders")
lags = c3.slider("Lags τ (samples)", 1, 10, (1, 5), key=f"{KEY}-lags")
c1, c2, c3 = st.columns(3)
svm_C = c1.multiselect("SVM C", [0.1, 0.5, 1.0, 1.5, 10.0], default=[0.5, 1.0, 1.5], key=f"{KEY}-svmc")
kernels = c2.multiselect("SVM kernels", ["linear", "rbf"], default=["linear", "rbf"], key=f"{KEY}-kernels")
max_lag = c3.number_input("Takens: largest lag (samples)", 2, 100, 30, key=f"{KEY}-maxlag")
c1, c2, c3, c4 = st.columns(4)
scheme = c1.radio("Evaluation", list(SCHEMES), format_func=SCHEMES.get, key=f"{KEY}-scheme")
n_folds = c2.number_input("Folds (within-session)", 2, 10, 5, key=f"{KEY}-folds")
inner_folds = c3.number_input("Inner folds (search)", 2, 10, 3, key=f"{KEY}-inner")
seed = int(c4.number_input("Seed", 0, 2**31 - 1, 42, key=f"{KEY}-seed"))

grid = SearchGrid(
    orders=tuple(range(orders[0], orders[1] + 1)),
    lags=tuple(range(lags[0], lags[1] + 1)),
    svm_C=tuple(float(c) for c in sorted(svm_C)),
    kernels=tuple(kernels),
)
settings = {
    "page": "EEG augmented covariance",
    "data": [d.source for d in datasets],
    "data_id": data_id,
    "file_sessions": file_sessions,
    "channels": channels,
    "classes": classes,
    "tmin_s": tmin,
    "tmax_s": tmax,
    "band_hz": list(band),
    "estimator": estimator,
    "pipelines": pipelines,
    "selection": selection,
    "orders": list(grid.orders),
    "lags_samples": list(grid.lags),
    "svm_C": list(grid.svm_C),
    "kernels": list(grid.kernels),
    "takens_max_lag": int(max_lag),
    "scheme": scheme,
    "n_folds": int(n_folds),
    "inner_folds": int(inner_folds),
    "seed": seed,
}
run_key = ("acm-evaluation", fingerprint(repr(sorted(settings.items()))))

with ui.user_errors():
    epochs = ui.session_cached(
        ("acm-epochs", data_id, tuple(channels), tuple(classes), tmin, tmax, band),
        lambda: session_epochs(recording, events, classes=classes, tmin=tmin, tmax=tmax, band=band, picks=channels),
        public=public,
    )
n_sessions = len(np.unique(epochs.sessions))
st.caption(
    f"{len(epochs.y)} epochs × {len(epochs.ch_names)} channels × {epochs.X.shape[-1]} samples in "
    f"{n_sessions} session(s): " + ", ".join(f"{c} × {int(np.sum(epochs.y == c))}" for c in np.unique(epochs.y))
)

if st.button("Run evaluation", type="primary", key=f"{KEY}-run"):
    st.session_state[f"{KEY}-last-run"] = run_key
if st.session_state.get(f"{KEY}-last-run") != run_key:
    st.info("Choose the settings, then press **Run evaluation**.")
    st.stop()

progress = st.progress(0.0, text="Starting the evaluation…")
with ui.user_errors():
    result = ui.session_cached(
        run_key,
        lambda: evaluate(
            epochs.X,
            epochs.y,
            epochs.sessions,
            pipelines,
            scheme=scheme,
            n_folds=int(n_folds),
            selection=selection,
            grid=grid,
            estimator=estimator,
            inner_folds=int(inner_folds),
            max_lag=int(max_lag),
            seed=seed,
            n_jobs=min(2, os.cpu_count() or 1),
            progress=lambda f, text: progress.progress(min(f, 1.0), text=text),
        ),
        public=public,
    )
progress.empty()
settings = {**settings, **result.settings}

st.header("Scores")
metric = result.metrics[0]
st.caption(f"{SCHEMES[scheme]}, {len(result.scores['fold'].unique())} folds; {METRIC_NAMES[metric]} on the test folds.")
st.caption(result.estimator_note)
for warning in result.warnings:
    st.warning(warning, icon=":material/warning:")
st.dataframe(result.summary, hide_index=True)
ui.table_download(result.summary, "acm-score-summary", settings)
ui.show_figure(score_figure(result.scores, metric, title=f"{METRIC_NAMES[metric]} per fold"), "acm-scores", settings)
with st.expander("Scores and chosen settings per fold"):
    st.dataframe(result.scores, hide_index=True)
    ui.table_download(result.scores, "acm-fold-scores", settings)

if result.grid_scores:
    st.header("Order × lag search")
    for label, values in result.grid_scores.items():
        fig = grid_heatmap(
            values,
            grid.orders,
            grid.lags,
            metric=metric,
            title=f"{label}: mean inner-CV {METRIC_NAMES[metric]} (averaged over outer folds)",
        )
        ui.show_figure(fig, f"acm-grid-{label}", settings)

has_acm = any(PIPELINES[k].augmented for k in pipelines)
if has_acm:
    st.header("Takens curves")
    if result.takens:
        selections = next(iter(result.takens.values()))
        caption = "Computed on each outer training fold; × marks the chosen lag and order."
    else:
        with ui.user_errors():
            train = make_folds(epochs.y, epochs.sessions, scheme, int(n_folds), seed)[0][0]
            selections = [
                ui.session_cached(
                    ("acm-takens", data_id, run_key),
                    lambda: select_order_lag(epochs.X[train], max_lag=int(max_lag), full_rank=estimator == "sample"),
                    public=public,
                )
            ]
        caption = "Computed on the first outer training fold (shown for reference; the grid search chose m and τ)."
    st.caption(caption)
    ui.show_figure(takens_figure(selections), "acm-takens", settings)

st.header("Predictions")
chosen_label = st.selectbox("Pipeline", list(result.predictions), key=f"{KEY}-pick")
frame = result.predictions[chosen_label]
left, right = st.columns(2)
with left:
    fig = confusion_figure(
        frame["y_true"], frame["y_pred"], result.classes, title=f"{chosen_label}: confusion matrix (out-of-fold)"
    )
    ui.show_figure(fig, "acm-confusion", {**settings, "pipeline": chosen_label})
with right:
    if len(result.classes) == 2:
        ui.show_figure(roc_figure(result.predictions, result.classes[1]), "acm-roc", settings)
    else:
        st.info("ROC curves are shown for two classes; with more, see accuracy and balanced accuracy.")

st.header("Covariance views")
order, lag = most_chosen_order_lag(result.scores)
st.caption(
    f"Augmented covariances at order {order}, lag {lag} (the most often chosen), {ESTIMATORS[estimator]} estimator."
)
with ui.user_errors():
    covs = ui.session_cached(
        ("acm-covs", data_id, run_key, 1, 1), lambda: augmented_covariances(epochs.X, 1, 1, estimator), public=public
    )
    acm = ui.session_cached(
        ("acm-covs", data_id, run_key, order, lag),
        lambda: augmented_covariances(epochs.X, order, lag, estimator),
        public=public,
    )
    means = ui.session_cached(("acm-means", data_id, run_key), lambda: class_means(covs, epochs.y), public=public)
    acm_means = ui.session_cached(
        ("acm-acm-means", data_id, run_key, order, lag), lambda: class_means(acm, epochs.y), public=public
    )
    coords, explained = ui.session_cached(
        ("acm-embedding", data_id, run_key, order, lag), lambda: tangent_embedding(acm), public=public
    )
ui.show_figure(
    means_figure(
        {f"class {k}": v for k, v in means.items()},
        list(epochs.ch_names),
        title="Class-mean covariances (affine-invariant means)",
        unit="µV²",
    ),
    "acm-class-means",
    settings,
)
acm_names = [f"{c}(t+{p * lag})" if p else c for p in range(order) for c in epochs.ch_names]
ui.show_figure(
    means_figure(
        {f"class {k}": v for k, v in acm_means.items()},
        acm_names,
        title=f"Class-mean augmented covariances (m = {order}, τ = {lag})",
        unit="µV²",
    ),
    "acm-class-acm-means",
    {**settings, "order": order, "lag": lag},
)
ui.show_figure(
    tangent_embedding_figure(
        coords, epochs.y, explained, title=f"Trials in the tangent space of the ACM (m = {order}, τ = {lag})"
    ),
    "acm-embedding",
    {**settings, "order": order, "lag": lag},
)
