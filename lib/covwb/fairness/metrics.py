"""Fairness and task metrics on a set of predictions: per-cell tables, parity gaps, JSD, UF, dCor, tests.

- Per-group and per-intersectional-cell mean predictions with n, share and gap to the overall mean;
  demographic-parity gap = largest minus smallest mean prediction over the cells of at least
  :data:`SMALL_CELL` rows (fairlearn's
  ``demographic_parity_difference`` uses selection rates and returns 0 on continuous predictions).
- JSD (bits) between the per-cell distributions of predictions: ``H(Σ π_s p_s) − Σ π_s H(p_s)`` with cell
  shares ``π_s`` (or uniform weights), each ``p_s`` a Gaussian KDE with its own Silverman bandwidth
  floored by the pooled within-cell spread (adaptive, unlike the authors' fixed 0.15) on a common grid, or a histogram on common bins.
- UF = ``Var_s(E[ŷ|s]) / Var(ŷ)`` (ddof = 1, cell means not weighted by size, as the authors).
- dCor² (V), CCdCov² and JdCov² (U) on the whole set: exact grouped when the attributes are categorical,
  exact O(n log n) with one continuous attribute; with a continuous attribute mixed with others (O(n²)
  time and memory) on a seeded subsample of at most :data:`DEPENDENCE_ROWS` rows.
- Permutation test of ŷ ⊥ (Z₁…Z_d) with the CCdCov V-statistic, on the same rows; settings whose
  smallest attainable p-value 1/(B + 1) exceeds α are refused, and outcomes are worded "independence
  rejected" / "not rejected" (never "passes": not rejecting is no evidence of independence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from covwb.errors import ParameterError
from covwb.fairness.encoding import ProtectedEncoding

TASK_METRIC: dict[str, tuple[str, str]] = {
    "binary": ("brier", "Brier score"),
    "continuous": ("rmse", "RMSE"),
    "counts": ("poisson_deviance", "Poisson deviance"),
}
"""The task loss of each task that the λ choice trades against JSD: (column, label), lower is better."""

SMALL_CELL = 20
"""Cells with fewer rows than this are flagged: their means and densities are noisy."""

DEPENDENCE_ROWS = 3000
"""Rows of the seeded subsample on which O(n²) dependence statistics and permutation tests run."""


def cell_table(
    predictions: np.ndarray, protected: ProtectedEncoding, y: np.ndarray | None = None, *, small: int = SMALL_CELL
) -> pd.DataFrame:
    """Mean prediction per intersectional cell.

    Parameters
    ----------
    predictions : ndarray, shape (n,)
        Predictions of the rows of ``protected``.
    protected : ProtectedEncoding
        Cells of the same rows.
    y : ndarray, shape (n,), optional
        Observed target, for the observed mean per cell.
    small : int, default 20
        Cells below this size are flagged.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell, n, share, mean prediction, gap to overall`` (``observed mean`` with ``y``) and
        ``small cell``; one row per cell present, in cell order.
    """
    k = len(protected.cell_labels)
    counts = np.bincount(protected.cells, minlength=k)
    sums = np.bincount(protected.cells, weights=predictions, minlength=k)
    present = counts > 0
    means = sums[present] / counts[present]
    table = pd.DataFrame(
        {
            "cell": np.asarray(protected.cell_labels)[present],
            "n": counts[present],
            "share": counts[present] / counts.sum(),
            "mean prediction": means,
            "gap to overall": means - predictions.mean(),
        }
    )
    if y is not None:
        table["observed mean"] = np.bincount(protected.cells, weights=y, minlength=k)[present] / counts[present]
    table["small cell"] = table["n"] < small
    return table


def group_table(predictions: np.ndarray, protected: ProtectedEncoding) -> pd.DataFrame:
    """Mean prediction per level of each protected attribute (continuous ones by bin).

    Returns
    -------
    pandas.DataFrame
        Columns ``attribute, level, n, mean prediction, gap to overall``.
    """
    frames = []
    for index, attribute in enumerate(protected.attributes):
        codes = protected.codes[:, index]
        counts = np.bincount(codes, minlength=len(attribute.levels))
        sums = np.bincount(codes, weights=predictions, minlength=len(attribute.levels))
        present = counts > 0
        means = sums[present] / counts[present]
        frames.append(
            pd.DataFrame(
                {
                    "attribute": attribute.name,
                    "level": np.asarray(attribute.levels)[present],
                    "n": counts[present],
                    "mean prediction": means,
                    "gap to overall": means - predictions.mean(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def parity_gaps(
    predictions: np.ndarray, protected: ProtectedEncoding, *, min_rows: int = SMALL_CELL
) -> dict[str, float]:
    """Demographic-parity gaps: largest minus smallest mean prediction, per attribute and over cells.

    Only levels and cells with at least ``min_rows`` rows enter a gap, as the mean of a cell of one or
    two rows is noise (COMPAS has cells of 2); when fewer than two qualify, all present ones do.

    Parameters
    ----------
    predictions : ndarray, shape (n,)
        Predictions (or 0/1 decisions, giving selection-rate gaps).
    protected : ProtectedEncoding
        Protected attributes of the same rows.
    min_rows : int, default :data:`SMALL_CELL`
        Smallest group that enters a gap.

    Returns
    -------
    dict of str to float
        One entry per attribute name and ``"intersectional"``.
    """

    def gap(table: pd.DataFrame) -> float:
        kept = table[table["n"] >= min_rows]
        means = (kept if len(kept) >= 2 else table)["mean prediction"]
        return float(means.max() - means.min())

    groups = group_table(predictions, protected)
    gaps = {name: gap(part) for name, part in groups.groupby("attribute", sort=False)}
    gaps["intersectional"] = gap(cell_table(predictions, protected))
    return gaps


def unfairness_uf(predictions: np.ndarray, cells: np.ndarray) -> float:
    """UF = ``Var_s(E[ŷ|s]) / Var(ŷ)`` with ddof = 1 over the cells present (0 when ŷ is constant)."""
    counts = np.bincount(cells)
    present = counts > 0
    means = np.bincount(cells, weights=predictions)[present] / counts[present]
    total = predictions.var(ddof=1)
    if means.size < 2 or total <= 0:
        return 0.0
    return float(means.var(ddof=1) / total)


def _entropy_bits(p: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each row of a (m, g) array of probabilities."""
    safe = np.where(p > 0, p, 1.0)
    return -(p * np.log2(safe)).sum(axis=-1)


