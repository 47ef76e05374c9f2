"""EEG processing on MNE objects: events, filtering, epochs, augmented covariances and their classifiers.

Epochs: the trial events of a recording (:func:`find_trial_events`), band-pass filtered epochs in µV
(:func:`extract_epochs`, with :class:`EpochSettings` as the settings object of the pages and exports) and
recordings joined into sessions (:func:`combine_recordings`, :func:`session_epochs`).

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
from covwb.eeg.epochs import DEFAULT_BAND, EpochData, EpochSettings, extract_epochs, power_spectrum
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
from covwb.eeg.events import TrialEvents, find_trial_events, trial_sessions
from covwb.eeg.pipelines import PIPELINES, PipelineInfo, build_pipeline, check_pipeline, head_estimator
from covwb.eeg.sessions import Recording, SessionEpochs, combine_recordings, event_sessions, session_epochs
from covwb.eeg.takens import (
    TakensAugmentedCovariances,
    TakensSelection,
    auto_mutual_information,
    cao_e1,
    select_order_lag,
)

__all__ = [
    "DEFAULT_BAND",
    "DEFAULT_ESTIMATOR",
    "PIPELINES",
    "SCHEMES",
    "ACMAnalysis",
    "ACMSettings",
    "AugmentedCovariances",
    "EpochData",
    "EpochSettings",
    "Evaluation",
    "LaggedProducts",
    "NestedACMClassifier",
    "PipelineInfo",
    "Recording",
    "SearchGrid",
    "SearchResult",
    "SessionEpochs",
    "TakensACMClassifier",
    "TakensAugmentedCovariances",
    "TakensSelection",
    "TrialEvents",
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
    "combine_recordings",
    "evaluate",
    "event_sessions",
    "extract_epochs",
    "fast_grid_search",
    "find_trial_events",
    "head_estimator",
    "make_folds",
    "most_chosen_order_lag",
    "plan_acm",
    "plan_evaluation",
    "plan_search",
    "power_spectrum",
    "select_order_lag",
    "session_epochs",
    "tangent_embedding",
    "trial_sessions",
]
