"""Compositional partial correlations: Erb's reference-independent partial correlations between parts."""

from __future__ import annotations

import streamlit as st

import ui

ui.setup_page("Compositional partial correlations", ":material/donut_small:")

import pandas as pd

from covwb.coda.analysis import analyse
from covwb.coda.biplot import clr_pca
from covwb.coda.closure import composition_matrix, suggest_parts
from covwb.coda.contrasts import graphical_lasso_clr, pair_table
from covwb.coda.demonstrations import reference_independence, subcompositional_incoherence
from covwb.coda.estimator import METHODS, choose_method
from covwb.coda.filtering import FILTERS, check_displayable, filter_parts
from covwb.coda.variation import most_variable_parts
from covwb.coda.zeros import ZERO_METHODS, replace_zeros, zero_summary
from covwb.datasets.fingerprint import fingerprint
from covwb.io.tables import numeric_columns
from covwb.plots.coda import (
    ALL_NAMES_UP_TO,
    bars_figure,
    biplot_figure,
    correlation_panels,
    default_label_count,
    network_figure,
    reference_figure,
    subcomposition_figure,
    ternary_figure,
    variation_heatmap,
)

MAX_PARTS_SHOWN = 400
"""Most parts the page draws as matrices; larger tables must be filtered first."""
MAX_REFERENCES = 30
"""The reference-independence table uses at most this many reference parts."""
MAX_PAIR_ROWS = 2000
"""The pair table shows and exports the pairs with the largest |ρ| up to this many rows."""
LARGE_TABLE_PARTS = 50
"""Above this many parts the variation-array table is built on request only."""
PROGRESS_ABOVE = 200
"""Above this many parts the computation shows a progress bar."""


def show_table(frame: pd.DataFrame, name: str, settings: dict) -> None:
    """A result table with its CSV download."""
    st.dataframe(frame, hide_index=True, height=min(38 + 35 * len(frame), 320))
    ui.table_download(frame, name, settings)


st.title("Compositional partial correlations")
st.caption(
    "Partial correlations between the parts of a composition (oxides, taxa counts, budget shares) that do "
    "not depend on a reference part: ρ_ij = −Ω_ij/√(Ω_ii Ω_jj) with Ω the pseudo-inverse of the clr "
    "covariance (Erb 2020), with basis shrinkage when there are more parts than samples."
)

dataset = ui.choose_dataset(("table",), key="coda", table_kind="composition")
data_id = fingerprint(dataset)
frame = dataset.frame
ui.show_dataset_header(dataset)

numeric = numeric_columns(frame)
suggested = [p for p in dataset.roles.get("parts", ()) if p in frame.columns] or suggest_parts(frame)
text_columns = [c for c in frame.columns if c not in numeric]

st.header("Parts and zeros")
parts = st.multiselect("Parts", list(frame.columns), default=suggested, key=f"coda-parts-{data_id}")
with st.expander("Filter parts (for tables with many parts)", expanded=len(parts) > MAX_PARTS_SHOWN):
    left, right = st.columns(2)
    use_filter = left.checkbox(
        "Keep only the top parts", value=len(parts) > MAX_PARTS_SHOWN, key=f"coda-filter-{data_id}"
    )
    filter_by = left.selectbox("Rank parts by", list(FILTERS), format_func=FILTERS.get, key="coda-filter-by")
    keep = int(right.number_input("Parts kept", 3, 5000, min(100, max(3, len(parts))), key=f"coda-keep-{data_id}"))
left, middle, right = st.columns(3)
zero_method = left.selectbox("Zero replacement", list(ZERO_METHODS), format_func=ZERO_METHODS.get, key="coda-zeros")
delta = middle.number_input(
    "δ for multiplicative replacement (0 = 1/D²)",
    0.0,
    0.5,
    0.0,
    format="%.6f",
    key="coda-delta",
    disabled=zero_method != "multiplicative",
)
pseudo = middle.number_input(
    "Pseudo-count", 1e-6, 100.0, 0.5, key="coda-pseudo", disabled=zero_method != "pseudo-count"
)
max_zero = right.slider(
    "Drop parts with more zeros than (fraction of samples)", 0.0, 1.0, 1.0, 0.05, key="coda-max-zero"
)
method = st.selectbox("Partial-correlation estimator", list(METHODS), format_func=METHODS.get, key="coda-method")

with ui.user_errors():
    amounts = composition_matrix(frame, parts)
    if use_filter:
        amounts, parts = filter_parts(amounts, parts, filter_by, keep)
    check_displayable(len(parts), MAX_PARTS_SHOWN)
    zeros = zero_summary(amounts, parts)
    replaced = replace_zeros(
        amounts, parts, zero_method, delta=delta or None, pseudo_count=pseudo, max_zero_fraction=max_zero
    )

