"""The compositional partial-correlation estimator: scikit-learn's checks, R references, the shared computation,
zero replacement and the warnings on realistic tables (mostly-zero counts, numeric part names, p > n)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from covwb.coda.estimator import CompositionalPartialCorrelation, choose_method
from covwb.coda.partial_correlation import partial_correlations
from covwb.coda.shrinkage import basis_shrinkage_pcor
from covwb.coda.variation import clr_covariance
from covwb.coda.zeros import replace_zeros
from covwb.errors import ParameterError
from tests.coda.conftest import CUPS_PARTS, logistic_normal, reference_matrix

NOT_A_COMPOSITION = {
    "check_estimators_dtypes": "its integer test data has rows of zeros, which are no composition",
    "check_fit_check_is_fitted": "its test data has 2 columns; partial correlations of parts need 3",
    "check_n_features_in": "its test data has 2 columns; partial correlations of parts need 3",
    "check_estimators_overwrite_params": "its test data has 2 columns; partial correlations of parts need 3",
    "check_estimators_fit_returns_self": "its test data has 2 columns; partial correlations of parts need 3",
    "check_readonly_memmap_input": "its test data has 2 columns; partial correlations of parts need 3",
    "check_fit_idempotent": "its test data has 2 columns; partial correlations of parts need 3",
}


@parametrize_with_checks(
    [
        CompositionalPartialCorrelation(),
        CompositionalPartialCorrelation(method="basis-shrinkage", route="dense"),
    ],
    expected_failed_checks=lambda estimator: NOT_A_COMPOSITION,
)
def test_scikit_learn_checks(estimator, check) -> None:
    check(estimator)


@pytest.mark.parametrize("method", ["exact", "basis-shrinkage"])
def test_scikit_learn_contract_on_compositions(method: str) -> None:
    """The checks skipped above, on data that is a composition: fit returns self, is idempotent, keeps its params."""
    X = logistic_normal(30, 6, seed=3)
    est = CompositionalPartialCorrelation(method=method)
    params = est.get_params()
    assert est.fit(X) is est and est.get_params() == params and est.n_features_in_ == 6
    first = est.partial_correlation_.copy()
    np.testing.assert_array_equal(clone(est).fit(X).partial_correlation_, first)
    np.testing.assert_allclose(est.fit(np.require(X, requirements="F")).partial_correlation_, first, atol=1e-14)
    with pytest.raises(ValueError, match="minimum of 3"):
        CompositionalPartialCorrelation().fit(X[:, :2])


def test_cups_match_r(shared_data: Path, cups: pd.DataFrame) -> None:
    exact = CompositionalPartialCorrelation().fit(cups[CUPS_PARTS])
    assert exact.method_ == "exact" and exact.parts_ == tuple(CUPS_PARTS)
    assert np.abs(exact.partial_correlation_ - reference_matrix(shared_data, "cups_pcor_reference.csv")).max() < 1e-10
    assert exact.warnings_ == () and exact.shrinkage_ == 0.0 and exact.n_zeros_replaced_ == 0
    for route in ("dense", "woodbury"):
        shrunk = CompositionalPartialCorrelation(method="basis-shrinkage", route=route).fit(cups[CUPS_PARTS])
        reference = reference_matrix(shared_data, "cups_pcor_bshrink_reference.csv")
        assert np.abs(shrunk.partial_correlation_ - reference).max() < 1e-10
        assert (shrunk.shrinkage_, shrunk.variance_shrinkage_) == pytest.approx((0.059123, 0.081467), abs=5e-7)


@pytest.mark.parametrize(("n", "D"), [(40, 8), (12, 60)])
def test_one_computation_shared_with_the_functions(n: int, D: int) -> None:
    P = logistic_normal(n, D, seed=n)
    names = [str(k) for k in range(D)]
    est = CompositionalPartialCorrelation().fit(pd.DataFrame(P * 1000, columns=names))
    function = partial_correlations(P, names) if n > D else basis_shrinkage_pcor(P, names)
    assert est.method_ == function.method and est.route_ == function.settings["route"]
    np.testing.assert_allclose(est.partial_correlation_, function.pcor, atol=1e-12)
    np.testing.assert_allclose(est.partial_variances_, function.partial_variances, rtol=1e-10)
    # covariance_ is the clr covariance whose Moore-Penrose inverse gives the partial correlations
    if n > D:
        np.testing.assert_allclose(est.covariance_, clr_covariance(P), atol=1e-14)
    omega = np.linalg.pinv(est.covariance_, hermitian=True, rtol=1e-12)
    d = np.sqrt(np.diag(omega))
    rho = -omega / np.outer(d, d)
    np.fill_diagonal(rho, 1.0)
    np.testing.assert_allclose(est.partial_correlation_, rho, atol=1e-8)
    assert np.abs(est.covariance_.sum(axis=1)).max() < 1e-10 * np.abs(est.covariance_).max()
    assert CompositionalPartialCorrelation(store_covariance=False).fit(P).covariance_ is None


def test_mostly_zero_count_table_with_numeric_part_names() -> None:
    """A microbiome-like table (289 samples x 127 taxa named 0..126, 70 % zeros): replaced, said, consistent."""
    rng = np.random.default_rng(5)
    counts = rng.negative_binomial(0.3, 0.1, size=(289, 127))
    frame = pd.DataFrame(counts, columns=[str(k) for k in range(127)])
    assert (counts == 0).mean() > 0.5
    est = CompositionalPartialCorrelation().fit(frame)
    zeros = int((counts == 0).sum())
    assert est.method_ == "exact" and est.n_zeros_replaced_ == zeros == est.diagnostics_["zeros_replaced"]
    assert est.parts_ == tuple(frame.columns) and list(est.feature_names_in_) == list(frame.columns)
    assert est.warnings_[0].startswith(f"{zeros} of {counts.size} values") and "multiplicative" in est.warnings_[0]
    replaced = replace_zeros(counts, est.parts_, "multiplicative")
    np.testing.assert_allclose(est.partial_correlation_, partial_correlations(replaced.values).pcor, atol=1e-12)
    assert est.diagnostics_["delta"] == 1 / 127**2
    pseudo = CompositionalPartialCorrelation(zero_replacement="pseudo-count", pseudo_count=1.0).fit(frame)
    assert "pseudo-count" in pseudo.warnings_[0] and pseudo.diagnostics_["pseudo_count"] == 1.0
    with pytest.raises(ParameterError, match="choose a zero replacement"):
        CompositionalPartialCorrelation(zero_replacement=None).fit(frame)


def test_ill_conditioned_and_heavily_shrunk_results_warn() -> None:
    rng = np.random.default_rng(6)
    P = logistic_normal(25, 20, seed=7)
    P[:, 1] = P[:, 0] * np.exp(1e-7 * rng.standard_normal(25))  # two parts almost proportional
    est = CompositionalPartialCorrelation().fit(P)
    assert est.method_ == "exact" and est.diagnostics_["condition_number"] > 1e10
    assert len(est.warnings_) == 1 and "nearly singular" in est.warnings_[0] and "basis shrinkage" in est.warnings_[0]
    assert CompositionalPartialCorrelation().fit(logistic_normal(25, 20, seed=7)).warnings_ == ()
    independent = rng.lognormal(size=(15, 40))
    shrunk = CompositionalPartialCorrelation().fit(independent)
    assert shrunk.method_ == "basis-shrinkage" and shrunk.shrinkage_ > 0.5
    (warning,) = shrunk.warnings_
    assert "shrinkage dominates" in warning and f"{1 / 39:.3g}" in warning


def test_bad_parameters_and_data_raise_value_errors() -> None:
    P = logistic_normal(10, 4, seed=8)
    for params in ({"method": "pinv"}, {"zero_replacement": "drop"}, {"route": "svd"}):
        with pytest.raises(ParameterError, match="Unknown"):
            CompositionalPartialCorrelation(**params).fit(P)
    with pytest.raises(ValueError, match="Negative values"):
        CompositionalPartialCorrelation().fit(P - 0.5)
    zero_row = P.copy()
    zero_row[3] = 0.0
    with pytest.raises(ParameterError, match="Row 4 has only zeros"):
        CompositionalPartialCorrelation().fit(zero_row)
    with pytest.raises(ParameterError, match="need at least 40 samples"):
        CompositionalPartialCorrelation(method="exact").fit(logistic_normal(10, 40, seed=9))
    with pytest.raises(ValueError, match="NaN"):
        CompositionalPartialCorrelation().fit(np.where(P > 0.3, np.nan, P))
    assert choose_method("auto", 10, 4) == "exact" and choose_method("auto", 4, 10) == "basis-shrinkage"
