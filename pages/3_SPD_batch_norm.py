"""SPD batch normalisation under Bures-Wasserstein geometry: what each metric does to a batch, and training."""

from __future__ import annotations

import streamlit as st

import ui

ui.setup_page("SPD batch normalisation", ":material/tune:")


from covwb.covariance.estimators import ESTIMATORS, covariances
from covwb.datasets.fingerprint import fingerprint
from covwb.datasets.types import EEGDataset
from covwb.jobs import run_plan
from covwb.plots.spd import (
    condition_histogram,
    distance_figure,
    failure_figure,
    learning_curves_figure,
    mds_before_after_figure,
    mean_residual_figure,
    ridge_figure,
    spectra_figure,
)
from covwb.spd import demos
from covwb.spd.batchnorm import BATCHNORM_METRICS
from covwb.spd.synthetic import synthetic_batch
from covwb.spd.training import VARIANTS, TrainConfig, all_curves, plan_training, summarise, variant_warnings

PANEL_LIMIT = 60

st.title("SPD batch normalisation")
st.caption(
    "Riemannian batch normalisation centres a batch of SPD matrices at its mean, rescales its spread and moves it "
    "to a learnable bias. Compare the affine-invariant (AIRM), log-Euclidean (LEM), Bures-Wasserstein (BW), "
    "generalised BW (GBW, metric matrix M) and power-deformed GBW (θ) versions on a synthetic batch or on real "
    "covariances, then train SPDNet with each of them."
)


def eeg_covariances(dataset: EEGDataset, data_id: str) -> tuple:
    """Epoch controls for a recording; returns (covariances, labels, settings)."""
    from covwb.eeg.epochs import extract_epochs
    from covwb.eeg.events import find_trial_events

    raw = dataset.raw
    with ui.user_errors():
        events = find_trial_events(raw)
    labels = list(events.event_id)
    classes = st.multiselect("Classes", labels, default=labels[:2], key=f"spd-classes-{data_id}")
    left, middle, right, last = st.columns(4)
    tmin = left.number_input("Window start (s)", -5.0, 30.0, 0.5, 0.1, key="spd-tmin")
    tmax = middle.number_input("Window end (s)", -5.0, 30.0, 2.5, 0.1, key="spd-tmax")
    band = right.slider("Band-pass (Hz)", 0.5, float(raw.info["sfreq"] / 2 - 0.5), (8.0, 30.0), 0.5, key="spd-band")
    estimator = last.selectbox("Estimator", list(ESTIMATORS), index=2, format_func=ESTIMATORS.get, key="spd-est")
    with ui.user_errors():
        epochs = ui.session_cached(
            ("spd-epochs", data_id, tuple(classes), tmin, tmax, band),
            lambda: extract_epochs(raw, classes=classes, tmin=tmin, tmax=tmax, band=band, events=events),
            public=dataset.builtin,
        )
        covs = ui.session_cached(
            ("spd-covs", data_id, tuple(classes), tmin, tmax, band, estimator),
            lambda: covariances(epochs.X, estimator),
            public=dataset.builtin,
        )
    settings = {
        "classes": classes,
        "tmin_s": tmin,
        "tmax_s": tmax,
        "band_hz": list(band),
        "estimator": estimator,
    }
    return covs, epochs.y, settings


with st.sidebar:
    st.header("Matrices")
    source = st.radio("Source", ["Synthetic batch", "Dataset"], horizontal=True, key="spd-source")
    if source == "Synthetic batch":
        n_matrices = st.slider("Matrices", 4, 60, 30, key="syn-n")
        dim = st.slider("Dimension", 2, 20, 8, key="syn-dim")
        log10_condition = st.slider("log10 condition number", 1.0, 10.0, 4.0, 0.5, key="syn-cond")
        rank_deficient = st.checkbox("Include a rank-deficient member", value=True, key="syn-rank")
        ridge = st.select_slider(
            "Ridge ε",
            [1e-10, 1e-8, 1e-6, 1e-4, 1e-2],
            value=1e-6,
            key="syn-ridge",
            format_func=lambda v: f"{v:.0e}",
            disabled=not rank_deficient,
        )
        seed = int(st.number_input("Seed", 0, 2**31 - 1, 0, key="syn-seed"))

