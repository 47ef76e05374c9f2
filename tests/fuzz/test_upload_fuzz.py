"""Fuzz every sidebar uploader with generated malformed files, through the page as a browser drives it.

Each uploader kind gets more than 500 seeded inputs (same seed, same bytes), uploaded with
AppTest on the dataset explorer, the page that offers all four kinds. Every input must end
either in a typed error shown with ``st.error`` (the message is exactly the sentence of a
:class:`~covwb.errors.WorkbenchError` raised in that run) or in a dataset the page shows;
never in an uncaught exception, an untyped message or a blank page. The counts per kind
and outcome are printed at the end of the pytest run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from tests.fuzz import gen_eeg, gen_spd, gen_tables
from tests.fuzz.cases import Family, generate
from tests.fuzz.harness import UploadDriver
from tests.fuzz.summary import record

TABLE_KINDS: dict[str, Family] = {
    "empty": gen_tables.empty,
    "binary_junk": gen_tables.binary_junk,
    "magic_junk": gen_tables.magic_junk,
    "one_row": gen_tables.one_row,
    "one_column": gen_tables.one_column,
    "duplicate_headers": gen_tables.duplicate_headers,
    "non_utf8": gen_tables.non_utf8,
    "boms": gen_tables.boms,
    "decimal_commas": gen_tables.decimal_commas,
    "ragged_rows": gen_tables.ragged_rows,
    "numbers_as_text": gen_tables.numbers_as_text,
    "huge_numbers": gen_tables.huge_numbers,
    "nan_inf": gen_tables.nan_inf,
    "wide": gen_tables.wide,
    "quotes": gen_tables.quotes,
    "control_chars": gen_tables.control_chars,
    "mutated_valid": gen_tables.mutated_valid,
    "random_structure": gen_tables.random_structure,
    "constant_columns": gen_tables.constant_columns,
    "huge_cell": gen_tables.huge_cell,
    "tall": gen_tables.tall,
}
"""Kinds of malformed table (uploader "Table (CSV/TSV)")."""

EEG_CSV_KINDS: dict[str, Family] = {
    **TABLE_KINDS,
    "eeg_like": gen_tables.eeg_like,
    "eeg_gaps": gen_tables.eeg_gaps,
    "eeg_amplitudes": gen_tables.eeg_amplitudes,
    "eeg_names": gen_tables.eeg_names,
}
"""Kinds of malformed EEG table (uploader "EEG as CSV"): the table kinds plus EEG-shaped ones."""

SPD_KINDS: dict[str, Family] = {
    "npy_valid": gen_spd.npy_valid,
    "npy_not_spd": gen_spd.npy_not_spd,
    "npy_dtypes": gen_spd.npy_dtypes,
    "pickles": gen_spd.pickles,
    "npy_headers": gen_spd.npy_headers,
    "npz_hostile": gen_spd.npz_hostile,
    "npz_bomb": gen_spd.npz_bomb,
    "csv_matrices": gen_spd.csv_matrices,
    "mat_hostile": gen_spd.mat_hostile,
    "mat_contents": gen_spd.mat_contents,
    "valid_labelled": gen_spd.valid_labelled,
    "binary_junk": gen_spd.binary_junk,
    "empty": gen_spd.empty,
}
"""Kinds of malformed covariance file (uploader "Covariance matrices")."""

EEG_KINDS: dict[str, Family] = {
    "edf": gen_eeg.edf,
    "bdf": gen_eeg.bdf,
    "gdf": gen_eeg.gdf,
    "fif": gen_eeg.fif,
    "brainvision": gen_eeg.brainvision,
    "eeglab": gen_eeg.eeglab,
    "binary_junk": gen_eeg.binary_junk,
    "empty": gen_eeg.empty,
    "combos": gen_eeg.combos,
    "valid_variants": gen_eeg.valid_variants,
}
"""Kinds of malformed EEG recording (uploader "EEG recording")."""


@dataclass(frozen=True)
class Uploader:
    """One sidebar uploader and how it is fuzzed."""

    label: str
    kinds: dict[str, Family]
    n_cases: int
    seed: int


UPLOADERS: dict[str, Uploader] = {
    "table": Uploader("Table (CSV/TSV)", TABLE_KINDS, n_cases=525, seed=1),
    "eeg_csv": Uploader("EEG as CSV (channels in columns)", EEG_CSV_KINDS, n_cases=525, seed=2),
    "spd": Uploader("Covariance matrices (.npy, .npz, .csv, .mat)", SPD_KINDS, n_cases=520, seed=3),
    "eeg": Uploader("EEG recording", EEG_KINDS, n_cases=520, seed=4),
}
"""Every uploader kind offered by ``ui.choose_dataset``, with its generators, case count and seed."""

_FRESH_SESSION_CHECKS = 4

# Huge numbers overflow in pandas and numpy on purpose here; the outcome, not the warning, is checked.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.mark.parametrize("uploader", list(UPLOADERS))
def test_every_generated_input_ends_in_a_typed_error_or_a_valid_result(uploader: str) -> None:
    spec = UPLOADERS[uploader]
    cases = generate(spec.kinds, spec.n_cases, spec.seed)
    assert len(cases) >= 500
    start = time.perf_counter()
    driver = UploadDriver(spec.label)
    for case in cases:
        driver.run(case)
    record(uploader, driver.counts, time.perf_counter() - start)
    assert not driver.failures, f"{len(driver.failures)} of {len(cases)} inputs failed:\n" + "\n".join(
        driver.failures[:25]
    )
    if uploader == "spd":
        assert gen_spd.TRIPPED == [], "a pickled payload was unpickled"
    # The session that served every input above still shows what a brand-new session shows.
    step = len(cases) // _FRESH_SESSION_CHECKS
    for case in cases[step // 2 :: step][:_FRESH_SESSION_CHECKS]:
        shared, fresh = driver.matches_fresh_session(case)
        assert (shared.status, shared.errors, shared.headers) == (fresh.status, fresh.errors, fresh.headers), case.label
