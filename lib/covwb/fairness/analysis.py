"""The fairness page's analysis: one settings object, one plan (a job), one result whose tables the page shows.

:func:`plan_fairness` turns :class:`FairnessSettings` and a table into a :class:`covwb.jobs.Plan`:

1. the column roles made explicit (:meth:`FairnessSettings.resolve`: target, task, exposure, protected
   attributes and features default to the table's own roles, else to :func:`~covwb.fairness.roles.propose_roles`,
   which leaves identifiers, dates, free text and likely leaks out of the features and says why);
2. the problem prepared in the calling process (:func:`prepare_problem`: checks, encodings, and the
   seeded training / validation / test split stratified on the intersectional cells);
3. one task per model of the λ sweep (:func:`~covwb.fairness.calibration.plan_sweep`: an unregularised fit
   per seed and a fit per penalty × λ > 0 × seed, each evaluated on validation and test with its
   permutation test) and, for a binary outcome, one task fitting fairlearn's ``ExponentiatedGradient``
   baseline with its unconstrained base model (:func:`fairlearn_baseline`);
4. a ``combine`` that chooses λ on validation, compares the models on test and returns a
   :class:`FairnessResult` with ``settings``, ``warnings``, ``notes`` and ``tables()``.

:func:`analyse_fairness` runs that plan in this process (``run_plan(plan_fairness(...))``); the page submits
the same plan as a background job (:mod:`covwb.jobs`), and an exported script calls
:func:`analyse_fairness`, so both give the same numbers: the training is seeded, in float64, on one thread.

**Cost.** One training per (penalty, λ > 0, seed) plus one per seed without penalty, each with B
permutations per independence test on validation and test (milliseconds each on categorical attributes).
On the built-in wage table (534 rows, three protected attributes, the page's defaults: 3 penalties × 3
λ > 0 × 3 seeds + 3 = 30 fits of up to 60 epochs, 199 permutations) the sweep takes 25 s in one process
(measured on the shared 2-core machine under a load of about 12), after the first call's 20 s of imports
and kernel compilation (numba compiles the penalty kernels once per process, so once per Dask worker).

>>> from covwb.sources import BuiltinSource
>>> settings = FairnessSettings(source=BuiltinSource("cps1985"))
>>> resolved, notes = settings.resolve(settings.source.load())
>>> resolved.target, resolved.task, resolved.protected, notes
('wage', 'continuous', ('gender', 'ethnicity', 'age'), ())
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from covwb._steps import Memo
from covwb.datasets.types import TableDataset
from covwb.errors import ParameterError
from covwb.fairness.baselines import FairlearnBaseline, exponentiated_gradient
from covwb.fairness.calibration import SweepResult, compare_models, plan_sweep, tradeoff_table
from covwb.fairness.data import TASKS, FairnessData, prepare_data
from covwb.fairness.encoding import KINDS, ProtectedEncoding, infer_kind
from covwb.fairness.metrics import (
    DEFAULT_PERMUTATIONS,
    DEPENDENCE_ROWS,
    TASK_METRIC,
    PredictionEvaluation,
    check_permutations,
    dependence_rows,
    dependence_warnings,
    evaluate_predictions,
    group_table,
)
from covwb.fairness.models import TrainSettings
from covwb.fairness.roles import ColumnRoles, propose_roles
from covwb.fairness.torch_penalties import PENALTIES
from covwb.jobs.plan import Plan, Progress, Ref, Task, run_plan
from covwb.settings import Settings, setting
from covwb.sources import BuiltinSource, DataSource

MODELS: dict[str, tuple[str, tuple[int, ...]]] = {
    "linear": ("Linear (GLM)", ()),
    "mlp": ("MLP (32 × 16)", (32, 16)),
}
"""Model families: key → (display name, hidden layer widths)."""
STATISTICS: dict[str, str] = {"U": "U-statistic (unbiased)", "V": "V-statistic"}
"""Estimators of the penalty: the unbiased U-statistic (may be negative) or the plug-in V-statistic."""
DISTRIBUTIONS: dict[str, str] = {"ecdf": "ECDF", "kde": "KDE"}
"""How the predictions of each intersectional cell are drawn."""
MAX_DEFAULT_FEATURES = 40
"""The default features are at most the first this many usable columns."""
MAX_LAMBDAS = 12
"""Most values of λ in a grid."""
UNREGULARISED = "unregularised"
"""Name of the model without penalty in the comparison and the cell tables."""
FAIRLEARN = "fairlearn ExponentiatedGradient (DP)"
"""Name of fairlearn's reduction in the comparison."""
FAIRLEARN_BASE = "LogisticRegression decisions (its unconstrained base)"
"""Name of the reduction's unconstrained base model in the comparison."""
NO_EXPOSURE = ""
"""The value of :attr:`FairnessSettings.exposure` for no exposure column (every row has exposure 1)."""
_BASELINE_TASK = "fairlearn-baseline"
_VIEW_FIELDS = ("shown", "distribution")


