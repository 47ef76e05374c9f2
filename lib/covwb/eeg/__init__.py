"""EEG processing on MNE objects: events, filtering, epochs, augmented covariances and their classifiers.

Public API of the augmented-covariance (ACM) method: the ACM itself (:mod:`covwb.eeg.augmented`), the Takens
selection of its order and lag (:mod:`covwb.eeg.takens`), the selectable pipelines (:mod:`covwb.eeg.pipelines`),
the nested cross-validated evaluation as a plan of tasks (:mod:`covwb.eeg.evaluation`) and the scikit-learn
classifiers that search order and lag in ``fit`` (:mod:`covwb.eeg.classifiers`); and the EEG page's analysis
(:mod:`covwb.eeg.analysis`: its settings, data source, plan and result).
"""

from covwb.eeg.analysis import (
    ACMAnalysis,
    ACMSettings,
    UploadedRecordings,
    acm_epochs,
    acm_recording,
    analyse_acm,
    plan_acm,
)
from covwb.eeg.augmented import DEFAULT_ESTIMATOR, AugmentedCovariances, LaggedProducts, augment, augmented_covariances
from covwb.eeg.classifiers import NestedACMClassifier, TakensACMClassifier
from covwb.eeg.evaluation import (
    SCHEMES,
    Evaluation,
    SearchGrid,
    SearchResult,
    class_means,
    evaluate,
    fast_grid_search,
    make_folds,
    most_chosen_order_lag,
    plan_evaluation,
    plan_search,
    tangent_embedding,
)
from covwb.eeg.pipelines import PIPELINES, PipelineInfo, build_pipeline, check_pipeline, head_estimator
from covwb.eeg.takens import (
    TakensAugmentedCovariances,
    TakensSelection,
    auto_mutual_information,
    cao_e1,
    select_order_lag,
)

__all__ = [
    "DEFAULT_ESTIMATOR",
    "ACMAnalysis",
    "ACMSettings",
    "PIPELINES",
    "SCHEMES",
    "AugmentedCovariances",
    "Evaluation",
    "LaggedProducts",
    "NestedACMClassifier",
    "PipelineInfo",
    "SearchGrid",
    "SearchResult",
    "TakensACMClassifier",
    "TakensAugmentedCovariances",
    "TakensSelection",
    "UploadedRecordings",
    "acm_epochs",
    "acm_recording",
    "analyse_acm",
    "augment",
    "augmented_covariances",
    "auto_mutual_information",
    "build_pipeline",
    "cao_e1",
    "check_pipeline",
    "class_means",
    "evaluate",
    "fast_grid_search",
    "head_estimator",
    "make_folds",
    "most_chosen_order_lag",
    "plan_acm",
    "plan_evaluation",
    "plan_search",
    "select_order_lag",
    "tangent_embedding",
]
