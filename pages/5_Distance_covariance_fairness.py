"""Distance-covariance fairness: models regularised by dCov, JdCov or CCdCov for several protected attributes."""

from __future__ import annotations

import streamlit as st

import ui

ui.setup_page("Distance-covariance fairness", ":material/balance:")

import pandas as pd

from covwb.datasets.fingerprint import fingerprint
from covwb.errors import ParameterError
from covwb.fairness.calibration import sweep, tradeoff_table
from covwb.fairness.data import TASKS, leaking_columns, prepare_data
from covwb.fairness.encoding import KINDS, infer_kind
from covwb.fairness.metrics import (
    DEPENDENCE_ROWS,
    TASK_METRIC,
    dependence_rows,
    dependence_warnings,
    evaluate,
    group_table,
    small_cell_warnings,
)
from covwb.fairness.models import TrainSettings
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
    "seeds, see the task-loss vs JSD trade-off, the chosen λ and why, and every intersectional cell."
)


def default_task(frame, target: str, exposure_role: tuple[str, ...]) -> str:
    """Counts when the table names an exposure, binary for two values, else continuous."""
    if exposure_role:
        return "counts"
    return "binary" if frame[target].nunique() == 2 else "continuous"


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
left, middle, right = st.columns(3)
target_default = roles.get("target", (columns[-1],))[0]
target = left.selectbox("Target", columns, index=columns.index(target_default), key=f"target-{data_id}")
task_keys = list(TASKS)
task = middle.selectbox(
    "Task",
    task_keys,
    index=task_keys.index(default_task(frame, target, roles.get("exposure", ()))),
    format_func=TASKS.get,
    key=f"task-{data_id}-{target}",
)
exposure = None
if task == "counts":
    numeric = [c for c in columns if c != target and frame[c].dtype.kind == "f"]
    default_exposure = roles.get("exposure", numeric[:1])
    exposure = right.selectbox(
        "Exposure",
        numeric,
        index=numeric.index(default_exposure[0]) if default_exposure else 0,
        key=f"exposure-{data_id}",
    )
others = [c for c in columns if c not in (target, exposure)]
protected = st.multiselect(
    "Protected attributes (mixed types allowed)",
    others,
    default=[c for c in roles.get("protected", ()) if c in others],
    key=f"protected-{data_id}-{target}",
)
candidates = [c for c in others if c not in protected]
leaks = leaking_columns(frame, target, candidates)
features = st.multiselect(
    "Features (protected attributes are never used as features)",
    candidates,
    default=[c for c in roles.get("features", candidates) if c in candidates and c not in leaks][:40],
    key=f"features-{data_id}-{target}",
)
if leaks:
    st.caption(ui.plain("Left out by default, as they restate the target (|r| ≥ 0.95): " + ", ".join(leaks) + "."))
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
n_seeds = int(left.number_input("Seeds", 1, 10, 2, key="fair-seeds"))
n_permutations = int(middle.number_input("Permutations per test", 0, 999, 99, step=50, key="fair-perms"))
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
    validation_share = float(middle.slider("Validation share", 0.1, 0.5, 0.3, 0.05, key="fair-validation"))
    split_seed = int(right.number_input("Split seed", 0, 2**31 - 1, 0, key="fair-split-seed"))

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
    f"{len(data.train)} training and {len(data.validation)} validation rows · {data.X.shape[1]} feature columns · "
    f"{len(set(data.protected.cells))} intersectional cells."
)
validation_protected = data.protected.subset(data.validation)
if dependence_rows(validation_protected).size < len(data.validation):
    st.caption(
        f"dCor, CCdCov, JdCov and the permutation test use a seeded subsample of {DEPENDENCE_ROWS:,} of the "
        f"{len(data.validation):,} validation rows: with a continuous attribute mixed with others they cost O(n²)."
    )
for line in small_cell_warnings(validation_protected):
    st.warning(ui.plain("Validation set: " + line))
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
    "split_seed": split_seed,
    "model": model_name,
    **base.as_dict(),
    "penalties": penalties,
    "lambdas": lambdas,
    "seeds": seeds,
    "n_permutations": n_permutations,
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
        progress=lambda fraction, step: bar.progress(fraction, text=step),
    )
    bar.empty()
    return result


