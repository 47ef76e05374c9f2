"""Readers that turn uploaded bytes into typed datasets, raising :mod:`covwb.errors` on bad input."""
