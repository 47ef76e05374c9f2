"""Distance-covariance fairness: models regularised by dCov, JdCov or CCdCov for several protected attributes."""

from __future__ import annotations

import streamlit as st

import ui

TITLE = "Distance-covariance fairness"
ui.setup_page(TITLE, ":material/balance:")

from covwb.fairness.analysis import (
    DISTRIBUTIONS,
    MODELS,
    NO_EXPOSURE,
    STATISTICS,
    FairnessSettings,
    analyse_fairness,
    format_lambdas,
    parse_lambdas,
    plan_fairness,
    prepare_problem,
    table_slug,
)
from covwb.fairness.data import TASKS
from covwb.fairness.encoding import KINDS, infer_kind
from covwb.fairness.metrics import DEFAULT_PERMUTATIONS
from covwb.fairness.roles import propose_roles
from covwb.fairness.torch_penalties import PENALTIES
from covwb.plots.fairness import fairness_figures

KEY = "fair"
SLOT = "fairness"
NO_EXPOSURE_LABEL = "(none: exposure 1)"
_OPENED_KEY = "_fairness_sources_opened"

st.title(TITLE)
st.caption(
    "Train models whose predictions stay (distance-)independent of several protected attributes of mixed types "
    "at once: task loss + λ · dCov, JdCov or CCdCov (Lee, Antonio, Avanzi, Marchi & Zhou, 2025). Sweep λ over "
    "seeds, see the task-loss vs JSD trade-off on held-out test rows, the recommended λ and why, and every "
    "intersectional cell."
)

# ---------------------------------------------------------------- data and the settings the page starts from
linked = ui.settings_from_url(FairnessSettings)
dataset, source = ui.choose_data(("table",), key=KEY, table_kind="fairness", initial=linked.source)
ui.show_dataset_header(dataset, warnings=False)  # the problem's warnings hold them
frame = dataset.frame
columns = [str(c) for c in frame.columns]
fingerprint = source.fingerprint()
data_id = fingerprint[:16]
memo = ui.memo(public=dataset.builtin)


def defaults_for(target: str | None = None, task: str | None = None) -> FairnessSettings:
    """The settings the page proposes for this table (and a chosen target and task), cached."""
    settings = FairnessSettings(source=source, target=target, task=task)
    return memo(("fair-defaults", fingerprint, target, task), lambda: settings.resolve(dataset)[0])


with ui.user_errors():
    initial = ui.session_cached(
        ("fair-initial", fingerprint, linked.fingerprint()), lambda: ui.settings_for_data(linked, source, dataset)
    )
st.dataframe(frame.head(200), height=200)
st.caption(f"{len(frame)} rows × {frame.shape[1]} columns (first 200 rows shown).")

# ---------------------------------------------------------------- the problem: roles of the columns
st.header("Problem")
left, middle, right = st.columns(3)
target = left.selectbox("Target", columns, index=columns.index(initial.target), key=f"target-{data_id}")
task_keys = list(TASKS)
start = initial if target == initial.target else defaults_for(target)
task = middle.selectbox(
    "Task", task_keys, index=task_keys.index(start.task), format_func=TASKS.get, key=f"task-{data_id}-{target}"
)
if task != start.task:
    start = defaults_for(target, task)
with ui.user_errors():
    roles = memo(("fair-roles", fingerprint, target), lambda: propose_roles(frame, target=target))
exposure = NO_EXPOSURE
if task == "counts":
    options = [NO_EXPOSURE, *(c for c in roles.exposure_candidates if c != target)]
    options += [c for c in (start.exposure,) if c not in options]
    exposure = right.selectbox(
        "Exposure",
        options,
        index=options.index(start.exposure),
        format_func=lambda c: c or NO_EXPOSURE_LABEL,
        key=f"exposure-{data_id}-{target}",
    )
others = [c for c in columns if c not in (target, exposure)]
protected = st.multiselect(
    "Protected attributes (mixed types allowed)",
    others,
    default=[c for c in start.protected or () if c in others],
    key=f"protected-{data_id}-{target}",
)
candidates = [c for c in others if c not in protected]
features = st.multiselect(
    "Features (protected attributes are never used as features)",
    candidates,
    default=[c for c in start.features or () if c in candidates],
    key=f"features-{data_id}-{target}",
)
problem_warnings = st.container()
left_out = {c: why for c, why in roles.left_out.items() if c in candidates}
if left_out:
    with st.expander(f"{len(left_out)} columns left out of the default features, and why", expanded=False):
        for name, why in left_out.items():
            st.text(f"{name}: {why}")
if not protected:
    with problem_warnings:
        ui.show_warnings(roles.warnings)  # the problem's warnings hold them once it can be prepared
    st.info("Choose at least one protected attribute.")
    st.stop()
