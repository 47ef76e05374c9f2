"""Plotly figure builders, one module per method family; no streamlit."""
