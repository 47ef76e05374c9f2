"""Augmented-covariance (ACM) classification of motor-imagery EEG (Carrara & Papadopoulo, 2023).

A notebook-style script: run it with ``python examples/acm.py``, or open it in an editor that understands
``# %%`` cells (VS Code, Spyder, Jupytext) and run it cell by cell. It uses only the public ``covwb`` API.
"""

# %%
# The data: the workbench's simulated motor-imagery recording (22 channels, 250 Hz), 20 trials per hand in one
# session. Imagining a hand movement desynchronises the mu and beta rhythms over the opposite motor cortex, so
# the informative channels are those around C3 and C4. `extract_epochs` band-pass filters (8-35 Hz) and cuts
# epochs in µV; its `settings` say exactly what it did.
from sklearn.model_selection import StratifiedKFold, cross_val_score

from covwb.datasets import simulate_motor_imagery
from covwb.eeg import (
    AugmentedCovariances,
    NestedACMClassifier,
    TakensACMClassifier,
    build_pipeline,
    extract_epochs,
)

recording = simulate_motor_imagery(seed=0, n_trials_per_class=20, n_sessions=1)
epochs = extract_epochs(
    recording.raw,
    classes=["left_hand", "right_hand"],
    tmin=0.5,
    tmax=2.5,
    picks=["FC3", "C3", "CP3", "FC4", "C4", "CP4"],
)
X, y = epochs.X, epochs.y
print(f"epochs {X.shape} (trials, channels, samples) in {epochs.settings['unit']}; {epochs.settings['filter']}")

# %%
# An augmented covariance stacks `order` copies of each epoch, each delayed by `lag` more samples, and takes the
# covariance of the stack: (order x channels) squared matrices that see the signals' dynamics, not only their
# instantaneous spatial covariance. OAS shrinkage keeps them well-conditioned at every order.
acm = AugmentedCovariances(order=3, lag=4).fit_transform(X)
print(f"ACMs {acm.shape}: order 3 x 6 channels")

# %%
# Order and lag are chosen by cross-validation inside `fit`: `NestedACMClassifier` runs the inner order x lag
# (x SVM) grid search of the paper and refits the winner, like `GridSearchCV(refit=True)`. Scored by an outer
# cross-validation, it is the paper's nested protocol: the test folds never choose the order and lag.
model = NestedACMClassifier(orders=(1, 2, 3), lags=(2, 4), svm_C=(1.0,), kernels=("linear",))
outer = StratifiedKFold(4, shuffle=True, random_state=0)
nested = cross_val_score(model, X, y, cv=outer, scoring="roc_auc")
print(f"ACM + TS + SVM, nested ROC-AUC {nested.mean():.3f} ± {nested.std():.3f}")

model.fit(X, y)
print("chosen on all epochs:", model.best_params_, f"(inner ROC-AUC {model.best_score_:.3f})")
for warning in model.warnings_:  # ill-conditioned matrices or unconverged means, with what to do
    print("warning:", warning)

# %%
# Without a grid: `TakensACMClassifier` takes the lag at the first minimum of the auto-mutual information and the
# order where Cao's E1 saturates, on the training epochs of each fold, then searches the SVM settings only.
takens = TakensACMClassifier(max_order=4, max_lag=10, svm_C=(1.0,), kernels=("linear",))
print(f"ACM (Takens) + TS + SVM, ROC-AUC {cross_val_score(takens, X, y, cv=outer, scoring='roc_auc').mean():.3f}")

# %%
# The classic baseline on the same folds: tangent space + SVM on plain (order 1) covariances.
baseline = build_pipeline("ts_svm")
print(f"TS + SVM baseline, ROC-AUC {cross_val_score(baseline, X, y, cv=outer, scoring='roc_auc').mean():.3f}")