kinds = dict(start.kinds)
with st.expander("Types of the protected attributes and their encoding", expanded=False):
    st.caption(
        "Categorical: one-hot (levels √2 apart); binary: 0/1; continuous: min–max scaled to [0, 1], and cut into "
        "quantile bins for the cell tables only. Categorical attributes use the exact grouped penalty, a single "
        "continuous one (or each one under dCov) an exact penalty computed from the sorted attribute without any "
        "distance matrix, and a continuous attribute mixed with others under CCdCov or JdCov the exact b × b "
        "mini-batch penalty."
    )
    type_columns = st.columns(min(len(protected), 4))
    for i, name in enumerate(protected):
        kind = kinds.get(name) or infer_kind(frame[name])
        kinds[name] = type_columns[i % len(type_columns)].selectbox(
            name, KINDS, index=KINDS.index(kind), key=f"kind-{data_id}-{name}"
        )
    bins = st.slider("Bins of continuous attributes in the cells", 2, 6, initial.bins, key="fair-bins")

# ---------------------------------------------------------------- the sweep
st.header("Training and λ sweep")
left, middle, right = st.columns(3)
model_keys = list(MODELS)
model = left.selectbox(
    "Model",
    model_keys,
    index=model_keys.index(initial.model),
    format_func=lambda m: MODELS[m][0],
    key="fair-model",
)
penalties = middle.multiselect(
    "Penalties", list(PENALTIES), default=list(initial.penalties), format_func=PENALTIES.get, key="fair-penalties"
)
grid_text = right.text_input("λ grid", format_lambdas(initial.lambdas), key="fair-grid")
left, middle, right, last = st.columns(4)
seeds = int(
    left.number_input(
        "Seeds",
        1,
        10,
        initial.seeds,
        key="fair-seeds",
        help="A λ is recommended only when its JSD reduction exceeds the spread between seeds.",
    )
)
n_permutations = int(
    middle.number_input(
        "Permutations per test",
        0,
        999,
        initial.n_permutations,
        step=50,
        key="fair-perms",
        help=f"The smallest attainable p-value is 1/(B + 1): B must be at least 1/α − 1 for the test to reject "
        f"({DEFAULT_PERMUTATIONS} by default).",
    )
)
c = float(right.number_input("JdCov constant c", 0.1, 10.0, initial.c, 0.1, key="fair-c"))
statistics = list(STATISTICS)
statistic = last.selectbox(
    "Penalty statistic",
    statistics,
    index=statistics.index(initial.statistic),
    format_func=STATISTICS.get,
    key="fair-statistic",
    help="U: unbiased, may be negative (the authors' choice); V: the plug-in estimator, ≥ 0 for dCov and CCdCov.",
)
with st.expander("Optimisation, splits and baseline", expanded=False):
    left, middle, right = st.columns(3)
    epochs = int(left.number_input("Largest number of epochs", 5, 1000, initial.epochs, key="fair-epochs"))
    batch = int(middle.number_input("Batch size", 16, 4096, initial.batch_size, step=16, key="fair-batch"))
    lr = float(right.number_input("Learning rate (Adam)", 0.0005, 0.5, initial.lr, format="%.4f", key="fair-lr"))
    left, middle, right = st.columns(3)
    patience = int(left.number_input("Early-stopping patience (epochs)", 1, 200, initial.patience, key="fair-patience"))
    alpha = float(
        middle.number_input("Level α of the permutation test", 0.001, 0.2, initial.alpha, 0.01, key="fair-alpha")
    )
    split_seed = int(right.number_input("Split seed", 0, 2**31 - 1, initial.split_seed, key="fair-split-seed"))
    left, middle = st.columns(2)
    validation_share = float(
        left.slider(
            "Validation share (early stopping, choice of λ)",
            0.1,
            0.4,
            initial.validation_share,
            0.05,
            key="fair-validation",
        )
    )
    test_share = float(
        middle.slider("Test share (reported numbers)", 0.1, 0.4, initial.test_share, 0.05, key="fair-test")
    )
    baseline = st.checkbox(
        "Compare with fairlearn's ExponentiatedGradient (demographic parity; binary outcomes only)",
        value=initial.baseline,
        key="fair-baseline",
        disabled=task != "binary",
    )

with ui.user_errors():
    settings = FairnessSettings(
        source=source,
        target=target,
        task=task,
        exposure=exposure,
        protected=tuple(protected),
        features=tuple(features),
        kinds=tuple((name, kinds[name]) for name in protected),
        bins=bins,
        model=model,
        penalties=tuple(penalties),
        lambdas=parse_lambdas(grid_text),
        seeds=seeds,
        n_permutations=n_permutations,
        alpha=alpha,
        c=c,
        statistic=statistic,
        epochs=epochs,
        batch_size=batch,
        lr=lr,
        patience=patience,
        split_seed=split_seed,
        validation_share=validation_share,
        test_share=test_share,
        baseline=baseline,
        shown=initial.shown,
        distribution=initial.distribution,
    )
    with st.spinner("Preparing the table…"):
        problem = prepare_problem(settings, dataset, memo=memo)