@dataclass(frozen=True)
class FairnessSettings(Settings):
    """Everything the fairness page lets one choose.

    Automatic values (None) are made explicit for a table by :meth:`resolve`.

    Parameters
    ----------
    source : BuiltinSource or UploadSource
        The table (see :mod:`covwb.sources`).
    target : str or None
        Target column; None for the table's own (built-in) or the one :func:`propose_roles` proposes.
    task : {"binary", "continuous", "counts"} or None
        None: counts when the table names an exposure, else from the target's values.
    exposure : str or None
        Exposure column of a count task; ``""`` for none (exposure 1); None for the table's or the proposed one.
        Ignored (made ``""``) for other tasks.
    protected : tuple of str or None
        Protected attributes, of mixed types; None for the table's or those named like one (sex, race, age...).
    features : tuple of str or None
        Features; None for the table's, else the usable columns (no identifiers, dates, free text or leaks,
        at most 40). Protected attributes are never features.
    kinds : tuple of (str, str)
        Kind of each protected attribute (categorical, binary, continuous); missing ones are inferred.
    bins : int
        Quantile bins of a continuous protected attribute in the intersectional cells.
    model : {"linear", "mlp"}
        Generalised linear model or a 32 × 16 MLP (dropout 0.1).
    penalties : tuple of str
        Among dCov, JdCov and CCdCov (:data:`~covwb.fairness.torch_penalties.PENALTIES`).
    lambdas : tuple of float
        The λ grid, increasing, each ≥ 0 (0 is added when absent).
    seeds : int
        Seeds 0 … seeds − 1 of every fit; a λ is recommended only when its JSD reduction exceeds their spread.
    n_permutations : int
        Permutations of each independence test (0: none); 1/(B + 1) must not exceed α.
    alpha : float
        Level of the permutation tests.
    c : float
        JdCov constant.
    statistic : {"U", "V"}
        Penalty estimator.
    epochs, batch_size, patience : int
        Largest number of epochs, rows per mini-batch, epochs without validation improvement before stopping.
    lr : float
        Adam's learning rate.
    split_seed : int
        Seed of the training / validation / test split.
    validation_share, test_share : float
        Shares of the rows for early stopping and the choice of λ, and for the reported numbers.
    baseline : bool
        Fit fairlearn's ``ExponentiatedGradient`` (demographic parity) beside the sweep, for binary outcomes.
    shown : str or None
        View: the model whose cells and distributions are drawn; None for the last of the comparison.
    distribution : {"ecdf", "kde"}
        View: how the predictions of each cell are drawn.
    """

    source: DataSource = BuiltinSource("cps1985")
    target: str | None = setting(None, label="Target")
    task: str | None = setting(None, label="Task", choices=TASKS)
    exposure: str | None = setting(None, label="Exposure")
    protected: tuple[str, ...] | None = setting(None, label="Protected attributes")
    features: tuple[str, ...] | None = setting(None, label="Features")
    kinds: tuple[tuple[str, str], ...] = setting((), label="Kinds of the protected attributes")
    bins: int = setting(2, label="Bins of continuous attributes in the cells", low=2, high=6)
    model: str = setting("linear", label="Model", choices=MODELS)
    penalties: tuple[str, ...] = setting(tuple(PENALTIES), label="Penalties", choices=PENALTIES, min_items=1)
    lambdas: tuple[float, ...] = setting(
        (0.0, 2.0, 10.0, 50.0), label="λ grid", low=0.0, min_items=1, max_items=MAX_LAMBDAS
    )
    seeds: int = setting(3, label="Seeds", low=1, high=10)
    n_permutations: int = setting(DEFAULT_PERMUTATIONS, label="Permutations per test", low=0, high=999)
    alpha: float = setting(0.05, label="Level α of the permutation test", low=0.001, high=0.2)
    c: float = setting(1.0, label="JdCov constant c", low=0.1, high=10.0)
    statistic: str = setting("U", label="Penalty statistic", choices=STATISTICS)
    epochs: int = setting(60, label="Largest number of epochs", low=5, high=1000)
    batch_size: int = setting(128, label="Batch size", low=16, high=4096)
    lr: float = setting(0.03, label="Learning rate (Adam)", low=0.0005, high=0.5)
    patience: int = setting(10, label="Early-stopping patience (epochs)", low=1, high=200)
    split_seed: int = setting(0, label="Split seed", low=0, high=2**31 - 1)
    validation_share: float = setting(0.2, label="Validation share", low=0.1, high=0.4)
    test_share: float = setting(0.2, label="Test share", low=0.1, high=0.4)
    baseline: bool = setting(True, label="fairlearn baseline")
    shown: str | None = setting(None, label="Model shown")
    distribution: str = setting("ecdf", label="Distributions", choices=DISTRIBUTIONS)

    def check(self) -> None:
        if len(set(self.penalties)) != len(self.penalties):
            raise ParameterError("Each penalty can be chosen once only.")
        if any(b <= a for a, b in zip(self.lambdas, self.lambdas[1:])):
            raise ParameterError("The λ grid must list increasing values, each once.")
        names = [name for name, _ in self.kinds]
        if len(set(names)) != len(names) or any(kind not in KINDS for _, kind in self.kinds):
            raise ParameterError(f"Give each protected attribute one kind among {', '.join(KINDS)}.")
        if self.validation_share + self.test_share > 0.7:
            raise ParameterError(
                "The validation and test shares must leave at least 30% of the rows for training; got "
                f"{self.validation_share:g} and {self.test_share:g}."
            )
        check_permutations(self.n_permutations, self.alpha)

    def resolve(self, data: Any) -> tuple[FairnessSettings, tuple[str, ...]]:
        """Explicit column roles for ``data``: automatic values filled, columns the table lacks replaced.

        Parameters
        ----------
        data : TableDataset
            The table that ``source`` loads.

        Returns
        -------
        settings : FairnessSettings
            With explicit target, task, exposure, protected attributes, features and kinds.
        notes : tuple of str
            One sentence per value that was replaced.

        Raises
        ------
        ParameterError
            No column can be a target.
        """
        if not isinstance(data, TableDataset):
            raise ParameterError(f"The fairness page reads tables, not {type(data).__name__}.")
        frame = data.frame.set_axis([str(c) for c in data.frame.columns], axis=1)
        columns = list(frame.columns)
        roles = data.roles
        notes: list[str] = []

        def known(name: str, value: Any, allowed: list[str]) -> Any:
            values = (value,) if isinstance(value, str) else value
            if value is None or value == NO_EXPOSURE or set(values) <= set(allowed):
                return value
            missing = next(v for v in values if v not in allowed)
            notes.append(f"{self.labels()[name]}: the table has no usable column {missing!r}; the page chooses again.")
            return None

        target = known("target", self.target, columns)
        if target is None:
            target = next((t for t in roles.get("target", ()) if t in columns), None) or propose_roles(frame).target
            if target is None:
                raise ParameterError(
                    "No column of this table can be a target: none is numeric or has two values, other than "
                    "identifiers."
                )
        proposed = propose_roles(frame, target=target)
        builtin_target = target in roles.get("target", ())
        task = self.task or ("counts" if builtin_target and roles.get("exposure") else proposed.task)
        exposure = NO_EXPOSURE
        if task == "counts":
            exposure = known("exposure", self.exposure, [c for c in columns if c != target])
            if exposure is None:
                named = [e for e in roles.get("exposure", ()) if e in columns and e != target] if builtin_target else []
                exposure = (named or [proposed.exposure or NO_EXPOSURE])[0]
        others = [c for c in columns if c not in (target, exposure)]
        protected = known("protected", self.protected, others)
        if protected is None:
            suggested = roles.get("protected", proposed.protected) if builtin_target else proposed.protected
            protected = tuple(c for c in suggested if c in others)
        candidates = [c for c in others if c not in protected]
        features = known("features", self.features, candidates)
        if features is None:
            suggested = roles.get("features", proposed.features) if builtin_target else proposed.features
            usable = [c for c in suggested if c in candidates and c not in proposed.leaks]
            features = tuple(usable[:MAX_DEFAULT_FEATURES])
        given = dict(self.kinds)
        kinds = tuple((name, given.get(name) or infer_kind(frame[name])) for name in protected)
        resolved = dataclasses.replace(
            self,
            target=target,
            task=task,
            exposure=exposure,
            protected=tuple(protected),
            features=tuple(features),
            kinds=kinds,
        )
        return resolved, tuple(notes)

    def computation(self) -> FairnessSettings:
        """These settings without the view choices: what the plan computes (the job's key)."""
        defaults = {f.name: f.default for f in dataclasses.fields(self) if f.name in _VIEW_FIELDS}
        return dataclasses.replace(self, **defaults)

    def train_settings(self) -> TrainSettings:
        """Architecture and optimisation of every fit (penalty, λ and seed are set per fit)."""
        hidden = MODELS[self.model][1]
        return TrainSettings(
            hidden=hidden,
            dropout=0.1 if hidden else 0.0,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            patience=self.patience,
            c=self.c,
            unbiased=self.statistic == "U",
        )

    def steps(self) -> tuple[str, ...]:
        """What :func:`analyse_fairness` does with these settings, one Markdown sentence per step."""
        return (
            "the table prepared: target (`settings.target`), task, exposure, features standardised or one-hot "
            "encoded, protected attributes encoded (`settings.kinds`), and the rows split into training, "
            "validation and test parts stratified on the intersectional cells (`settings.split_seed`);",
            "one model per seed without penalty and one per penalty × λ > 0 × seed (`settings.penalties`, "
            "`settings.lambdas`, `settings.seeds`), trained on the training rows and stopped early on the "
            "validation rows, each evaluated on validation and test with a permutation test "
            "(`settings.n_permutations`);",
            "for a binary outcome, fairlearn's ExponentiatedGradient with demographic parity over the cells "
            "and its unconstrained base model (`settings.baseline`);",
            "λ chosen per penalty on validation (below the chord of the loss–JSD curve, by more than the seed "
            "spread); the models compared on the test rows.",
        )


