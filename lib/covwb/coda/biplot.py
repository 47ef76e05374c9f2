"""Log-ratio PCA (PCA of the centred clr coordinates) for a compositional biplot."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covwb.coda.transforms import clr


@dataclass(frozen=True)
class ClrPCA:
    """Principal components of the clr coordinates.

    Parameters
    ----------
    scores : ndarray, shape (n, k)
        Sample coordinates ``U S`` (form biplot: distances between samples are Aitchison distances).
    loadings : ndarray, shape (D, k)
        Part directions ``V`` (unit columns, each summing to 0 over parts).
    explained : ndarray, shape (k,)
        Fraction of the total variance explained by each component.
    """

    scores: np.ndarray
    loadings: np.ndarray
    explained: np.ndarray


def clr_pca(X: np.ndarray, components: int = 2) -> ClrPCA:
    """PCA of the centred clr coordinates by a thin SVD.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Strictly positive amounts.
    components : int
        Number k of components kept, at most min(n, D) - 1.

    Returns
    -------
    ClrPCA
    """
    Z = clr(X)
    Z -= Z.mean(axis=0)
    U, S, Vt = np.linalg.svd(Z, full_matrices=False)
    k = min(components, len(S))
    # Fix the sign of each component so that its largest loading is positive (deterministic output).
    signs = np.sign(Vt[np.arange(k), np.abs(Vt[:k]).argmax(axis=1)])
    signs[signs == 0] = 1.0
    total = float(np.sum(S**2))
    explained = S[:k] ** 2 / total if total > 0 else np.zeros(k)
    return ClrPCA(scores=U[:, :k] * S[:k] * signs, loadings=Vt[:k].T * signs, explained=explained)
