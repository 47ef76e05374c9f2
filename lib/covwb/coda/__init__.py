"""Compositional data analysis: closure, zeros, log-ratio transforms, partial correlations, shrinkage."""
