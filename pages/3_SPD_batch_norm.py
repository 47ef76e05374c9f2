"""SPD batch normalisation under Bures-Wasserstein geometry: what each metric does to a batch, and training."""

from __future__ import annotations

import streamlit as st

import ui

ui.setup_page("SPD batch normalisation", ":material/tune:")

from covwb.datasets.types import EEGDataset
from covwb.explore import trial_events
from covwb.plots.spd import learning_curves_figure, spd_figures
from covwb.spd.analysis import (
    PANEL_LIMIT,
    RIDGES,
    SYNTHETIC_NAME,
    SPDSettings,
    SyntheticSource,
    analyse_spd,
    plan_spd_training,
)
from covwb.spd.batchnorm import BATCHNORM_METRICS
from covwb.spd.demos import M_CHOICES
from covwb.spd.training import VARIANTS, TrainConfig

TITLE = "SPD batch normalisation"
KEY = "spd"
SLOT = "training"
LEARNING_RATES = (1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2)

st.title(TITLE)
st.caption(
    "Riemannian batch normalisation centres a batch of SPD matrices at its mean, rescales its spread and moves it "
    "to a learnable bias. Compare the affine-invariant (AIRM), log-Euclidean (LEM), Bures-Wasserstein (BW), "
    "generalised BW (GBW, metric matrix M) and power-deformed GBW (θ) versions on a synthetic batch or on real "
    "covariances, then train SPDNet with each of them."
)


def synthetic_controls(start: SyntheticSource) -> SyntheticSource:
    """The sidebar's controls of a synthetic batch, starting from ``start``."""
    with st.sidebar:
        n_matrices = st.slider("Matrices", 4, 200, start.n_matrices, key="syn-n")
        dim = st.slider("Dimension", 2, 20, start.dim, key="syn-dim")
        log10_condition = st.slider("log10 condition number", 0.0, 12.0, start.log10_condition, 0.5, key="syn-cond")
        rank_deficient = st.checkbox("Include a rank-deficient member", value=start.rank_deficient, key="syn-rank")
        ridge = st.select_slider(
            "Ridge ε",
            list(RIDGES),
            value=start.ridge,
            key="syn-ridge",
            format_func=lambda v: f"{v:.0e}",
            disabled=not rank_deficient,
        )
        seed = int(st.number_input("Seed", 0, 2**31 - 1, start.seed, key="syn-seed"))
    return SyntheticSource(
        n_matrices=n_matrices,
        dim=dim,
        log10_condition=log10_condition,
        rank_deficient=rank_deficient,
        ridge=ridge,
        seed=seed,
    )


def training_controls(start: SPDSettings, size: int) -> dict:
    """Variants, seeds and hyper-parameters of training, starting from ``start``, for matrices of ``size``."""
    config = start.training
    left, middle, right = st.columns(3)
    variants = left.multiselect(
        "Variants", list(VARIANTS), default=list(start.variants), format_func=VARIANTS.get, key="tr-variants"
    )
    seeds = middle.number_input("Seeds", 1, 10, start.seeds, key="tr-seeds")
    epochs = right.number_input("Epochs", 1, 1000, config.epochs, key="tr-epochs")
    left, middle, right, last = st.columns(4)
    n_hidden = left.number_input(
        "BiMap output size", 1, max(size, 1), min(config.n_hidden, max(size, 1)), key=f"tr-hidden-{size}"
    )
    batch_size = middle.number_input("Batch size", 2, 1024, config.batch_size, key="tr-batch")
    lr = right.select_slider(
        "Learning rate", sorted({*LEARNING_RATES, config.lr}), value=config.lr, key="tr-lr", format_func="{:g}".format
    )
    theta = last.slider("θ of θ-GBW-BN", 0.05, 1.0, config.theta, 0.05, key="tr-theta")
    with st.expander("More training settings"):
        left, middle, right = st.columns(3)
        test_fraction = left.slider("Test share", 0.05, 0.9, config.test_fraction, 0.05, key="tr-test")
        mean_iterations = middle.number_input(
            "Barycentre iterations per batch", 0, 100, config.mean_iterations, key="tr-mean-iter"
        )
        refit = right.checkbox(
            "Refit the running statistics before each evaluation", value=config.refit_statistics, key="tr-refit"
        )
    with ui.user_errors():
        training = TrainConfig(
            n_hidden=n_hidden,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            test_fraction=test_fraction,
            theta=theta,
            mean_iterations=mean_iterations,
            refit_statistics=refit,
        )
    return {"variants": tuple(variants), "seeds": seeds, "training": training}