def parse_lambdas(text: str) -> tuple[float, ...]:
    """The λ grid from comma-separated text: sorted, each value once.

    Examples
    --------
    >>> parse_lambdas("10, 0; 2, 10")
    (0.0, 2.0, 10.0)
    >>> parse_lambdas("ten")
    Traceback (most recent call last):
    ...
    covwb.errors.ParameterError: The λ grid must be numbers separated by commas, got 'ten'.
    """
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    try:
        values = sorted({float(part) for part in parts})
    except ValueError:
        raise ParameterError(f"The λ grid must be numbers separated by commas, got {text[:60]!r}.") from None
    if not values or any(not np.isfinite(v) or v < 0 for v in values) or len(values) > MAX_LAMBDAS:
        raise ParameterError(f"Give between 1 and {MAX_LAMBDAS} values of λ, each ≥ 0, separated by commas.")
    return tuple(values)


def format_lambdas(lambdas: tuple[float, ...]) -> str:
    """The λ grid as the text :func:`parse_lambdas` reads: ``"0, 2, 10, 50"``."""
    return ", ".join(f"{v:g}" for v in lambdas)


@dataclass(frozen=True, eq=False)
class FairnessProblem:
    """A table prepared for the sweep, with what preparing it found.

    Parameters
    ----------
    settings : FairnessSettings
        The settings, every automatic value explicit.
    data : FairnessData
        Features, target, exposure, encoded protected attributes and the three-way split.
    roles : ColumnRoles
        The roles :func:`~covwb.fairness.roles.propose_roles` proposes for the target: columns left out of
        the default features and why, likely leaks.
    warnings : tuple of str
        What may make the sweep misleading: what reading the table doubted, columns that restate the target
        (likely leaks: left out of the default features, or chosen anyway), protected attributes that depend
        on each other (under JdCov).
    notes : tuple of str
        Why the target, task and exposure are what they are; what preparing the table did (dropped rows,
        encodings, the split); the subsample of the quadratic dependence statistics.
    """

    settings: FairnessSettings
    data: FairnessData
    roles: ColumnRoles
    warnings: tuple[str, ...]
    notes: tuple[str, ...]


