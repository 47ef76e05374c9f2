"""Encoding of protected attributes: kinds, documented scaling, cells, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist

from covwb.errors import ParameterError
from covwb.fairness.encoding import encode_protected


def test_kinds_and_scaling(table: pd.DataFrame) -> None:
    encoded = encode_protected(table, ["gender", "region", "age"])
    assert [a.kind for a in encoded.attributes] == ["binary", "categorical", "continuous"]
    gender, region, age = encoded.blocks
    assert set(np.unique(gender)) == {0.0, 1.0}
    assert np.allclose(np.unique(pdist(np.unique(region, axis=0))), np.sqrt(2))
    assert age.min() == 0.0 and age.max() == 1.0
    assert encoded.matrix.shape == (len(table), 1 + 3 + 1)
    assert not encoded.exact_cells
    assert len(encoded.cell_labels) == 2 * 3 * 3
    assert encoded.cell_labels[0].startswith("gender=female · region=north · age=")


def test_cells_of_categorical_attributes_reproduce_the_encoding(table: pd.DataFrame) -> None:
    encoded = encode_protected(table, ["gender", "region"])
    assert encoded.exact_cells
    rebuilt = np.concatenate([block[encoded.cells] for block in encoded.cell_blocks], axis=1)
    assert np.array_equal(rebuilt, encoded.matrix)
    sub = encoded.subset(np.arange(10))
    assert sub.matrix.shape[0] == 10 and sub.cell_labels == encoded.cell_labels


def test_ordered_categories_keep_their_order_and_overrides_apply() -> None:
    frame = pd.DataFrame(
        {
            "band": pd.Categorical(["hi", "lo", "mid", "lo"], categories=["lo", "mid", "hi"], ordered=True),
            "grade": [1.0, 2.0, 3.0, 1.0],
        }
    )
    encoded = encode_protected(frame, ["band", "grade"], kinds={"grade": "categorical"})
    assert encoded.attributes[0].levels == ("lo", "mid", "hi")
    assert encoded.attributes[1].kind == "categorical" and encoded.blocks[1].shape == (4, 3)


@pytest.mark.parametrize(
    ("frame", "columns", "kinds", "words"),
    [
        (pd.DataFrame({"g": ["a"] * 5}), ["g"], None, "single level"),
        (pd.DataFrame({"g": ["a", None, "b"]}), ["g"], None, "missing"),
        (pd.DataFrame({"g": ["a", "b", "c"]}), ["g"], {"g": "continuous"}, "not numeric"),
        (pd.DataFrame({"g": ["a", "b", "c"]}), ["g"], {"g": "binary"}, "cannot be binary"),
        (pd.DataFrame({"g": ["a", "b"]}), ["h"], None, "not a column"),
        (pd.DataFrame({"g": ["a", "b"]}), [], None, "at least one"),
    ],
)
def test_bad_protected_attributes(frame: pd.DataFrame, columns: list[str], kinds: dict | None, words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        encode_protected(frame, columns, kinds=kinds)
