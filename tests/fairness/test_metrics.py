"""Fairness metrics: closed forms, sklearn references, the permutation test, warnings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, mean_poisson_deviance, roc_auc_score

from covwb.errors import ParameterError
from covwb.fairness.encoding import encode_protected
from covwb.fairness.metrics import (
    DEPENDENCE_ROWS,
    cell_table,
    check_permutations,
    dependence_rows,
    dependence_statistics,
    dependence_warnings,
    evaluate_predictions,
    group_table,
    independence_rejected,
    independence_wording,
    jensen_shannon,
    parity_gaps,
    permutation_test,
    small_cell_warnings,
    task_metrics,
    unfairness_uf,
)


def _two_groups(n: int = 200):
    frame = pd.DataFrame({"g": np.repeat(["a", "b"], n // 2), "r": np.tile(["x", "y"], n // 2)})
    return encode_protected(frame, ["g", "r"])


def test_cell_and_group_tables_and_gaps() -> None:
    encoded = _two_groups(8)
    predictions = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    cells = cell_table(predictions, encoded, y=predictions * 0)
    assert list(cells["n"]) == [2, 2, 2, 2]
    assert np.allclose(cells["mean prediction"], [2, 3, 6, 7])
    assert np.allclose(cells["gap to overall"], [-2.5, -1.5, 1.5, 2.5])
    assert cells["small cell"].all()
    groups = group_table(predictions, encoded)
    assert np.allclose(groups["mean prediction"], [2.5, 6.5, 4.0, 5.0])
    assert parity_gaps(predictions, encoded) == {"g": 4.0, "r": 1.0, "intersectional": 5.0}


def test_uf_closed_form() -> None:
    cells = np.array([0, 0, 1, 1, 2, 2])
    predictions = np.array([1.0, 3.0, 2.0, 2.0, 5.0, 7.0])
    expected = np.var([2.0, 2.0, 6.0], ddof=1) / np.var(predictions, ddof=1)
    assert unfairness_uf(predictions, cells) == pytest.approx(expected)
    assert unfairness_uf(np.ones(6), cells) == 0.0


@pytest.mark.parametrize("method", ["kde", "hist"])
def test_jsd_is_zero_for_equal_and_one_bit_for_disjoint_halves(method: str) -> None:
    values = np.linspace(0.0, 1.0, 100)
    same = np.r_[values, values]
    cells = np.repeat([0, 1], 100)
    assert jensen_shannon(same, cells, method=method) == pytest.approx(0.0, abs=1e-12)
    disjoint = np.r_[values, values + 100.0]
    assert jensen_shannon(disjoint, cells, method=method) == pytest.approx(1.0, abs=1e-6)
    assert jensen_shannon(disjoint, cells, method=method, weights="uniform") == pytest.approx(1.0, abs=1e-6)


def test_task_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300).astype(float)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 300), 0, 1)
    binary = task_metrics("binary", y, p)
    assert binary["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert binary["brier"] == pytest.approx(brier_score_loss(y, p))
    counts = rng.poisson(2.0, 300).astype(float)
    mu = rng.uniform(1, 3, 300)
    assert task_metrics("counts", counts, mu)["poisson_deviance"] == pytest.approx(mean_poisson_deviance(counts, mu))
    assert task_metrics("continuous", np.zeros(4), np.full(4, 2.0))["rmse"] == pytest.approx(2.0)


def test_exact_and_quadratic_dependence_statistics_agree() -> None:
    encoded = _two_groups(300)
    predictions = np.random.default_rng(1).standard_normal(300) + encoded.cells
    exact = dependence_statistics(predictions, encoded, c=0.5)
    quadratic = dependence_statistics(predictions, replace(encoded, exact_cells=False), c=0.5)
    assert exact == pytest.approx(quadratic, rel=1e-9)
    assert 0 < exact["dcor"] < 1


def _with_age(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns = {"g": rng.choice(["a", "b"], n), "r": rng.choice(["x", "y", "z"], n), "age": rng.uniform(18, 80, n)}
    return pd.DataFrame(columns)


@pytest.mark.parametrize("columns", [["age"], ["g", "age"], ["g", "r", "age"]])
def test_dependence_statistics_with_a_continuous_attribute_match_dcor(dcor, columns: list[str]) -> None:
    import torch

    from covwb.fairness.torch_penalties import jdcov_sq

    encoded = encode_protected(_with_age(400, 4), columns)
    predictions = np.random.default_rng(5).standard_normal(400) + 0.02 * encoded.matrix[:, -1]
    got = dependence_statistics(predictions, encoded, c=0.5)
    assert got["dcor"] == pytest.approx(dcor.distance_correlation_sqr(predictions, encoded.matrix), rel=1e-9)
    assert got["ccdcov"] == pytest.approx(dcor.u_distance_covariance_sqr(predictions, encoded.matrix), rel=1e-9)
    blocks = [torch.tensor(block) for block in encoded.blocks]
    assert got["jdcov"] == pytest.approx(float(jdcov_sq(torch.tensor(predictions), blocks, c=0.5)), rel=1e-9)


def test_quadratic_statistics_of_a_large_set_use_a_seeded_subsample() -> None:
    n = DEPENDENCE_ROWS + 500
    mixed = encode_protected(_with_age(n, 6), ["g", "age"])
    rows = dependence_rows(mixed, seed=3)
    assert rows.size == DEPENDENCE_ROWS and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, dependence_rows(mixed, seed=3))
    assert dependence_rows(encode_protected(_with_age(n, 6), ["age"])).size == n
    predictions = np.random.default_rng(7).standard_normal(n)
    assert dependence_statistics(predictions, mixed, seed=3) == pytest.approx(
        dependence_statistics(predictions[rows], mixed.subset(rows), seed=3), rel=1e-12
    )


def test_permutation_test_detects_dependence_and_keeps_its_level() -> None:
    encoded = _two_groups(200)
    rng = np.random.default_rng(2)
    _, dependent = permutation_test(rng.standard_normal(200) + 0.8 * encoded.cells, encoded, n_permutations=99, seed=0)
    assert dependent == pytest.approx(0.01)
    p_values = [permutation_test(rng.standard_normal(200), encoded, n_permutations=19, seed=s)[1] for s in range(20)]
    assert 0.02 < np.mean(np.array(p_values) <= 0.05) + 0.05 < 0.4


def test_small_cells_and_dependent_attributes_are_warned() -> None:
    rng = np.random.default_rng(3)
    a = rng.choice(["p", "q"], 300)
    frame = pd.DataFrame(
        {"a": a, "b": np.where(rng.uniform(size=300) < 0.9, a, "other"), "c": rng.choice(["u", "v"], 300)}
    )
    encoded = encode_protected(frame, ["a", "b", "c"])
    warning = " ".join(dependence_warnings(encoded))
    assert "a and b" in warning and "JdCov" in warning and "a and c" not in warning
    assert "fewer than 20 rows" in small_cell_warnings(encoded)[0]
    assert small_cell_warnings(encoded, small=1) == []


def test_evaluate_collects_every_metric() -> None:
    encoded = _two_groups(100)
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 100).astype(float)
    result = evaluate_predictions("binary", y, rng.uniform(size=100), encoded, n_permutations=9)
    assert {"roc_auc", "brier", "accuracy", "jsd", "uf", "dp_gap", "dcor", "ccdcov", "jdcov", "perm_p"} <= set(
        result.metrics
    )
    assert len(result.cells) == 4


def test_permutation_test_with_a_continuous_attribute_detects_dependence() -> None:
    encoded = encode_protected(_with_age(300, 8), ["g", "age"])
    rng = np.random.default_rng(9)
    _, dependent = permutation_test(
        rng.standard_normal(300) + 0.05 * encoded.matrix[:, -1] * 60, encoded, n_permutations=99, seed=0
    )
    _, independent = permutation_test(rng.standard_normal(300), encoded, n_permutations=99, seed=0)
    assert dependent == pytest.approx(0.01)
    assert independent > 0.05


def test_parity_gap_leaves_out_cells_too_small_to_have_a_mean() -> None:
    frame = pd.DataFrame({"race": ["a"] * 50 + ["b"] * 50 + ["c"] * 2})
    encoded = encode_protected(frame, ["race"])
    predictions = np.r_[np.full(50, 0.4), np.full(50, 0.5), [1.0, 1.0]]
    assert parity_gaps(predictions, encoded) == pytest.approx({"race": 0.1, "intersectional": 0.1})
    assert parity_gaps(predictions, encoded, min_rows=1)["intersectional"] == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("n_permutations", "alpha", "refused"),
    [(19, 0.05, False), (18, 0.05, True), (99, 0.01, False), (98, 0.01, True), (0, 0.05, False)],
)
def test_permutations_that_could_never_reject_are_refused(n_permutations: int, alpha: float, refused: bool) -> None:
    if refused:
        with pytest.raises(ParameterError, match="could never reject independence"):
            check_permutations(n_permutations, alpha)
    else:
        check_permutations(n_permutations, alpha)


def test_the_smallest_attainable_p_value_rejects_and_the_wording_never_says_passes() -> None:
    encoded = _two_groups(200)
    dependent = encoded.matrix[:, 0] + 0.01 * np.random.default_rng(0).standard_normal(200)
    _, p = permutation_test(dependent, encoded, n_permutations=19, seed=0)
    assert p == pytest.approx(1 / 20) and independence_rejected(p, 0.05)
    assert independence_wording(p, 0.05) == "independence rejected (p = 0.05 ≤ α = 0.05)"
    assert "not rejected" in independence_wording(0.2, 0.05) and "pass" not in independence_wording(0.2, 0.05)
