"""Fairness through distance-covariance regularisation for several protected attributes of mixed types.

Distance covariances in numpy (exact O(n log n) in 1-D) and in differentiable torch, the exact grouped
penalty for categorical and intersectional attributes, per-batch penalties prepared once per fit for the
training loop (:mod:`covwb.fairness.batch_penalty`, with compiled weight kernels in
:mod:`covwb.fairness.weight_kernels`), penalised models and their scikit-learn estimators
(:class:`FairClassifier`, :class:`FairRegressor`, :class:`FairPoissonRegressor`), fairness metrics and
permutation tests, default column roles of a table, the λ sweep as a job plan with its choice of λ, and
the fairlearn baseline (Lee, Antonio, Avanzi, Marchi & Zhou, 2025); :func:`plan_fairness` and
:func:`analyse_fairness` compute everything the fairness page shows, from :class:`FairnessSettings`.

Examples
--------
>>> import numpy as np
>>> from covwb.fairness import FairClassifier
>>> rng = np.random.default_rng(0)
>>> sex = rng.choice(["f", "m"], 300)
>>> X = np.c_[(sex == "m") + rng.standard_normal(300)]
>>> y = (X[:, 0] + rng.standard_normal(300) > 0.5).astype(int)
>>> model = FairClassifier(penalty="ccdcov", lam=10.0, max_iter=20).fit(X, y, sensitive_features=sex)
>>> model.predict_proba(X).shape
(300, 2)
"""

from covwb.fairness.analysis import (
    FairnessProblem,
    FairnessResult,
    FairnessSettings,
    analyse_fairness,
    fairlearn_baseline,
    plan_fairness,
    prepare_problem,
)
from covwb.fairness.baselines import FairlearnBaseline, exponentiated_gradient
from covwb.fairness.batch_penalty import PenaltyPlan
from covwb.fairness.calibration import (
    SPLITS,
    FitResult,
    LambdaChoice,
    SweepResult,
    choose_lambda,
    chord_improvement,
    combine_sweep,
    compare_models,
    fit_and_evaluate,
    plan_sweep,
    sweep,
    tradeoff_table,
)
from covwb.fairness.data import TASKS, FairnessData, prepare_data, split_rows
from covwb.fairness.distance_covariance import distance_correlation_sq, distance_covariance_sq
from covwb.fairness.encoding import KINDS, ProtectedAttribute, ProtectedEncoding, encode_protected, infer_kind
from covwb.fairness.estimators import FairClassifier, FairPoissonRegressor, FairRegressor
from covwb.fairness.grouped import grouped_penalty, grouped_statistic
from covwb.fairness.metrics import (
    DEFAULT_PERMUTATIONS,
    SMALL_CELL,
    TASK_METRIC,
    PredictionEvaluation,
    cell_table,
    check_permutations,
    dependence_statistics,
    evaluate_predictions,
    group_table,
    independence_rejected,
    independence_wording,
    jensen_shannon,
    parity_gaps,
    permutation_test,
    task_metrics,
    unfairness_uf,
)
from covwb.fairness.models import TrainedModel, TrainSettings, train_model
from covwb.fairness.roles import ColumnRoles, leaking_columns, propose_roles
from covwb.fairness.torch_penalties import PENALTIES, penalty

__all__ = [
    "DEFAULT_PERMUTATIONS",
    "KINDS",
    "PENALTIES",
    "SMALL_CELL",
    "SPLITS",
    "TASKS",
    "TASK_METRIC",
    "ColumnRoles",
    "FairClassifier",
    "FairPoissonRegressor",
    "FairRegressor",
    "FairlearnBaseline",
    "FairnessData",
    "FairnessProblem",
    "FairnessResult",
    "FairnessSettings",
    "FitResult",
    "LambdaChoice",
    "PenaltyPlan",
    "PredictionEvaluation",
    "ProtectedAttribute",
    "ProtectedEncoding",
    "SweepResult",
    "TrainSettings",
    "TrainedModel",
    "analyse_fairness",
    "cell_table",
    "check_permutations",
    "choose_lambda",
    "chord_improvement",
    "combine_sweep",
    "compare_models",
    "dependence_statistics",
    "distance_correlation_sq",
    "distance_covariance_sq",
    "encode_protected",
    "evaluate_predictions",
    "exponentiated_gradient",
    "fairlearn_baseline",
    "fit_and_evaluate",
    "group_table",
    "grouped_penalty",
    "grouped_statistic",
    "independence_rejected",
    "independence_wording",
    "infer_kind",
    "jensen_shannon",
    "leaking_columns",
    "parity_gaps",
    "penalty",
    "permutation_test",
    "plan_fairness",
    "plan_sweep",
    "prepare_data",
    "prepare_problem",
    "propose_roles",
    "split_rows",
    "sweep",
    "task_metrics",
    "tradeoff_table",
    "train_model",
    "unfairness_uf",
]
