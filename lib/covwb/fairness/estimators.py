"""The fair models as scikit-learn estimators: ``fit(X, y, *, sensitive_features=...)``, as fairlearn's are.

:class:`FairClassifier` (binary, logistic), :class:`FairRegressor` (continuous, squared error) and
:class:`FairPoissonRegressor` (counts with an exposure offset) train task loss + ``lam`` · ``penalty``
between the predictions and the sensitive features, with the training loop of
:mod:`covwb.fairness.models` (exact penalties per mini-batch, Adam, early stopping) and the encodings of
:mod:`covwb.fairness.encoding` (text and two-valued columns categorical or binary, other numbers
continuous; override with ``sensitive_kinds``).

Deliberate choices:

- ``X`` must be numeric (encode text features first, e.g. in a ``Pipeline`` with a ``OneHotEncoder``);
  it is standardised internally on the training rows, as the step size and the penalty expect;
- ``early_stopping`` holds out ``validation_fraction`` of the rows, stratified on the sensitive cells,
  and keeps the weights of the best validation objective (loss + λ · penalty);
- ``sensitive_features`` may be omitted, as with fairlearn's ``AdversarialFairnessClassifier``: the
  model is then fitted without the penalty and a ``UserWarning`` says so when ``lam > 0``. This keeps the
  estimators usable where scikit-learn passes only ``X`` and ``y`` (its estimator checks, a plain
  ``cross_val_score``); with metadata routing enabled, ``set_fit_request(sensitive_features=True)``
  routes them through a ``Pipeline`` or ``cross_validate``;
- ``random_state`` defaults to 0, so that a fit is reproducible; it seeds the initial weights, the
  batch order, dropout and the validation split.

Cost: one fit is ``max_iter`` epochs of O(b log b) penalty steps (O(b²) when a continuous attribute is
mixed with others under CCdCov or JdCov), see :mod:`covwb.fairness.models`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from covwb.fairness.data import FairnessData, split_rows
from covwb.fairness.encoding import ProtectedEncoding, encode_protected
from covwb.fairness.models import TrainedModel, TrainSettings, train_model
from covwb.fairness.torch_penalties import PENALTIES

STATISTICS: tuple[str, ...] = ("U", "V")
"""The penalty's estimator: unbiased U-statistic (may be negative) or V-statistic."""


def _sensitive_frame(sensitive_features: Any, n: int) -> pd.DataFrame:
    """Sensitive features as a table of ``n`` rows with string column names."""
    if isinstance(sensitive_features, pd.DataFrame):
        frame = sensitive_features.reset_index(drop=True)
    elif isinstance(sensitive_features, pd.Series):
        frame = sensitive_features.reset_index(drop=True).to_frame(name=str(sensitive_features.name or "sensitive"))
    else:
        values = np.asarray(sensitive_features, dtype=object)
        if values.ndim == 1:
            frame = pd.DataFrame({"sensitive": values})
        elif values.ndim == 2:
            frame = pd.DataFrame({f"sensitive_{j}": values[:, j] for j in range(values.shape[1])})
        else:
            raise ValueError(f"sensitive_features must be 1-D or 2-D; got {values.ndim} dimensions.")
        frame = frame.infer_objects()
    if len(frame) != n:
        raise ValueError(f"sensitive_features has {len(frame)} rows but X has {n}.")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _no_attributes(n: int) -> ProtectedEncoding:
    """An encoding without protected attributes: one cell holding every row."""
    return ProtectedEncoding(
        attributes=(),
        blocks=(),
        codes=np.zeros((n, 0), dtype=np.int64),
        cells=np.zeros(n, dtype=np.int64),
        cell_labels=("all rows",),
        cell_blocks=(),
        exact_cells=True,
        notes=(),
    )


