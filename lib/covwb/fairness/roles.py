"""Default roles of the columns of an uploaded fairness table: target, task, exposure, features, protected.

Real tables carry record IDs, person names, dates, case numbers, free text and columns that restate the
outcome. One-hot encoding a name column makes thousands of features, and a restating column makes any
fairness trade-off meaningless, so nothing is a feature by default unless it is plainly usable:

- **left out** of the default features, each with its reason: identifier-like columns (text or whole
  numbers, unique or nearly unique per row, or named like an ID), dates and times, free text (long
  strings), text with more than :data:`MAX_LEVELS` levels, constant or empty columns, and columns missing
  in more than :data:`MAX_MISSING` of the rows (their rows would be dropped), and columns named like the
  score or prediction of another model (``decile_score``, ``risk``, ``pred``): the risk score of a
  recidivism table restates the outcome it was built to predict; and exact copies of an earlier column;
- **leaks**: a column that predicts the target almost perfectly on its own (ROC-AUC of the column alone
  ≥ :data:`LEAK_AUC` for a binary target or for "any count" of a count target; |Pearson| or |Spearman|
  ≥ :data:`LEAK_CORRELATION`, or a correlation ratio η ≥ the same bound for text, for a numeric target;
  a missing value counts as a value of its own, as later re-arrest fields are empty exactly when there
  was none). Leaks are left out and warned about;
- **target**: a column named like a target (``target``, ``label``, ``outcome``, ``class``, ``y``), else a
  count (a non-negative whole-number column named like a count, ``ClaimNb``) when the table has an
  exposure, else the last binary column, else the last numeric column; never an identifier, a date or
  text with many levels;
- **task**: binary for two values, counts for non-negative whole numbers, continuous otherwise;
- **exposure** (counts only): a positive column named like an exposure, else a positive non-integer
  column within (0, 1];
- **protected**: columns named sex, gender, race, ethnicity, religion, nationality, black, or age.

Cost: one pass per column (distinct counts, a date pattern on a sample of 500 values) and one rank
correlation or AUC per candidate feature on a seeded subsample of at most :data:`LEAK_ROWS` rows: about a
second on 678,000 rows × 12 columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from covwb.errors import ParameterError

MAX_LEVELS = 30
"""Text columns with more levels than this are not one-hot encoded by default."""

MAX_MISSING = 0.1
"""Columns missing in more than this share of the rows are not default features."""

NEAR_UNIQUE = 0.95
"""Share of distinct values among the non-missing ones above which a text or whole-number column is an ID."""

LEAK_AUC = 0.95
"""ROC-AUC of a single column above which it is a likely leak of a binary (or any-count) target."""

LEAK_CORRELATION = 0.95
"""|correlation| (or correlation ratio) above which a single column is a likely leak of a numeric target."""

LEAK_ROWS = 100_000
"""Rows of the seeded subsample on which the leak checks run."""

_TARGET_WORDS = frozenset({"target", "label", "outcome", "response", "class", "y"})
_COUNT_WORDS = frozenset({"claim", "claims", "claimnb", "count", "counts", "nb", "number", "events", "n"})
_EXPOSURE_WORDS = ("exposure", "exposition", "expo")
_PROTECTED_WORDS = frozenset(
    {"sex", "gender", "race", "ethnicity", "ethnic", "religion", "nationality", "black", "age"}
)
_SCORE_WORDS = frozenset({"score", "decile", "risk", "prediction", "predicted", "pred", "propensity", "probability"})
_AGE_OF_THINGS = frozenset({"veh", "vehicle", "car", "building", "house", "policy", "contract", "licence", "license"})
_DATE = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*$"
)


@dataclass(frozen=True)
class ColumnRoles:
    """Proposed roles of a table's columns, with the reasons.

    Parameters
    ----------
    target : str or None
        Proposed target (None when no column can be one).
    task : {"binary", "continuous", "counts"} or None
        Proposed task for that target.
    exposure : str or None
        Proposed exposure (count task only).
    features : tuple of str
        Default features, in table order.
    protected : tuple of str
        Columns whose names say they are protected attributes.
    count_candidates : tuple of str
        Non-negative whole-number columns that could be count targets.
    exposure_candidates : tuple of str
        Positive columns that could be exposures.
    left_out : dict of str to str
        Columns left out of the default features (other than the target, exposure and protected ones) →
        why, as a phrase ("identifier-like: 7,214 distinct values in 7,214 rows").
    leaks : dict of str to str
        Columns that predict the target almost perfectly on their own → the evidence.
    warnings : tuple of str
        Sentences for the page: leaks.
    notes : tuple of str
        Sentences: why the target, task and exposure were chosen, and what was left out.

    Examples
    --------
    >>> frame = pd.DataFrame({"id": range(100), "x": np.arange(100) % 7, "y": np.arange(100) % 2})
    >>> roles = propose_roles(frame)
    >>> roles.target, roles.task, roles.features
    ('y', 'binary', ('x',))
    >>> roles.left_out["id"]
    'identifier-like: 100 distinct values in 100 rows'
    """

    target: str | None
    task: str | None
    exposure: str | None
    features: tuple[str, ...]
    protected: tuple[str, ...]
    count_candidates: tuple[str, ...]
    exposure_candidates: tuple[str, ...]
    left_out: dict[str, str] = field(default_factory=dict)
    leaks: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Profile:
    """What one column is: its kind ("id", "date", "text", "levels", "empty", "constant", "binary",
    "categorical", "count", "numeric") and, when it cannot be a feature, why."""

    kind: str
    reason: str = ""
    missing: float = 0.0


def _words(name: str) -> list[str]:
    """Lower-case words of a column name: ``"IDpol"`` → id, pol; ``"two_year_recid"`` → two, year, recid."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", re.sub(r"^([A-Z]{2})([a-z])", r"\1 \2", str(name)))
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def _is_whole(values: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def _profile(column: pd.Series) -> _Profile:
    """Kind of one column and, for columns that are no default feature, the reason."""
    present = column.dropna()
    n = len(present)
    missing = 1 - n / max(len(column), 1)
    if n == 0:
        return _Profile("empty", "empty", missing)
    distinct = present.nunique()
    if distinct == 1:
        return _Profile("constant", f"constant ({present.iloc[0]!s})", missing)
    if pd.api.types.is_datetime64_any_dtype(column):
        return _Profile("date", "a date or time", missing)
    named_id = "id" in _words(str(column.name))
    numeric = pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype)
    if numeric and not pd.api.types.is_bool_dtype(column):
        values = present.to_numpy(dtype=np.float64)
        whole = _is_whole(values)
        unique_share = distinct / n
        monotonic = present.is_monotonic_increasing or present.is_monotonic_decreasing
        if (
            whole
            and distinct > 2
            and ((named_id and unique_share >= 0.5) or (unique_share >= NEAR_UNIQUE and (n >= 1000 or monotonic)))
        ):
            return _Profile("id", f"identifier-like: {distinct:,} distinct values in {n:,} rows", missing)
        if distinct == 2:
            return _Profile("binary", "", missing)
        return _Profile("count" if whole and values.min() >= 0 else "numeric", "", missing)
    if distinct == 2:
        return _Profile("binary", "", missing)
    text = present.astype(str)
    sample = text.sample(min(n, 500), random_state=0) if n > 500 else text
    if sample.str.match(_DATE).mean() >= 0.9:
        return _Profile("date", "a date or time", missing)
    if n >= 20 and (distinct / n >= NEAR_UNIQUE or (named_id and distinct / n >= 0.5)):
        return _Profile("id", f"identifier-like: {distinct:,} distinct values in {n:,} rows", missing)
    if sample.str.len().mean() >= 30 or sample.str.split().str.len().mean() >= 4:
        return _Profile("text", f"free text ({distinct:,} different strings)", missing)
    if distinct > MAX_LEVELS:
        return _Profile("levels", f"text with {distinct:,} levels (more than {MAX_LEVELS} to one-hot encode)", missing)
    return _Profile("categorical", "", missing)


