"""The compositional partial-correlation page as a person uses it: built-in tables, cups, count uploads, bad files,
links and the analysis export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from covwb.coda.analysis import CodaSettings
from covwb.datasets.tables import BUILTIN_TABLES
from covwb.sources import BuiltinSource
from tests.app.exports import Downloads, exported_settings, linked, rerun_script, same_tables
from tests.app.helpers import assert_clean, charts, widget

REPO = Path(__file__).resolve().parents[2]
PAGE = str(REPO / "pages" / "4_Compositional_partial_correlations.py")
SECTIONS = {
    "Parts and zeros",
    "Variation array",
    "Correlations side by side",
    "Partial-correlation network",
    "Partial variances",
    "Reference independence",
    "Subcomposition explorer",
    "Compositional biplot",
    "Ternary diagram",
}


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=120).run()


def _upload(name: str, data: bytes) -> AppTest:
    at = _page()
    at.sidebar.radio(key="coda-origin").set_value("Upload").run()
    at.sidebar.get("file_uploader")[0].set_value((name, data, "text/csv"))
    return at.run()


def _csv(header: list[str], rows: np.ndarray) -> bytes:
    lines = [",".join(header)] + [",".join(f"{v:g}" for v in row) for row in rows]
    return "\n".join(lines).encode()


def _table(at: AppTest, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_opens_on_a_builtin_composition_with_every_section() -> None:
    at = _page()
    assert_clean(at)
    assert SECTIONS <= {h.value for h in at.header}
    # variation, correlations, network, partial variances, reference, subcomposition, biplot, ternary
    assert charts(at) == 8
    assert at.metric[0].label == "Total variance"


@pytest.mark.parametrize("key", [k for k, t in BUILTIN_TABLES.items() if t.kind == "composition"])
def test_every_builtin_composition_defaults_to_its_parts(key: str) -> None:
    at = _page()
    at.sidebar.selectbox(key="coda-builtin").set_value(BUILTIN_TABLES[key].name).run()
    assert_clean(at)
    assert at.multiselect[0].value == list(BUILTIN_TABLES[key].roles["parts"])
    zeros = int(_table(at, "zeros")["zeros"].sum()) if any("zeros" in d.value.columns for d in at.dataframe) else 0
    assert charts(at) == 8 + (zeros > 0)


@pytest.mark.shared_data
def test_cups_upload_gives_erbs_values(shared_data: Path) -> None:
    at = _upload("cups.csv", (shared_data / "coda" / "cups.csv").read_bytes())
    assert_clean(at)
    pairs = _table(at, "partial_correlation")
    fe_mg = pairs[(pairs.part_i == "Fe") & (pairs.part_j == "Mg")].partial_correlation.iloc[0]
    assert fe_mg == pytest.approx(0.428432074365428, abs=1e-10)
    reference = _table(at, "residual_correlation")
    np.testing.assert_allclose(reference["residual_correlation"], reference["formula"], atol=1e-10)
    # the subcomposition explorer drops the two most variable parts (Mn, Sb) by default
    assert set(widget(at.multiselect, "Drop parts").value) == {"Mn", "Sb"}
    at.selectbox(key="coda-method").set_value("basis-shrinkage").run()
    assert_clean(at)
    assert any("λ = 0.0591" in c.value for c in at.caption)


def test_count_upload_with_many_zeros_uses_shrinkage() -> None:
    rng = np.random.default_rng(0)
    counts = rng.poisson(np.exp(rng.normal(1.0, 1.5, size=(30, 60))))
    assert (counts == 0).mean() > 0.2
    at = _upload("counts.csv", _csv([f"otu{k}" for k in range(60)], counts))
    assert_clean(at)
    assert any("basis shrinkage" in c.value.lower() for c in at.caption)
    assert any("more samples than parts" in i.value for i in at.info)
    # zeros bar, variation, correlations, network, partial variances, biplot, ternary
    assert charts(at) == 7
    at.selectbox(key="coda-zeros").set_value("pseudo-count").run()
    at.slider(key="coda-max-zero").set_value(0.5).run()
    assert_clean(at)
    at.checkbox(key="coda-glasso").check().run()
    assert_clean(at)
    assert charts(at) == 8


def _chart(at: AppTest, title: str) -> dict:
    """The first Plotly figure whose title starts with ``title``, as its JSON dict."""
    figures = (json.loads(chart.proto.spec) for chart in at.get("plotly_chart"))
    return next(f for f in figures if f["layout"].get("title", {}).get("text", "").startswith(title))


def test_127_part_count_table_labels_only_the_strongest_parts_and_edges() -> None:
    """Issue 12 §10: a gut-microbiome-sized table (289 samples x 127 taxa, mostly zeros) stays readable."""
    rng = np.random.default_rng(2)
    counts = rng.negative_binomial(0.2, 0.1, size=(289, 127))
    counts[:, :2] += rng.poisson(30.0, size=(289, 1))  # two taxa that rise and fall together
    assert (counts == 0).mean() > 0.5
    at = _upload("otus.csv", _csv([f"OTU_{k}" for k in range(127)], counts))
    assert_clean(at)
    assert any("were zero and were replaced" in w.value for w in at.warning)
    at.slider(key="coda-threshold").set_value(0.1).run()
    network = _chart(at, "Partial correlations")
    edge_labels = next(t for t in network["data"] if t.get("name") == "edge labels")
    named = next(t for t in network["data"] if t.get("name") == "named parts")
    assert len(edge_labels["text"]) == 15 and 2 <= len(named["text"]) <= 30
    assert {"OTU_0", "OTU_1"} <= set(named["text"])
    biplot = _chart(at, "Compositional biplot")
    assert len([t for t in biplot["data"][-1]["text"] if t]) == 15
    widget(at.slider, "Label the strongest edges").set_value(3).run()
    widget(at.slider, "Name the parts with the longest rays").set_value(4).run()
    assert_clean(at)
    network, biplot = _chart(at, "Partial correlations"), _chart(at, "Compositional biplot")
    assert len(next(t for t in network["data"] if t.get("name") == "edge labels")["text"]) == 3
    assert len(next(t for t in network["data"] if t.get("name") == "named parts")["text"]) <= 6
    assert len([t for t in biplot["data"][-1]["text"] if t]) == 4


def test_too_many_parts_are_filtered_or_explained() -> None:
    rng = np.random.default_rng(1)
    counts = rng.poisson(5.0, size=(20, 450)) + 1
    at = _upload("wide.csv", _csv([f"t{k}" for k in range(450)], counts))
    assert_clean(at)  # the filter is on by default above the display limit
    # 100 parts kept: the 2000 strongest of the 4950 pairs are listed
    assert len(_table(at, "partial_correlation")) == 2000
    assert any("of 4950" in c.value for c in at.caption)
    widget(at.selectbox, "Keep only the top parts").set_value("none").run()
    assert not at.exception
    assert len(at.error) == 1 and "variance or prevalence" in at.error[0].value


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a,b,c\n1,2,-3\n2,3,4\n1,1,1\n", "negative"),
        ("a,b,c\n1,2,3\n2,,4\n1,1,1\n", "missing"),
        ("a,b,c\n1,2,3\n0,0,0\n1,1,1\n", "row"),
        ("a,b\n1,2\n2,3\n1,1\n", "at least 3 parts"),
    ],
)
def test_bad_tables_get_one_clear_message(text: str, words: str) -> None:
    at = _upload("bad.csv", text.encode())
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and words in at.error[0].value


def test_text_column_chosen_as_part_is_refused() -> None:
    at = _upload("mixed.csv", b"site,a,b,c\nx,1,2,3\ny,2,3,4\nz,1,1,2\nw,3,1,2\n")
    assert_clean(at)
    widget(at.multiselect, "Parts").select("site").run()
    assert len(at.error) == 1 and "not numeric" in at.error[0].value


# --------------------------------------------------------------------------- links and the analysis export

ZIP_NAME = "Compositional_partial_correlations_analysis.zip"
FGL_LINK = {
    "source": "builtin",
    "source.name": "fgl",
    "method": "basis-shrinkage",
    "threshold": "0.2",
    "pair": '["Ca","Si"]',
    "glasso_alpha": "0.3",
}


def _fgl_page() -> AppTest:
    at = _page()
    at.sidebar.selectbox(key="coda-builtin").set_value(BUILTIN_TABLES["fgl"].name).run()
    at.selectbox(key="coda-method").set_value("basis-shrinkage").run()
    at.slider(key="coda-threshold").set_value(0.2).run()
    widget(at.selectbox, "First part").set_value("Ca").run()
    at.checkbox(key="coda-glasso").check().run()
    at.slider(key="coda-alpha").set_value(0.3).run()
    return at


def test_a_link_reopens_the_same_view_and_exports_the_same_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    downloads = Downloads(monkeypatch)
    at = _fgl_page()
    assert_clean(at)
    assert at.query_params == FGL_LINK
    shown = CodaSettings.from_dict(exported_settings(downloads.analysis(ZIP_NAME, tmp_path / "first")))
    assert shown == CodaSettings(
        source=BuiltinSource("fgl"),
        parts=("Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"),
        filter_by="none",
        method="basis-shrinkage",
        threshold=0.2,
        pair=("Ca", "Si"),
        glasso_alpha=0.3,
        colour_by="type",
    )
    # the warning of the zeros of this table is shown
    assert any("392 of 1712 values (22.9%) were zero" in w.value for w in at.warning)

    again = linked(PAGE, dict(at.query_params))
    assert_clean(again)
    assert again.sidebar.selectbox(key="coda-builtin").value == BUILTIN_TABLES["fgl"].name
    assert again.selectbox(key="coda-method").value == "basis-shrinkage"
    assert widget(again.selectbox, "First part").value == "Ca" and again.slider(key="coda-alpha").value == 0.3
    assert again.query_params == at.query_params
    assert charts(again) == charts(at) == 10
    assert CodaSettings.from_dict(exported_settings(downloads.analysis(ZIP_NAME, tmp_path / "second"))) == shown
    pairs = _table(again, "partial_correlation")
    pd.testing.assert_frame_equal(pairs, _table(at, "partial_correlation"))


def test_bad_link_values_give_a_message_and_the_defaults() -> None:
    at = linked(
        PAGE,
        {
            "source": "builtin",
            "source.name": "pottery",
            "method": "lda",
            "threshold": "a lot",
            "parts": '["Al2O3","no such oxide","CaO"]',
            "pair": '["MgO","MgO"]',
            "job": "kept for its owner",
        },
    )
    assert not at.exception and not at.error
    notes = [w.value for w in at.warning]
    assert any(n.startswith("The link's Partial-correlation estimator was not used") for n in notes)
    assert any("Smallest |ρ| drawn" in n for n in notes)
    assert any("do not fit together" in n and "two different parts" in n for n in notes)
    assert at.selectbox(key="coda-method").value == "auto"
    assert at.query_params["job"] == "kept for its owner" and "method" not in at.query_params


def test_a_part_left_out_of_a_linked_view_choice_is_said_and_chosen_again() -> None:
    at = linked(PAGE, {"source": "builtin", "source.name": "pottery", "ternary": '["Al2O3","BaO","MnO"]'})
    assert_clean(at)
    assert widget(at.multiselect, "Three parts").value == ["Al2O3", "BaO", "MnO"]
    widget(at.multiselect, "Parts").set_value(["Al2O3", "Fe2O3", "MgO", "CaO", "MnO"]).run()
    assert not at.exception and not at.error
    assert any("Ternary parts: the part 'BaO' is not among the parts analysed" in w.value for w in at.warning)
    assert widget(at.multiselect, "Three parts").value == ["Al2O3", "Fe2O3", "MgO"]
    at.run()
    assert_clean(at)
    assert not any("Ternary parts" in w.value for w in at.warning)


def test_exported_builtin_analysis_reruns_to_the_same_tables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    downloads = Downloads(monkeypatch)
    at = linked(PAGE, FGL_LINK)
    assert_clean(at)
    folder = downloads.analysis(ZIP_NAME, tmp_path)
    done = rerun_script(folder)
    assert done.returncode == 0, done.stderr
    assert "Warning: 392 of 1712 values" in done.stdout
    assert same_tables(folder) == {}
    names = {p.stem for p in (folder / "tables").glob("*.csv")}
    assert {"pairs", "partial_correlation", "glasso_partial_correlation", "reference_independence"} <= names
    report = (folder / "report.html").read_text()
    assert report.count('class="figure"') == charts(at)


def test_an_uploaded_count_table_exports_and_reruns_from_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A 289 × 127 mostly-zero OTU table whose header row is the taxa's numbers (0, 1, 2, ...)."""
    downloads = Downloads(monkeypatch)
    rng = np.random.default_rng(3)
    counts = rng.negative_binomial(0.2, 0.1, size=(289, 127))
    data = _csv([str(k) for k in range(127)], counts)
    at = _upload("otus.csv", data)
    at.selectbox(key="coda-zeros").set_value("pseudo-count").run()
    assert_clean(at)
    assert at.sidebar.selectbox(key="coda-table-header").value == "auto"
    assert any(c.value.startswith("289 samples × 127 parts") for c in at.caption)
    folder = downloads.analysis(ZIP_NAME, tmp_path / "export")
    (folder / "otus.csv").write_bytes(data)
    done = rerun_script(folder)
    assert done.returncode == 0, done.stderr
    assert same_tables(folder) == {}
    (folder / "otus.csv").write_bytes(data.replace(b"\n0,", b"\n1,", 1))
    refused = rerun_script(folder)
    assert refused.returncode == 1 and "differs from the one" in refused.stderr and "Traceback" not in refused.stderr

    link = dict(at.query_params)
    assert link["source"] == "upload" and link["zero_method"] == "pseudo-count"
    reopened = linked(PAGE, link)
    assert "This link was made for 'otus.csv'" in reopened.info[0].value
    reopened.sidebar.get("file_uploader")[0].set_value(("otus.csv", data, "text/csv"))
    reopened.run()
    assert_clean(reopened)
    assert reopened.selectbox(key="coda-zeros").value == "pseudo-count"