def show_preview(curves) -> None:
    """The learning curves of the training runs finished so far, while the job runs."""
    finished = len(curves[["variant", "seed"]].drop_duplicates())
    st.caption(f"Learning curves of the {finished} run(s) finished so far; the others follow as they finish.")
    fig = learning_curves_figure(curves, title="Learning curves of the finished runs (mean over their seeds)")
    st.plotly_chart(fig, key="chart-spdnet-preview")


# ---------------------------------------------------------------- data and the settings the page starts from
linked = ui.settings_from_url(SPDSettings)
with st.sidebar:
    st.header("Matrices")
    synthetic = st.radio(
        "Matrices",
        ["Synthetic batch", "Dataset"],
        index=0 if isinstance(linked.source, SyntheticSource) else 1,
        horizontal=True,
        key="spd-source",
        label_visibility="collapsed",
    )
if synthetic == "Synthetic batch":
    start = linked.source if isinstance(linked.source, SyntheticSource) else SyntheticSource()
    source = synthetic_controls(start)
    with ui.user_errors():
        dataset = ui.session_cached(("spd-synthetic", source), source.load, public=True)
    st.subheader(SYNTHETIC_NAME)
    st.caption(dataset.description)
else:
    initial_source = None if isinstance(linked.source, SyntheticSource) else linked.source
    dataset, source = ui.choose_data(("eeg", "eeg_csv", "spd"), key=KEY, initial=initial_source)
    ui.show_dataset_header(dataset, warnings=False)  # the result's warnings hold them
with ui.user_errors():
    initial = ui.settings_for_data(linked, source, dataset)
data_id = source.fingerprint()[:16]
public = dataset.builtin
memo = ui.memo(public=public)
warnings_slot = st.container()

if isinstance(dataset, EEGDataset):
    st.header("Epochs and their covariances")
    events = ui.session_cached(("trial-events", data_id), lambda: trial_events(dataset.raw), public=public)
    if events is None:
        st.error("This recording has no trial events, so there are no epochs to take covariances of.")
        st.stop()
    epochs = ui.epoch_controls(dataset.raw, events, key=f"{KEY}-epochs", data_id=data_id, initial=initial.epochs)
    estimator, shrinkage = ui.estimator_controls(
        f"{KEY}-estimator", default=initial.estimator, shrinkage=initial.shrinkage
    )
    data_fields = {"epochs": epochs, "estimator": estimator, "shrinkage": shrinkage}
    size, labelled = len(epochs.channels or ()), True
else:
    data_fields = {}
    size = int(dataset.matrices.shape[1])
    labelled = not isinstance(source, SyntheticSource) and dataset.labels is not None
matrices_box = st.container()

# ---------------------------------------------------------------- geometry panels
st.header("Geometry of batch normalisation")
left, middle, right = st.columns(3)
metrics = left.multiselect(
    "Metrics",
    list(BATCHNORM_METRICS),
    default=list(initial.metrics),
    format_func=BATCHNORM_METRICS.get,
    key="bn-metrics",
)
theta = middle.slider("θ (power deformation of θ-GBW)", 0.05, 1.0, initial.theta, 0.05, key="bn-theta")
m_choice = right.selectbox(
    "GBW metric matrix M",
    list(M_CHOICES),
    index=list(M_CHOICES).index(initial.m_choice),
    format_func=M_CHOICES.get,
    key="bn-m",
)
as_coded = st.toggle(
    "Measure the BW dispersion about I, as the published code does",
    value=initial.dispersion_about == "identity",
    key="bn-as-coded",
)
panels_box = st.container()
st.subheader("Barycentre: one step or converged")
st.caption("The published layer takes one Álvarez-Esteban step from the arithmetic mean; the naive fixed point stalls.")
residuals_box = st.container()
left, right = st.columns(2)
with left:
    st.subheader("Ridge sensitivity")
    ridge_dim = st.slider("Dimension", 3, 40, initial.ridge_dim, key="ridge-dim")
    ridge_rank = st.slider("Rank", 1, ridge_dim - 1, min(initial.ridge_rank, ridge_dim - 1), key="ridge-rank")
    ridge_box = st.container()
with right:
    st.subheader("float32 against float64")
    precision_dim = st.slider("Dimension", 2, 20, initial.precision_dim, key="precision-dim")
    precision_box = st.container()

# ---------------------------------------------------------------- training settings
st.header("Training SPDNet")
if labelled:
    training_fields = training_controls(initial, size)
else:
    training_fields = {"variants": initial.variants, "seeds": initial.seeds, "training": initial.training}
    st.info(
        "Training needs class labels: pick the simulated EEG, a recording with events or a labelled covariance upload."
    )