def _auc_alone(score: np.ndarray, positive: np.ndarray) -> float:
    """max(AUC, 1 − AUC) of a score for a 0/1 outcome (ties count half); 0.5 without both classes."""
    from scipy.stats import rankdata

    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return 0.5
    ranks = rankdata(score)
    auc = (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(max(auc, 1 - auc))


def _scores(column: pd.Series, categorical: bool, outcome: np.ndarray) -> list[np.ndarray]:
    """Scores of one column alone: its values (missing below and above all others) or, for text, the
    mean outcome of its level (missing as a level)."""
    if categorical:
        keys = column.astype(str).where(column.notna(), "\0missing")
        means = pd.Series(outcome).groupby(keys.to_numpy()).transform("mean").to_numpy()
        return [means]
    values = column.to_numpy(dtype=np.float64)
    if not np.isnan(values).any():
        return [values]
    finite = values[~np.isnan(values)]
    low, high = (finite.min() - 1, finite.max() + 1) if finite.size else (0.0, 1.0)
    return [np.where(np.isnan(values), low, values), np.where(np.isnan(values), high, values)]


def _leak_evidence(column: pd.Series, outcome: np.ndarray, task: str) -> str | None:
    """Why ``column`` alone restates the outcome, or None."""
    numeric = pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype)
    scores = _scores(column, not numeric, outcome)
    if task == "binary" or task == "counts":
        positive = outcome > (0.5 if task == "binary" else 0)
        auc = max(_auc_alone(s, positive) for s in scores)
        if auc >= LEAK_AUC:
            what = "the target" if task == "binary" else "whether the count is above 0"
            return f"alone it predicts {what} with ROC-AUC {auc:.3f}"
    if task in ("continuous", "counts") and np.std(outcome) > 0:
        from scipy.stats import spearmanr

        best = 0.0
        for score in scores:
            if np.std(score) == 0:
                continue
            pearson = abs(np.corrcoef(score, outcome)[0, 1])
            spearman = abs(spearmanr(score, outcome).statistic) if numeric else 0.0
            best = max(best, pearson, spearman)
        if best >= LEAK_CORRELATION:
            return f"alone it follows the target with correlation {best:.3f}"
    return None


