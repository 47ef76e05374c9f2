"""The compositional page's analysis: one settings object, one call, one result whose tables the page shows.

:func:`analyse` computes everything the compositional partial-correlation page shows for a table, from
:class:`CodaSettings`:

1. the chosen parts (numeric columns; at least three), checked (no negative, missing or infinite value, no
   row of zeros) and, for wide tables, filtered to the parts with the largest variance or prevalence;
2. the zeros per part, and their replacement (multiplicative, pseudo-count or the smallest non-zero value)
   after dropping the parts with too many zeros; the rows are closed;
3. the variation array, clr variances, total variance and centre; the Pearson correlation of the
   proportions, the clr correlation and the proportionality ρ_p; Erb's partial correlations and partial
   variances (exact ``Γ⁺``, or basis shrinkage when parts outnumber samples,
   :class:`~covwb.coda.estimator.CompositionalPartialCorrelation`);
4. optionally a graphical lasso on the standardised clr coordinates;
5. when exact partial correlations exist (more samples than parts): the reference-independence table of one
   pair of parts and the subcompositional incoherence of a subcomposition;
6. the clr PCA of the biplot, and the sample groups that colour it.

The page and an exported script make the same call with equal settings, so their tables are identical.
The page passes ``memo`` (its cache) so that changing one widget recomputes only the steps that read it;
each step's key is the data source's fingerprint plus the settings the step reads.

**View choices.** Some settings only say what to draw: the pair of the reference-independence table, the
parts dropped in the subcomposition explorer, the three parts of the ternary diagram, the sample groups,
the edge threshold and how many edges and rays are labelled. None means automatic (the strongest pair,
the two parts of largest clr variance, the first three parts, the table's group column, all labels up
to 30 parts and the 15 strongest above); :attr:`CodaResult.settings` holds the values used. A view
choice that no longer applies (a part that was filtered out or dropped for its zeros) falls back to the
automatic value, and a warning says so.

**Cost** (one process, one BLAS thread, medians of 3 on the shared 2-core machine under a load of about 10;
the ``memo`` then makes a changed view choice cost only its own step): a microbiome-sized table of
289 samples × 127 mostly-zero counts, 0.3 s; 200 samples × 2000 parts, filtered to the 100 of largest
variance by default, 1.1 s (checking and ranking the 2000 columns); the same table kept at the page's limit
of :data:`MAX_PARTS` = 400 parts (basis shrinkage), 1.2 s; 500 samples × 400 parts (exact), 1.5 s. Without
the page, :class:`~covwb.coda.estimator.CompositionalPartialCorrelation` takes any number of parts.

>>> from covwb.sources import BuiltinSource
>>> result = analyse(CodaSettings(source=BuiltinSource("pottery")))
>>> result.settings.parts[:3], result.statistics.partial.method_
(('Al2O3', 'Fe2O3', 'MgO'), 'exact')
>>> sorted(result.tables())[:4]
['biplot_loadings', 'biplot_scores', 'centre_and_variances', 'pairs']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from covwb._steps import Memo, Steps
from covwb.coda.biplot import ClrPCA, clr_pca
from covwb.coda.closure import MIN_PARTS, composition_matrix, suggest_parts
from covwb.coda.contrasts import SparseGraph, clr_correlation, graphical_lasso_clr, pair_table, proportion_correlation
from covwb.coda.contrasts import proportionality as proportionality_matrix
from covwb.coda.demonstrations import reference_independence, subcompositional_incoherence
from covwb.coda.estimator import METHODS, CompositionalPartialCorrelation, choose_method
from covwb.coda.filtering import FILTERS, check_displayable, filter_parts
from covwb.coda.variation import VariationArray, centre, clr_variances, most_variable_parts, variation_array
from covwb.coda.zeros import ZERO_METHODS, ZeroSummary, replace_zeros, zero_summary
from covwb.datasets.types import TableDataset
from covwb.errors import ParameterError
from covwb.jobs.plan import Progress
from covwb.settings import Settings, setting
from covwb.sources import BuiltinSource, DataSource

MAX_PARTS = 400
"""Most parts the analysis takes (after filtering): its D × D matrices are drawn in the browser."""
AUTO_FILTER_KEEP = 100
"""Parts kept by default when a table has more than :data:`MAX_PARTS` parts."""
MAX_REFERENCES = 30
"""The reference-independence table uses at most this many reference parts, evenly spread."""
MAX_PAIR_ROWS = 2000
"""The pair table keeps the pairs with the largest |partial correlation|, up to this many."""
ALL_LABELS_UP_TO = 30
"""Up to this many parts every edge and ray may be labelled by default; above, the strongest ones."""
DEFAULT_LABELS = 15
"""Edges (network) and rays (biplot) labelled by default above :data:`ALL_LABELS_UP_TO` parts."""
FILTER_CHOICES: dict[str, str] = {"none": "No filter: every chosen part", **FILTERS}
"""How the chosen parts are filtered: not at all, or to the top parts by one of :data:`covwb.coda.FILTERS`."""
NO_GROUPS = ""
"""The value of :attr:`CodaSettings.colour_by` that colours no groups."""


def default_label_count(D: int) -> int:
    """Labels drawn by default for D parts: all up to :data:`ALL_LABELS_UP_TO`, else :data:`DEFAULT_LABELS`."""
    return D if D <= ALL_LABELS_UP_TO else DEFAULT_LABELS


@dataclass(frozen=True)
class CodaSettings(Settings):
    """Everything the compositional page lets one choose.

    Parameters
    ----------
    source : BuiltinSource or UploadSource
        The table (see :mod:`covwb.sources`).
    parts : tuple of str or None
        Columns that are the parts (at least 3); None for the table's parts (built-in) or its numeric
        columns that do not number the rows.
    filter_by : {"none", "variance", "prevalence"} or None
        Keep only the ``keep`` parts of largest variance (of the proportions) or prevalence; None for
        ``"variance"`` when more than :data:`MAX_PARTS` parts are chosen, else ``"none"``.
    keep : int
        Parts kept by the filter.
    zero_method : {"multiplicative", "pseudo-count", "minimum"}
        Zero replacement (:data:`covwb.coda.ZERO_METHODS`).
    delta : float or None
        δ of the multiplicative replacement, as a proportion; None for 1/D².
    pseudo_count : float
        Added to every value by the pseudo-count replacement, in the unit of the table.
    max_zero_fraction : float
        Parts with zeros in more than this fraction of the samples are dropped before replacement.
    method : {"auto", "exact", "basis-shrinkage"}
        Partial-correlation estimator (:data:`covwb.coda.METHODS`).
    glasso_alpha : float or None
        ℓ1 penalty of a graphical lasso on the standardised clr coordinates; None fits none.
    threshold : float
        View: smallest |ρ| drawn as an edge of the network.
    edge_labels, ray_labels : int or None
        View: edges of the network and rays of the biplot labelled; None for :func:`default_label_count`.
    pair : (str, str) or None
        View: the pair of the reference-independence table; None for the pair of largest |ρ|.
    dropped : tuple of str or None
        View: parts dropped in the subcomposition explorer; None for the two of largest clr variance (with
        at least 5 parts; none otherwise).
    colour_by : str or None
        View: text column whose values colour the samples; ``""`` for none; None for the table's group
        column (built-in) or none.
    ternary : tuple of str or None
        View: the three parts of the ternary diagram (fewer draws none); None for the first three parts.
    """

    source: DataSource = BuiltinSource("pottery")
    parts: tuple[str, ...] | None = setting(None, label="Parts")
    filter_by: str | None = setting(None, label="Keep only the top parts", choices=FILTER_CHOICES)
    keep: int = setting(AUTO_FILTER_KEEP, label="Parts kept", low=MIN_PARTS, high=MAX_PARTS)
    zero_method: str = setting("multiplicative", label="Zero replacement", choices=ZERO_METHODS)
    delta: float | None = setting(None, label="δ for multiplicative replacement", low=1e-12, high=0.5)
    pseudo_count: float = setting(0.5, label="Pseudo-count", low=1e-6, high=100.0)
    max_zero_fraction: float = setting(1.0, label="Largest fraction of zeros of a part", low=0.0, high=1.0)
    method: str = setting("auto", label="Partial-correlation estimator", choices=METHODS)
    glasso_alpha: float | None = setting(None, label="Graphical-lasso penalty", low=0.01, high=0.95)
    threshold: float = setting(0.3, label="Smallest |ρ| drawn", low=0.0, high=1.0)
    edge_labels: int | None = setting(None, label="Labelled edges", low=0)
    ray_labels: int | None = setting(None, label="Named rays", low=0)
    pair: tuple[str, str] | None = setting(None, label="Pair of parts")
    dropped: tuple[str, ...] | None = setting(None, label="Parts dropped from the subcomposition")
    colour_by: str | None = setting(None, label="Colour samples by")
    ternary: tuple[str, ...] | None = setting(None, label="Ternary parts", max_items=3)

    def check(self) -> None:
        if self.parts is not None and len(set(self.parts)) != len(self.parts):
            raise ParameterError("Each part can be chosen once only; remove the repeated column names.")
        if self.pair is not None and self.pair[0] == self.pair[1]:
            raise ParameterError("The pair of the reference-independence table needs two different parts.")

    def resolve(self, data: Any) -> tuple[CodaSettings, tuple[str, ...]]:
        """Explicit parts, filter and colouring for ``data``.

        View choices naming parts that are not analysed (not chosen, filtered out, dropped for their zeros)
        are handled by :func:`analyse`, which chooses automatically and warns.

        Parameters
        ----------
        data : TableDataset
            The table that ``source`` loads.

        Returns
        -------
        settings : CodaSettings
            With explicit ``parts``, ``filter_by`` and ``colour_by``.
        notes : tuple of str
            One sentence per value that was replaced.
        """
        if not isinstance(data, TableDataset):
            raise ParameterError(f"The compositional page reads tables, not {type(data).__name__}.")
        frame = data.frame
        columns = [str(c) for c in frame.columns]
        notes: list[str] = []
        parts = self.parts
        if parts is not None and not set(parts) <= set(columns):
            missing = [p for p in parts if p not in columns]
            notes.append(f"The table has no column {missing[0]!r}; the page uses its default parts.")
            parts = None
        if parts is None:
            parts = tuple(p for p in data.roles.get("parts", ()) if p in columns) or tuple(suggest_parts(frame))
        filter_by = self.filter_by
        if filter_by is None:
            filter_by = "variance" if len(parts) > MAX_PARTS else "none"
        text_columns = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
        colour_by = self.colour_by
        if colour_by and colour_by not in text_columns:
            notes.append(f"The table has no text column {colour_by!r} to colour the samples by; none is used.")
            colour_by = NO_GROUPS
        if colour_by is None:
            colour_by = next((g for g in data.roles.get("group", ()) if g in text_columns), NO_GROUPS)
        return dataclasses.replace(self, parts=parts, filter_by=filter_by, colour_by=colour_by), tuple(notes)

    def steps(self) -> tuple[str, ...]:
        """What :func:`analyse` does with these settings, one Markdown sentence per step (for the notebook)."""
        return (
            "the chosen parts (`settings.parts`) as amounts, checked, and filtered to the top parts "
            "(`settings.filter_by`, `settings.keep`) when asked;",
            "zeros counted per part; parts with zeros in more than `settings.max_zero_fraction` of the samples "
            "dropped; the other zeros replaced (`settings.zero_method`) and the rows closed;",
            "the variation array, clr variances, centre, the correlation of the proportions, the clr correlation, "
            "the proportionality ρ_p, and Erb's partial correlations and partial variances "
            "(`settings.method`: exact Γ⁺ or basis shrinkage);",
            "a graphical lasso on the standardised clr coordinates when `settings.glasso_alpha` is set;",
            "with more samples than parts: the residual correlation of one pair (`settings.pair`) for every "
            "reference part, and the partial correlations of a subcomposition (`settings.dropped` left out);",
            "the clr PCA of the compositional biplot.",
        )


@dataclass(frozen=True, eq=False)
class CompositionAnalysis:
    """Descriptive statistics and association matrices of a strictly positive, closed composition.

    Parameters
    ----------
    variation : VariationArray
        Log-ratio variances and means, each (D, D).
    clr_variances : ndarray, shape (D,)
        Variances of the clr coordinates (n - 1).
    total_variance : float
        Sum of the clr variances.
    centre : ndarray, shape (D,)
        Closed geometric mean.
    proportion_correlation, clr_correlation, proportionality : ndarray, shape (D, D)
        Contrast measures (see :mod:`covwb.coda.contrasts`).
    partial : CompositionalPartialCorrelation
        The fitted estimator: partial correlations, partial variances, method, route, intensities, warnings.
    """

    variation: VariationArray
    clr_variances: np.ndarray
    total_variance: float
    centre: np.ndarray
    proportion_correlation: np.ndarray
    clr_correlation: np.ndarray
    proportionality: np.ndarray
    partial: CompositionalPartialCorrelation


@dataclass(frozen=True, eq=False)
class CodaResult:
    """What the compositional page shows for one table.

    Parameters
    ----------
    settings : CodaSettings
        The settings used, every automatic value explicit.
    parts : tuple of str
        The D parts analysed (after the filter and the parts dropped for their zeros).
    zeros : ZeroSummary
        Zeros per part and per sample of the chosen parts, before replacement.
    replacement : dict
        What the zero replacement did (method, its parameter, zeros replaced, parts dropped).
    values : ndarray, shape (n, D)
        The closed, strictly positive proportions analysed.
    statistics : CompositionAnalysis
        Variation array, contrasts and partial correlations.
    pairs : pandas.DataFrame
        Every pair of parts with its partial, clr and proportion correlations and ρ_p, by |partial| (largest
        first).
    pca : ClrPCA
        Two components of the clr PCA (the biplot).
    groups : tuple of str or None
        The group of each sample (``settings.colour_by``), or None.
    graph : SparseGraph or None
        The graphical-lasso fit, when asked.
    reference : pandas.DataFrame or None
        The reference-independence table of ``settings.pair``; None without exact partial correlations.
    subcomposition : pandas.DataFrame or None
        Partial correlations with all parts and within the subcomposition; None without exact partial
        correlations or with fewer than 3 parts left.
    warnings : tuple of str
        What may make the numbers misleading, and what to do.
    notes : tuple of str
        What was not computed, and why.
    """

    settings: CodaSettings
    parts: tuple[str, ...]
    zeros: ZeroSummary
    replacement: dict[str, Any]
    values: np.ndarray
    statistics: CompositionAnalysis
    pairs: pd.DataFrame
    pca: ClrPCA
    groups: tuple[str, ...] | None = None
    graph: SparseGraph | None = None
    reference: pd.DataFrame | None = None
    subcomposition: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def steps(self) -> tuple[str, ...]:
        """What :func:`analyse` did, one Markdown sentence per step."""
        return self.settings.steps()

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name, as the page shows them and the exported script writes them."""
        names = list(self.parts)
        stats = self.statistics
        partial = stats.partial
        summary = {
            "samples": self.values.shape[0],
            "parts": len(names),
            "zero_method": self.replacement["zero_method"],
            "zeros_replaced": self.replacement["zeros_replaced"],
            "dropped_for_zeros": " ".join(self.replacement["dropped_parts"]),
            "method": partial.method_,
            "route": partial.route_,
            "lambda": partial.shrinkage_,
            "lambda_var": partial.variance_shrinkage_,
            "condition_number": partial.diagnostics_["condition_number"],
            "total_variance": stats.total_variance,
        }
        out = {
            "summary": pd.DataFrame([summary]),
            "zeros_per_part": self.zeros.per_part,
            "centre_and_variances": pd.DataFrame(
                {
                    "part": names,
                    "centre": stats.centre,
                    "clr_variance": stats.clr_variances,
                    "partial_variance": partial.partial_variances_,
                }
            ),
            "variation_array": _matrix(stats.variation.combined(), names),
            "partial_correlation": _matrix(partial.partial_correlation_, names),
            "pairs": self.pairs.head(MAX_PAIR_ROWS),
        }
        if self.graph is not None:
            out["glasso_partial_correlation"] = _matrix(self.graph.pcor, names)
        if self.reference is not None:
            out["reference_independence"] = self.reference
        if self.subcomposition is not None:
            out["subcomposition"] = self.subcomposition
        scores = pd.DataFrame(self.pca.scores, columns=[f"pc{k + 1}" for k in range(self.pca.scores.shape[1])])
        if self.groups is not None:
            scores.insert(0, "group", list(self.groups))
        loadings = pd.DataFrame(self.pca.loadings, columns=list(scores.columns[-self.pca.loadings.shape[1] :]))
        loadings.insert(0, "part", names)
        out["biplot_scores"], out["biplot_loadings"] = scores, loadings
        return out