settings = {
    "page": "Compositional partial correlations",
    "dataset": dataset.name,
    "source": dataset.source,
    "data_id": data_id,
    "parts": list(replaced.parts),
    "filter": {"by": filter_by, "keep": keep} if use_filter else None,
    **replaced.settings,
}
names = list(replaced.parts)
n, D = replaced.values.shape
st.caption(
    ui.plain(
        f"{n} samples × {D} parts · {zeros.total} zeros replaced by {zero_method}"
        + (
            f" · dropped for too many zeros: {', '.join(replaced.settings['dropped_parts'])}"
            if replaced.settings["dropped_parts"]
            else ""
        )
    )
)
for warning in replaced.warnings:
    st.warning(warning)
if zeros.total:
    fig = bars_figure(
        {"zeros": zeros.per_part["zeros"].to_numpy()},
        zeros.per_part["part"].tolist(),
        title="Zeros per part",
        yaxis="samples with a zero",
    )
    ui.show_figure(fig, "zeros-per-part", settings)
    show_table(zeros.per_part, "zeros-per-part", settings)

with ui.user_errors():
    key = ("coda-analysis", repr(sorted(settings.items())), fingerprint(replaced.values), method)
    if D > PROGRESS_ABOVE:
        bar = st.progress(0.0, text="Starting…")
        result = ui.session_cached(
            key,
            lambda: analyse(
                replaced.values, names, method, settings=settings, progress=lambda f, t: bar.progress(f, text=t)
            ),
            public=dataset.builtin,
        )
        bar.empty()
    else:
        result = ui.session_cached(
            key, lambda: analyse(replaced.values, names, method, settings=settings), public=dataset.builtin
        )
settings = result.settings
partial = result.partial
for warning in result.warnings:
    st.warning(warning)

st.header("Variation array")
left, right = st.columns([2, 1])
with left:
    ui.show_figure(
        variation_heatmap(result.variation.variances, result.variation.means, names), "variation-array", settings
    )
with right:
    st.metric("Total variance", f"{result.total_variance:.6g}", help="Sum of the clr variances")
    summary = pd.DataFrame(
        {
            "part": names,
            "centre": result.centre,
            "clr_variance": result.clr_variances,
            "partial_variance": partial.partial_variances_,
        }
    )
    show_table(summary, "centre-and-variances", settings)
with st.expander("Variation array as a table (variances above the diagonal, means below)"):
    if D <= LARGE_TABLE_PARTS or st.toggle("Build the table", key="coda-variation-table"):
        variation_table = pd.DataFrame(result.variation.combined(), index=names, columns=names)
        show_table(variation_table.reset_index(names="part"), "variation-array-table", settings)

st.header("Correlations side by side")
shrink_note = (
    f" (λ = {settings['lambda']:.4f}, λ_var = {settings['lambda_var']:.4f})"
    if partial.method_ == "basis-shrinkage"
    else ""
)
st.caption(f"Partial correlations by {METHODS[partial.method_]}{shrink_note}.")
fig = correlation_panels(
    {
        "Raw proportions (Pearson)": result.proportion_correlation,
        "clr (Pearson)": result.clr_correlation,
        "Partial (given all other parts)": partial.partial_correlation_,
    },
    names,
    title="Spurious, marginal and partial correlation of the parts",
)
ui.show_figure(fig, "correlations", settings)
pairs = pair_table(
    {
        "partial_correlation": partial.partial_correlation_,
        "clr_correlation": result.clr_correlation,
        "proportion_correlation": result.proportion_correlation,
        "proportionality_rho_p": result.proportionality,
    },
    names,
)
if len(pairs) > MAX_PAIR_ROWS:
    st.caption(f"The {MAX_PAIR_ROWS} pairs with the largest |partial correlation| of {len(pairs)}.")
show_table(pairs.head(MAX_PAIR_ROWS), "pairs", {**settings, "pairs_shown": min(len(pairs), MAX_PAIR_ROWS)})

