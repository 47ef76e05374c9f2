"""The compositional page's analysis: settings made explicit, the estimator's numbers, view choices, steps, tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from covwb.coda import CompositionalPartialCorrelation
from covwb.coda.analysis import MAX_PAIR_ROWS, MAX_PARTS, CodaSettings, analyse
from covwb.datasets.types import TableDataset
from covwb.errors import ParameterError, TableFormatError
from covwb.sources import BuiltinSource, UploadSource
from tests.coda.conftest import CUPS_PARTS

UPLOAD = UploadSource.from_dict({"reader": "table", "files": [{"name": "t.csv", "sha256": "0" * 64}]})


def _otus(n: int = 289, p: int = 127, seed: int = 2) -> TableDataset:
    """A gut-microbiome-sized count table, mostly zeros, two taxa rising and falling together."""
    rng = np.random.default_rng(seed)
    counts = rng.negative_binomial(0.2, 0.1, size=(n, p)).astype(float)
    counts[:, :2] += rng.poisson(30.0, size=(n, 1))
    frame = pd.DataFrame(counts, columns=[str(k) for k in range(p)])
    frame.insert(0, "site", rng.choice(["gut", "skin"], n))
    return TableDataset("otus", frame, "upload: otus.csv")


def test_resolve_fills_the_parts_the_filter_and_the_groups() -> None:
    fgl = BuiltinSource("fgl").load()
    resolved, notes = CodaSettings(source=BuiltinSource("fgl")).resolve(fgl)
    assert resolved.parts == ("Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe") and notes == ()
    assert resolved.filter_by == "none" and resolved.colour_by == "type"
    wide = _otus(30, 450)
    resolved, _ = CodaSettings(source=UPLOAD).resolve(wide)
    assert len(resolved.parts) == 450 and resolved.filter_by == "variance" and resolved.colour_by == ""
    resolved, notes = CodaSettings(source=UPLOAD, parts=("0", "1", "nope"), colour_by="none here").resolve(wide)
    assert len(resolved.parts) == 450 and resolved.colour_by == ""
    assert len(notes) == 2 and "'nope'" in notes[0] and "'none here'" in notes[1]


def test_a_linked_value_the_table_cannot_take_is_refused_by_the_call() -> None:
    with pytest.raises(ParameterError, match="no column 'nope'"):
        analyse(CodaSettings(source=UPLOAD, parts=("0", "1", "nope")), _otus())


def test_the_partial_correlations_are_the_public_estimators_on_a_count_table() -> None:
    data = _otus()
    result = analyse(CodaSettings(source=UPLOAD, colour_by="site"), data)
    counts = data.frame[[str(k) for k in range(127)]]
    estimator = CompositionalPartialCorrelation().fit(counts)
    assert result.statistics.partial.method_ == estimator.method_ == "exact"
    np.testing.assert_allclose(
        result.statistics.partial.partial_correlation_, estimator.partial_correlation_, atol=1e-12
    )
    assert result.replacement["zeros_replaced"] == estimator.n_zeros_replaced_ > 0.5 * counts.size
    assert any("were zero and were replaced" in w for w in result.warnings)
    # the strongest pair is the two taxa built to move together; the view choices are explicit
    assert set(result.settings.pair) == {"0", "1"}
    assert result.settings.edge_labels == result.settings.ray_labels == 15
    assert len(result.settings.dropped) == 2 and result.settings.ternary == ("0", "1", "2")
    assert result.groups is not None and set(result.groups) == {"gut", "skin"}


def test_tables_hold_what_the_page_shows() -> None:
    result = analyse(CodaSettings(source=UPLOAD), _otus())
    tables = result.tables()
    assert set(tables) == {
        "summary",
        "zeros_per_part",
        "centre_and_variances",
        "variation_array",
        "partial_correlation",
        "pairs",
        "reference_independence",
        "subcomposition",
        "biplot_scores",
        "biplot_loadings",
    }
    assert len(tables["pairs"]) == MAX_PAIR_ROWS < len(result.pairs) == 127 * 126 // 2
    assert tables["partial_correlation"].shape == (127, 128)
    reference = tables["reference_independence"]
    np.testing.assert_allclose(reference["residual_correlation"], reference["formula"], atol=1e-9)
    assert tables["summary"]["method"].iloc[0] == "exact"


def test_without_more_samples_than_parts_the_exact_demonstrations_are_left_out_with_a_note() -> None:
    result = analyse(CodaSettings(source=UPLOAD), _otus(40, 60))
    assert result.statistics.partial.method_ == "basis-shrinkage"
    assert result.reference is None and result.subcomposition is None
    assert "reference_independence" not in result.tables()
    assert len(result.notes) == 1 and "more samples than parts (40 samples for 60 parts)" in result.notes[0]


def test_a_view_choice_that_no_longer_applies_falls_back_with_a_warning() -> None:
    data = _otus(200, 40)
    zero_share = (data.frame[[str(k) for k in range(40)]] == 0).mean()
    rare = str(zero_share.idxmax())
    settings = CodaSettings(source=UPLOAD, pair=("0", rare), max_zero_fraction=float(zero_share.max()) - 0.01)
    result = analyse(settings, data)
    assert rare not in result.parts
    assert set(result.settings.pair) == {"0", "1"}
    assert any(f"Pair of parts: the part {rare!r} is not among the parts analysed" in w for w in result.warnings)


def test_too_many_parts_or_bad_amounts_are_refused_with_a_sentence() -> None:
    wide = _otus(30, MAX_PARTS + 10)
    with pytest.raises(ParameterError, match="variance or prevalence"):
        analyse(CodaSettings(source=UPLOAD, filter_by="none"), wide)
    assert len(analyse(CodaSettings(source=UPLOAD, keep=50), wide).parts) == 50
    bad = TableDataset("bad", pd.DataFrame({"a": [1.0, -2.0, 3.0], "b": [1.0, 4.0, 2.0], "c": [2.0, 1.0, 1.0]}), "u")
    with pytest.raises(TableFormatError, match="negative"):
        analyse(CodaSettings(source=UPLOAD), bad)


def test_the_memo_recomputes_only_the_steps_a_change_reads() -> None:
    store: dict = {}
    computed: list[str] = []

    def memo(key, compute):
        if key not in store:
            computed.append(key[0])
            store[key] = compute()
        return store[key]

    data = _otus(120, 20)
    first = analyse(CodaSettings(source=UPLOAD), data, memo=memo)
    assert computed == [
        "coda-parts",
        "coda-zeros",
        "coda-statistics",
        "coda-pairs",
        "coda-reference",
        "coda-subcomposition",
        "coda-pca",
    ]
    computed.clear()
    other = first.settings.parts[5]
    again = analyse(CodaSettings(source=UPLOAD, pair=(first.settings.pair[0], other), threshold=0.1), data, memo=memo)
    assert computed == ["coda-reference"] and again.settings.threshold == 0.1
    computed.clear()
    analyse(CodaSettings(source=UPLOAD, zero_method="pseudo-count"), data, memo=memo)
    assert computed[0] == "coda-zeros" and "coda-parts" not in computed


def test_progress_moves_to_done() -> None:
    seen: list[float] = []
    analyse(CodaSettings(source=BuiltinSource("pottery")), progress=lambda f, _: seen.append(f))
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == 1.0


@pytest.mark.shared_data
def test_cups_give_erbs_values_through_the_analysis(shared_data: Path) -> None:
    frame = pd.read_csv(shared_data / "coda" / "cups.csv")
    data = TableDataset("cups", frame, "upload: cups.csv")
    result = analyse(CodaSettings(source=UPLOAD, parts=tuple(CUPS_PARTS)), data)
    pairs = result.pairs.set_index(["part_i", "part_j"])
    assert pairs.loc[("Fe", "Mg"), "partial_correlation"] == pytest.approx(0.428432074365428, abs=1e-10)
    assert result.statistics.total_variance == pytest.approx(0.236098, abs=1e-6)
    shrunk = analyse(CodaSettings(source=UPLOAD, parts=tuple(CUPS_PARTS), method="basis-shrinkage"), data)
    assert shrunk.statistics.partial.shrinkage_ == pytest.approx(0.059123, abs=1e-6)
