"""Readers that turn uploaded bytes into typed datasets, raising :mod:`lib.errors` on bad input."""
