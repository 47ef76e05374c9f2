"""Distance-covariance fairness: models regularised by dCov, JdCov or CCdCov for several protected attributes."""

from __future__ import annotations

import streamlit as st

import ui

ui.setup_page("Distance-covariance fairness", ":material/balance:")


from covwb.datasets.fingerprint import fingerprint
from covwb.errors import ParameterError
from covwb.fairness.calibration import compare_models, sweep, tradeoff_table
from covwb.fairness.data import TASKS, prepare_data
from covwb.fairness.encoding import KINDS, infer_kind
from covwb.fairness.metrics import (
    DEFAULT_PERMUTATIONS,
    DEPENDENCE_ROWS,
    TASK_METRIC,
    dependence_rows,
    dependence_warnings,
    evaluate_predictions,
    group_table,
)
from covwb.fairness.models import TrainSettings
from covwb.fairness.roles import propose_roles
from covwb.fairness.torch_penalties import PENALTIES
from covwb.plots.fairness import (
    cell_means_figure,
    distributions_figure,
    lambda_figure,
    tradeoff_figure,
)

MODELS = {"Linear (GLM)": (), "MLP (32 × 16)": (32, 16)}
STATISTICS = {"U": "U-statistic (unbiased)", "V": "V-statistic"}

st.title("Distance-covariance fairness")
st.caption(
    "Train models whose predictions stay (distance-)independent of several protected attributes of mixed types "
    "at once: task loss + λ · dCov, JdCov or CCdCov (Lee, Antonio, Avanzi, Marchi & Zhou, 2025). Sweep λ over "
    "seeds, see the task-loss vs JSD trade-off on held-out test rows, the recommended λ and why, and every "
    "intersectional cell."
)
NO_EXPOSURE = "(none: exposure 1)"