def prepare_problem(
    settings: FairnessSettings, data: TableDataset | None = None, *, memo: Memo | None = None
) -> FairnessProblem:
    """The table prepared for the sweep as ``settings`` say (the first step of :func:`plan_fairness`).

    Parameters
    ----------
    settings : FairnessSettings
        Automatic values are filled from the table (:meth:`FairnessSettings.resolve`).
    data : TableDataset or None
        The table ``settings.source`` names, already loaded; None to load it.
    memo : callable or None
        Cache of the preparation, keyed by the source's fingerprint and the settings it reads.

    Returns
    -------
    FairnessProblem

    Raises
    ------
    ParameterError
        A column the table lacks, no protected attribute, no feature, a target that does not fit the task, a
        one-level protected attribute, too few rows, ...
    """
    dataset = settings.source.load() if data is None else data
    resolved, notes = settings.resolve(dataset)
    if notes:
        raise ParameterError(" ".join(notes))
    if not resolved.protected:
        raise ParameterError("Choose at least one protected attribute.")
    key = (
        resolved.target,
        resolved.task,
        resolved.exposure,
        resolved.features,
        resolved.protected,
        resolved.kinds,
        resolved.bins,
        resolved.validation_share,
        resolved.test_share,
        resolved.split_seed,
    )
    source = resolved.source.fingerprint()
    frame = dataset.frame.set_axis([str(c) for c in dataset.frame.columns], axis=1)

    def cached(name: str, key: tuple[Hashable, ...], compute: Callable[[], Any]) -> Any:
        return compute() if memo is None else memo((name, source, *key), compute)

    roles = cached("fair-roles", (resolved.target,), lambda: propose_roles(frame, target=resolved.target))
    prepared = cached(
        "fair-prepare",
        key,
        lambda: prepare_data(
            frame,
            target=resolved.target,
            task=resolved.task,
            features=list(resolved.features or ()),
            protected=list(resolved.protected),
            exposure=resolved.exposure or None,
            kinds=dict(resolved.kinds),
            bins=resolved.bins,
            validation=resolved.validation_share,
            test=resolved.test_share,
            seed=resolved.split_seed,
        ),
    )
    warnings = list(dataset.warnings) + list(roles.warnings)
    chosen_leaks = [name for name in resolved.features or () if name in roles.leaks]
    warnings += [
        f"The feature {name!r} looks like a leak of the target {resolved.target!r}: {roles.leaks[name]}. Keep it only "
        "if it is known before the outcome; otherwise the trade-off is meaningless."
        for name in chosen_leaks
    ]
    if "jdcov" in resolved.penalties:
        warnings += dependence_warnings(prepared.protected)
    more = list(roles.notes) + list(prepared.notes)
    test_protected = prepared.protected.subset(prepared.test)
    if dependence_rows(test_protected).size < prepared.test.size:
        more.append(
            f"dCor, CCdCov, JdCov and the permutation test use a seeded subsample of {DEPENDENCE_ROWS:,} of the "
            f"{prepared.test.size:,} rows of a split: with a continuous attribute mixed with others they cost O(n²)."
        )
    return FairnessProblem(resolved, prepared, roles, tuple(warnings), tuple(more))


