"""covwb.datasets.load: every built-in dataset by name, the same data the pages show."""

from __future__ import annotations

import pytest

from covwb import datasets
from covwb.datasets.fingerprint import fingerprint
from covwb.datasets.simulated_eeg import simulate_motor_imagery
from covwb.datasets.tables import BUILTIN_TABLES, load_builtin_table
from covwb.errors import ParameterError


def test_names_list_the_recording_and_every_table() -> None:
    assert datasets.names() == ("simulated_eeg", *BUILTIN_TABLES)


@pytest.mark.parametrize("key", list(BUILTIN_TABLES))
def test_tables_load_by_key_and_by_the_label_the_pages_show(key: str) -> None:
    expected = fingerprint(load_builtin_table(key))
    assert fingerprint(datasets.load(key)) == expected
    assert fingerprint(datasets.load(BUILTIN_TABLES[key].name.upper())) == expected


@pytest.mark.parametrize("name", ["simulated_eeg", datasets.SIMULATED_EEG_NAME, "simulated motor imagery"])
def test_the_simulated_recording_loads_by_name_with_its_options(name: str) -> None:
    options = {"seed": 5, "n_trials_per_class": 3, "n_sessions": 1}
    loaded = datasets.load(name, **options)
    assert loaded.builtin and fingerprint(loaded) == fingerprint(simulate_motor_imagery(**options))


def test_bad_names_and_options_give_one_sentence() -> None:
    with pytest.raises(ParameterError, match="Unknown built-in dataset 'iris'; choose one of simulated_eeg, pottery"):
        datasets.load("iris")
    with pytest.raises(ParameterError, match="takes no options \\(got seed\\)"):
        datasets.load("pottery", seed=1)
    with pytest.raises(ParameterError, match="simulated recording takes seed"):
        datasets.load("simulated_eeg", channels=3)


def test_public_names_are_declared() -> None:
    import covwb.io

    for package in (datasets, covwb.io):
        assert sorted(package.__all__) == sorted(set(package.__all__))
        assert all(hasattr(package, name) for name in package.__all__)
    assert {"load", "names", "TableDataset", "EEGDataset", "SPDStack", "TrialStack"} <= set(datasets.__all__)
    assert {"read_table", "read_eeg", "read_eeg_csv", "read_spd_or_trials", "trial_covariances"} <= set(
        covwb.io.__all__
    )
