"""What the workbench ships and accepts, as tables for the home page (nothing is loaded)."""

from __future__ import annotations

import pandas as pd

from covwb.datasets.tables import BUILTIN_TABLES

SIMULATED_EEG_NAME = "Simulated motor-imagery EEG"


def builtin_catalog() -> pd.DataFrame:
    """One row per built-in dataset: name, kind, size, source and licence.

    Returns
    -------
    pandas.DataFrame
        Columns ``Dataset``, ``Kind``, ``Size``, ``Source``, ``Licence``.
    """
    rows = [
        {
            "Dataset": SIMULATED_EEG_NAME,
            "Kind": "EEG recording",
            "Size": "22 channels, 250 Hz, 2 sessions × 80 trials (left/right hand)",
            "Source": "Generated on the fly from a documented model (covwb/datasets/simulated_eeg.py), seedable",
            "Licence": "Same as the workbench",
        }
    ]
    for table in BUILTIN_TABLES.values():
        rows.append(
            {
                "Dataset": table.name,
                "Kind": {"composition": "Composition", "fairness": "Table with protected attributes"}[table.kind],
                "Size": f"{table.shape[0]} rows × {table.shape[1]} columns",
                "Source": table.source,
                "Licence": table.licence,
            }
        )
    return pd.DataFrame(rows)


def upload_formats() -> pd.DataFrame:
    """The upload formats the readers accept, one row per format.

    Returns
    -------
    pandas.DataFrame
        Columns ``Format``, ``Files``, ``Notes``.
    """
    rows = [
        (
            "Table",
            ".csv .tsv .txt",
            "Delimiter and decimal comma detected; header detected (numbered headers too) or chosen; text columns kept.",
        ),
        ("EDF / EDF+", ".edf", "Annotations become events; labels padded with dots (EEGMMIDB) are standardised."),
        ("BDF", ".bdf", "Events from annotations or the Status trigger channel."),
        ("GDF", ".gdf", "GDF 1.x and 2.x."),
        ("FIF", ".fif .fif.gz", "MNE's own format."),
        ("BrainVision", ".vhdr + .vmrk + .eeg", "Upload the three files together, under the names the .vhdr gives."),
        ("EEGLAB", ".set (+ .fdt)", "Upload the .set with the .fdt it names."),
        ("EEG as CSV", ".csv .tsv .txt", "Channels in columns, samples in rows; give the sampling rate and unit."),
        (
            "Covariance matrices",
            ".npy .npz .csv .mat",
            "A stack (n, p, p), or raw trials (trials, channels, samples) to estimate covariances from (OAS by "
            "default); no pickled objects are read.",
        ),
    ]
    return pd.DataFrame(rows, columns=["Format", "Files", "Notes"])
