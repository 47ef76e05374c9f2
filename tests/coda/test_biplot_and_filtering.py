"""Log-ratio PCA and part filtering."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from covwb.coda.biplot import clr_pca
from covwb.coda.filtering import check_displayable, filter_parts, rank_parts
from covwb.coda.transforms import clr
from covwb.errors import ParameterError
from tests.coda.conftest import logistic_normal


def test_clr_pca_matches_sklearn() -> None:
    X = logistic_normal(40, 6, seed=7)
    pca = clr_pca(X, 2)
    reference = PCA(n_components=2).fit(clr(X))
    np.testing.assert_allclose(pca.explained, reference.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_allclose(np.abs(pca.scores), np.abs(reference.transform(clr(X))), atol=1e-10)
    np.testing.assert_allclose(pca.loadings.sum(axis=0), 0.0, atol=1e-12)


def test_three_parts_are_explained_by_two_components() -> None:
    assert clr_pca(logistic_normal(20, 3, seed=1)).explained.sum() == pytest.approx(1.0)


def test_filtering_by_prevalence_and_variance() -> None:
    X = np.array([[0.0, 1, 5, 1, 0], [0, 2, 1, 1, 1], [1, 3, 9, 1, 0], [0, 4, 1, 1, 2]])
    parts = list("abcde")
    assert rank_parts(X, "prevalence")[:3].tolist() == [1, 2, 3]
    kept_X, kept = filter_parts(X, parts, "prevalence", 3)
    assert kept == ["b", "c", "d"] and kept_X.shape == (4, 3)
    assert filter_parts(X, parts, "variance", 3)[1][0] in parts
    assert rank_parts(X, "variance")[0] == 2
    with pytest.raises(ParameterError, match="Unknown filter"):
        rank_parts(X, "abundance")
    with pytest.raises(ParameterError, match="at least 3"):
        filter_parts(X, parts, "variance", 2)


def test_display_limit_message_offers_filtering() -> None:
    check_displayable(10, 10)
    with pytest.raises(ParameterError, match="filter the parts by variance or prevalence"):
        check_displayable(11, 10)
