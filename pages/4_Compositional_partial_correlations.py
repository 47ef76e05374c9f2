"""Compositional partial correlations: Erb's reference-independent partial correlations between parts."""

from __future__ import annotations

import streamlit as st

import ui

TITLE = "Compositional partial correlations"
ui.setup_page(TITLE, ":material/donut_small:")

import zlib

import pandas as pd

from covwb.coda.analysis import (
    ALL_LABELS_UP_TO,
    FILTER_CHOICES,
    MAX_PAIR_ROWS,
    MAX_PARTS,
    MAX_REFERENCES,
    NO_GROUPS,
    CodaResult,
    CodaSettings,
    analyse,
)
from covwb.coda.estimator import METHODS
from covwb.coda.zeros import ZERO_METHODS
from covwb.plots.coda import coda_figures

KEY = "coda"
LARGE_TABLE_PARTS = 50
"""Above this many parts the variation-array table is shown on request only (it is always in the export)."""
NO_COLOUR = "(none)"

st.title(TITLE)
st.caption(
    "Partial correlations between the parts of a composition (oxides, taxa counts, budget shares) that do "
    "not depend on a reference part: ρ_ij = −Ω_ij/√(Ω_ii Ω_jj) with Ω the pseudo-inverse of the clr "
    "covariance (Erb 2020), with basis shrinkage when there are more parts than samples."
)

# ---------------------------------------------------------------- data and the settings the page starts from
linked = ui.settings_from_url(CodaSettings)
dataset, source = ui.choose_data(("table",), key=KEY, table_kind="composition", initial=linked.source)
ui.show_dataset_header(dataset, warnings=False)  # the result's warnings hold them
with ui.user_errors():
    initial = ui.settings_for_data(linked, source, dataset)
data_id = source.fingerprint()[:16]
frame = dataset.frame
columns = [str(c) for c in frame.columns]
text_columns = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
warnings_slot = st.container()
progress_slot = st.empty()


def run(settings: CodaSettings) -> CodaResult:
    """The page's one library call, cached step by step, with a progress bar while it runs."""
    bar = progress_slot.progress(0.0, text="Computing…")
    with ui.user_errors():
        result = analyse(
            settings,
            dataset,
            memo=ui.memo(public=dataset.builtin),
            progress=lambda done, text: bar.progress(done, text=text),
        )
    progress_slot.empty()
    return result


def show_table(frame: pd.DataFrame, name: str, settings: CodaSettings) -> None:
    """A result table with its CSV download."""
    st.dataframe(frame, hide_index=True, height=min(38 + 35 * len(frame), 320))
    ui.table_download(frame, name, settings)


def automatic(name: str, value, first: CodaResult, base: CodaSettings):
    """None (automatic) when the widget still shows the value the analysis chose itself, else the value."""
    return None if getattr(base, name) is None and value == getattr(first.settings, name) else value


def view_key(name: str, first: CodaResult) -> str:
    """Widget key of a view choice: new whenever the value used changes, so the widget shows that value.

    The value used changes when the automatic choice follows other settings (new parts, say), or when a
    choice that no longer applies falls back to it.
    """
    return f"coda-{name}-{data_id}-{zlib.crc32(repr(getattr(first.settings, name)).encode()):08x}"


# ---------------------------------------------------------------- parts, zeros and the estimator
st.header("Parts and zeros")
parts = st.multiselect("Parts", columns, default=list(initial.parts or ()), key=f"coda-parts-{data_id}")
with st.expander("Filter parts (for tables with many parts)", expanded=initial.filter_by != "none"):
    left, right = st.columns(2)
    filters = list(FILTER_CHOICES)
    filter_by = left.selectbox(
        "Keep only the top parts",
        filters,
        index=filters.index(initial.filter_by or "none"),
        format_func=FILTER_CHOICES.get,
        key=f"coda-filter-{data_id}",
    )
    keep = int(right.number_input("Parts kept", 3, MAX_PARTS, initial.keep, key=f"coda-keep-{data_id}"))