def cell_densities(
    predictions: np.ndarray, cells: np.ndarray, *, method: str = "kde", grid: int = 512
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell distributions of predictions on a common grid.

    Parameters
    ----------
    predictions : ndarray, shape (n,)
        Predictions.
    cells : ndarray of int, shape (n,)
        Cell of each prediction.
    method : {"kde", "hist"}
        Gaussian KDE with a Silverman bandwidth per cell, floored at ``0.9 s_w n_s^(−1/5)`` with ``s_w`` the
        pooled within-cell standard deviation (so a cell of 1 or 2 rows is not a spike) and at 1/1000 of
        the range; or a histogram with ``grid`` bins.
    grid : int, default 512
        Grid points (KDE) or bins (histogram) over the range of the predictions.

    Returns
    -------
    points : ndarray, shape (grid,)
        Grid (KDE) or bin centres (histogram).
    probabilities : ndarray, shape (K_present, grid)
        Each row sums to 1.
    present : ndarray of int, shape (K_present,)
        The cells with rows, in order.
    """
    from scipy.ndimage import gaussian_filter1d

    if method not in ("kde", "hist"):
        raise ParameterError(f"Unknown density method '{method}'; choose kde or hist.")
    low, high = float(predictions.min()), float(predictions.max())
    span = high - low if high > low else 1.0
    edges = np.linspace(low, high, grid + 1) if high > low else np.linspace(low - 0.5, high + 0.5, grid + 1)
    present = np.flatnonzero(np.bincount(cells) > 0)
    index = np.clip(np.searchsorted(edges, predictions, side="right") - 1, 0, grid - 1)
    binned = np.zeros((present.size, grid))
    row = np.searchsorted(present, cells)
    np.add.at(binned, (row, index), 1.0)
    if method == "kde":
        width = span / grid
        counts = np.bincount(cells)[present]
        means = np.bincount(cells, weights=predictions)[present] / counts
        residual = predictions - means[row]
        within = np.sqrt(residual @ residual / max(predictions.size - present.size, 1))
        for r, cell in enumerate(present):
            floor = 0.9 * within * counts[r] ** (-0.2)
            bandwidth = max(_silverman(predictions[cells == cell]), floor, span / 1000)
            binned[r] = gaussian_filter1d(binned[r], bandwidth / width, mode="constant")
    probabilities = binned / binned.sum(axis=1, keepdims=True)
    return 0.5 * (edges[:-1] + edges[1:]), probabilities, present


def _silverman(values: np.ndarray) -> float:
    """Silverman's rule-of-thumb bandwidth, ``0.9 min(sd, IQR/1.34) n^(−1/5)``; 0 for fewer than 2 values."""
    if values.size < 2:
        return 0.0
    q1, q3 = np.percentile(values, [25, 75])
    spread = min(values.std(ddof=1), (q3 - q1) / 1.34) or values.std(ddof=1)
    return float(0.9 * spread * values.size ** (-0.2))


def jensen_shannon(
    predictions: np.ndarray, cells: np.ndarray, *, weights: str = "share", method: str = "kde", grid: int = 512
) -> float:
    """Generalised Jensen–Shannon divergence (bits) between the per-cell distributions of predictions.

    ``H(Σ_s π_s p_s) − Σ_s π_s H(p_s)``: 0 when every cell has the same distribution; at most
    ``log2(K)``.

    Parameters
    ----------
    predictions : ndarray, shape (n,)
        Predictions.
    cells : ndarray of int, shape (n,)
        Cell of each prediction.
    weights : {"share", "uniform"}
        ``π_s``: cell shares (then JSD = Σ π_s KL(p_s ‖ pooled)) or equal weights.
    method : {"kde", "hist"}
        See :func:`cell_densities`.
    grid : int, default 512
        Grid size.

    Returns
    -------
    float
    """
    if weights not in ("share", "uniform"):
        raise ParameterError(f"Unknown JSD weights '{weights}'; choose share or uniform.")
    _, probabilities, present = cell_densities(predictions, cells, method=method, grid=grid)
    counts = np.bincount(cells)[present].astype(np.float64)
    pi = counts / counts.sum() if weights == "share" else np.full(present.size, 1.0 / present.size)
    mixture = pi @ probabilities
    return float(max(_entropy_bits(mixture) - pi @ _entropy_bits(probabilities), 0.0))


def dependence_rows(protected: ProtectedEncoding, *, seed: int = 0) -> np.ndarray:
    """The rows the dependence statistics use: all, or a seeded subsample when they would be O(n²).

    Parameters
    ----------
    protected : ProtectedEncoding
        Protected attributes of the set, n rows.
    seed : int, default 0
        Seed of the subsample.

    Returns
    -------
    ndarray of int64, shape (m,)
        Sorted row positions; m = n unless a continuous attribute is mixed with others and
        n > :data:`DEPENDENCE_ROWS`, then m = :data:`DEPENDENCE_ROWS`.
    """
    from covwb.fairness.batch_penalty import PenaltyPlan

    n = protected.cells.size
    if n <= DEPENDENCE_ROWS or "dense" not in PenaltyPlan("ccdcov", protected).methods:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, DEPENDENCE_ROWS, replace=False))


