"""Long computations as plans of independent tasks, run locally (joblib) or as Dask jobs.

:mod:`covwb.jobs.plan` describes work (:class:`Plan`, :class:`Task`, :class:`Ref`) and runs it in this process
or in joblib processes (:func:`run_plan`).
"""

from covwb.jobs.plan import Cancelled, Plan, Progress, Ref, Task, run_plan

__all__ = ["Cancelled", "Plan", "Progress", "Ref", "Task", "run_plan"]