def analyse(
    settings: CodaSettings,
    data: TableDataset | None = None,
    *,
    memo: Memo | None = None,
    progress: Progress | None = None,
) -> CodaResult:
    """Compute what the compositional partial-correlation page shows, from its settings.

    Parameters
    ----------
    settings : CodaSettings
        What to compute; automatic values are filled from the data (:meth:`CodaSettings.resolve`).
    data : TableDataset or None
        The table ``settings.source`` names, already loaded; None to load it (uploads from the current
        folder, checked against their SHA-256).
    memo : callable or None
        Cache of the steps, ``memo(key, compute)``; None computes everything.
    progress : callable or None
        Called with the fraction done and the step, e.g. ``progress(0.5, "Partial correlations…")``.

    Returns
    -------
    CodaResult
        The numbers, the explicit settings, warnings (the table's own first: what reading it doubted) and
        ``tables()``.

    Raises
    ------
    ParameterError
        A setting the table cannot take (a column it lacks, fewer than 3 parts, more than :data:`MAX_PARTS`
        parts after filtering, a δ too large for the zeros of a row, ...).
    TableFormatError
        A part that is not numeric, or holds negative, missing or infinite values, or a row of zeros.
    DataSourceError
        ``data`` is None and an uploaded file is missing or differs from the recorded one.

    Examples
    --------
    >>> from covwb.sources import BuiltinSource
    >>> result = analyse(CodaSettings(source=BuiltinSource("pottery"), method="basis-shrinkage"))
    >>> result.settings.method, len(result.parts), result.warnings
    ('basis-shrinkage', 9, ())
    """
    dataset = settings.source.load() if data is None else data
    resolved, notes = settings.resolve(dataset)
    if notes:
        raise ParameterError(" ".join(notes))
    step = Steps(resolved.source.fingerprint(), memo, progress)
    frame = dataset.frame
    chosen = (resolved.parts, resolved.filter_by, resolved.keep)
    amounts, kept = step("coda-parts", chosen, lambda: _amounts(frame, resolved), 0.0, "Checking the parts…")
    zeros = zero_summary(amounts, kept)
    zero_key = (*chosen, resolved.zero_method, resolved.delta, resolved.pseudo_count, resolved.max_zero_fraction)
    replaced = step(
        "coda-zeros",
        zero_key,
        lambda: replace_zeros(
            amounts,
            kept,
            resolved.zero_method,
            delta=resolved.delta,
            pseudo_count=resolved.pseudo_count,
            max_zero_fraction=resolved.max_zero_fraction,
        ),
        0.1,
        "Replacing zeros…",
    )
    values, names = replaced.values, list(replaced.parts)
    n, D = values.shape
    method = choose_method(resolved.method, n, D)
    stats = step(
        "coda-statistics",
        (*zero_key, method),
        lambda: _statistics(values, names, method),
        0.2,
        "Variation array, contrasts and "
        + ("exact partial correlations (Cholesky)…" if method == "exact" else "basis-shrinkage partial correlations…"),
    )
    warnings = [*dataset.warnings, *replaced.warnings, *stats.partial.warnings_]
    result_notes: list[str] = []
    pairs = step(
        "coda-pairs",
        (*zero_key, method),
        lambda: pair_table(
            {
                "partial_correlation": stats.partial.partial_correlation_,
                "clr_correlation": stats.clr_correlation,
                "proportion_correlation": stats.proportion_correlation,
                "proportionality_rho_p": stats.proportionality,
            },
            names,
        ),
        0.6,
        "Pairs of parts…",
    )
    view = _view(resolved, names, pairs, stats, warnings)
    graph = None
    if resolved.glasso_alpha is not None:
        graph = step(
            "coda-glasso",
            (*zero_key, resolved.glasso_alpha),
            lambda: graphical_lasso_clr(values, resolved.glasso_alpha),
            0.65,
            "Graphical lasso…",
        )
    reference = subcomposition = None
    if choose_method("auto", n, D) == "exact":
        i, j = view["pair"]
        reference = step(
            "coda-reference",
            (*zero_key, (i, j)),
            lambda: reference_independence(values, names, i, j, max_references=MAX_REFERENCES),
            0.75,
            "Reference independence…",
        )
        kept_parts = [p for p in names if p not in view["dropped"]]
        if len(kept_parts) >= MIN_PARTS:
            subcomposition = step(
                "coda-subcomposition",
                (*zero_key, view["dropped"]),
                lambda: subcompositional_incoherence(values, names, kept_parts),
                0.85,
                "Subcomposition…",
            )
        else:
            result_notes.append(
                f"The subcomposition keeps {len(kept_parts)} parts; it needs at least {MIN_PARTS}, so it is not shown."
            )
    else:
        result_notes.append(
            f"Reference independence and the subcomposition explorer use exact partial correlations, which need "
            f"more samples than parts ({n} samples for {D} parts); filter the parts to fewer than the samples."
        )
    pca = step("coda-pca", zero_key, lambda: clr_pca(values, 2), 0.95, "Biplot…")
    groups = tuple(frame[resolved.colour_by].astype(str)) if resolved.colour_by else None
    if progress is not None:
        progress(1.0, "Done")
    return CodaResult(
        settings=dataclasses.replace(resolved, **view),
        parts=tuple(names),
        zeros=zeros,
        replacement=replaced.settings,
        values=values,
        statistics=stats,
        pairs=pairs,
        pca=pca,
        groups=groups,
        graph=graph,
        reference=reference,
        subcomposition=subcomposition,
        warnings=tuple(warnings),
        notes=tuple(result_notes),
    )