with problem_warnings:
    ui.show_warnings(problem.warnings)
with st.expander("What preparing the data did", expanded=False):
    for line in problem.notes:
        st.text(line)
data = problem.data
st.caption(
    f"{len(data.train)} training, {len(data.validation)} validation and {len(data.test)} test rows · "
    f"{data.X.shape[1]} feature columns · {len(set(data.protected.cells))} intersectional cells."
)

# ---------------------------------------------------------------- the job: submitted on Run (or when a built-in table opens)
key = ("fairness", settings.computation().fingerprint())
defaults = defaults_for()
opened: set[str] = st.session_state.setdefault(_OPENED_KEY, set())
first_visit = dataset.builtin and fingerprint not in opened
opened.add(fingerprint)
if st.button("Run the λ sweep", type="primary", icon=":material/play_arrow:", key="fair-run") or first_visit:
    with ui.user_errors():
        plan = plan_fairness(settings, dataset, memo=memo)
    ui.submit_job(SLOT, plan, key=key, public=dataset.builtin, name="Fairness analysis")
result = ui.job_result(SLOT, key=key)
if result is None:
    st.caption(
        "The sweep runs as a background job: you may change settings, switch pages or reload, and it goes on. "
        "Each new worker process first compiles the penalty kernels (about 15 s)."
    )
    ui.settings_to_url(settings, defaults=defaults)
    st.stop()

# ---------------------------------------------------------------- the result
sweep = result.sweep
metric, metric_label = result.metric
models = list(result.models())
shown_warnings = set(problem.warnings)
ui.show_warnings([w for w in result.warnings if w not in shown_warnings])
for line in sweep.notes:
    st.caption(line)

st.header("Recommended λ")
for penalty, choice in sweep.choices.items():
    verdict = f"λ = {choice.lam:g}" if choice.recommended else "no λ recommended (λ = 0 kept)"
    st.markdown(f"**{PENALTIES[penalty]}: {verdict}.** {choice.reason}")
    st.caption(choice.independent_reason)

st.header("Trade-off on the test split")
tradeoff_box = st.container()
st.header("Models side by side")
comparison_box = st.container()
st.header("Intersectional cells")
shown = st.selectbox(
    "Model", models, index=models.index(initial.shown) if initial.shown in models else len(models) - 1, key="fair-shown"
)
kinds_shown = list(DISTRIBUTIONS)
kind = st.radio(
    "Distributions",
    kinds_shown,
    index=kinds_shown.index(initial.distribution),
    format_func=DISTRIBUTIONS.get,
    horizontal=True,
    key="fair-distribution",
)
settings = settings.replace(shown=None if shown == models[-1] and initial.shown is None else shown, distribution=kind)
figures = fairness_figures(result, shown, kind)
tables = result.tables()

with tradeoff_box:
    ui.show_figure(figures["fairness-tradeoff"], "fairness-tradeoff", settings)
    ui.show_figure(figures["fairness-lambda-curves"], "fairness-lambda-curves", settings)
    st.caption("Test split: means over seeds, each beside its standard deviation (_sd) over seeds.")
    st.dataframe(tables["tradeoff_test"], hide_index=True)
    ui.table_download(tables["tradeoff_test"], "tradeoff_test", settings)
    with st.expander("Validation split: the numbers λ was chosen on", expanded=False):
        st.dataframe(tables["tradeoff_validation"], hide_index=True)
        ui.table_download(tables["tradeoff_validation"], "tradeoff_validation", settings)
with comparison_box:
    st.caption(
        f"Test split; means over {settings.seeds} seeds (fairlearn: one fit); JSD in bits; dCor² (V), CCdCov² and "
        "JdCov² (U); parity gaps over cells of at least 20 rows."
    )
    st.dataframe(tables["models"], hide_index=True)
    ui.table_download(tables["models"], "models", settings)
    if result.baseline is not None:
        for line in result.baseline.baseline.notes:
            st.caption(line)

slug = table_slug(shown)
st.caption("Test split, seed 0.")
st.dataframe(tables[f"cells_{slug}"], hide_index=True)
ui.table_download(tables[f"cells_{slug}"], f"cells_{slug}", settings)
with st.expander("Per attribute", expanded=False):
    st.dataframe(tables[f"groups_{slug}"], hide_index=True)
    ui.table_download(tables[f"groups_{slug}"], f"groups_{slug}", settings)
ui.show_figure(figures["fairness-cell-means"], "fairness-cell-means", settings)
ui.show_figure(figures["fairness-distributions"], "fairness-distributions", settings)

# ---------------------------------------------------------------- the link and the analysis export
ui.settings_to_url(settings, defaults=defaults)
with st.sidebar:
    ui.export_analysis(settings, result, call=analyse_fairness, title=TITLE, figures=figures, data=dataset)