@dataclass(frozen=True, eq=False)
class BaselineFit:
    """fairlearn's baseline and the evaluations of its scores and of its base model's decisions on the test rows.

    Parameters
    ----------
    baseline : FairlearnBaseline
        Scores, gaps, settings, notes and warnings of the reduction.
    evaluations : dict of str to PredictionEvaluation
        :data:`FAIRLEARN` and :data:`FAIRLEARN_BASE` → metrics on the test rows.
    """

    baseline: FairlearnBaseline
    evaluations: dict[str, PredictionEvaluation]


def fairlearn_baseline(data: FairnessData, *, c: float = 1.0, n_permutations: int = 0) -> BaselineFit:
    """Fit fairlearn's reduction on the training rows and evaluate it and its base model on the test rows.

    A task of :func:`plan_fairness`: module-level, with picklable arguments.

    Parameters
    ----------
    data : FairnessData
        A binary problem.
    c : float, default 1.0
        JdCov constant of the evaluation.
    n_permutations : int, default 0
        Permutations of each independence test.

    Returns
    -------
    BaselineFit
    """
    baseline = exponentiated_gradient(data)
    protected = data.protected.subset(data.test)
    scores = {FAIRLEARN: baseline.scores["test"], FAIRLEARN_BASE: baseline.base_decisions["test"]}
    evaluations = {
        name: evaluate_predictions(data.task, data.y[data.test], values, protected, c=c, n_permutations=n_permutations)
        for name, values in scores.items()
    }
    return BaselineFit(baseline, evaluations)