def parse_grid(text: str) -> list[float]:
    """λ values from comma-separated text."""
    try:
        values = [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError as error:
        raise ParameterError(f"The λ grid must be numbers separated by commas ({error}).") from error
    if not values or any(v < 0 for v in values) or len(values) > 12:
        raise ParameterError("Give between 1 and 12 values of λ, each ≥ 0, separated by commas.")
    return sorted(set(values))


dataset = ui.choose_dataset(("table",), key="fair", table_kind="fairness")
frame = dataset.frame
data_id = fingerprint(dataset)
ui.show_dataset_header(dataset)
st.dataframe(frame.head(200), height=200)
st.caption(f"{len(frame)} rows × {frame.shape[1]} columns (first 200 rows shown).")

st.header("Problem")
columns = [str(c) for c in frame.columns]
roles = dataset.roles
proposed = ui.session_cached(("fair-roles", data_id), lambda: propose_roles(frame), public=dataset.builtin)
left, middle, right = st.columns(3)
target_default = roles.get("target", (proposed.target or columns[-1],))[0]
target = left.selectbox("Target", columns, index=columns.index(target_default), key=f"target-{data_id}")
for_target = ui.session_cached(
    ("fair-roles", data_id, target), lambda: propose_roles(frame, target=target), public=dataset.builtin
)
task_keys = list(TASKS)
task = middle.selectbox(
    "Task",
    task_keys,
    index=task_keys.index("counts" if roles.get("exposure") else for_target.task),
    format_func=TASKS.get,
    key=f"task-{data_id}-{target}",
)
exposure = None
if task == "counts":
    options = [NO_EXPOSURE, *(c for c in for_target.exposure_candidates if c != target)]
    options += [c for c in roles.get("exposure", ()) if c not in options]
    default_exposure = roles.get("exposure", (for_target.exposure or NO_EXPOSURE,))[0]
    chosen_exposure = right.selectbox(
        "Exposure", options, index=options.index(default_exposure), key=f"exposure-{data_id}-{target}"
    )
    exposure = None if chosen_exposure == NO_EXPOSURE else chosen_exposure
others = [c for c in columns if c not in (target, exposure)]
protected = st.multiselect(
    "Protected attributes (mixed types allowed)",
    others,
    default=[c for c in roles.get("protected", proposed.protected) if c in others],
    key=f"protected-{data_id}-{target}",
)
candidates = [c for c in others if c not in protected]
features = st.multiselect(
    "Features (protected attributes are never used as features)",
    candidates,
    default=[c for c in roles.get("features", for_target.features) if c in candidates and c not in for_target.leaks][
        :40
    ],
    key=f"features-{data_id}-{target}",
)
for line in for_target.warnings:
    st.warning(ui.plain(line))
left_out = {c: why for c, why in for_target.left_out.items() if c in candidates}
if left_out:
    with st.expander(f"{len(left_out)} columns left out of the default features, and why", expanded=False):
        for name, why in left_out.items():
            st.text(f"{name}: {why}")
if not protected:
    st.info("Choose at least one protected attribute.")
    st.stop()
kinds = {}
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
        inferred = infer_kind(frame[name])
        kinds[name] = type_columns[i % len(type_columns)].selectbox(
            name, KINDS, index=KINDS.index(inferred), key=f"kind-{data_id}-{name}"
        )
    bins = st.slider("Bins of continuous attributes in the cells", 2, 6, 2, key="fair-bins")

st.header("Training and λ sweep")
left, middle, right = st.columns(3)
model_name = left.selectbox("Model", list(MODELS), key="fair-model")
penalties = middle.multiselect(
    "Penalties", list(PENALTIES), default=list(PENALTIES), format_func=PENALTIES.get, key="fair-penalties"
)
grid_text = right.text_input("λ grid", "0, 2, 10, 50", key="fair-grid")
left, middle, right, last = st.columns(4)
n_seeds = int(
    left.number_input(
        "Seeds",
        1,
        10,
        3,
        key="fair-seeds",
        help="A λ is recommended only when its JSD reduction exceeds the spread between seeds.",
    )
)
n_permutations = int(
    middle.number_input(
        "Permutations per test",
        0,
        999,
        DEFAULT_PERMUTATIONS,
        step=50,
        key="fair-perms",
        help="The smallest attainable p-value is 1/(B + 1): B must be at least 1/α − 1 for the test to reject.",
    )
)
c = float(right.number_input("JdCov constant c", 0.1, 10.0, 1.0, 0.1, key="fair-c"))
statistic = last.selectbox(
    "Penalty statistic",
    list(STATISTICS),
    format_func=STATISTICS.get,
    key="fair-statistic",
    help="U: unbiased, may be negative (the authors' choice); V: the plug-in estimator, ≥ 0 for dCov and CCdCov.",
)
with st.expander("Optimisation", expanded=False):
    left, middle, right = st.columns(3)
    epochs = int(left.number_input("Largest number of epochs", 5, 1000, 60, key="fair-epochs"))
    batch = int(middle.number_input("Batch size", 16, 4096, 128, step=16, key="fair-batch"))
    lr = float(right.number_input("Learning rate (Adam)", 0.0005, 0.5, 0.03, format="%.4f", key="fair-lr"))
    left, middle, right = st.columns(3)
    patience = int(left.number_input("Early-stopping patience (epochs)", 1, 200, 10, key="fair-patience"))
    alpha = float(middle.number_input("Level α of the permutation test", 0.001, 0.2, 0.05, 0.01, key="fair-alpha"))
    split_seed = int(right.number_input("Split seed", 0, 2**31 - 1, 0, key="fair-split-seed"))
    left, middle = st.columns(2)
    validation_share = float(
        left.slider("Validation share (early stopping, choice of λ)", 0.1, 0.4, 0.2, 0.05, key="fair-validation")
    )
    test_share = float(middle.slider("Test share (reported numbers)", 0.1, 0.4, 0.2, 0.05, key="fair-test"))

with ui.user_errors():
    lambdas = parse_grid(grid_text)
    data = ui.session_cached(
        (
            "fair-data",
            data_id,
            target,
            task,
            exposure,
            tuple(features),
            tuple(protected),
            tuple(kinds.items()),
            bins,
            validation_share,
            test_share,
            split_seed,
        ),
        lambda: prepare_data(
            frame,
            target=target,
            task=task,
            features=features,
            protected=protected,
            exposure=exposure,
            kinds=kinds,
            bins=bins,
            validation=validation_share,
            test=test_share,
            seed=split_seed,
        ),
        public=dataset.builtin,
    )
    if not penalties:
        raise ParameterError("Choose at least one penalty.")
with st.expander("What preparing the data did", expanded=False):
    for line in data.notes:
        st.text(line)
st.caption(
    f"{len(data.train)} training, {len(data.validation)} validation and {len(data.test)} test rows · "
    f"{data.X.shape[1]} feature columns · {len(set(data.protected.cells))} intersectional cells."
)
test_protected = data.protected.subset(data.test)
if dependence_rows(test_protected).size < len(data.test):
    st.caption(
        f"dCor, CCdCov, JdCov and the permutation test use a seeded subsample of {DEPENDENCE_ROWS:,} of the "
        f"{len(data.test):,} rows of a split: with a continuous attribute mixed with others they cost O(n²)."
    )
if "jdcov" in penalties:
    for line in dependence_warnings(data.protected):
        st.warning(ui.plain(line))

base = TrainSettings(
    hidden=MODELS[model_name],
    dropout=0.1 if MODELS[model_name] else 0.0,
    epochs=epochs,
    batch_size=batch,
    lr=lr,
    patience=patience,
    c=c,
    unbiased=statistic == "U",
)
seeds = list(range(n_seeds))
settings = {
    "page": "Distance-covariance fairness",
    "dataset": dataset.name,
    "source": dataset.source,
    "data_id": data_id,
    "target": target,
    "task": task,
    "exposure": exposure,
    "features": features,
    "protected": protected,
    "kinds": kinds,
    "bins": bins,
    "validation_share": validation_share,
    "test_share": test_share,
    "split_seed": split_seed,
    "model": model_name,
    **base.as_dict(),
    "penalties": penalties,
    "lambdas": lambdas,
    "seeds": seeds,
    "n_permutations": n_permutations,
    "alpha": alpha,
}


def run_sweep():
    """The sweep, with a progress bar naming the model being trained."""
    bar = st.progress(0.0, text="Starting the λ sweep…")
    result = sweep(
        data,
        base,
        penalties=penalties,
        lambdas=lambdas,
        seeds=seeds,
        n_permutations=n_permutations,
        alpha=alpha,
        progress=lambda fraction, step: bar.progress(fraction, text=step),
    )
    bar.empty()
    return result


with ui.user_errors():
    result = ui.session_cached(("fair-sweep", fingerprint(settings)), run_sweep, public=dataset.builtin)

metric, metric_label = TASK_METRIC[task]
fairlearn = None
if task == "binary":
    from covwb.fairness.baselines import exponentiated_gradient

    with ui.user_errors():
        fairlearn = ui.session_cached(
            ("fair-baseline", fingerprint(settings)), lambda: exponentiated_gradient(data), public=dataset.builtin
        )
    baselines = {
        "fairlearn ExponentiatedGradient (DP)": fairlearn.scores["test"],
        "LogisticRegression decisions (its unconstrained base)": fairlearn.base_decisions["test"],
    }
    baselines = {
        name: evaluate_predictions(task, data.y[data.test], scores, test_protected, c=c, n_permutations=n_permutations)
        for name, scores in baselines.items()
    }

for line in result.warnings:
    st.warning(ui.plain(line))
for line in result.notes:
    st.caption(line)

st.header("Recommended λ")
for penalty, choice in result.choices.items():
    verdict = f"λ = {choice.lam:g}" if choice.recommended else "no λ recommended (λ = 0 kept)"
    st.markdown(f"**{PENALTIES[penalty]}: {verdict}.** {choice.reason}")
    st.caption(choice.independent_reason)

st.header("Trade-off on the test split")
recommended = {p: choice.lam for p, choice in result.choices.items() if choice.recommended}
table = tradeoff_table(result, "test")
fairlearn_point = None
if fairlearn is not None:
    reduction = baselines["fairlearn ExponentiatedGradient (DP)"].metrics
    fairlearn_point = (reduction["jsd"], reduction[metric])
test_summary = result.summary[result.summary["split"] == "test"]
fig = tradeoff_figure(
    test_summary, metric, metric_label, names=PENALTIES, chosen=recommended, baseline=fairlearn_point, split="test"
)
ui.show_figure(fig, "fairness-tradeoff", settings)
fig = lambda_figure(
    test_summary,
    {metric: metric_label, "jsd": "JSD (bits)", "uf": "UF", "dcor": "dCor²"},
    names=PENALTIES,
    split="test",
)
ui.show_figure(fig, "fairness-lambda-curves", settings)
st.caption("Test split: means over seeds, each beside its standard deviation (_sd) over seeds.")
st.dataframe(table, hide_index=True)
ui.table_download(table, "fairness-tradeoff-table", settings)
with st.expander("Validation split: the numbers λ was chosen on", expanded=False):
    validation_table = tradeoff_table(result, "validation")
    st.dataframe(validation_table, hide_index=True)
    ui.table_download(validation_table, "fairness-tradeoff-validation", settings)

st.header("Models side by side")
models = {"unregularised": ("none", 0.0)}
models.update({f"{PENALTIES[p]}, λ = {lam:g}": (p, lam) for p, lam in recommended.items()})
comparison = compare_models(result, models, extra=baselines if fairlearn is not None else None, split="test")
st.caption(
    f"Test split; means over {len(seeds)} seeds (fairlearn: one fit); JSD in bits; dCor² (V), CCdCov² and "
    "JdCov² (U); parity gaps over cells of at least 20 rows."
)
st.dataframe(comparison, hide_index=True)
ui.table_download(comparison, "fairness-models", settings)
if fairlearn is not None:
    for line in fairlearn.notes:
        st.caption(line)
    for line in fairlearn.warnings:
        st.warning(ui.plain(line))

st.header("Intersectional cells")
shown = st.selectbox("Model", list(models), index=len(models) - 1, key="fair-shown")
penalty, lam = models[shown]
key = ("test", penalty, lam, seeds[0])
shown_predictions = result.predictions[key]
cells = result.evaluations[key].cells
plain_cells = result.evaluations[("test", "none", 0.0, seeds[0])].cells
cell_settings = {**settings, "model_shown": shown, "seed_shown": seeds[0], "split": "test"}
st.caption(f"Test split, seed {seeds[0]}.")
st.dataframe(cells, hide_index=True)
ui.table_download(cells, "fairness-cells", cell_settings)
groups = group_table(shown_predictions, test_protected)
with st.expander("Per attribute", expanded=False):
    st.dataframe(groups, hide_index=True)
    ui.table_download(groups, "fairness-groups", cell_settings)
tables = {"unregularised": plain_cells} if shown == "unregularised" else {"unregularised": plain_cells, shown: cells}
fig = cell_means_figure(tables, value_label=f"mean prediction of {target}", split="test")
ui.show_figure(fig, "fairness-cell-means", cell_settings)
kind = st.radio("Distributions", ["ecdf", "kde"], format_func=str.upper, horizontal=True, key="fair-distribution")
fig = distributions_figure(
    shown_predictions,
    test_protected.cells,
    test_protected.cell_labels,
    kind=kind,
    title=f"{shown}: predictions per intersectional cell against the pooled distribution (test split)",
)
ui.show_figure(fig, "fairness-distributions", {**cell_settings, "kind": kind})