with ui.user_errors():
    result = ui.session_cached(("fair-sweep", fingerprint(settings)), run_sweep, public=dataset.builtin)

metric, metric_label = TASK_METRIC[task]
baseline = None
if task == "binary":
    from covwb.fairness.baselines import exponentiated_gradient

    with ui.user_errors():
        baseline_predictions = ui.session_cached(
            ("fair-baseline", fingerprint(settings)), lambda: exponentiated_gradient(data), public=dataset.builtin
        )
    baseline = evaluate(
        task, data.y[data.validation], baseline_predictions, validation_protected, c=c, n_permutations=n_permutations
    )

st.header("Chosen λ")
for penalty, choice in result.choices.items():
    st.markdown(f"**{PENALTIES[penalty]}: λ = {choice.elbow:g}.** {choice.elbow_reason}")
    st.caption(choice.independent_reason)

st.header("Trade-off")
chosen = {p: choice.elbow for p, choice in result.choices.items()}
fig = tradeoff_figure(
    result.summary,
    metric,
    metric_label,
    names=PENALTIES,
    chosen=chosen,
    baseline=(baseline.metrics["jsd"], baseline.metrics[metric]) if baseline else None,
)
ui.show_figure(fig, "fairness-tradeoff", settings)
fig = lambda_figure(
    result.summary, {metric: metric_label, "jsd": "JSD (bits)", "uf": "UF", "dcor": "dCor²"}, names=PENALTIES
)
ui.show_figure(fig, "fairness-lambda-curves", settings)
table = tradeoff_table(result, task)
st.dataframe(table, hide_index=True)
ui.table_download(table, "fairness-tradeoff-table", settings)

st.header("Models side by side")
models = {"unregularised": ("none", 0.0)}
models.update({f"{PENALTIES[p]}, λ = {lam:g}": (p, lam) for p, lam in chosen.items() if lam > 0})
rows = []
for name, (penalty, lam) in models.items():
    evaluation = result.evaluations[(penalty, lam, seeds[0])]
    rows.append({"model": name, **evaluation.metrics})
if baseline is not None:
    rows.append({"model": "fairlearn ExponentiatedGradient (DP)", **baseline.metrics})
comparison = pd.DataFrame(rows)
st.caption(f"Validation metrics, seed {seeds[0]}; JSD in bits; dCor² (V), CCdCov² and JdCov² (U).")
st.dataframe(comparison, hide_index=True)
ui.table_download(comparison, "fairness-models", settings)

st.header("Intersectional cells")
shown = st.selectbox("Model", list(models), index=len(models) - 1, key="fair-shown")
penalty, lam = models[shown]
shown_predictions = result.predictions[(penalty, lam, seeds[0])]
cells = result.evaluations[(penalty, lam, seeds[0])].cells
plain_cells = result.evaluations[("none", 0.0, seeds[0])].cells
cell_settings = {**settings, "model_shown": shown, "seed_shown": seeds[0]}
st.dataframe(cells, hide_index=True)
ui.table_download(cells, "fairness-cells", cell_settings)
groups = group_table(shown_predictions, validation_protected)
with st.expander("Per attribute", expanded=False):
    st.dataframe(groups, hide_index=True)
    ui.table_download(groups, "fairness-groups", cell_settings)
tables = {"unregularised": plain_cells} if shown == "unregularised" else {"unregularised": plain_cells, shown: cells}
fig = cell_means_figure(tables, value_label=f"mean prediction of {target}")
ui.show_figure(fig, "fairness-cell-means", cell_settings)
kind = st.radio("Distributions", ["ecdf", "kde"], format_func=str.upper, horizontal=True, key="fair-distribution")
fig = distributions_figure(
    shown_predictions,
    validation_protected.cells,
    validation_protected.cell_labels,
    kind=kind,
    title=f"{shown}: predictions per intersectional cell against the pooled distribution",
)
ui.show_figure(fig, "fairness-distributions", {**cell_settings, "kind": kind})
