"""Synthetic SPD batches: condition numbers, the rank-deficient member, seeds, bad settings."""

from __future__ import annotations

import numpy as np
import pytest

from covwb.errors import ParameterError
from covwb.spd.synthetic import synthetic_batch


@pytest.mark.parametrize("k", [1.0, 4.0, 8.0])
def test_condition_number_follows_the_setting(k: float) -> None:
    batch = synthetic_batch(20, 6, k, jitter=0.0, seed=1)
    eig = np.linalg.eigvalsh(batch.matrices)
    np.testing.assert_allclose(np.log10(eig[:, -1] / eig[:, 0]), k, atol=1e-3 + 1e-8 * 10**k)
    assert (eig > 0).all()
    np.testing.assert_array_equal(batch.matrices, np.swapaxes(batch.matrices, 1, 2))


def test_rank_deficient_member_and_seed() -> None:
    batch = synthetic_batch(5, 8, 2.0, rank_deficient=True, ridge=1e-8, seed=3)
    eig = np.linalg.eigvalsh(batch.matrices[0])
    assert (eig[:6] < 1e-6).all() and (eig[6:] > 1e-3).all()
    assert list(batch.labels).count("rank-deficient") == 1
    np.testing.assert_array_equal(
        batch.matrices, synthetic_batch(5, 8, 2.0, rank_deficient=True, ridge=1e-8, seed=3).matrices
    )
    assert not np.array_equal(
        batch.matrices, synthetic_batch(5, 8, 2.0, rank_deficient=True, ridge=1e-8, seed=4).matrices
    )


def test_bad_settings() -> None:
    with pytest.raises(ParameterError):
        synthetic_batch(1, 4)
    with pytest.raises(ParameterError):
        synthetic_batch(4, 4, 13.0)
    with pytest.raises(ParameterError):
        synthetic_batch(4, 4, rank_deficient=True, ridge=0.0)
