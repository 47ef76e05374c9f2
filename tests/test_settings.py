"""covwb.settings: one frozen object as call arguments, cache key, document, URL query and Python code."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import FrozenInstanceError, dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from covwb.eeg.epochs import EpochSettings
from covwb.errors import ParameterError
from covwb.explore import ExplorerSettings
from covwb.settings import Settings, setting
from covwb.sources import BuiltinSource, SourceFile, UploadSource

REPO = Path(__file__).resolve().parents[1]
DIGEST = "ab" * 32


@dataclass(frozen=True)
class Inner(Settings):
    tag = "inner"
    name: str = setting("x", label="Inner name")
    level: int = setting(1, low=0, high=9)


@dataclass(frozen=True)
class Other(Settings):
    tag = "other"
    weight: float = 1.0


@dataclass(frozen=True)
class Demo(Settings):
    part: Inner | Other = Inner()
    estimator: str = setting("oas", label="Covariance estimator", choices=("sample", "oas", "ledoit_wolf"))
    tmin: float = setting(0.5, label="Window start (s)", low=-5.0, high=30.0)
    tmax: float = setting(2.5, label="Window end (s)", low=-5.0, high=30.0)
    band: tuple[float, float] | None = None
    columns: tuple[str, ...] | None = setting(None, max_items=3)
    seed: int = setting(0, low=0)
    flag: bool = False

    def check(self) -> None:
        if self.tmin >= self.tmax:
            raise ParameterError(f"The window must end after it starts, got {self.tmin:g} to {self.tmax:g} s.")


def test_values_are_coerced_so_equal_settings_are_equal() -> None:
    written = Demo(tmin=np.float32(0.25), tmax=2, band=[8, np.int64(30)], columns=["a", "b"], seed=np.int64(3))
    plain = Demo(tmin=0.25, tmax=2.0, band=(8.0, 30.0), columns=("a", "b"), seed=3)
    assert written == plain and hash(written) == hash(plain)
    assert written.fingerprint() == plain.fingerprint()
    assert type(written.tmax) is float and type(written.seed) is int and type(written.band) is tuple
    with pytest.raises(FrozenInstanceError):
        written.tmin = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"estimator": "lda"}, "Covariance estimator must be one of 'sample', 'oas', 'ledoit_wolf', got 'lda'."),
        ({"tmin": 99}, "Window start (s) must be between -5 and 30, got 99."),
        ({"tmin": float("nan")}, "Window start (s) must be a finite number"),
        ({"tmin": "0.5"}, "Window start (s) must be a number, got '0.5'."),
        ({"tmin": True}, "must be a number"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"seed": -1}, "seed must be at least 0, got -1."),
        ({"band": (8.0,)}, "band must have 2 values, got 1."),
        ({"columns": ("a", "b", "c", "d")}, "columns takes at most 3 item(s), got 4."),
        ({"columns": "abc"}, "columns must be a list of values"),
        ({"flag": 1}, "flag must be true or false"),
        ({"tmin": 3.0}, "The window must end after it starts"),
        ({"part": {"type": "nope"}}, "part must have a type among 'inner', 'other'"),
        ({"part": {"type": "inner", "level": 12}}, "level must be between 0 and 9"),
    ],
)
def test_bad_values_raise_a_sentence_that_names_the_setting(changes: dict, message: str) -> None:
    with pytest.raises(ParameterError) as info:
        Demo(**changes)
    assert message in str(info.value)


def test_documents_round_trip_with_tagged_unions() -> None:
    demo = Demo(part=Other(2.5), band=(1.0, 4.0), columns=("x",))
    document = demo.to_dict()
    assert document["part"] == {"type": "other", "weight": 2.5} and document["band"] == [1.0, 4.0]
    assert Demo.from_dict(document) == demo
    with pytest.raises(ParameterError, match="has no setting named 'colour'"):
        Demo.from_dict({**document, "colour": "red"})
    with pytest.raises(ParameterError, match="cannot be read as Inner"):
        Inner.from_dict({"type": "other"})
    with pytest.raises(ParameterError, match="needs a value for name"):
        SourceFile.from_dict({"sha256": DIGEST})


def test_fingerprint_is_stable_across_processes_and_changes_with_any_value() -> None:
    settings = ExplorerSettings(source=BuiltinSource("pottery"), columns=("Al2O3", "CaO"), estimator="oas")
    code = (
        "from covwb.explore import ExplorerSettings\nfrom covwb.sources import BuiltinSource\n"
        "print(ExplorerSettings(source=BuiltinSource('pottery'), columns=['Al2O3', 'CaO'], estimator='oas')"
        ".fingerprint())"
    )
    other = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert other.stdout.strip() == settings.fingerprint()
    changed = {
        settings.replace(columns=("CaO", "Al2O3")).fingerprint(),
        settings.replace(estimator="sample").fingerprint(),
        settings.replace(shrinkage=0.10000000000000002).fingerprint(),
        settings.replace(source=BuiltinSource("fgl")).fingerprint(),
        settings.fingerprint(),
    }
    assert len(changed) == 5


def test_query_leaves_out_defaults_and_round_trips() -> None:
    demo = Demo(part=Other(0.5), estimator="sample", band=(8.0, 30.0), columns=("a,b", 'q"uote'), flag=True)
    query = demo.to_query()
    assert query == {
        "part": "other",
        "part.weight": "0.5",
        "estimator": "sample",
        "band": "[8.0,30.0]",
        "columns": '["a,b","q\\"uote"]',
        "flag": "true",
    }
    assert Demo.from_query(query) == (demo, ())
    assert Demo().to_query() == {"part": "inner"}
    assert demo.to_query(base=demo) == {"part": "other", "part.weight": "0.5"}


def test_bad_or_foreign_link_values_keep_their_defaults_with_a_note() -> None:
    params = {
        "estimator": "lda",
        "tmin": "abc",
        "seed": "-3",
        "band": "[8, 30]",
        "job": "1234",
        "columns": ["x", '["a"]'],
        "flag": "yes",
    }
    settings, notes = Demo.from_query(params)
    assert settings == Demo(band=(8.0, 30.0), columns=("a",))
    assert len(notes) == 4
    assert notes[0] == (
        "The link's Covariance estimator was not used (Covariance estimator must be one of 'sample', 'oas', "
        "'ledoit_wolf', got 'lda'); the page uses 'oas'."
    )
    assert "Window start (s) must be written as JSON" in notes[1] and "the page uses 0.5" in notes[1]
    assert "seed must be at least 0" in notes[2] and "flag" in notes[3]


def test_settings_that_do_not_fit_together_fall_back_to_the_defaults() -> None:
    settings, notes = Demo.from_query({"tmin": "3.0", "estimator": "sample"})
    assert settings == Demo()
    assert notes == (
        "The link's settings do not fit together (The window must end after it starts, got 3 to 2.5 s); "
        "the page uses its defaults.",
    )


def test_a_nested_source_is_taken_whole_or_not_at_all() -> None:
    upload = UploadSource(reader="table", files=(SourceFile("x.csv", DIGEST),), options=(("max_rows", 10),))
    settings = ExplorerSettings(source=upload, estimator="oas")
    query = settings.to_query()
    assert query["source"] == "upload" and query["source.reader"] == "table"
    assert ExplorerSettings.from_query(query) == (settings, ())
    broken = {**query, "source.files": '[{"name": "x.csv", "sha256": "not-a-digest"}]'}
    restored, notes = ExplorerSettings.from_query(broken)
    assert restored == settings.replace(source=ExplorerSettings().source)
    assert len(notes) == 1 and notes[0].startswith("The link's source was not used: The SHA-256 of 'x.csv'")
    _, notes = ExplorerSettings.from_query({"source": "ftp", "source.name": "pottery"})
    assert notes == ("The link's source was not used: its type 'ftp' is not one of 'builtin', 'upload'.",)
    _, notes = ExplorerSettings.from_query({"source": "builtin"})
    assert notes == ("The link's source was not used: it lacks Built-in dataset.",)


@given(st.dictionaries(st.sampled_from([*Demo.labels(), "part.name", "part.level", "x"]), st.text(max_size=30)))
@hyp_settings(max_examples=200, deadline=None)
def test_reading_any_link_never_raises(params: dict[str, str]) -> None:
    settings, notes = Demo.from_query(params)
    assert isinstance(settings, Demo) and all(isinstance(note, str) for note in notes)


@pytest.mark.parametrize(
    "settings",
    [
        Demo(part=Inner('it\'s "quoted"\n', 3), columns=("é", "\\")),
        ExplorerSettings(),
        ExplorerSettings(
            source=UploadSource(reader="eeg_csv", files=(SourceFile("rec.csv", DIGEST),), options=(("sfreq", 160.0),)),
            channels=tuple(f"EEG {i:03d}" for i in range(10)),
            epochs=EpochSettings(classes=("T1", "T2"), band=(1.0, 40.0)),
        ),
    ],
)
def test_python_code_rebuilds_equal_settings(settings: Settings) -> None:
    namespace: dict = {"Demo": Demo, "Inner": Inner, "Other": Other}
    for line in settings.python_imports():
        exec(line, namespace)
    assert eval(repr(settings), namespace) == settings
    code = settings.to_python()
    assert eval(code, namespace) == settings
    assert max(len(line) for line in code.splitlines()) <= 100


def test_nested_epoch_settings_travel_field_by_field_against_the_data_defaults() -> None:
    base = ExplorerSettings(epochs=EpochSettings(classes=("left_hand", "right_hand"), channels=("C3", "Cz", "C4")))
    settings = base.replace(epochs=base.epochs.replace(tmax=1.2))
    query = settings.to_query(base)
    assert query == {"source": "builtin", "source.name": "simulated_eeg", "epochs.tmax": "1.2"}
    read, notes = ExplorerSettings.from_query(query)
    assert notes == () and read.epochs == EpochSettings(tmax=1.2)
    assert read.epochs.replace(classes=base.epochs.classes, channels=base.epochs.channels) == settings.epochs
    assert ExplorerSettings.from_query(query, default=base) == (settings, ())
    assert settings.to_dict()["epochs"] == {
        "classes": ["left_hand", "right_hand"],
        "tmin": 0.5,
        "tmax": 1.2,
        "band": [8.0, 35.0],
        "channels": ["C3", "Cz", "C4"],
    }
    kept, notes = ExplorerSettings.from_query({"epochs.tmax": "late", "epochs.tmin": "0.25", "estimator": "oas"})
    assert kept == ExplorerSettings(estimator="oas")
    assert len(notes) == 1 and notes[0].startswith("The link's Epochs was not used: Window end (s) must be written")