st.header("Partial-correlation network")
left, right = st.columns(2)
threshold = left.slider("Draw edges with |ρ| at least", 0.0, 1.0, 0.3, 0.01, key="coda-threshold")
edge_labels = right.slider(
    "Label the strongest edges (and name their parts)",
    0,
    min(100, D * (D - 1) // 2),
    min(default_label_count(D), D * (D - 1) // 2),
    key=f"coda-edge-labels-{D}",
    help=f"Above {ALL_NAMES_UP_TO} parts only the parts at the ends of the labelled edges are named; "
    "every part shows its name on hover.",
)
ui.show_figure(
    network_figure(partial.partial_correlation_, names, threshold, title="Partial correlations", n_labels=edge_labels),
    "network",
    {**settings, "threshold": threshold, "labelled_edges": edge_labels},
)
with st.expander("Sparse graphical model on clr (scikit-learn GraphicalLasso)"):
    if st.checkbox("Fit the graphical lasso", value=False, key="coda-glasso"):
        alpha = st.slider("ℓ1 penalty (correlation units)", 0.01, 0.95, 0.2, 0.01, key="coda-alpha")
        with ui.user_errors():
            graph = ui.session_cached(
                ("coda-glasso", key, alpha), lambda: graphical_lasso_clr(replaced.values, alpha), public=dataset.builtin
            )
        ui.show_figure(
            network_figure(graph.pcor, names, 1e-9, title=f"Graphical lasso, α = {alpha:g}", n_labels=edge_labels),
            "glasso-network",
            {**settings, **graph.settings, "labelled_edges": edge_labels},
        )

st.header("Partial variances")
ui.show_figure(
    bars_figure(
        {"clr variance": result.clr_variances, "partial variance 1/Ω_ii": partial.partial_variances_},
        names,
        title="clr variance and partial variance of each part",
        yaxis="variance",
        log=True,
    ),
    "partial-variances",
    settings,
)

exact_possible = choose_method("auto", n, D) == "exact"
st.header("Reference independence")
if not exact_possible:
    st.info(
        "Reference independence and the subcomposition explorer use exact partial correlations, which need "
        "more samples than parts; filter the parts to fewer than the samples."
    )
else:
    top = pairs.iloc[0]
    left, right = st.columns(2)
    part_i = left.selectbox("First part", names, index=names.index(top.part_i), key=f"coda-ref-i-{data_id}")
    part_j = right.selectbox("Second part", names, index=names.index(top.part_j), key=f"coda-ref-j-{data_id}")
    with ui.user_errors():
        table = ui.session_cached(
            ("coda-reference", key, part_i, part_j),
            lambda: reference_independence(replaced.values, names, part_i, part_j, max_references=MAX_REFERENCES),
            public=dataset.builtin,
        )
    pair_settings = {**settings, "pair": [part_i, part_j]}
    st.caption(
        f"For every reference r (at most {MAX_REFERENCES}, evenly spread), log(x_i/x_r) and log(x_j/x_r) "
        "are regressed on all other log(x_k/x_r); the residual correlation is the same for every r and "
        "equals the partial correlation."
    )
    ui.show_figure(reference_figure(table, (part_i, part_j)), "reference-independence", pair_settings)
    show_table(table, "reference-independence", pair_settings)

    st.header("Subcomposition explorer")
    default_drop = most_variable_parts(result.clr_variances, names, 2) if D >= 5 else []
    dropped = st.multiselect("Drop parts", names, default=default_drop, key=f"coda-drop-{data_id}")
    with ui.user_errors():
        sub = ui.session_cached(
            ("coda-subcomposition", key, tuple(dropped)),
            lambda: subcompositional_incoherence(replaced.values, names, [p for p in names if p not in dropped]),
            public=dataset.builtin,
        )
    sub_settings = {**settings, "dropped_from_subcomposition": dropped}
    ui.show_figure(subcomposition_figure(sub), "subcomposition", sub_settings)
    show_table(sub, "subcomposition", sub_settings)

st.header("Compositional biplot")
group_options = ["(none)", *text_columns]
suggested_group = next((g for g in dataset.roles.get("group", ()) if g in text_columns), "(none)")
group = st.selectbox(
    "Colour samples by", group_options, index=group_options.index(suggested_group), key=f"coda-group-{data_id}"
)
groups = None if group == "(none)" else frame[group].astype(str).tolist()
ray_labels = st.slider(
    "Name the parts with the longest rays",
    0,
    D,
    default_label_count(D),
    key=f"coda-ray-labels-{D}",
    help="The other parts are drawn as thin grey rays that show their name on hover.",
)
pca = clr_pca(replaced.values, 2)
ui.show_figure(
    biplot_figure(pca.scores, pca.loadings, pca.explained, names, groups, n_labels=ray_labels),
    "biplot",
    {**settings, "colour_by": group, "named_parts": ray_labels},
)

st.header("Ternary diagram")
three = st.multiselect("Three parts", names, default=names[:3], max_selections=3, key=f"coda-ternary-{data_id}")
if len(three) == 3:
    columns = [names.index(p) for p in three]
    ui.show_figure(
        ternary_figure(replaced.values[:, columns], three, groups),
        "ternary",
        {**settings, "ternary_parts": three, "colour_by": group},
    )
else:
    st.info("Choose three parts.")
