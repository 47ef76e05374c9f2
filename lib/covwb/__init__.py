"""Covariance Workbench: covariance matrices and their geometry, as a library.

Everything here is plain Python (numpy, scipy, pandas, MNE, pyRiemann, torch) and never imports
streamlit, so the workbench's analyses run the same from a notebook, a script or a Dask worker.

Subpackages, each with its public names in ``__all__``:

* :mod:`covwb.io` (uploaded bytes to typed datasets) and :mod:`covwb.datasets` (built-in data);
* :mod:`covwb.covariance`: covariance estimators and the numpy SPD geometry (the one metric vocabulary);
* :mod:`covwb.eeg`: epochs and augmented-covariance (ACM) classification;
* :mod:`covwb.spd`: torch SPD geometry, Bures-Wasserstein batch normalisation, SPDNet;
* :mod:`covwb.coda`: compositional data and their partial correlations;
* :mod:`covwb.fairness`: distance-covariance fairness penalties and fair models;
* :mod:`covwb.plots`, :mod:`covwb.export`, :mod:`covwb.jobs`: figures, exports, long work as jobs;

and the modules :mod:`covwb.settings`, :mod:`covwb.sources`, :mod:`covwb.explore`, :mod:`covwb.errors`,
:mod:`covwb.runtime` and :mod:`covwb.batch` (command line). ``import covwb`` loads none of them: each is
imported the first time it is used (``covwb.coda`` or ``from covwb.coda import ...``).

Examples
--------
>>> import covwb
>>> covwb.coda.CompositionalPartialCorrelation.__module__
'covwb.coda.estimator'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

__all__ = [
    "__version__",
    "batch",
    "coda",
    "covariance",
    "datasets",
    "eeg",
    "errors",
    "explore",
    "export",
    "fairness",
    "io",
    "jobs",
    "plots",
    "runtime",
    "settings",
    "sources",
    "spd",
]

_SUBMODULES = frozenset(__all__) - {"__version__"}

if TYPE_CHECKING:  # what static tools see; at run time __getattr__ imports on first use
    from covwb import (
        batch,
        coda,
        covariance,
        datasets,
        eeg,
        errors,
        explore,
        export,
        fairness,
        io,
        jobs,
        plots,
        runtime,
        settings,
        sources,
        spd,
    )


def __getattr__(name: str) -> Any:
    """Import a subpackage or module on first access (``covwb.coda``), so that ``import covwb`` stays light."""
    if name in _SUBMODULES:
        return importlib.import_module(f"covwb.{name}")
    raise AttributeError(f"module 'covwb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES})
