"""Partial correlations between the parts of compositional data (Erb, 2020), with basis shrinkage when p > n.

A notebook-style script: run it with ``python examples/compositional_pcor.py``, or cell by cell (``# %%``). It uses
only the public ``covwb`` API.
"""

# %%
# Compositions carry relative information only: the oxides of a pot sum to 100 %, so raw correlations between
# them are spurious (they change when a part is dropped). Erb's partial correlations come from the pseudo-inverse
# of the clr covariance and do not depend on a reference part. The data: Romano-British pottery, 45 pots x 9
# oxides, built into the workbench (from R's HSAUR package; nothing is downloaded).
import numpy as np
import pandas as pd

from covwb.coda import (
    CompositionalPartialCorrelation,
    proportion_correlation,
    reference_independence,
    zero_summary,
)
from covwb.datasets import load

pottery = load("pottery")
parts = list(pottery.roles["parts"])
oxides = pottery.frame[parts]

est = CompositionalPartialCorrelation().fit(oxides)
pcor = pd.DataFrame(est.partial_correlation_, index=est.parts_, columns=est.parts_)
print(f"method {est.method_}, warnings {est.warnings_}")
print(pcor.round(2).iloc[:5, :5])

# %%
# Beside them, the correlations of the raw proportions, which the closure biases towards negative values.
raw = pd.DataFrame(proportion_correlation(oxides.to_numpy()), index=parts, columns=parts)
print("strongest raw correlation:", raw.where(~np.eye(len(parts), dtype=bool)).abs().max().max().round(2))

# %%
# Reference independence: the partial correlation of two parts is the same whichever part serves as the
# log-ratio reference; the table shows it for one pair over every reference.
check = reference_independence(oxides.to_numpy(), parts, "Al2O3", "Fe2O3")
print(check[["reference", "residual_correlation"]].head(4).to_string(index=False))

# %%
# Real tables are often wider than long and mostly zeros: here 30 samples of 200 taxa with numeric names, about
# 80 % zeros. The estimator replaces the zeros (multiplicatively, and says so), switches to basis shrinkage (the
# clr covariance is singular when parts outnumber samples) and reports the shrinkage intensity.
rng = np.random.default_rng(0)
counts = rng.poisson(rng.lognormal(0.0, 1.0, 200), size=(30, 200)) * (rng.random((30, 200)) < 0.3)
counts[:, 0] += 1  # no sample without counts
table = pd.DataFrame(counts, columns=[str(1000 + j) for j in range(200)])
print(f"{zero_summary(table.to_numpy(), list(table.columns)).total / counts.size:.0%} of the values are zero")

wide = CompositionalPartialCorrelation().fit(table)
print(f"method {wide.method_}, shrinkage {wide.shrinkage_:.2f}, zeros replaced {wide.n_zeros_replaced_}")
for warning in wide.warnings_:
    print("warning:", warning)
