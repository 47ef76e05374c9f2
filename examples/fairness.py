"""Distance-covariance fairness with several protected attributes of mixed types (Lee et al., 2025).

A notebook-style script: run it with ``python examples/fairness.py``, or cell by cell (``# %%``). It uses only the
public ``covwb`` API.
"""

# %%
# The data: wages of 534 workers (CPS, May 1985; R package AER, built into the workbench). The protected
# attributes are of three kinds at once: gender (binary), ethnicity (categorical) and age (continuous).
# `propose_roles` suggests the target, task, features and protected columns of a table, with its reasons.
import numpy as np

from covwb.datasets import load
from covwb.fairness import (
    TASK_METRIC,
    FairRegressor,
    TrainSettings,
    encode_protected,
    evaluate_predictions,
    prepare_data,
    propose_roles,
    sweep,
)

wages = load("cps1985").frame
roles = propose_roles(wages, target="wage")
protected = ["gender", "ethnicity", "age"]
features = [c for c in roles.features if c not in protected and wages[c].dtype.kind in "if"]
print(f"task {roles.task}; numeric features {features}; protected {protected}")

# %%
# A scikit-learn regressor whose predictions are penalised for depending on the protected attributes: loss +
# λ · CCdCov(ŷ, Z), where CCdCov measures dependence on all attributes jointly (parity in every intersectional
# cell). Like fairlearn, the sensitive features go to `fit`, not into X.
X = wages[features].to_numpy(dtype=float)
y = np.log(wages["wage"].to_numpy())
Z = wages[protected]
encoded = encode_protected(wages, protected)
for lam in (0.0, 20.0):
    model = FairRegressor(penalty="ccdcov", lam=lam, max_iter=60, random_state=0).fit(X, y, sensitive_features=Z)
    metrics = evaluate_predictions("continuous", y, model.predict(X), encoded).metrics
    print(f"λ = {lam:>4}: R² {model.score(X, y):.3f}, dCor(ŷ, Z) {metrics['dcor']:.3f}, JSD {metrics['jsd']:.3f}")

# %%
# Choosing λ: the sweep trains every penalty x λ x seed on a training split, chooses λ on the validation split
# (the largest gain in fairness per unit of loss, beyond the seed-to-seed spread) and reports the test split.
# `plan_sweep` describes the same work as a job plan (the app runs it as a Dask job).
data = prepare_data(wages, target="wage", task="continuous", features=features, protected=protected, seed=0)
result = sweep(
    data, TrainSettings(epochs=30), penalties=["ccdcov"], lambdas=[1.0, 10.0], seeds=[0, 1], n_permutations=0
)
choice = result.choices["ccdcov"]
print(f"recommended λ = {choice.lam:g} ({'recommended' if choice.recommended else 'no λ qualifies'}): {choice.reason}")
loss, label = TASK_METRIC[result.task]  # ("rmse", "RMSE") for a continuous target
print(result.summary.query("penalty == 'ccdcov'")[["split", "lambda", loss, "jsd"]].to_string(index=False))
for warning in result.warnings:
    print("warning:", warning)