def dependence_statistics(
    predictions: np.ndarray, protected: ProtectedEncoding, *, c: float = 1.0, seed: int = 0
) -> dict[str, float]:
    """dCor² (V, between ŷ and the concatenated attributes), CCdCov² and JdCov² (U).

    Exact grouped computation when every attribute is categorical (O(n log n + nK)); otherwise the
    penalties of :class:`covwb.fairness.batch_penalty.PenaltyPlan` on the rows of :func:`dependence_rows`
    (O(n log n) with one continuous attribute, O(n²) on at most :data:`DEPENDENCE_ROWS` rows when it is
    mixed with others).

    Returns
    -------
    dict
        Keys ``dcor``, ``ccdcov``, ``jdcov``.
    """
    from covwb.fairness.batch_penalty import PenaltyPlan
    from covwb.fairness.distance_covariance import distance_covariance_sq

    if protected.exact_cells:
        from covwb.fairness.grouped import grouped_distance_variance, grouped_statistic

        cov_v = grouped_statistic(predictions, protected.cells, protected.cell_blocks, "ccdcov", unbiased=False)
        var_pred = distance_covariance_sq(predictions, predictions)
        var_z = grouped_distance_variance(protected.cells, protected.cell_blocks)
        ccdcov = grouped_statistic(predictions, protected.cells, protected.cell_blocks, "ccdcov")
        jdcov = grouped_statistic(predictions, protected.cells, protected.cell_blocks, "jdcov", c=c)
    else:
        rows = dependence_rows(protected, seed=seed)
        values, z = predictions[rows], protected.matrix[rows]

        def statistic(kind: str, unbiased: bool) -> float:
            plan = PenaltyPlan(kind, protected, c=c, unbiased=unbiased)
            return plan.gradient(values, plan.constant(rows))[0]

        cov_v = statistic("ccdcov", False)
        var_pred = distance_covariance_sq(values, values)
        var_z = distance_covariance_sq(z[:, 0], z[:, 0]) if z.shape[1] == 1 else distance_covariance_sq(z, z)
        ccdcov, jdcov = statistic("ccdcov", True), statistic("jdcov", True)
    dcor = cov_v / np.sqrt(var_pred * var_z) if var_pred > 0 and var_z > 0 else 0.0
    return {"dcor": float(dcor), "ccdcov": float(ccdcov), "jdcov": float(jdcov)}


