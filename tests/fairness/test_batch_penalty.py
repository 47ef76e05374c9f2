"""The prepared per-batch penalties against the O(b²) torch penalties (value and gradient) and dcor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from covwb.errors import ParameterError
from covwb.fairness.batch_penalty import PenaltyPlan
from covwb.fairness.encoding import encode_protected
from covwb.fairness.torch_penalties import penalty

COLUMN_SETS = {
    "categorical": ["sex", "region"],
    "continuous": ["age"],
    "binary+continuous": ["sex", "age"],
    "categorical+continuous": ["region", "age", "income"],
}


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["f", "m"], n),
            "region": rng.choice(["a", "b", "c"], n),
            "age": rng.integers(18, 70, n).astype(float),
            "income": rng.uniform(size=n),
        }
    )
    frame.loc[:2, "region"] = ["a", "b", "c"]
    frame.loc[:1, "sex"] = ["f", "m"]
    return frame


def _compare(plan: PenaltyPlan, kind: str, encoded, rows: np.ndarray, values: np.ndarray, c: float, unbiased: bool):
    """Value and gradient of the plan against the quadratic penalty on the same rows."""
    constant = plan.constant(rows)
    quadratic = torch.tensor(values, requires_grad=True)
    reference = penalty(
        kind, quadratic, [torch.tensor(block[rows]) for block in encoded.blocks], c=c, unbiased=unbiased
    )
    reference.backward()
    fast = torch.tensor(values, requires_grad=True)
    value = plan.value(fast, constant)
    value.backward()
    with torch.no_grad():
        plain = plan.value(torch.tensor(values), constant)
    return float(value.detach()), float(plain), float(reference.detach()), fast.grad, quadratic.grad


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(sorted(COLUMN_SETS)),
    st.sampled_from(["dcov", "jdcov", "ccdcov"]),
    st.booleans(),
    st.sampled_from([0.5, 1.0, 2.0]),
    st.integers(6, 90),
    st.integers(0, 10_000),
)
def test_value_and_gradient_equal_the_quadratic_penalty(
    columns: str, kind: str, unbiased: bool, c: float, b: int, seed: int
) -> None:
    frame = _frame(120, seed)
    encoded = encode_protected(frame, COLUMN_SETS[columns])
    plan = PenaltyPlan(kind, encoded, c=c, unbiased=unbiased)
    rng = np.random.default_rng(seed + 1)
    rows = rng.choice(120, b, replace=False)
    values = rng.standard_normal(b) + 0.02 * frame["age"].to_numpy()[rows]
    value, plain, reference, grad, grad_reference = _compare(plan, kind, encoded, rows, values, c, unbiased)
    assert value == pytest.approx(reference, rel=1e-9, abs=1e-12)
    assert plain == pytest.approx(reference, rel=1e-9, abs=1e-12)
    assert torch.allclose(grad, grad_reference, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("columns", sorted(COLUMN_SETS))
def test_tied_predictions_get_the_gradient_of_autograd(columns: str, unbiased: bool) -> None:
    frame = _frame(80, 3)
    encoded = encode_protected(frame, COLUMN_SETS[columns])
    rows = np.arange(80)
    values = np.round(np.random.default_rng(4).standard_normal(80))
    for kind in ("dcov", "jdcov", "ccdcov"):
        plan = PenaltyPlan(kind, encoded, unbiased=unbiased)
        value, plain, reference, grad, grad_reference = _compare(plan, kind, encoded, rows, values, 1.0, unbiased)
        assert value == pytest.approx(reference, rel=1e-9, abs=1e-12)
        assert plain == pytest.approx(reference, rel=1e-9, abs=1e-12)
        assert torch.allclose(grad, grad_reference, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("unbiased", [True, False])
def test_sorted_and_dense_terms_match_dcor(dcor, unbiased: bool) -> None:
    frame = _frame(300, 5)
    reference = dcor.u_distance_covariance_sqr if unbiased else dcor.distance_covariance_sqr
    y = np.random.default_rng(6).standard_normal(300) + 0.05 * frame["age"].to_numpy()
    rows = np.arange(300)
    for columns in (["age"], ["sex", "age"], ["region", "age", "income"]):
        encoded = encode_protected(frame, columns)
        plan = PenaltyPlan("ccdcov", encoded, unbiased=unbiased)
        value = plan.value(torch.tensor(y, requires_grad=True), plan.constant(rows))
        assert float(value.detach()) == pytest.approx(reference(y, encoded.matrix), rel=1e-10)


def test_each_attribute_set_gets_the_cheapest_exact_terms() -> None:
    frame = _frame(60, 0)
    expected = {
        ("ccdcov", "categorical"): ("grouped",),
        ("jdcov", "categorical"): ("grouped",),
        ("ccdcov", "continuous"): ("sorted",),
        ("jdcov", "continuous"): ("sorted",),
        ("dcov", "binary+continuous"): ("grouped", "sorted"),
        ("dcov", "categorical+continuous"): ("grouped", "sorted", "sorted"),
        ("ccdcov", "binary+continuous"): ("dense",),
        ("jdcov", "categorical+continuous"): ("dense",),
    }
    for (kind, columns), methods in expected.items():
        assert PenaltyPlan(kind, encode_protected(frame, COLUMN_SETS[columns])).methods == methods


def test_constants_of_an_epoch_follow_the_batches() -> None:
    frame = _frame(203, 1)
    encoded = encode_protected(frame, COLUMN_SETS["binary+continuous"])
    plan = PenaltyPlan("dcov", encoded)
    order = np.random.default_rng(2).permutation(203)
    batches = [order[:64], order[64:128], order[128:]]
    values = torch.tensor(np.random.default_rng(3).standard_normal(203))
    for rows, constant in zip(batches, plan.constants(batches)):
        reference = penalty("dcov", values[rows], [torch.tensor(block[rows]) for block in encoded.blocks])
        assert float(plan.value(values[rows], constant)) == pytest.approx(float(reference), rel=1e-9)


def test_bad_calls_are_parameter_errors() -> None:
    encoded = encode_protected(_frame(40, 0), ["sex", "age"])
    with pytest.raises(ParameterError, match="Unknown penalty"):
        PenaltyPlan("gini", encoded)
    with pytest.raises(ParameterError, match="positive"):
        PenaltyPlan("jdcov", encoded, c=0.0)
    with pytest.raises(ParameterError, match="too small"):
        PenaltyPlan("ccdcov", encoded).constant(np.arange(3))


def test_the_weight_scales_value_and_gradient() -> None:
    frame = _frame(100, 2)
    rows = np.arange(100)
    values = np.random.default_rng(5).standard_normal(100)
    for columns, kind in (("categorical", "jdcov"), ("continuous", "ccdcov"), ("binary+continuous", "jdcov")):
        plan = PenaltyPlan(kind, encode_protected(frame, COLUMN_SETS[columns]))
        constant = plan.constant(rows)
        plain, scaled = torch.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        one, seven = plan.value(plain, constant), plan.value(scaled, constant, 7.0)
        one.backward()
        seven.backward()
        assert float(seven.detach()) == pytest.approx(7.0 * float(one.detach()), rel=1e-12)
        assert torch.allclose(scaled.grad, 7.0 * plain.grad, rtol=1e-12)
        with torch.no_grad():
            assert float(plan.value(plain, constant, 7.0)) == pytest.approx(7.0 * float(one.detach()), rel=1e-10)
