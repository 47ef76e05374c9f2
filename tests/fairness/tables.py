"""Synthetic tables shaped like the public ones the workbench meets: a recidivism table and a motor portfolio.

Column names, types, missingness and base rates follow ProPublica's ``compas-scores-two-years.csv``
(7,214 × 53; race and sex shares of the 6,172-row standard filter, base rate ≈ 0.45) and CASdatasets'
``freMTPL2freq`` (678,013 × 12; ≈ 5% of policies with a claim, exposure in (0, 1] with a few longer
ones); every value is generated here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RACES = ("African-American", "Caucasian", "Hispanic", "Other", "Asian", "Native American")
RACE_SHARES = np.array([3175, 2103, 509, 343, 31, 11]) / 6172
FEMALE_SHARE = 1175 / 6172


def _dates(rng: np.random.Generator, n: int, start: str = "2013-01-01", days: int = 730) -> pd.Series:
    base = pd.Timestamp(start)
    return pd.Series([(base + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d") for d in rng.integers(0, days, n)])


def _times(rng: np.random.Generator, dates: pd.Series) -> pd.Series:
    clock = rng.integers(0, 86_400, len(dates))
    return dates + pd.Series([f" {c // 3600:02d}:{c // 60 % 60:02d}:{c % 60:02d}" for c in clock])


def _words(rng: np.random.Generator, k: int, length: int = 6) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return ["".join(rng.choice(letters, length)).capitalize() for _ in range(k)]


def recidivism(n: int = 6172, seed: int = 0) -> pd.DataFrame:
    """Race × sex recidivism table with realistic base rates and the 53 columns of the public file.

    The outcome ``two_year_recid`` depends on priors, age, juvenile counts and the charge degree, whose
    distributions differ by race and sex; ``is_recid``, ``event``, ``end`` and the ``r_*`` fields restate
    it (re-arrests after the screening), ``decile_score`` is a noisy risk score.
    """
    rng = np.random.default_rng(seed)
    race = rng.choice(RACES, n, p=RACE_SHARES)
    female = rng.uniform(size=n) < FEMALE_SHARE
    black = race == "African-American"
    age = np.clip(np.round(18 + rng.gamma(2.2, 7.5, n)), 18, 80).astype(int)
    priors = rng.poisson(np.exp(0.9 + 0.5 * black - 0.3 * female + 0.012 * (age - 34)) * rng.gamma(1.0, 1.0, n))
    juv_fel, juv_misd, juv_other = (rng.poisson(0.05 + 0.1 * black, n) for _ in range(3))
    felony = rng.uniform(size=n) < 0.64
    logit = (
        -0.85
        + 0.16 * priors
        - 0.045 * (age - 34)
        + 0.4 * (juv_fel + juv_misd)
        + 0.15 * felony
        + 0.15 * black
        - 0.3 * female
    )
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    later = (y == 0) & (rng.uniform(size=n) < 0.06)
    is_recid = (y == 1) | later
    decile = np.clip(np.round(1 + 9 / (1 + np.exp(-(logit + rng.normal(0, 1.2, n))))), 1, 10).astype(int)
    violent_decile = np.clip(decile + rng.integers(-2, 3, n), 1, 10)
    text_score = np.where(decile <= 4, "Low", np.where(decile <= 7, "Medium", "High"))
    firsts, lasts = _words(rng, 300), _words(rng, 2000, 8)
    first, last = rng.choice(firsts, n), rng.choice(lasts, n)
    charges = [" ".join(_words(rng, int(rng.integers(2, 6)), 5)) for _ in range(400)]
    screening = _dates(rng, n)
    end = np.where(y == 1, rng.integers(1, 730, n), rng.integers(730, 1186, n))
    missing = rng.uniform(size=n) < 0.04

    def when(mask: np.ndarray, values: object) -> pd.Series:
        return pd.Series(values).where(mask)

    vr = is_recid & (rng.uniform(size=n) < 0.25)
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "name": pd.Series(first) + " " + pd.Series(last),
            "first": first,
            "last": last,
            "compas_screening_date": screening,
            "sex": np.where(female, "Female", "Male"),
            "dob": _dates(rng, n, "1950-01-01", 18_000),
            "age": age,
            "age_cat": np.where(age < 25, "Less than 25", np.where(age > 45, "Greater than 45", "25 - 45")),
            "race": race,
            "juv_fel_count": juv_fel,
            "decile_score": decile,
            "juv_misd_count": juv_misd,
            "juv_other_count": juv_other,
            "priors_count": priors,
            "days_b_screening_arrest": when(~missing, rng.integers(-30, 31, n)),
            "c_jail_in": when(~missing, _times(rng, screening)),
            "c_jail_out": when(~missing, _times(rng, screening)),
            "c_case_number": [f"13{i:06d}{rng.choice(['CF', 'MM'])}10A" for i in range(n)],
            "c_offense_date": when(rng.uniform(size=n) < 0.84, _dates(rng, n)),
            "c_arrest_date": when(rng.uniform(size=n) < 0.16, _dates(rng, n)),
            "c_days_from_compas": when(rng.uniform(size=n) < 0.997, rng.integers(0, 40, n)),
            "c_charge_degree": np.where(felony, "F", "M"),
            "c_charge_desc": rng.choice(charges, n),
            "is_recid": is_recid.astype(int),
            "r_case_number": when(is_recid, [f"15{i:06d}MM10A" for i in range(n)]),
            "r_charge_degree": when(is_recid, rng.choice(["(F3)", "(M1)", "(M2)", "(F2)"], n)),
            "r_days_from_arrest": when(is_recid & (rng.uniform(size=n) < 0.7), rng.integers(-1, 900, n)),
            "r_offense_date": when(is_recid, _dates(rng, n, "2014-01-01")),
            "r_charge_desc": when(is_recid, rng.choice(charges, n)),
            "r_jail_in": when(is_recid & (rng.uniform(size=n) < 0.6), _dates(rng, n, "2014-01-01")),
            "r_jail_out": when(is_recid & (rng.uniform(size=n) < 0.6), _dates(rng, n, "2014-01-01")),
            "violent_recid": np.full(n, np.nan),
            "is_violent_recid": vr.astype(int),
            "vr_case_number": when(vr, [f"15{i:06d}CF10A" for i in range(n)]),
            "vr_charge_degree": when(vr, rng.choice(["(F3)", "(M1)"], n)),
            "vr_offense_date": when(vr, _dates(rng, n, "2014-01-01")),
            "vr_charge_desc": when(vr, rng.choice(charges, n)),
            "type_of_assessment": "Risk of Recidivism",
            "decile_score.1": decile,
            "score_text": text_score,
            "screening_date": screening,
            "v_type_of_assessment": "Risk of Violence",
            "v_decile_score": violent_decile,
            "v_score_text": np.where(violent_decile <= 4, "Low", np.where(violent_decile <= 7, "Medium", "High")),
            "v_screening_date": screening,
            "in_custody": when(rng.uniform(size=n) < 0.97, _dates(rng, n)),
            "out_custody": when(rng.uniform(size=n) < 0.97, _dates(rng, n)),
            "priors_count.1": priors,
            "start": rng.poisson(1.0, n) * (rng.uniform(size=n) < 0.3),
            "end": end,
            "event": is_recid.astype(int),
            "two_year_recid": y,
        }
    )
    assert frame.shape[1] == 53
    return frame


def motor(n: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """A motor third-party-liability portfolio shaped like freMTPL2freq: 12 columns, claim counts with exposure.

    ``IDpol`` is an increasing policy number, ``ClaimNb`` a count (≈ 5% of policies with a claim),
    ``Exposure`` years in force (mostly within (0, 1]), ``Region`` a text column with 22 levels (the last
    column, which the old default took as the target).
    """
    rng = np.random.default_rng(seed)
    exposure = np.clip(np.where(rng.uniform(size=n) < 0.3, 1.0, rng.beta(1.2, 1.0, n)), 0.0027, 1.0)
    exposure[rng.uniform(size=n) < 0.002] = 1.5
    driver_age = np.clip(np.round(18 + rng.gamma(4.0, 7.0, n)), 18, 100).astype(int)
    bonus = np.clip(50 + rng.poisson(8, n) * (rng.uniform(size=n) < 0.3) * 5, 50, 230).astype(int)
    area = rng.choice(list("ABCDEF"), n, p=[0.15, 0.11, 0.28, 0.22, 0.2, 0.04])
    density = np.round(np.exp(rng.normal(6.0, 2.0, n))).clip(1, 27_000).astype(int)
    rate = 0.07 * np.exp(0.01 * (bonus - 50) - 0.01 * (driver_age - 45) + 0.1 * (area >= "D"))
    return pd.DataFrame(
        {
            "IDpol": np.cumsum(rng.integers(1, 10, n)),
            "ClaimNb": rng.poisson(rate * exposure),
            "Exposure": exposure,
            "Area": area,
            "VehPower": rng.integers(4, 16, n),
            "VehAge": np.clip(rng.poisson(7, n), 0, 100),
            "DrivAge": driver_age,
            "BonusMalus": bonus,
            "VehBrand": rng.choice([f"B{i}" for i in (1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14)], n),
            "VehGas": rng.choice(["Regular", "Diesel"], n),
            "Density": density,
            "Region": rng.choice([f"R{i}" for i in range(11, 95, 4)][:22], n),
        }
    )