class _FairModel(BaseEstimator):
    """Shared parameters, fitting and prediction of the fair estimators."""

    _task = "continuous"

    def __init__(
        self,
        *,
        penalty: str = "ccdcov",
        lam: float = 1.0,
        statistic: str = "U",
        c: float = 1.0,
        hidden_layer_sizes: tuple[int, ...] = (),
        dropout: float = 0.0,
        max_iter: int = 200,
        batch_size: int = 256,
        learning_rate: float = 0.02,
        early_stopping: bool = True,
        validation_fraction: float = 0.2,
        patience: int = 15,
        sensitive_kinds: Mapping[str, str] | None = None,
        bins: int = 3,
        random_state: int | None = 0,
    ) -> None:
        self.penalty = penalty
        self.lam = lam
        self.statistic = statistic
        self.c = c
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.sensitive_kinds = sensitive_kinds
        self.bins = bins
        self.random_state = random_state

    def _check_parameters(self) -> None:
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {', '.join(PENALTIES)}; got {self.penalty!r}.")
        if self.statistic not in STATISTICS:
            raise ValueError(f"statistic must be 'U' or 'V'; got {self.statistic!r}.")
        if not self.lam >= 0:
            raise ValueError(f"lam must be ≥ 0; got {self.lam}.")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1); got {self.validation_fraction}.")

    def _seed(self) -> int:
        if self.random_state is None:
            return int(np.random.default_rng().integers(2**31 - 1))
        if isinstance(self.random_state, (int, np.integer)):
            return int(self.random_state)
        return int(np.random.default_rng(self.random_state.randint(2**31 - 1)).integers(2**31 - 1))

    def _fit(self, X: Any, y: np.ndarray, sensitive_features: Any, exposure: np.ndarray) -> None:
        """Encode, split, standardise and train; sets the fitted attributes."""
        self._check_parameters()
        n = X.shape[0]
        seed = self._seed()
        if sensitive_features is None:
            if self.lam > 0:
                warnings.warn(
                    f"{type(self).__name__}: no sensitive_features given, so the model is fitted without the "
                    f"{self.penalty} penalty (lam = {self.lam:g} has no effect).",
                    UserWarning,
                    stacklevel=3,
                )
            protected = _no_attributes(n)
        else:
            frame = _sensitive_frame(sensitive_features, n)
            protected = encode_protected(frame, list(frame.columns), kinds=self.sensitive_kinds, bins=self.bins)
        if self.early_stopping:
            train, validation, _ = split_rows(protected.cells, validation=self.validation_fraction, test=0.0, seed=seed)
            if not validation.size or not train.size:
                train, validation = np.arange(n), np.arange(n)
        else:
            train = validation = np.arange(n)
        self.mean_ = X[train].mean(axis=0)
        scale = X[train].std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        data = FairnessData(
            task=self._task,
            target="y",
            X=(X - self.mean_) / self.scale_,
            feature_names=tuple(f"x{j}" for j in range(X.shape[1])),
            y=y,
            exposure=exposure,
            protected=protected,
            train=train,
            validation=validation,
            test=np.arange(0),
            notes=protected.notes,
        )
        settings = TrainSettings(
            penalty=self.penalty if sensitive_features is not None else "none",
            lam=float(self.lam) if sensitive_features is not None else 0.0,
            c=float(self.c),
            unbiased=self.statistic == "U",
            hidden=tuple(int(w) for w in self.hidden_layer_sizes),
            dropout=float(self.dropout),
            epochs=int(self.max_iter),
            batch_size=int(self.batch_size),
            lr=float(self.learning_rate),
            patience=int(self.patience),
            early_stopping=bool(self.early_stopping),
            seed=seed,
        )
        model = train_model(data, settings)
        self.model_: TrainedModel = model
        self.n_iter_ = len(model.history)
        self.best_epoch_ = model.best_epoch
        self.history_ = list(model.history)
        self.sensitive_notes_ = protected.notes

    def _outputs(self, X: Any, exposure: np.ndarray | None = None) -> np.ndarray:
        """Predictions in the target's scale (probability, value or expected count), shape (n,)."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        weights = np.ones(X.shape[0]) if exposure is None else np.asarray(exposure, dtype=np.float64)
        return self.model_.predict((X - self.mean_) / self.scale_, weights)


class FairClassifier(ClassifierMixin, _FairModel):
    """Logistic regression (or an MLP) whose probabilities are penalised for depending on sensitive features.

    Minimises binary cross-entropy + ``lam`` · ``penalty``(p̂, Z) over mini-batches, with p̂ the probability
    of the second class and Z the encoded sensitive features.

    Parameters
    ----------
    penalty : {"ccdcov", "jdcov", "dcov"}, default "ccdcov"
        CCdCov (p̂ against all attributes jointly: parity in every intersectional cell), JdCov, or the sum
        of dCov over attributes.
    lam : float, default 1.0
        λ ≥ 0; choose it with :func:`covwb.fairness.plan_sweep` (0 fits the plain model).
    statistic : {"U", "V"}, default "U"
        Unbiased U-statistic (may be negative) or V-statistic penalty.
    c : float, default 1.0
        JdCov constant.
    hidden_layer_sizes : tuple of int, default ()
        Hidden widths; ``()`` is the linear model.
    dropout : float, default 0.0
        Dropout after each hidden layer.
    max_iter : int, default 200
        Largest number of epochs.
    batch_size : int, default 256
        Rows per mini-batch (at least 4).
    learning_rate : float, default 0.02
        Adam step size.
    early_stopping : bool, default True
        Hold out ``validation_fraction`` of the rows (stratified on the sensitive cells) and keep the
        best validation objective; False trains on every row for ``max_iter`` epochs.
    validation_fraction : float, default 0.2
        Share of the rows held out for early stopping.
    patience : int, default 15
        Epochs without improvement before stopping.
    sensitive_kinds : mapping of str to str, optional
        Kind of some sensitive columns ({"age": "categorical"}); inferred otherwise.
    bins : int, default 3
        Quantile bins of continuous sensitive features in the cells (stratification only).
    random_state : int or None, default 0
        Seed of the initial weights, batches, dropout and split.

    Attributes
    ----------
    classes_ : ndarray, shape (2,)
        The two labels; the second is the positive class.
    n_features_in_ : int
        Features seen in ``fit``.
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch whose weights were kept.
    history_ : list of (float, float)
        Training and validation objective per epoch.
    mean_, scale_ : ndarray, shape (n_features,)
        Standardisation of the features.
    model_ : covwb.fairness.models.TrainedModel
        The trained network.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> group = rng.choice(["a", "b"], 400)
    >>> X = np.c_[(group == "b") + rng.standard_normal(400), rng.standard_normal(400)]
    >>> y = (X[:, 0] + X[:, 1] + rng.standard_normal(400) > 0.5).astype(int)
    >>> plain = FairClassifier(lam=0.0, max_iter=30).fit(X, y, sensitive_features=group)
    >>> fair = FairClassifier(lam=20.0, max_iter=30).fit(X, y, sensitive_features=group)
    >>> def gap(model):
    ...     p = model.predict_proba(X)[:, 1]
    ...     return abs(p[group == "a"].mean() - p[group == "b"].mean())
    >>> bool(gap(fair) < 0.5 * gap(plain))
    True
    >>> fair.predict(X[:3]).tolist()
    [0, 0, 1]
    """

    _task = "binary"

    def fit(self, X: Any, y: Any, *, sensitive_features: Any = None) -> FairClassifier:
        """Fit on ``X`` (n, f) numeric and binary ``y`` (n,), penalising dependence on ``sensitive_features``.

        Parameters
        ----------
        X : array-like, shape (n, f)
            Numeric features (the sensitive ones are usually left out).
        y : array-like, shape (n,)
            Two distinct labels.
        sensitive_features : array-like or DataFrame, shape (n,) or (n, d), optional
            Protected attributes, of mixed types; None fits without the penalty (with a warning when
            ``lam > 0``).

        Returns
        -------
        FairClassifier
            self.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        kind = type_of_target(y, input_name="y")
        if kind != "binary":
            raise ValueError(f"Only binary classification is supported. The type of the target is {kind}.")
        self.classes_ = np.unique(y)
        if self.classes_.size != 2:
            raise ValueError(f"FairClassifier needs two classes in y; it has one class ({self.classes_[0]!r}).")
        self._fit(X, (y == self.classes_[1]).astype(np.float64), sensitive_features, np.ones(X.shape[0]))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of the two classes, shape (n, 2), columns in the order of ``classes_``."""
        p = self._outputs(X)
        return np.c_[1.0 - p, p]

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of the positive class, shape (n,)."""
        p = np.clip(self._outputs(X), 1e-15, 1 - 1e-15)
        return np.log(p) - np.log1p(-p)

    def predict(self, X: Any) -> np.ndarray:
        """The more probable label, shape (n,)."""
        positive = self._outputs(X) > 0.5
        return self.classes_[positive.astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


class FairRegressor(RegressorMixin, _FairModel):
    """Linear regression (or an MLP) whose predictions are penalised for depending on sensitive features.

    Minimises the mean squared error of the standardised target + ``lam`` · ``penalty``(ŷ, Z); the penalty
    sees the standardised prediction, so λ does not depend on the target's unit. Parameters and
    attributes as :class:`FairClassifier` (without ``classes_``).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> sex = rng.choice(["f", "m"], 300)
    >>> X = np.c_[(sex == "m") + rng.standard_normal(300)]
    >>> y = 2.0 * X[:, 0] + rng.standard_normal(300)
    >>> model = FairRegressor(lam=50.0, max_iter=40).fit(X, y, sensitive_features=sex)
    >>> plain = FairRegressor(lam=0.0, max_iter=40).fit(X, y, sensitive_features=sex)
    >>> def gap(m):
    ...     p = m.predict(X)
    ...     return abs(p[sex == "f"].mean() - p[sex == "m"].mean())
    >>> bool(gap(model) < 0.5 * gap(plain)), bool(plain.score(X, y) > 0.7)
    (True, True)
    """

    _task = "continuous"

    def fit(self, X: Any, y: Any, *, sensitive_features: Any = None) -> FairRegressor:
        """Fit on ``X`` (n, f) numeric and a numeric ``y`` (n,); see :meth:`FairClassifier.fit`."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        self._fit(X, y.astype(np.float64), sensitive_features, np.ones(X.shape[0]))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values in the target's unit, shape (n,)."""
        return self._outputs(X)


class FairPoissonRegressor(RegressorMixin, _FairModel):
    """Poisson regression with an exposure offset, penalised for dependence on sensitive features.

    ``μ_i = exposure_i · exp(f(x_i))``; minimises the Poisson negative log-likelihood + ``lam`` ·
    ``penalty``(μ, Z) on the exposure-scaled expected counts, as the authors do. Parameters and
    attributes as :class:`FairClassifier` (without ``classes_``). ``score`` is D², the share of Poisson
    deviance explained (as scikit-learn's ``PoissonRegressor``).

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> region = rng.choice(["n", "s"], 500)
    >>> X = np.c_[(region == "s") + rng.standard_normal(500)]
    >>> exposure = rng.uniform(0.2, 1.0, 500)
    >>> claims = rng.poisson(exposure * np.exp(0.5 * X[:, 0] - 1.0))
    >>> model = FairPoissonRegressor(lam=0.0, max_iter=60).fit(X, claims, sensitive_features=region, exposure=exposure)
    >>> model.predict(X[:2], exposure=[1.0, 0.5]).round(2).tolist()  # true means 0.92 and 0.12
    [0.98, 0.13]
    """

    _task = "counts"

    def fit(self, X: Any, y: Any, *, sensitive_features: Any = None, exposure: Any = None) -> FairPoissonRegressor:
        """Fit on ``X`` (n, f) numeric and counts ``y`` (n,) ≥ 0 with positive ``exposure`` (default 1).

        Parameters
        ----------
        X, y, sensitive_features
            See :meth:`FairClassifier.fit`; ``y`` holds non-negative counts.
        exposure : array-like, shape (n,), optional
            Positive exposure of each row (years at risk); 1 when omitted.

        Returns
        -------
        FairPoissonRegressor
            self.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        if np.any(y < 0):
            raise ValueError("FairPoissonRegressor needs non-negative counts in y.")
        weights = np.ones(X.shape[0]) if exposure is None else np.asarray(exposure, dtype=np.float64).ravel()
        if weights.shape != (X.shape[0],) or not np.all(weights > 0):
            raise ValueError("exposure must hold one positive number per row of X.")
        self._fit(X, y.astype(np.float64), sensitive_features, weights)
        return self

    def predict(self, X: Any, exposure: Any = None) -> np.ndarray:
        """Expected counts for the given exposure (1 when omitted: the rate per unit exposure), shape (n,)."""
        return self._outputs(X, exposure)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """D² (Poisson deviance explained) of the predictions at exposure 1."""
        from sklearn.metrics import d2_tweedie_score

        return float(d2_tweedie_score(y, self.predict(X), sample_weight=sample_weight, power=1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags
