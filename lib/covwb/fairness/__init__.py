"""Fairness through distance-covariance regularisation for several protected attributes of mixed types.

Distance covariances in numpy (exact O(n log n) in 1-D) and in differentiable torch, the exact grouped
penalty for categorical and intersectional attributes, per-batch penalties prepared once per fit for the
training loop (:mod:`covwb.fairness.batch_penalty`, with compiled weight kernels in
:mod:`covwb.fairness.weight_kernels`), penalised models, fairness metrics, the choice of
the penalty weight and the fairlearn baseline (Lee, Antonio, Avanzi, Marchi & Zhou, 2025).
"""
