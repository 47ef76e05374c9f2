"""Every selectable pipeline fits, predicts and separates two easy classes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from covwb.eeg.pipelines import PIPELINES, build_pipeline, check_pipeline
from covwb.errors import ParameterError


def _two_classes(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class b has twice the variance on channel 1 and a lag-3 echo of channel 0 on channel 2."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 4, 120))
    y = np.repeat(["a", "b"], 20)
    X[20:, 1] *= 2.0
    X[20:, 2, 3:] += 0.8 * X[20:, 0, :-3]
    return X, y


@pytest.mark.parametrize("key", list(PIPELINES))
def test_pipeline_separates_easy_classes(key: str) -> None:
    X, y = _two_classes()
    model = clone(build_pipeline(key, order=2, lag=3)).fit(X[::2], y[::2])
    assert model.score(X[1::2], y[1::2]) >= 0.8


def test_acm_step_uses_the_order_and_lag() -> None:
    model = build_pipeline("acm_ts_svm", order=3, lag=2, svm_C=0.5, kernel="rbf")
    params = model.get_params()
    assert (params["cov__order"], params["cov__lag"], params["svc__C"], params["svc__kernel"]) == (3, 2, 0.5, "rbf")
    assert build_pipeline("ts_svm", order=3, lag=2).get_params()["cov__order"] == 1


def test_takens_step_selects_on_fit() -> None:
    X, y = _two_classes()
    model = build_pipeline("acm_mdm", takens=True, max_lag=10, max_order=4).fit(X, y)
    selection = model.named_steps["cov"].selection_
    assert 1 <= selection.order <= 4 and 1 <= selection.lag <= 10


def test_unknown_pipeline_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="unknown pipeline"):
        check_pipeline("svm_only")