left, middle, right = st.columns(3)
zero_methods = list(ZERO_METHODS)
zero_method = left.selectbox(
    "Zero replacement",
    zero_methods,
    index=zero_methods.index(initial.zero_method),
    format_func=ZERO_METHODS.get,
    key="coda-zeros",
)
delta = middle.number_input(
    "δ for multiplicative replacement (0 = 1/D²)",
    0.0,
    0.5,
    initial.delta or 0.0,
    format="%.6f",
    key="coda-delta",
    disabled=zero_method != "multiplicative",
)
pseudo_count = middle.number_input(
    "Pseudo-count", 1e-6, 100.0, initial.pseudo_count, key="coda-pseudo", disabled=zero_method != "pseudo-count"
)
max_zero = right.slider(
    "Drop parts with more zeros than (fraction of samples)",
    0.0,
    1.0,
    initial.max_zero_fraction,
    0.05,
    key="coda-max-zero",
)
methods = list(METHODS)
method = st.selectbox(
    "Partial-correlation estimator",
    methods,
    index=methods.index(initial.method),
    format_func=METHODS.get,
    key="coda-method",
)
zeros_box = st.container()
with ui.user_errors():
    base = CodaSettings(
        source=source,
        parts=tuple(parts),
        filter_by=filter_by,
        keep=keep,
        zero_method=zero_method,
        delta=delta or None,
        pseudo_count=float(pseudo_count),
        max_zero_fraction=float(max_zero),
        method=method,
        glasso_alpha=initial.glasso_alpha,
        threshold=initial.threshold,
        edge_labels=initial.edge_labels,
        ray_labels=initial.ray_labels,
        pair=initial.pair,
        dropped=initial.dropped,
        colour_by=initial.colour_by,
        ternary=initial.ternary,
    )
first = run(base)  # the view choices below start from the values this analysis chose
names = list(first.parts)
D = len(names)

# ---------------------------------------------------------------- sections: their widgets now, their figures below
st.header("Variation array")
variation_box = st.container()
st.header("Correlations side by side")
correlations_box = st.container()

