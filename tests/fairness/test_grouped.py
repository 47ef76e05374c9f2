"""The exact grouped penalty against the O(n²) penalties (value and gradient) and dcor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from covwb.fairness.encoding import encode_protected
from covwb.fairness.grouped import (
    grouped_distance_variance,
    grouped_penalty,
    grouped_statistic,
)
from covwb.fairness.torch_penalties import penalty


def _encoded(n: int, seed: int):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["f", "m"], n),
            "region": rng.choice(["a", "b", "c", "d"], n),
            "grade": rng.choice([1, 2, 3], n),
        }
    )
    frame.loc[:3, "sex"], frame.loc[:3, "region"], frame.loc[:3, "grade"] = (
        ["f", "m", "f", "m"],
        ["a", "b", "c", "d"],
        [1, 2, 3, 1],
    )
    return encode_protected(frame, ["sex", "region", "grade"], kinds={"grade": "categorical"})


@settings(max_examples=25, deadline=None)
@given(
    st.integers(6, 80),
    st.integers(0, 10_000),
    st.sampled_from(["dcov", "jdcov", "ccdcov"]),
    st.booleans(),
    st.sampled_from([0.5, 1.0, 2.0]),
    st.booleans(),
)
def test_value_and_gradient_equal_the_quadratic_penalty(
    n: int, seed: int, kind: str, unbiased: bool, c: float, ties: bool
) -> None:
    encoded = _encoded(n, seed)
    rng = np.random.default_rng(seed + 1)
    values = rng.standard_normal(n) + encoded.cells
    if ties:
        values = np.round(values)
    quadratic = torch.tensor(values, requires_grad=True)
    reference = penalty(kind, quadratic, [torch.tensor(b) for b in encoded.blocks], c=c, unbiased=unbiased)
    reference.backward()
    grouped = torch.tensor(values, requires_grad=True)
    value = grouped_penalty(grouped, torch.tensor(encoded.cells), encoded.cell_blocks, kind, c=c, unbiased=unbiased)
    value.backward()
    assert float(value.detach()) == pytest.approx(float(reference.detach()), rel=1e-9, abs=1e-12)
    if not ties:
        assert torch.allclose(grouped.grad, quadratic.grad, rtol=1e-8, atol=1e-12)


def test_matches_dcor_on_the_concatenated_encoding(dcor) -> None:
    encoded = _encoded(500, 7)
    y = np.random.default_rng(8).standard_normal(500) + encoded.codes[:, 1]
    z = encoded.matrix
    assert grouped_statistic(y, encoded.cells, encoded.cell_blocks) == pytest.approx(
        dcor.u_distance_covariance_sqr(y, z), rel=1e-10
    )
    assert grouped_statistic(y, encoded.cells, encoded.cell_blocks, unbiased=False) == pytest.approx(
        dcor.distance_covariance_sqr(y, z), rel=1e-10
    )
    assert grouped_distance_variance(encoded.cells, encoded.cell_blocks) == pytest.approx(
        dcor.distance_covariance_sqr(z, z), rel=1e-10
    )


def test_cells_absent_from_a_batch_are_allowed() -> None:
    encoded = _encoded(200, 3)
    rows = np.flatnonzero(encoded.cells < 5)
    sub = encoded.subset(rows)
    values = torch.tensor(np.random.default_rng(0).standard_normal(rows.size))
    grouped = grouped_penalty(values, torch.tensor(sub.cells), sub.cell_blocks, "ccdcov")
    reference = penalty("ccdcov", values, [torch.tensor(b) for b in sub.blocks])
    assert float(grouped) == pytest.approx(float(reference), rel=1e-9)


def test_scales_to_a_hundred_thousand_rows() -> None:
    rng = np.random.default_rng(5)
    n, k = 100_000, 20
    cells = torch.tensor(rng.integers(0, k, n))
    values = torch.tensor(rng.standard_normal(n), requires_grad=True)
    value = grouped_penalty(values, cells, [np.eye(k)], "ccdcov")
    value.backward()
    assert torch.isfinite(values.grad).all()
    assert abs(float(value.detach())) < 1e-4