def leaking_columns(
    frame: pd.DataFrame, target: str, columns: Sequence[str], *, task: str | None = None, seed: int = 0
) -> dict[str, str]:
    """Columns that predict the target almost perfectly on their own (likely leaks), with the evidence.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    target : str
        Target column; rows where it is missing are ignored.
    columns : sequence of str
        Columns to check (the target itself is skipped).
    task : {"binary", "continuous", "counts"}, optional
        Inferred from the target when omitted (two values: binary; non-negative whole numbers: counts).
    seed : int, default 0
        Seed of the subsample of :data:`LEAK_ROWS` rows on larger tables.

    Returns
    -------
    dict of str to str
        Column → one phrase of evidence, in the given order; a text target with other than two values
        gives no leak.

    Examples
    --------
    >>> frame = pd.DataFrame({"y": [0, 1] * 50, "cens": [1, 0] * 50, "x": np.arange(100) % 3})
    >>> leaking_columns(frame, "y", ["cens", "x"])
    {'cens': 'alone it predicts the target with ROC-AUC 1.000'}
    """
    if target not in frame.columns:
        raise ParameterError(f"'{target}' is not a column of the table.")
    table = frame[frame[target].notna()]
    if len(table) > LEAK_ROWS:
        table = table.sample(LEAK_ROWS, random_state=seed)
    column = table[target]
    numeric = pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype)
    if column.nunique() == 2:
        levels = sorted(column.unique(), key=str) if not numeric else sorted(column.unique())
        outcome, task = (column == levels[1]).to_numpy(dtype=np.float64), task or "binary"
    elif numeric:
        outcome = column.to_numpy(dtype=np.float64)
        if task is None:
            task = "counts" if _is_whole(outcome) and outcome.min() >= 0 else "continuous"
    else:
        return {}
    found = {}
    for name in columns:
        if name == target or name not in table.columns:
            continue
        evidence = _leak_evidence(table[name], outcome, task)
        if evidence:
            found[name] = evidence
    return found


def _left_out_reason(name: str, profile: _Profile) -> str:
    """Why a column is no default feature ("" when it is one)."""
    if profile.reason:
        return profile.reason
    if profile.missing > MAX_MISSING:
        return f"missing in {profile.missing:.0%} of the rows (those rows would be dropped)"
    if _SCORE_WORDS & set(_words(name)):
        return "named like the score or prediction of another model (it may restate the outcome)"
    return ""


def _duplicates(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, str]:
    """Columns whose values repeat an earlier column's exactly (``priors_count.1``) → the reason."""
    import hashlib

    seen: dict[str, str] = {}
    found = {}
    for name in columns:
        digest = hashlib.sha256(pd.util.hash_pandas_object(frame[name], index=False).to_numpy().tobytes()).hexdigest()
        if digest in seen and frame[name].equals(frame[seen[digest]]):
            found[name] = f"the same values as '{seen[digest]}'"
        else:
            seen.setdefault(digest, name)
    return found


def _protected_word(name: str) -> str | None:
    """The protected attribute a column's name says it holds ("sex", "age", …), or None."""
    words = set(_words(name))
    if "age" in words and _AGE_OF_THINGS & words:
        return None
    found = sorted(_PROTECTED_WORDS & words)
    return found[0] if found else None


def _protected(columns: Sequence[str], profiles: dict[str, _Profile], target: str | None) -> tuple[str, ...]:
    """One column per protected word: the one named exactly so ("age" before "age_cat"), else the first."""
    chosen: dict[str, str] = {}
    for name in columns:
        word = _protected_word(name)
        if word is None or name == target or profiles[name].kind not in ("binary", "categorical", "count", "numeric"):
            continue
        if word not in chosen or (name.lower() == word and chosen[word].lower() != word):
            chosen[word] = name
    return tuple(c for c in columns if c in chosen.values())