# --------------------------------------------------------------------------- steps


def _amounts(frame: pd.DataFrame, settings: CodaSettings) -> tuple[np.ndarray, list[str]]:
    """The chosen parts as amounts, filtered when asked, within the page's size limit."""
    parts = list(settings.parts or ())
    amounts = composition_matrix(frame, parts)
    if settings.filter_by != "none":
        amounts, parts = filter_parts(amounts, parts, settings.filter_by, settings.keep)
    check_displayable(len(parts), MAX_PARTS)
    return amounts, parts


def _statistics(values: np.ndarray, parts: Sequence[str], method: str) -> CompositionAnalysis:
    """Variation array, contrasts and partial correlations of strictly positive closed proportions."""
    variances = clr_variances(values)
    estimator = CompositionalPartialCorrelation(method=method, zero_replacement=None, store_covariance=False)
    estimator.fit(pd.DataFrame(values, columns=[str(p) for p in parts]))
    return CompositionAnalysis(
        variation=variation_array(values),
        clr_variances=variances,
        total_variance=float(variances.sum()),
        centre=centre(values),
        proportion_correlation=proportion_correlation(values),
        clr_correlation=clr_correlation(values),
        proportionality=proportionality_matrix(values),
        partial=estimator,
    )


def _view(
    settings: CodaSettings,
    names: list[str],
    pairs: pd.DataFrame,
    stats: CompositionAnalysis,
    warnings: list[str],
) -> dict[str, Any]:
    """The view choices made explicit for the parts analysed; choices that no longer apply are warned about."""
    D = len(names)
    labels = settings.labels()
    out: dict[str, Any] = {}
    for name in ("pair", "dropped", "ternary"):
        value = getattr(settings, name)
        if value is not None and not set(value) <= set(names):
            outside = next(p for p in value if p not in names)
            warnings.append(
                f"{labels[name]}: the part {outside!r} is not among the parts analysed (not chosen, filtered out or "
                "dropped for its zeros), so the page chose automatically."
            )
            value = None
        out[name] = value
    if out["pair"] is None:
        top = pairs.iloc[0]
        out["pair"] = (str(top.part_i), str(top.part_j))
    if out["dropped"] is None:
        out["dropped"] = tuple(most_variable_parts(stats.clr_variances, names, 2)) if D >= 5 else ()
    if out["ternary"] is None:
        out["ternary"] = tuple(names[:3])
    edges = D * (D - 1) // 2
    out["edge_labels"] = min(default_label_count(D) if settings.edge_labels is None else settings.edge_labels, edges)
    out["ray_labels"] = min(default_label_count(D) if settings.ray_labels is None else settings.ray_labels, D)
    return out


def _matrix(M: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """A D × D matrix as a table with a leading ``part`` column."""
    frame = pd.DataFrame(np.asarray(M), columns=list(names))
    frame.insert(0, "part", list(names))
    return frame