@dataclass(frozen=True, eq=False)
class FairnessResult:
    """What the fairness page shows: the λ sweep, the choice of λ, the models compared, the cells.

    Parameters
    ----------
    settings : FairnessSettings
        The settings used, every automatic value explicit.
    sweep : SweepResult
        Every fit's metrics per split, the summaries over seeds, the λ choices, evaluations and predictions.
    test_protected : ProtectedEncoding
        The protected attributes of the test rows (the cell tables and distributions).
    roles : ColumnRoles
        Columns left out of the default features and why; likely leaks.
    baseline : BaselineFit or None
        fairlearn's reduction and its base model (binary outcomes, when asked).
    n_features : int
        Columns of the design matrix (after one-hot encoding).
    warnings : tuple of str
        What may make the numbers misleading: the problem's, the sweep's (small cells, a single seed, a
        recommendation the test split does not confirm) and the baseline's.
    notes : tuple of str
        Why the roles are what they are, what preparing the table did, the splits, the permutation tests, the
        reason behind each λ choice and how the baseline's scores are obtained.
    """

    settings: FairnessSettings
    sweep: SweepResult
    test_protected: ProtectedEncoding
    roles: ColumnRoles
    baseline: BaselineFit | None
    n_features: int
    warnings: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def metric(self) -> tuple[str, str]:
        """The task loss the λ choice trades against JSD: (column, label)."""
        return TASK_METRIC[self.sweep.task]

    def models(self) -> dict[str, tuple[str, float]]:
        """The models compared: the unregularised one, then each penalty at its recommended λ (display name →
        (penalty, λ))."""
        out = {UNREGULARISED: ("none", 0.0)}
        for penalty, choice in self.sweep.choices.items():
            if choice.recommended:
                out[f"{PENALTIES[penalty]}, λ = {choice.lam:g}"] = (penalty, choice.lam)
        return out

    def comparison(self) -> pd.DataFrame:
        """The models side by side on the test rows (means over seeds; fairlearn: one fit)."""
        extra = self.baseline.evaluations if self.baseline is not None else None
        return compare_models(self.sweep, self.models(), extra=extra, split="test")

    def predictions(self, model: str) -> np.ndarray:
        """Test-row predictions of one model of :meth:`models`, first seed."""
        penalty, lam = self.models()[model]
        return self.sweep.predictions[("test", penalty, lam, self.sweep.settings["seeds"][0])]

    def cells(self, model: str) -> pd.DataFrame:
        """The intersectional cell table of one model of :meth:`models` on the test rows, first seed."""
        penalty, lam = self.models()[model]
        return self.sweep.evaluations[("test", penalty, lam, self.sweep.settings["seeds"][0])].cells

    def steps(self) -> tuple[str, ...]:
        """What :func:`analyse_fairness` did, one Markdown sentence per step."""
        return self.settings.steps()

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name, as the page shows them and the exported script writes them.

        ``tradeoff_test`` and ``tradeoff_validation`` (means and sds over seeds per penalty and λ, with the
        split named), ``runs`` (every fit and split; training times left out), ``lambda_choices`` (with the
        reasons), ``models`` (the comparison on test), ``cells_<model>`` and ``groups_<model>`` for every
        model compared (test rows, first seed) and, with the baseline, ``fairlearn_gaps``.
        """
        sweep = self.sweep
        out = {
            "tradeoff_test": tradeoff_table(sweep, "test"),
            "tradeoff_validation": tradeoff_table(sweep, "validation"),
            "runs": sweep.runs.drop(columns=["seconds"]),
            "lambda_choices": pd.DataFrame(
                [
                    {
                        "penalty": penalty,
                        "lambda": choice.lam,
                        "recommended": choice.recommended,
                        "reason": choice.reason,
                        "independence_lambda": choice.independent,
                        "independence_reason": choice.independent_reason,
                    }
                    for penalty, choice in sweep.choices.items()
                ]
            ),
            "models": self.comparison(),
        }
        for name in self.models():
            slug = table_slug(name)
            out[f"cells_{slug}"] = self.cells(name)
            out[f"groups_{slug}"] = group_table(self.predictions(name), self.test_protected)
        if self.baseline is not None:
            gaps = self.baseline.baseline.gaps
            out["fairlearn_gaps"] = pd.DataFrame(
                [{"split": s, "base_gap": base, "reduction_gap": reduced} for s, (base, reduced) in gaps.items()]
            )
        return out


def table_slug(name: str) -> str:
    """A model's name as part of a table name: ``"CCdCov (joint), λ = 10"`` → ``"ccdcov_joint_lambda_10"``.

    Examples
    --------
    >>> table_slug("dCov (sum over attributes), λ = 2.5")
    'dcov_sum_over_attributes_lambda_2.5'
    """
    text = name.replace("λ", "lambda").lower()
    return re.sub(r"[^a-z0-9.]+", "_", text).strip("_")


def plan_fairness(settings: FairnessSettings, data: TableDataset | None = None, *, memo: Memo | None = None) -> Plan:
    """The page's analysis as a job plan: the sweep's fits and the fairlearn baseline as independent tasks.

    Parameters
    ----------
    settings : FairnessSettings
        What to compute; automatic values are filled from the table.
    data : TableDataset or None
        The table ``settings.source`` names, already loaded; None to load it.
    memo : callable or None
        Cache of the preparation step (:func:`prepare_problem`), called in this process.

    Returns
    -------
    covwb.jobs.Plan
        Tasks :func:`~covwb.fairness.calibration.fit_and_evaluate` (unregularised fits first) and
        :func:`fairlearn_baseline`; its ``combine`` returns the :class:`FairnessResult`.

    Raises
    ------
    ParameterError
        What :func:`prepare_problem` and :func:`~covwb.fairness.calibration.plan_sweep` refuse.
    """
    problem = prepare_problem(settings, data, memo=memo)
    resolved = problem.settings
    sweep_plan = plan_sweep(
        problem.data,
        resolved.train_settings(),
        penalties=resolved.penalties,
        lambdas=resolved.lambdas,
        seeds=range(resolved.seeds),
        n_permutations=resolved.n_permutations,
        alpha=resolved.alpha,
    )
    tasks = list(sweep_plan.tasks)
    if resolved.baseline and problem.data.task == "binary":
        unregularised = sum(1 for task in tasks if task.key.startswith("none|"))
        tasks.insert(
            unregularised,
            Task(
                key=_BASELINE_TASK,
                fn=fairlearn_baseline,
                args=(Ref("data"),),
                kwargs={"c": resolved.c, "n_permutations": resolved.n_permutations},
                label="fairlearn ExponentiatedGradient baseline",
            ),
        )
    combine = partial(
        combine_fairness,
        sweep=sweep_plan.combine,
        settings=resolved,
        warnings=problem.warnings,
        notes=problem.notes,
        roles=problem.roles,
        test_protected=problem.data.protected.subset(problem.data.test),
        n_features=problem.data.X.shape[1],
    )
    return Plan(tasks=tuple(tasks), combine=combine, data=sweep_plan.data, name=sweep_plan.name)


def combine_fairness(
    results: dict[str, Any],
    *,
    sweep: Callable[[dict[str, Any]], SweepResult],
    settings: FairnessSettings,
    warnings: tuple[str, ...],
    notes: tuple[str, ...],
    roles: ColumnRoles,
    test_protected: ProtectedEncoding,
    n_features: int,
) -> FairnessResult:
    """The :class:`FairnessResult` from the results of the tasks (``combine`` of :func:`plan_fairness`)."""
    fits = dict(results)
    baseline: BaselineFit | None = fits.pop(_BASELINE_TASK, None)
    swept = sweep(fits)
    more_warnings = list(swept.warnings)
    more_notes = list(swept.notes)
    for penalty, choice in swept.choices.items():
        more_notes.append(f"{PENALTIES[penalty]}: {choice.reason} {choice.independent_reason}")
    if baseline is not None:
        more_notes.extend(baseline.baseline.notes)
        more_warnings.extend(baseline.baseline.warnings)
    return FairnessResult(
        settings=settings,
        sweep=swept,
        test_protected=test_protected,
        roles=roles,
        baseline=baseline,
        n_features=n_features,
        warnings=(*warnings, *more_warnings),
        notes=(*notes, *more_notes),
    )


def analyse_fairness(
    settings: FairnessSettings,
    data: TableDataset | None = None,
    *,
    memo: Memo | None = None,
    progress: Progress | None = None,
) -> FairnessResult:
    """Run :func:`plan_fairness` in this process: what the page's job computes, with the same numbers.

    Parameters
    ----------
    settings : FairnessSettings
        What to compute.
    data : TableDataset or None
        The table ``settings.source`` names, already loaded; None to load it (uploads from the current
        folder, checked against their SHA-256).
    memo : callable or None
        Cache of the preparation step.
    progress : callable or None
        ``progress(fraction, step)`` as the sweep starts and after each model.

    Returns
    -------
    FairnessResult

    Examples
    --------
    >>> from covwb.sources import BuiltinSource
    >>> settings = FairnessSettings(
    ...     source=BuiltinSource("insurance"), penalties=("ccdcov",), lambdas=(0.0, 10.0), seeds=2,
    ...     n_permutations=19, epochs=5,
    ... )
    >>> result = analyse_fairness(settings)
    >>> result.settings.task, result.settings.exposure, sorted(result.tables())[:3]
    ('counts', 'Holders', ['cells_unregularised', 'groups_unregularised', 'lambda_choices'])
    """
    return run_plan(plan_fairness(settings, data, memo=memo), progress=progress)
