"""The fairlearn baseline: ``ExponentiatedGradient`` with ``DemographicParity`` over intersectional cells.

For binary outcomes only (fairlearn's reductions support regression only through the worst-group loss).
The sensitive feature is the intersectional cell label, so parity is asked of every cell, like CCdCov.
"""

from __future__ import annotations

import warnings

import numpy as np

from covwb.errors import ParameterError
from covwb.fairness.data import FairnessData


def exponentiated_gradient(data: FairnessData, *, eps: float = 0.01, max_iter: int = 50) -> np.ndarray:
    """Fit fairlearn's ``ExponentiatedGradient(LogisticRegression, DemographicParity)`` on the training rows.

    Parameters
    ----------
    data : FairnessData
        A binary problem.
    eps : float, default 0.01
        Allowed demographic-parity violation.
    max_iter : int, default 50
        Iterations of the reduction.

    Returns
    -------
    ndarray, shape (n_validation,)
        Probability of the positive class on the validation rows under the randomised mixture of
        classifiers (fairlearn's ``_pmf_predict``; its pandas 3 deprecation warnings are silenced).

    Raises
    ------
    ParameterError
        For a task other than binary, or a training part with a single class.
    """
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient
    from sklearn.linear_model import LogisticRegression

    if data.task != "binary":
        raise ParameterError("The fairlearn baseline (demographic parity) needs a binary outcome.")
    train = data.train
    if np.unique(data.y[train]).size < 2:
        raise ParameterError("The training part has a single class; the baseline cannot be fitted.")
    labels = np.asarray(data.protected.cell_labels)[data.protected.cells]
    reduction = ExponentiatedGradient(
        LogisticRegression(max_iter=1000), DemographicParity(), eps=eps, max_iter=max_iter
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="fairlearn")
        reduction.fit(data.X[train], data.y[train].astype(int), sensitive_features=labels[train])
        mixture = np.asarray(reduction._pmf_predict(data.X[data.validation]))[:, 1]
    return np.clip(mixture, 0.0, 1.0)
