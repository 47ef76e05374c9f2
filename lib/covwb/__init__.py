"""Covariance Workbench computation library.

Everything here is plain Python (numpy, scipy, pandas, MNE, pyRiemann, torch) and
never imports streamlit, so it can be used from a notebook or a script.
"""

__version__ = "0.2.0"
