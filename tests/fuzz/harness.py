"""Drive a page's sidebar uploader with AppTest and classify what each uploaded input ends in.

One AppTest instance serves many inputs: each input is set on the uploader and the page
script is run again, exactly as a browser session does when its user uploads another file
(Streamlit reruns the whole script; the session cache is keyed by the upload's digest).
:meth:`UploadDriver.matches_fresh_session` checks, for a sample, that a fresh session
shows the same.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.testing.v1 import AppTest

import ui
from covwb.errors import WorkbenchError
from tests.fuzz.cases import Case, Files

REPO = Path(__file__).resolve().parents[2]
EXPLORER = str(REPO / "pages" / "1_Dataset_explorer.py")

READ = "read"
READ_THEN_TYPED = "read, then typed error"
READ_THEN_NOTICE = "read, then page notice"
REFUSED = "refused: typed error"
FAILED = "FAILED"
OUTCOMES = (READ, READ_THEN_TYPED, READ_THEN_NOTICE, REFUSED, FAILED)
"""Every outcome an input is counted under; only FAILED breaks the test."""

PAGE_NOTICES = frozenset({"This table has fewer than two numeric columns, so there is no covariance to show."})
"""Messages that pages write with ``st.error`` themselves, about data that was read correctly."""

_RUN_TIMEOUT_S = 120
_LOGGERS = ("covariance_workbench", "streamlit.error_util")


@dataclass(frozen=True)
class Outcome:
    """What the page showed after one upload.

    Parameters
    ----------
    status : str
        One of :data:`OUTCOMES`.
    errors : tuple of str
        Every ``st.error`` message shown.
    headers : tuple of str
        Every subheader shown (the dataset's name when it was read).
    detail : str
        Why the input failed; empty otherwise.
    """

    status: str
    errors: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    detail: str = ""


@dataclass
class TypedErrors:
    """The messages of every :class:`~covwb.errors.WorkbenchError` created while recording."""

    messages: set[str] = field(default_factory=set)

    @contextmanager
    def recording(self) -> Iterator[TypedErrors]:
        """Record typed errors created in this process (the page thread included) until exit."""
        original = WorkbenchError.__init__

        def record(error: WorkbenchError, *args: object) -> None:
            original(error, *args)
            self.messages.add(ui.plain(str(error)))

        WorkbenchError.__init__ = record  # type: ignore[method-assign]
        try:
            yield self
        finally:
            WorkbenchError.__init__ = original  # type: ignore[method-assign]


class _LogTail(logging.Handler):
    """Where the last exception logged with a traceback was raised from, for failure messages.

    Streamlit logs uncaught exceptions (``streamlit.error_util``) and ``ui`` logs the
    unexpected ones it shows; the page shows only the exception's type.
    """

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.clear()

    def clear(self) -> None:
        """Forget the last exception."""
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if not record.exc_info or record.exc_info[1] is None:
            return
        error = record.exc_info[1]
        frames = traceback.extract_tb(error.__traceback__)
        ours = [f for f in frames if str(REPO) in f.filename and "/tests/" not in f.filename]
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(ours[-3:]))
        self.last = f"{type(error).__name__}: {str(error)[:200]} at {where}"


class UploadDriver:
    """One browser session on a page, switched to uploading one kind of file.

    Parameters
    ----------
    kind_label : str
        The "File type" option, e.g. ``"Table (CSV/TSV)"``.
    page : str
        Path of the page script.
    key : str
        The page's widget-key prefix for :func:`ui.choose_dataset`.
    """

    def __init__(self, kind_label: str, page: str = EXPLORER, key: str = "explorer") -> None:
        self.kind_label, self.page, self.key = kind_label, page, key
        self.typed = TypedErrors()
        self.counts: Counter[tuple[str, str]] = Counter()
        self.failures: list[str] = []
        self._log = _LogTail()
        self._at = self._session()

    def _session(self) -> AppTest:
        """A fresh session already on 'Upload' with this file type chosen, with nothing uploaded yet."""
        at = AppTest.from_file(self.page, default_timeout=_RUN_TIMEOUT_S)
        at.session_state[f"{self.key}-origin"] = "Upload"
        at.session_state[f"{self.key}-kind"] = self.kind_label
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.sidebar.get("file_uploader"), "the page shows no uploader"
        return at

    def upload(self, files: Files, at: AppTest | None = None) -> Outcome:
        """Upload ``files`` in the session (this driver's, or ``at``), run the page and classify the result."""
        at = at or self._at
        uploader = at.sidebar.get("file_uploader")[0]
        payload = [(name, data, "application/octet-stream") for name, data in files]
        uploader.set_value(payload if uploader.accept_multiple_files else payload[0])
        self.typed.messages.clear()
        self._log.clear()
        loggers = [logging.getLogger(name) for name in _LOGGERS]
        for logger in loggers:
            logger.addHandler(self._log)
        try:
            with self.typed.recording():
                at.run()
        except RuntimeError as error:  # AppTest's run timeout
            if at is self._at:
                self._at = self._session()
            return Outcome(FAILED, detail=f"the page did not finish: {error}")
        finally:
            for logger in loggers:
                logger.removeHandler(self._log)
        return self._classify(at)

    def _classify(self, at: AppTest) -> Outcome:
        errors = tuple(str(e.value) for e in at.error)
        headers = tuple(str(h.value) for h in at.subheader)
        if at.exception:
            shown = "; ".join(e.proto.type for e in at.exception)
            detail = f"uncaught {shown}: {self._log.last or 'no traceback logged'}"
            return Outcome(FAILED, errors, headers, detail)
        untyped = [m for m in errors if m not in self.typed.messages and m not in PAGE_NOTICES]
        if untyped:
            cause = f" (logged: {self._log.last})" if self._log.last else ""
            return Outcome(
                FAILED, errors, headers, f"error that is not a typed error's sentence: {untyped[0]!r}{cause}"
            )
        broken = [m for m in errors if "Traceback" in m or not m.strip()]
        if broken:
            return Outcome(FAILED, errors, headers, f"error message is not a sentence: {broken[0]!r}")
        if not headers:
            if not errors:
                return Outcome(FAILED, errors, headers, "nothing was read and no error was shown")
            return Outcome(REFUSED, errors, headers)
        if any(m in self.typed.messages for m in errors):
            return Outcome(READ_THEN_TYPED, errors, headers)
        if errors:
            return Outcome(READ_THEN_NOTICE, errors, headers)
        return Outcome(READ, errors, headers)

    def run(self, case: Case) -> Outcome:
        """Upload one case in the shared session; count its outcome and remember a failure."""
        outcome = self.upload(case.files)
        self.counts[(case.family, outcome.status)] += 1
        if outcome.status == FAILED:
            self.failures.append(f"{case.label}: {outcome.detail}")
        return outcome

    def matches_fresh_session(self, case: Case) -> tuple[Outcome, Outcome]:
        """The outcome of ``case`` in the shared session and in a brand-new one, for comparison."""
        shared = self.upload(case.files)
        fresh = self.upload(case.files, at=self._session())
        return shared, fresh
