"""The fairlearn baseline: ``ExponentiatedGradient`` with ``DemographicParity`` over intersectional cells.

For binary outcomes only (fairlearn's reductions support regression only through the worst-group loss).
The sensitive feature is the intersectional cell label, so parity is asked of every cell, like CCdCov.

Set-up, checked against fairlearn's documentation:

- **base estimator**: ``LogisticRegression`` (lbfgs, C = 1), the reduction's cost-sensitive oracle; it is
  refitted with sample weights at every iteration and must return 0/1 decisions from ``predict``;
- **features**: as for the torch models (numeric columns standardised on the training rows, text one-hot),
  so the oracle's L2 penalty treats every column alike; the protected attributes are not features;
- **eps** = 0.01 (fairlearn's default): the allowed parity violation on the training rows;
- **scores**: the result is a *randomized* classifier, a mixture of 0/1 classifiers. Its score is the
  probability that it predicts 1 (the mixture weights applied to its classifiers' decisions, fairlearn's
  ``_pmf_predict``; ``predict`` draws from it). The mean score of a cell is its expected selection rate,
  which is what demographic parity constrains. Such scores take few distinct values, so their ROC-AUC is
  that of a coarse score;
- **comparison**: the reduction must reduce the parity gap of *its own unconstrained base model*, i.e.
  of the base estimator's 0/1 decisions fitted on the same rows (selection rates against selection
  rates). Comparing its selection rates with another model's mean probabilities, or counting cells of
  one or two rows, makes a working baseline look worse than no constraint.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from covwb.errors import ParameterError
from covwb.fairness.data import FairnessData
from covwb.fairness.metrics import SMALL_CELL, parity_gaps

SPLITS = ("validation", "test")


@dataclass(frozen=True)
class FairlearnBaseline:
    """fairlearn's reduction and its unconstrained base model, evaluated on validation and test.

    Parameters
    ----------
    scores : dict of str to ndarray
        Split → probability that the randomized classifier predicts 1, shape (n_split,).
    base_decisions : dict of str to ndarray
        Split → 0/1 decisions of the unconstrained base estimator fitted on the same training rows.
    base_scores : dict of str to ndarray
        Split → its predicted probabilities.
    gaps : dict of str to tuple of float
        Split → (base decisions' gap, reduction's gap): intersectional demographic-parity gaps in selection
        rate over the cells of at least :data:`~covwb.fairness.metrics.SMALL_CELL` rows.
    settings : dict
        Base estimator, eps, max_iter, iterations run and the training-set parity gap fairlearn reports.
    notes : tuple of str
        How the scores were obtained and what they are compared with.
    warnings : tuple of str
        The reduction did not reduce the gap of its base model on the test split.
    """

    scores: dict[str, np.ndarray]
    base_decisions: dict[str, np.ndarray]
    base_scores: dict[str, np.ndarray]
    gaps: dict[str, tuple[float, float]]
    settings: dict[str, Any]
    notes: tuple[str, ...]
    warnings: tuple[str, ...]


def exponentiated_gradient(data: FairnessData, *, eps: float = 0.01, max_iter: int = 50) -> FairlearnBaseline:
    """Fit fairlearn's ``ExponentiatedGradient(LogisticRegression, DemographicParity)`` on the training rows.

    Parameters
    ----------
    data : FairnessData
        A binary problem.
    eps : float, default 0.01
        Allowed demographic-parity violation (fairlearn's default).
    max_iter : int, default 50
        Iterations of the reduction.

    Returns
    -------
    FairlearnBaseline
        Scores of the randomized classifier and of its base model on the validation and test rows.

    Raises
    ------
    ParameterError
        For a task other than binary, a training part with a single class, or eps ≤ 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from covwb.fairness.data import prepare_data
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"g": rng.choice(["a", "b"], 600)})
    >>> frame["x"] = (frame["g"] == "b") + rng.standard_normal(600)
    >>> frame["y"] = (frame["x"] + rng.standard_normal(600) > 0.5).astype(int)
    >>> data = prepare_data(frame, target="y", task="binary", features=["x"], protected=["g"])
    >>> baseline = exponentiated_gradient(data)
    >>> base_gap, reduced_gap = baseline.gaps["test"]
    >>> bool(reduced_gap < base_gap)
    True
    """
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient
    from sklearn.linear_model import LogisticRegression

    if data.task != "binary":
        raise ParameterError("The fairlearn baseline (demographic parity) needs a binary outcome.")
    if not eps > 0:
        raise ParameterError(f"eps must be positive, got {eps}.")
    train = data.train
    y = data.y.astype(int)
    if np.unique(y[train]).size < 2:
        raise ParameterError("The training part has a single class; the baseline cannot be fitted.")
    labels = np.asarray(data.protected.cell_labels)[data.protected.cells]
    base = LogisticRegression(max_iter=1000).fit(data.X[train], y[train])
    reduction = ExponentiatedGradient(
        LogisticRegression(max_iter=1000), DemographicParity(), eps=eps, max_iter=max_iter
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="fairlearn")
        warnings.filterwarnings("ignore", category=FutureWarning)
        reduction.fit(data.X[train], y[train], sensitive_features=labels[train])
        scores = {s: np.asarray(reduction._pmf_predict(data.X[getattr(data, s)]))[:, 1] for s in SPLITS}
    scores = {s: np.clip(v, 0.0, 1.0) for s, v in scores.items()}
    decisions = {s: base.predict(data.X[getattr(data, s)]).astype(np.float64) for s in SPLITS}
    probabilities = {s: base.predict_proba(data.X[getattr(data, s)])[:, 1] for s in SPLITS}
    gaps = {}
    for split in SPLITS:
        protected = data.protected.subset(getattr(data, split))
        gaps[split] = (
            parity_gaps(decisions[split], protected)["intersectional"],
            parity_gaps(scores[split], protected)["intersectional"],
        )
    settings = {
        "estimator": "LogisticRegression(max_iter=1000)",
        "constraints": "DemographicParity() over the intersectional cells",
        "eps": eps,
        "max_iter": max_iter,
        "iterations_run": int(reduction.last_iter_) + 1,
        "classifiers_in_mixture": int(np.count_nonzero(np.asarray(reduction.weights_) > 0)),
    }
    notes = (
        "fairlearn's ExponentiatedGradient returns a randomized classifier; its scores are the probabilities that "
        "it predicts 1, whose mean per cell is the expected selection rate that demographic parity constrains. "
        "They take few distinct values, so its ROC-AUC is that of a coarse score.",
        f"Its parity gap is compared with that of its unconstrained base model (LogisticRegression's 0/1 decisions "
        f"on the same training rows), over the cells of at least {SMALL_CELL} rows: test split "
        f"{gaps['test'][0]:.3f} (base) → {gaps['test'][1]:.3f} (reduction).",
    )
    warned = ()
    if not gaps["test"][1] < gaps["test"][0]:
        warned = (
            f"fairlearn's ExponentiatedGradient did not reduce the demographic-parity gap of its unconstrained base "
            f"model on the test split ({gaps['test'][0]:.3f} → {gaps['test'][1]:.3f}); with eps = {eps:g} on the "
            "training rows, small cells or few rows may make the constraint unreliable out of sample.",
        )
    return FairlearnBaseline(scores, decisions, probabilities, gaps, settings, notes, warned)