if source == "Synthetic batch":
    with ui.user_errors():
        batch = synthetic_batch(n_matrices, dim, log10_condition, rank_deficient=rank_deficient, ridge=ridge, seed=seed)
    covs, groups, labels = batch.matrices, list(batch.labels), None
    data_settings = {"page": "SPD batch norm", "source": "synthetic", **batch.settings}
    data_id = fingerprint(covs)
    public = True
    st.caption(
        f"Synthetic batch: {n_matrices} matrices of {dim} × {dim}, nominal condition number 1e{log10_condition:g}."
    )
else:
    dataset = ui.choose_dataset(("eeg", "eeg_csv", "spd"), key="spd")
    data_id = fingerprint(dataset)
    public = dataset.builtin
    data_settings = {
        "page": "SPD batch norm",
        "dataset": dataset.name,
        "source": dataset.source,
        "data_id": data_id,
    }
    st.subheader(ui.plain(dataset.name))
    if isinstance(dataset, EEGDataset):
        covs, labels, epoch_settings = eeg_covariances(dataset, data_id)
        data_settings.update(epoch_settings)
        data_id = fingerprint(covs)
    else:
        covs, labels = dataset.matrices, dataset.labels
    groups = None if labels is None else [str(v) for v in labels]
    st.caption(f"{covs.shape[0]} matrices of {covs.shape[1]} × {covs.shape[2]}.")

st.header("Geometry of batch normalisation")
left, middle, right = st.columns(3)
chosen = left.multiselect(
    "Metrics",
    list(BATCHNORM_METRICS),
    default=list(BATCHNORM_METRICS),
    format_func=BATCHNORM_METRICS.get,
    key="bn-metrics",
)
theta = middle.slider("θ (power deformation of θ-GBW)", 0.05, 1.0, 0.5, 0.05, key="bn-theta")
m_choice = right.selectbox("GBW metric matrix M", list(demos.M_CHOICES), format_func=demos.M_CHOICES.get, key="bn-m")
as_coded = st.toggle("Measure the BW dispersion about I, as the published code does", key="bn-as-coded")
panel_covs, panel_groups = covs[:PANEL_LIMIT], None if groups is None else groups[:PANEL_LIMIT]
if len(covs) > PANEL_LIMIT:
    st.caption(f"The panels use the first {PANEL_LIMIT} of {len(covs)} matrices.")
panel_settings = {
    **data_settings,
    "metrics": chosen,
    "theta": theta,
    "m_choice": m_choice,
    "dispersion_about": "identity" if as_coded else "mean",
    "n_matrices": len(panel_covs),
}

if not chosen:
    st.info("Choose at least one metric.")
else:
    progress = st.progress(0.0, text="Normalising…")
    panels = {}
    with ui.user_errors():
        for i, metric in enumerate(chosen):
            progress.progress(i / len(chosen), text=f"{BATCHNORM_METRICS[metric]} batch norm: mean, distances, MDS…")
            panels[BATCHNORM_METRICS[metric]] = ui.session_cached(
                ("bn-panel", data_id, metric, theta, m_choice, as_coded),
                lambda metric=metric: demos.geometry_panel(
                    panel_covs,
                    metric,
                    theta=theta,
                    m_choice=m_choice,
                    dispersion_about="identity" if as_coded else "mean",
                ),
                public=public,
            )
    progress.empty()
    summary = demos.panel_summary(panels)
    st.dataframe(summary, hide_index=True)
    ui.table_download(summary, "bn-summary", panel_settings)
    for name, builder in (
        ("spectra", spectra_figure),
        ("condition", condition_histogram),
        ("distances", distance_figure),
    ):
        fig = builder(panels)
        ui.show_figure(fig, f"bn-{name}", panel_settings)
    fig = mds_before_after_figure(panels, panel_groups)
    ui.show_figure(fig, "bn-mds", panel_settings)

st.subheader("Barycentre: one step or converged")
st.caption("The published layer takes one Álvarez-Esteban step from the arithmetic mean; the naive fixed point stalls.")
with ui.user_errors():
    residuals = ui.session_cached(("bn-residuals", data_id), lambda: demos.mean_residuals(panel_covs), public=public)
