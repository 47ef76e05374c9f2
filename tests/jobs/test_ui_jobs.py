"""ui's job helpers as a person uses them (AppTest on tests/jobs/job_page.py, jobs on the local Dask cluster)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from covwb import jobs

PAGE = str(Path(__file__).with_name("job_page.py"))
PARAM = "demo_job"


def _page(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def _job_id(at: AppTest) -> str:
    value = at.query_params[PARAM]
    return value[0] if isinstance(value, list) else value


def _run_until_done(at: AppTest, timeout: float = 60) -> AppTest:
    deadline = time.monotonic() + timeout
    while not at.success:
        assert time.monotonic() < deadline, [e.value for e in at.main]
        time.sleep(0.2)
        at.run()
    return at


def _texts(at: AppTest) -> str:
    return " ".join(str(getattr(e, "value", "")) for e in at.main) + " " + repr(at.query_params)


def test_submit_returns_at_once_and_a_widget_change_keeps_the_job(dask_client: Any) -> None:
    at = _page()
    at.number_input(key="delay").set_value(0.5)
    at.number_input(key="tasks").set_value(12).run()
    at.button(key="run").click()
    at.run()
    assert not at.exception
    job_id = _job_id(at)
    assert jobs.info(job_id).status in ("queued", "running")  # the page returned before 12 × 0.5 s of work
    assert at.progress[0].proto.text.startswith("Demo sums: ")
    at.number_input(key="tasks").set_value(13).run()  # another setting: the job goes on, nothing new starts
    assert _job_id(at) == job_id and jobs.info(job_id).status in ("queued", "running")
    assert "computes the settings from when it was started" in _texts(at)
    at.number_input(key="tasks").set_value(12).run()
    _run_until_done(at)
    assert at.success[0].value == f"Result: {sum(range(36)):g}"


def test_cancel_ends_the_job_and_forgets_it(dask_client: Any) -> None:
    at = _page()
    at.number_input(key="delay").set_value(0.5)
    at.number_input(key="tasks").set_value(40).run()
    at.button(key="run").click().run()
    job_id = _job_id(at)
    at.button(key="demo-job-cancel").click().run()
    assert jobs.default_registry().wait(job_id, timeout=10).status == "cancelled"
    assert PARAM not in at.query_params
    assert any("was cancelled" in e.value for e in at.info)
    at.run()
    assert not at.progress and any(e.value == "Press Run." for e in at.info)


def test_a_reload_finds_the_job_from_the_url(dask_client: Any) -> None:
    at = _page()
    at.number_input(key="tasks").set_value(5).run()
    at.button(key="run").click().run()
    job_id = _job_id(at)
    jobs.default_registry().wait(job_id, timeout=60)
    reloaded = _page(**{PARAM: job_id})  # a new session: its widgets are back at their defaults
    assert any("other settings" in e.value for e in reloaded.info)
    reloaded.number_input(key="tasks").set_value(5).run()
    assert reloaded.success[0].value == f"Result: {sum(range(15)):g}"


def test_another_session_cannot_list_or_fetch_a_private_job(dask_client: Any) -> None:
    mine = _page()
    mine.button(key="run").click().run()
    job_id = _job_id(mine)
    other = _page()
    assert PARAM not in other.query_params and job_id not in _texts(other)
    other.button(key="run").click().run()  # the same settings on "uploaded" data: a job of its own
    assert _job_id(other) != job_id
    owner = other.session_state["_workbench_job_owner"]
    assert job_id not in {info.id for info in jobs.jobs(owner)}
    guessed = _page(**{PARAM: job_id[:-2] + "xx"})
    assert any("gone" in e.value for e in guessed.info) and PARAM not in guessed.query_params
    assert not guessed.success


def test_public_jobs_are_shared_between_sessions(dask_client: Any) -> None:
    first = _page()
    first.checkbox(key="public").check().run()
    first.button(key="run").click().run()
    second = _page()
    second.checkbox(key="public").check().run()
    second.button(key="run").click().run()
    assert _job_id(first) == _job_id(second)
    _run_until_done(second)