training_box = st.container()

with ui.user_errors():
    settings = SPDSettings(
        source=source,
        metrics=tuple(metrics),
        theta=theta,
        m_choice=m_choice,
        dispersion_about="identity" if as_coded else "mean",
        ridge_dim=ridge_dim,
        ridge_rank=ridge_rank,
        precision_dim=precision_dim,
        **data_fields,
        **training_fields,
    )

# ---------------------------------------------------------------- the geometry: one library call, cached step by step
bar = matrices_box.progress(0.0, text="Computing…")
with ui.user_errors():
    geometry = analyse_spd(settings, dataset, memo=memo, progress=lambda done, text: bar.progress(done, text=text))
bar.empty()
result = geometry

# ---------------------------------------------------------------- training: a background job
if labelled:
    key = ("spd-training", settings.training_part().fingerprint())
    with training_box:
        if st.button("Train", type="primary", key="tr-run", disabled=not settings.variants):
            with ui.user_errors():
                plan = plan_spd_training(settings, dataset, memo=memo)
            ui.submit_job(SLOT, plan, key=key, public=public, name="SPDNet training")
        elif linked.train and not st.session_state.get("spd-link-trained") and f"{SLOT}_job" not in st.query_params:
            with ui.user_errors():  # a link to a trained view: train these settings once (shared if built-in)
                plan = plan_spd_training(settings, dataset, memo=memo)
            ui.submit_job(SLOT, plan, key=key, public=public, name="SPDNet training")
        st.session_state["spd-link-trained"] = True
        trained = ui.job_result(SLOT, key=key, show_preview=show_preview)
    if trained is not None:
        with ui.user_errors():
            result = geometry.with_training(trained)

# ---------------------------------------------------------------- what the page shows
figures = spd_figures(result)
with warnings_slot:
    ui.show_warnings(geometry.warnings)
with matrices_box:
    unit = f" ({result.unit})" if result.unit else ""
    st.caption(f"{result.n_matrices} matrices of {result.size} × {result.size}{unit}.")
with panels_box:
    if result.n_matrices > PANEL_LIMIT:
        st.caption(f"The panels use the first {PANEL_LIMIT} of {result.n_matrices} matrices.")
    if not result.panels:
        st.info("Choose at least one metric.")
    else:
        summary = result.tables()["bn_summary"]
        st.dataframe(summary, hide_index=True)
        ui.table_download(summary, "bn-summary", result.settings)
        for name in ("bn-spectra", "bn-condition", "bn-distances", "bn-mds"):
            ui.show_figure(figures[name], name, result.settings)
with residuals_box:
    ui.show_figure(figures["bn-mean-residuals"], "bn-mean-residuals", result.settings)
with ridge_box:
    ui.show_figure(figures["bn-ridge"], "bn-ridge", result.settings)
    ui.table_download(result.ridge, "bn-ridge-table", result.settings)
with precision_box:
    ui.show_figure(figures["bn-precision"], "bn-precision", result.settings)

with training_box:
    if result.training is None:
        if labelled:
            st.caption(
                "Choose the variants and press Train: each variant × seed is one training run of a background job. "
                "Its progress shows here, with the learning curves of the runs already finished; you may change "
                "settings or reload the page meanwhile."
            )
    else:
        tables = result.training.tables()
        ui.show_warnings([w for w in result.warnings if w not in geometry.warnings])
        st.caption(
            "Folded: training matrices whose Bures-Wasserstein exponential map ran past the end of its geodesic in "
            "the batch norm that epoch (outputs reflected back instead of normalised); AIRM, LEM and no BN cannot "
            "fold."
        )
        ui.show_figure(figures["spdnet-curves"], "spdnet-curves", result.settings)
        st.subheader("Test accuracy and folding over seeds")
        st.dataframe(tables["training_summary"], hide_index=True)
        ui.table_download(tables["training_summary"], "spdnet-accuracy", result.settings)
        ui.table_download(tables["training_curves"], "spdnet-curves-table", result.settings)
        with st.expander("Folding per epoch, and wall times"):
            st.dataframe(tables["training_folding"], hide_index=True)
            ui.table_download(tables["training_folding"], "spdnet-folding", result.settings)
            st.dataframe(tables["training_time"], hide_index=True)
            st.caption("Wall times are measurements on this server: they differ from run to run.")

# ---------------------------------------------------------------- the link and the analysis export
ui.settings_to_url(result.settings, defaults=SPDSettings(source=source).resolve(dataset)[0])
with st.sidebar:
    ui.export_analysis(result.settings, result, call=analyse_spd, title=TITLE, figures=figures, data=dataset)