st.header("Partial-correlation network")
left, right = st.columns(2)
threshold = left.slider("Draw edges with |ρ| at least", 0.0, 1.0, base.threshold, 0.01, key="coda-threshold")
edge_max = min(100, D * (D - 1) // 2)
edge_labels = right.slider(
    "Label the strongest edges (and name their parts)",
    0,
    edge_max,
    min(first.settings.edge_labels, edge_max),
    key=f"coda-edge-labels-{D}",
    help=f"Above {ALL_LABELS_UP_TO} parts only the parts at the ends of the labelled edges are named; "
    "every part shows its name on hover.",
)
network_box = st.container()
with st.expander("Sparse graphical model on clr (scikit-learn GraphicalLasso)", expanded=base.glasso_alpha is not None):
    fit_glasso = st.checkbox("Fit the graphical lasso", value=base.glasso_alpha is not None, key="coda-glasso")
    alpha = base.glasso_alpha or 0.2
    if fit_glasso:
        alpha = st.slider("ℓ1 penalty (correlation units)", 0.01, 0.95, alpha, 0.01, key="coda-alpha")
    glasso_box = st.container()

st.header("Partial variances")
variances_box = st.container()

st.header("Reference independence")
pair = first.settings.pair
reference_box = st.container()
dropped = first.settings.dropped
if first.reference is not None:
    with reference_box:
        left, right = st.columns(2)
        part_i = left.selectbox("First part", names, index=names.index(pair[0]), key=view_key("pair", first) + "-i")
        part_j = right.selectbox("Second part", names, index=names.index(pair[1]), key=view_key("pair", first) + "-j")
    pair = (part_i, part_j)
    st.header("Subcomposition explorer")
    dropped = tuple(
        st.multiselect("Drop parts", names, default=list(first.settings.dropped), key=view_key("dropped", first))
    )
    subcomposition_box = st.container()

st.header("Compositional biplot")
colour_options = [NO_COLOUR, *text_columns]
colour = st.selectbox(
    "Colour samples by",
    colour_options,
    index=colour_options.index(first.settings.colour_by or NO_COLOUR),
    key=f"coda-group-{data_id}",
)
ray_labels = st.slider(
    "Name the parts with the longest rays",
    0,
    D,
    min(first.settings.ray_labels, D),
    key=f"coda-ray-labels-{D}",
    help="The other parts are drawn as thin grey rays that show their name on hover.",
)
biplot_box = st.container()
st.header("Ternary diagram")
ternary = st.multiselect(
    "Three parts", names, default=list(first.settings.ternary), max_selections=3, key=view_key("ternary", first)
)
ternary_box = st.container()

# ---------------------------------------------------------------- the analysis with the view chosen above
with ui.user_errors():
    settings = base.replace(
        glasso_alpha=float(alpha) if fit_glasso else None,
        threshold=float(threshold),
        edge_labels=automatic("edge_labels", edge_labels, first, base),
        ray_labels=automatic("ray_labels", ray_labels, first, base),
        pair=automatic("pair", pair, first, base) if pair[0] != pair[1] else base.pair,  # two parts are needed
        dropped=automatic("dropped", dropped, first, base),
        colour_by=automatic("colour_by", NO_GROUPS if colour == NO_COLOUR else colour, first, base),
        ternary=automatic("ternary", tuple(ternary), first, base),
    )
result = first if settings == base else run(settings)
shown = result.settings
stats, partial = result.statistics, result.statistics.partial
figures = coda_figures(result)
tables = result.tables()
with warnings_slot:  # with the view choices of the link or the last run that no longer applied, if any
    ui.show_warnings([*result.warnings, *(w for w in first.warnings if w not in result.warnings)])

with zeros_box:
    replaced = result.replacement
    dropped_for_zeros = replaced["dropped_parts"]
    st.caption(
        ui.plain(
            f"{result.values.shape[0]} samples × {D} parts · {replaced['zeros_replaced']} zeros replaced by "
            f"{replaced['zero_method']}"
            + (f" · dropped for too many zeros: {', '.join(dropped_for_zeros)}" if dropped_for_zeros else "")
        )
    )
    if "zeros-per-part" in figures:
        ui.show_figure(figures["zeros-per-part"], "zeros-per-part", settings)
        show_table(tables["zeros_per_part"], "zeros_per_part", settings)

with variation_box:
    left, right = st.columns([2, 1])
    with left:
        ui.show_figure(figures["variation-array"], "variation-array", settings)
    with right:
        st.metric("Total variance", f"{stats.total_variance:.6g}", help="Sum of the clr variances")
        show_table(tables["centre_and_variances"], "centre_and_variances", settings)
    with st.expander("Variation array as a table (variances above the diagonal, means below)"):
        if D <= LARGE_TABLE_PARTS or st.toggle("Build the table", key="coda-variation-table"):
            show_table(tables["variation_array"], "variation_array", settings)

with correlations_box:
    shrink_note = (
        f" (λ = {partial.shrinkage_:.4f}, λ_var = {partial.variance_shrinkage_:.4f})"
        if partial.method_ == "basis-shrinkage"
        else ""
    )
    st.caption(f"Partial correlations by {METHODS[partial.method_]}{shrink_note}.")
    ui.show_figure(figures["correlations"], "correlations", settings)
    if len(result.pairs) > MAX_PAIR_ROWS:
        st.caption(f"The {MAX_PAIR_ROWS} pairs with the largest |partial correlation| of {len(result.pairs)}.")
    show_table(tables["pairs"], "pairs", settings)

with network_box:
    ui.show_figure(figures["network"], "network", settings)
with glasso_box:
    if "glasso-network" in figures:
        st.caption(f"{result.graph.edges} edges; {result.graph.settings['iterations']} iterations.")
        ui.show_figure(figures["glasso-network"], "glasso-network", settings)

with variances_box:
    ui.show_figure(figures["partial-variances"], "partial-variances", settings)

with reference_box:
    for note in result.notes:
        st.info(ui.plain(note))
    if pair[0] == pair[1]:
        st.info("Choose two different parts; the table shows the pair chosen before.")
    if result.reference is not None:
        st.caption(
            f"For every reference r (at most {MAX_REFERENCES}, evenly spread), log(x_i/x_r) and log(x_j/x_r) "
            "are regressed on all other log(x_k/x_r); the residual correlation is the same for every r and "
            "equals the partial correlation."
        )
        ui.show_figure(figures["reference-independence"], "reference-independence", settings)
        show_table(tables["reference_independence"], "reference_independence", settings)
if first.reference is not None:
    with subcomposition_box:
        if result.subcomposition is not None:
            ui.show_figure(figures["subcomposition"], "subcomposition", settings)
            show_table(tables["subcomposition"], "subcomposition", settings)

with biplot_box:
    ui.show_figure(figures["biplot"], "biplot", settings)
with ternary_box:
    if "ternary" in figures:
        ui.show_figure(figures["ternary"], "ternary", settings)
    else:
        st.info("Choose three parts.")

# ---------------------------------------------------------------- the link and the analysis export
ui.settings_to_url(settings, defaults=CodaSettings(source=source).resolve(dataset)[0])
with st.sidebar:
    ui.export_analysis(settings, result, call=analyse, title=TITLE, figures=figures, data=dataset)
