"""Fingerprints hash every byte: no sampling collisions on large arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd

from covwb.datasets.fingerprint import fingerprint
from covwb.datasets.types import TableDataset


def test_large_arrays_differing_in_one_element_differ() -> None:
    a = np.zeros((22, 60_000))
    b = a.copy()
    b[13, 31_337] = 1e-12
    assert fingerprint(a) != fingerprint(b)
    assert fingerprint(a) == fingerprint(a.copy())


def test_dtype_and_shape_are_part_of_the_key() -> None:
    a = np.arange(6, dtype=np.float64)
    assert fingerprint(a) != fingerprint(a.reshape(2, 3))
    assert fingerprint(a) != fingerprint(a.astype(np.float32))


def test_tables_hash_content_and_column_names() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    same = TableDataset("t", frame.copy(), "upload: t.csv")
    renamed = TableDataset("t", frame.rename(columns={"a": "c"}), "upload: t.csv")
    changed = TableDataset("t", frame.assign(a=[1.0, 2.5]), "upload: t.csv")
    base = fingerprint(TableDataset("t", frame, "upload: t.csv"))
    assert fingerprint(same) == base
    assert fingerprint(renamed) != base
    assert fingerprint(changed) != base


def test_trial_stacks_hash_their_trials() -> None:
    from covwb.datasets.types import TrialStack

    trials = np.random.default_rng(0).standard_normal((4, 3, 50))
    changed = trials.copy()
    changed[2, 1, 17] += 1e-9
    base = fingerprint(TrialStack("t", trials, None, "upload: t.npy"))
    assert fingerprint(TrialStack("t", trials.copy(), None, "upload: t.npy")) == base
    assert fingerprint(TrialStack("t", changed, None, "upload: t.npy")) != base