DEFAULT_PERMUTATIONS = 199
"""Permutations of the independence test by default: p-values down to 1/200 = 0.005, enough for α = 0.05."""


def smallest_p_value(n_permutations: int) -> float:
    """The smallest p-value a permutation test with ``n_permutations`` permutations can give, 1/(B + 1)."""
    return 1.0 / (n_permutations + 1)


def check_permutations(n_permutations: int, alpha: float) -> None:
    """Refuse a permutation test that could never reject independence at level ``alpha``.

    With B permutations the smallest attainable p-value is 1/(B + 1); when it exceeds α, independence is
    never rejected whatever the data, and a "not rejected" would be read as evidence of independence.

    Parameters
    ----------
    n_permutations : int
        B; 0 means no test and is accepted.
    alpha : float
        Level, in (0, 1).

    Raises
    ------
    ParameterError
        For α outside (0, 1), a negative B, or 0 < B with 1/(B + 1) > α.

    Examples
    --------
    >>> check_permutations(199, 0.05)
    >>> check_permutations(9, 0.05)
    Traceback (most recent call last):
    ...
    covwb.errors.ParameterError: With 9 permutations the smallest attainable p-value is 1/(9 + 1) = 0.1 > α = 0.05, so the test could never reject independence. Use at least 19 permutations (199 by default).
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"The level α must be between 0 and 1, got {alpha:g}.")
    if n_permutations < 0:
        raise ParameterError(f"The number of permutations must be ≥ 0, got {n_permutations}.")
    if n_permutations and smallest_p_value(n_permutations) > alpha:
        needed = int(np.ceil(1 / alpha - 1 - 1e-9))
        raise ParameterError(
            f"With {n_permutations} permutations the smallest attainable p-value is 1/({n_permutations} + 1) = "
            f"{smallest_p_value(n_permutations):.3g} > α = {alpha:g}, so the test could never reject independence. "
            f"Use at least {needed} permutations ({DEFAULT_PERMUTATIONS} by default)."
        )


def independence_rejected(p_value: float, alpha: float) -> bool:
    """Whether the permutation test rejects independence at level α (p ≤ α, valid for permutation p-values)."""
    return bool(p_value <= alpha)


def independence_wording(p_value: float, alpha: float) -> str:
    """The test's outcome in words: "independence rejected (p = 0.005 ≤ α = 0.05)" or "… not rejected (…)".

    "Not rejected" is not evidence of independence: the test may lack power on a small set.

    Examples
    --------
    >>> independence_wording(0.005, 0.05)
    'independence rejected (p = 0.005 ≤ α = 0.05)'
    >>> independence_wording(0.31, 0.05)
    'independence not rejected (p = 0.31 > α = 0.05)'
    """
    if independence_rejected(p_value, alpha):
        return f"independence rejected (p = {p_value:.3g} ≤ α = {alpha:g})"
    return f"independence not rejected (p = {p_value:.3g} > α = {alpha:g})"


def permutation_test(
    predictions: np.ndarray,
    protected: ProtectedEncoding,
    *,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> tuple[float, float]:
    """Permutation test of independence between ŷ and all protected attributes jointly.

    Statistic: the CCdCov V-statistic, on the rows of :func:`dependence_rows`; the predictions are
    permuted ``n_permutations`` times. Each permutation costs one exact penalty evaluation.

    Returns
    -------
    statistic : float
        Observed CCdCov² (V).
    p_value : float
        ``(1 + #{permuted ≥ observed}) / (1 + n_permutations)``, at least 1/(B + 1); reject independence at
        level α when p ≤ α (:func:`independence_rejected`), and check B first with
        :func:`check_permutations`.
    """
    from covwb.fairness.batch_penalty import PenaltyPlan

    if n_permutations < 1:
        raise ParameterError("The permutation test needs at least one permutation.")
    rng = np.random.default_rng(seed)
    rows = dependence_rows(protected, seed=seed)
    plan = PenaltyPlan("ccdcov", protected, unbiased=False)
    constant = plan.constant(rows)
    values = predictions[rows]
    observed = plan.gradient(values, constant)[0]
    permuted = np.array([plan.gradient(rng.permutation(values), constant)[0] for _ in range(n_permutations)])
    return observed, float((1 + np.sum(permuted >= observed * (1 - 1e-12))) / (1 + n_permutations))


def task_metrics(task: str, y: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Task metrics: ROC-AUC, Brier and accuracy (binary); RMSE (continuous); Poisson deviance (counts).

    Parameters
    ----------
    task : {"binary", "continuous", "counts"}
        The task.
    y : ndarray, shape (n,)
        Observed target (0/1, values, counts).
    predictions : ndarray, shape (n,)
        Probabilities, values, or expected counts.

    Returns
    -------
    dict of str to float
    """
    from sklearn.metrics import mean_poisson_deviance, roc_auc_score

    if task == "binary":
        auc = roc_auc_score(y, predictions) if np.unique(y).size == 2 else float("nan")
        return {
            "roc_auc": float(auc),
            "brier": float(np.mean((predictions - y) ** 2)),
            "accuracy": float(np.mean((predictions >= 0.5) == (y == 1))),
        }
    if task == "counts":
        return {"poisson_deviance": float(mean_poisson_deviance(y, np.maximum(predictions, 1e-12)))}
    return {"rmse": float(np.sqrt(np.mean((predictions - y) ** 2)))}


def small_cell_warnings(protected: ProtectedEncoding, *, small: int = SMALL_CELL) -> list[str]:
    """One sentence on the intersectional cells with fewer than ``small`` rows, if any."""
    counts = np.bincount(protected.cells, minlength=len(protected.cell_labels))
    tiny = [f"{protected.cell_labels[i]} (n = {counts[i]})" for i in np.flatnonzero((counts > 0) & (counts < small))]
    if not tiny:
        return []
    sentence = (
        f"{len(tiny)} intersectional cells have fewer than {small} rows, so their means and densities are "
        f"noisy: {'; '.join(tiny[:8])}{' …' if len(tiny) > 8 else ''}."
    )
    return [sentence]


def dependence_warnings(protected: ProtectedEncoding, *, alpha: float = 0.05) -> list[str]:
    """Warn when protected attributes depend on each other (χ² test on levels or bins, per pair).

    Under dependence JdCov stays positive even when the predictions are independent of the attributes.
    """
    from scipy.stats import chi2_contingency

    found = []
    attributes = protected.attributes
    for i in range(len(attributes)):
        for j in range(i + 1, len(attributes)):
            table = pd.crosstab(protected.codes[:, i], protected.codes[:, j]).to_numpy()
            if min(table.shape) < 2:
                continue
            result = chi2_contingency(table)
            if result.pvalue < alpha:
                found.append(f"{attributes[i].name} and {attributes[j].name} (χ² p = {result.pvalue:.2g})")
    if not found:
        return []
    return [
        "The protected attributes depend on each other: " + ", ".join(found) + ". JdCov is then positive even "
        "when the predictions are independent of them, so it cannot reach 0; prefer CCdCov."
    ]


@dataclass(frozen=True)
class PredictionEvaluation:
    """Every metric of one set of predictions.

    Parameters
    ----------
    metrics : dict of str to float
        Task metrics, ``jsd``, ``uf``, ``dp_gap`` (intersectional), ``dcor``, ``ccdcov``, ``jdcov`` and,
        when computed, ``perm_p``.
    cells : pandas.DataFrame
        :func:`cell_table` of the predictions.
    """

    metrics: dict[str, float]
    cells: pd.DataFrame


def evaluate_predictions(
    task: str,
    y: np.ndarray,
    predictions: np.ndarray,
    protected: ProtectedEncoding,
    *,
    c: float = 1.0,
    n_permutations: int = 0,
    seed: int = 0,
) -> PredictionEvaluation:
    """Task and fairness metrics of predictions on a set (usually the whole validation part).

    Parameters
    ----------
    task : {"binary", "continuous", "counts"}
        The task.
    y : ndarray, shape (n,)
        Observed target.
    predictions : ndarray, shape (n,)
        Predictions (probabilities, values, expected counts).
    protected : ProtectedEncoding
        Protected attributes of the same rows.
    c : float, default 1.0
        JdCov constant.
    n_permutations : int, default 0
        Permutations of the independence test (0: no test).
    seed : int, default 0
        Seed of the permutations.

    Returns
    -------
    PredictionEvaluation

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from covwb.fairness import encode_protected
    >>> rng = np.random.default_rng(0)
    >>> sex = rng.choice(["f", "m"], 400)
    >>> y = rng.integers(0, 2, 400)
    >>> scores = np.clip(0.5 + 0.2 * (sex == "m") + 0.1 * rng.standard_normal(400), 0, 1)  # unfair on purpose
    >>> result = evaluate_predictions("binary", y, scores, encode_protected(pd.DataFrame({"sex": sex}), ["sex"]))
    >>> round(result.metrics["dp_gap"], 3), round(result.metrics["dcor"], 3), result.cells["cell"].tolist()
    (0.194, 0.488, ['sex=f', 'sex=m'])
    """
    metrics: dict[str, Any] = task_metrics(task, y, predictions)
    metrics["jsd"] = jensen_shannon(predictions, protected.cells)
    metrics["uf"] = unfairness_uf(predictions, protected.cells)
    metrics["dp_gap"] = parity_gaps(predictions, protected)["intersectional"]
    metrics.update(dependence_statistics(predictions, protected, c=c, seed=seed))
    if n_permutations:
        metrics["perm_p"] = permutation_test(predictions, protected, n_permutations=n_permutations, seed=seed)[1]
    return PredictionEvaluation(metrics=metrics, cells=cell_table(predictions, protected, y))