fig = mean_residual_figure(residuals)
ui.show_figure(fig, "bn-mean-residuals", {**data_settings, "n_matrices": len(panel_covs)})

left, right = st.columns(2)
with left:
    st.subheader("Ridge sensitivity")
    ridge_dim = st.slider("Dimension", 3, 40, 20, key="ridge-dim")
    ridge_rank = st.slider("Rank", 1, ridge_dim - 1, min(5, ridge_dim - 1), key="ridge-rank")
    with ui.user_errors():
        ridge_table = ui.session_cached(
            ("bn-ridge", ridge_dim, ridge_rank), lambda: demos.ridge_sensitivity(ridge_dim, ridge_rank), public=True
        )
    fig = ridge_figure(ridge_table)
    ridge_settings = {"page": "SPD batch norm", "dim": ridge_dim, "rank": ridge_rank, "ridges": [1e-8, 1e-6]}
    ui.show_figure(fig, "bn-ridge", ridge_settings)
    ui.table_download(ridge_table, "bn-ridge-table", ridge_settings)
with right:
    st.subheader("float32 against float64")
    precision_dim = st.slider("Dimension", 2, 20, 8, key="precision-dim")
    with ui.user_errors():
        failures = ui.session_cached(
            ("bn-precision", precision_dim),
            lambda: demos.precision_failures(list(range(1, 11)), dim=precision_dim),
            public=True,
        )
    fig = failure_figure(failures)
    ui.show_figure(fig, "bn-precision", {"page": "SPD batch norm", "dim": precision_dim, "n_matrices": 16})

st.header("Training SPDNet")
if labels is None:
    st.info(
        "Training needs class labels: pick the simulated EEG, a recording with events or a labelled covariance upload."
    )
    st.stop()
left, middle, right = st.columns(3)
variants = left.multiselect(
    "Variants", list(VARIANTS), default=list(VARIANTS), format_func=VARIANTS.get, key="tr-variants"
)
n_seeds = middle.number_input("Seeds", 1, 10, 2, key="tr-seeds")
epochs = right.number_input("Epochs", 1, 200, 10, key="tr-epochs")
left, middle, right = st.columns(3)
n_hidden = left.number_input("BiMap output size", 1, int(covs.shape[1]), min(8, int(covs.shape[1])), key="tr-hidden")
batch_size = middle.number_input("Batch size", 2, 256, 30, key="tr-batch")
lr = right.select_slider("Learning rate", [1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2], value=5e-3, key="tr-lr")
config = TrainConfig(n_hidden=int(n_hidden), epochs=int(epochs), batch_size=int(batch_size), lr=float(lr), theta=theta)
run_key = ("train", data_id, tuple(variants), int(n_seeds), config)
if st.button("Train", type="primary", key="tr-run", disabled=not variants):
    progress = st.progress(0.0, text="Starting…")
    with ui.user_errors():
        plan = plan_training(covs, labels, variants, range(int(n_seeds)), config)
        by_variant = run_plan(plan, progress=lambda fraction, text: progress.progress(fraction, text=text))
        st.session_state["spd-training"] = (run_key, [run for runs in by_variant.values() for run in runs])
    progress.empty()

stored = st.session_state.get("spd-training")
if stored is None or stored[0] != run_key:
    st.caption(
        "Choose the variants and press Train: each variant × seed is one training run, and the bar moves as each "
        "run finishes, with the time left."
    )
else:
    results = stored[1]
    train_settings = {**data_settings, **config.__dict__, "variants": variants, "seeds": int(n_seeds)}
    for warning in variant_warnings(results):
        st.warning(warning)
    curves = all_curves(results)
    st.caption(
        "Folded: training matrices whose Bures-Wasserstein exponential map ran past the end of its geodesic in the "
        "batch norm that epoch (outputs reflected back instead of normalised); AIRM, LEM and no BN cannot fold."
    )
    fig = learning_curves_figure(curves)
    ui.show_figure(fig, "spdnet-curves", train_settings)
    table = summarise(results)
    st.subheader("Test accuracy and folding over seeds")
    st.dataframe(table, hide_index=True)
    ui.table_download(table, "spdnet-accuracy", train_settings)
    ui.table_download(curves, "spdnet-curves-table", train_settings)
