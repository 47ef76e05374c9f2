"""The selectable classification pipelines: ACM + Riemannian classifiers and the baselines.

Every pipeline is a scikit-learn ``Pipeline`` from epochs (n_trials, C, T) to class labels:

=============  =====================================================================================
key            steps
=============  =====================================================================================
acm_ts_svm     AugmentedCovariances(m, tau) -> TangentSpace(riemann) -> SVC(C, kernel)
acm_mdm        AugmentedCovariances(m, tau) -> MDM(riemann)
ts_svm         covariance -> TangentSpace(riemann) -> SVC(C, kernel)
ts_lr          covariance -> TangentSpace(riemann) -> LogisticRegression(elastic net, saga)
mdm            covariance -> MDM(riemann)
fgmdm          covariance -> FgMDM(riemann)
csp_lda        covariance -> CSP(6 filters) -> LDA(lsqr, Ledoit-Wolf shrinkage)
=============  =====================================================================================

"covariance" is :class:`~covwb.eeg.augmented.AugmentedCovariances` at order 1. With
``takens=True`` the ACM step is :class:`~covwb.eeg.takens.TakensAugmentedCovariances`, which picks
(m, tau) on the training epochs. The order/lag and SVM grids are searched by
:mod:`covwb.eeg.evaluation`. pyRiemann and scikit-learn are imported inside the builders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from covwb.eeg.augmented import DEFAULT_ESTIMATOR, AugmentedCovariances
from covwb.errors import ParameterError


@dataclass(frozen=True)
class PipelineInfo:
    """What the evaluation needs to know about one pipeline.

    Parameters
    ----------
    label : str
        Display name.
    augmented : bool
        Whether the covariance step is an ACM whose order and lag are searched.
    head : str
        ``"svm"`` (tangent space + SVC, C and kernel searched), ``"mdm"``, or ``"fixed"``.
    """

    label: str
    augmented: bool
    head: str


PIPELINES: dict[str, PipelineInfo] = {
    "acm_ts_svm": PipelineInfo("ACM + TS + SVM", True, "svm"),
    "acm_mdm": PipelineInfo("ACM + MDM", True, "mdm"),
    "ts_svm": PipelineInfo("TS + SVM", False, "svm"),
    "ts_lr": PipelineInfo("TS + LR (elastic net)", False, "fixed"),
    "mdm": PipelineInfo("MDM", False, "mdm"),
    "fgmdm": PipelineInfo("FgMDM", False, "fixed"),
    "csp_lda": PipelineInfo("CSP + LDA", False, "fixed"),
}
"""Pipeline key to its description, in display order."""

_CSP_FILTERS = 6


def check_pipeline(key: str) -> PipelineInfo:
    """The :class:`PipelineInfo` of ``key``; ParameterError for an unknown key."""
    if key not in PIPELINES:
        raise ParameterError(f"unknown pipeline {key!r}; choose among {', '.join(PIPELINES)}.")
    return PIPELINES[key]


def head_estimator(head: str, *, svm_C: float = 1.0, kernel: str = "linear") -> Any:
    """The classifier that follows the (augmented) covariance step of an ``"svm"`` or ``"mdm"`` pipeline.

    Returns
    -------
    sklearn estimator
        ``Pipeline(TangentSpace, SVC)`` for ``"svm"``, ``MDM(metric="riemann")`` for ``"mdm"``.
    """
    from pyriemann.classification import MDM
    from pyriemann.tangentspace import TangentSpace
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    if head == "svm":
        return Pipeline([("ts", TangentSpace(metric="riemann")), ("svc", SVC(C=svm_C, kernel=kernel))])
    if head == "mdm":
        return MDM(metric="riemann")
    raise ParameterError(f"unknown classifier head {head!r}; use 'svm' or 'mdm'.")


def build_pipeline(
    key: str,
    *,
    order: int = 1,
    lag: int = 1,
    estimator: str = DEFAULT_ESTIMATOR,
    svm_C: float = 1.0,
    kernel: str = "linear",
    takens: bool = False,
    max_order: int = 10,
    max_lag: int = 30,
    seed: int = 0,
) -> Any:
    """Build one pipeline from epochs to labels.

    Parameters
    ----------
    key : str
        Key of :data:`PIPELINES`.
    order, lag : int
        ACM order and lag in samples (ACM pipelines; others use order 1).
    estimator : str
        Covariance estimator (``"oas"``, the default, ``"sample"``, ``"ledoit_wolf"``, ``"shrinkage"``).
    svm_C : float
        SVM regularisation.
    kernel : {"linear", "rbf"}
        SVM kernel.
    takens : bool
        For ACM pipelines, choose order and lag in ``fit`` with the Takens criteria.
    max_order, max_lag : int
        Ranges of the Takens search.
    seed : int
        Seed of the random steps (Takens series draw, saga solver).

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> pipeline = build_pipeline("acm_ts_svm", order=2, lag=3)  # ACM + tangent space + SVM, OAS covariances
    >>> [name for name, _ in pipeline.steps], pipeline.named_steps["cov"].get_params()["estimator"]
    (['cov', 'ts', 'svc'], 'oas')
    """
    from pyriemann.classification import FgMDM
    from pyriemann.spatialfilters import CSP
    from pyriemann.tangentspace import TangentSpace
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    info = check_pipeline(key)
    if info.augmented and takens:
        from covwb.eeg.takens import TakensAugmentedCovariances

        first: Any = TakensAugmentedCovariances(max_lag=max_lag, max_order=max_order, estimator=estimator, seed=seed)
    else:
        m, tau = (order, lag) if info.augmented else (1, 1)
        first = AugmentedCovariances(order=m, lag=tau, estimator=estimator)
    if info.head == "svm":
        head = head_estimator("svm", svm_C=svm_C, kernel=kernel)
        return Pipeline([("cov", first), *head.steps])
    if info.head == "mdm":
        return Pipeline([("cov", first), ("mdm", head_estimator("mdm"))])
    rest: dict[str, list[tuple[str, Any]]] = {
        "ts_lr": [
            ("ts", TangentSpace(metric="riemann")),
            ("lr", LogisticRegression(l1_ratio=0.5, solver="saga", C=1.0, max_iter=2000, random_state=seed)),
        ],
        "fgmdm": [("fgmdm", FgMDM(metric="riemann"))],
        "csp_lda": [
            ("csp", CSP(nfilter=_CSP_FILTERS, metric="euclid", log=True)),
            ("lda", LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")),
        ],
    }
    return Pipeline([("cov", first), *rest[key]])
