"""A tiny page that runs a job through ui's job helpers, for the AppTest tests of tests/jobs/test_ui_jobs.py."""

import streamlit as st

import ui
from tests.jobs.tasks import sleepy_plan

n_tasks = int(st.number_input("Tasks", 1, 400, 4, key="tasks"))
delay = float(st.number_input("Seconds per task", 0.0, 10.0, 0.0, key="delay"))
public = st.checkbox("Built-in data (public)", key="public")
key = ("demo", n_tasks)
if st.button("Run", key="run"):
    ui.submit_job("demo", lambda: sleepy_plan(n_tasks, delay), key=key, public=public, name="Demo sums")
result = ui.job_result("demo", key=key, poll_s=0.2)
if result is None:
    st.info("Press Run.")
    st.stop()
st.success(f"Result: {result:g}")
