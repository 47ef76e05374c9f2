"""Covariance estimation and the SPD geometry of covariance matrices (numpy, pyRiemann)."""