def _choose_target(
    frame: pd.DataFrame, profiles: dict[str, _Profile], exposures: list[str], counts: list[str]
) -> tuple[str | None, str]:
    """The proposed target and one sentence saying why."""
    usable = [c for c, p in profiles.items() if p.kind in ("binary", "count", "numeric") and p.missing < 0.5]
    named = [c for c in usable if _TARGET_WORDS & set(_words(c))]
    if named:
        return named[-1], f"'{named[-1]}' is named like a target."
    named_counts = [c for c in counts if _COUNT_WORDS & set(_words(c)) or "claim" in str(c).lower()]
    if exposures and named_counts:
        return named_counts[0], f"'{named_counts[0]}' is a non-negative whole-number column named like a count."
    binary = [c for c in usable if profiles[c].kind == "binary"]
    if binary:
        return binary[-1], f"'{binary[-1]}' is the last column with two values."
    if exposures and counts:
        zeros = {c: float((frame[c] == 0).mean()) for c in counts}
        best = max(counts, key=lambda c: zeros[c])
        if zeros[best] >= 0.5:
            return best, f"'{best}' is the non-negative whole-number column with most zeros ({zeros[best]:.0%})."
    numeric = [c for c in usable if c not in exposures]
    if numeric:
        return numeric[-1], f"'{numeric[-1]}' is the last numeric column."
    return None, "No column can be a target: none is numeric or has two values, other than identifiers."


def _task(profile: _Profile) -> str:
    """Binary for two values, counts for non-negative whole numbers, continuous otherwise."""
    if profile.kind == "binary":
        return "binary"
    return "counts" if profile.kind == "count" else "continuous"


def propose_roles(frame: pd.DataFrame, *, target: str | None = None, seed: int = 0) -> ColumnRoles:
    """Propose the target, task, exposure, features and protected attributes of a table, with reasons.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_rows, n_columns)
        The table as uploaded.
    target : str, optional
        The target, when already chosen; the task, exposure, features and leaks follow from it.
    seed : int, default 0
        Seed of the subsample of the leak checks.

    Returns
    -------
    ColumnRoles

    Raises
    ------
    ParameterError
        For a ``target`` that is not a column.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"age": rng.integers(18, 70, 200), "sex": rng.choice(["f", "m"], 200)})
    >>> frame["income"] = rng.normal(3.0, 1.0, 200)
    >>> frame["approved"] = (frame["income"] + rng.normal(0.0, 1.0, 200) > 3).astype(int)
    >>> roles = propose_roles(frame)
    >>> roles.target, roles.task, roles.features, roles.protected
    ('approved', 'binary', ('income',), ('age', 'sex'))
    """
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if target is not None and target not in columns:
        raise ParameterError(f"'{target}' is not a column of the table.")
    profiles = {c: _profile(frame[c]) for c in columns}
    counts = [c for c in columns if profiles[c].kind == "count"]
    positive = {c for c in columns if profiles[c].kind in ("count", "numeric") and frame[c].min() > 0}
    named_exposures = [c for c in columns if c in positive and any(w in c.lower() for w in _EXPOSURE_WORDS)]
    rate_like = [c for c in columns if c in positive and profiles[c].kind == "numeric" and frame[c].max() <= 1]
    exposures = named_exposures + [c for c in rate_like if c not in named_exposures]
    notes = []
    if target is None:
        target, why = _choose_target(frame, profiles, exposures, counts)
        notes.append("Target: " + why)
    task = _task(profiles[target]) if target is not None else None
    exposure = None
    if task == "counts":
        exposure = next((c for c in exposures if c != target), None)
        notes.append(
            f"Exposure: '{exposure}' ({'named like an exposure' if exposure in named_exposures else 'positive, at most 1'})."
            if exposure
            else "No exposure column found: every row will have exposure 1."
        )
    protected = _protected(columns, profiles, target)
    left_out = {c: _left_out_reason(c, p) for c, p in profiles.items() if c not in (target, exposure, *protected)}
    left_out = {c: reason for c, reason in left_out.items() if reason}
    left_out.update(_duplicates(frame, [c for c in columns if c not in left_out and c not in (target, exposure)]))
    candidates = [c for c in columns if c not in (target, exposure) and c not in protected and c not in left_out]
    leaks = leaking_columns(frame, target, candidates, task=task, seed=seed) if target is not None else {}
    features = tuple(c for c in candidates if c not in leaks)
    if left_out:
        notes.append(
            "Left out of the default features: " + "; ".join(f"{c} ({reason})" for c, reason in left_out.items()) + "."
        )
    warnings = tuple(
        f"'{c}' looks like a leak of the target '{target}': {evidence}. It restates the outcome, so it is left "
        "out of the default features; add it back only if it is known before the outcome."
        for c, evidence in leaks.items()
    )
    return ColumnRoles(
        target=target,
        task=task,
        exposure=exposure,
        features=features,
        protected=protected,
        count_candidates=tuple(counts),
        exposure_candidates=tuple(exposures),
        left_out=left_out,
        leaks=leaks,
        warnings=warnings,
        notes=tuple(notes),
    )
