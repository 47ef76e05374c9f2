"""Long computations as plans of independent tasks, run locally (joblib) or as background Dask jobs.

* :mod:`covwb.jobs.plan` describes work (:class:`Plan`, :class:`Task`, :class:`Ref`), runs it in this
  process or in joblib processes (:func:`run_plan`), and runs several plans as one (:func:`merge_plans`);
* :mod:`covwb.jobs.runner` runs the same plans on a Dask cluster (:class:`DaskRunner`);
* :mod:`covwb.jobs.cluster` owns the process's Dask client: an embedded local cluster by default, or an
  existing cluster given by :func:`configure` or ``$COVWB_DASK_SCHEDULER``;
* :mod:`covwb.jobs.registry` runs plans as background jobs (:func:`submit`, :func:`info`, :func:`result`,
  :func:`cancel`, :func:`jobs`, :func:`preview`), with the privacy model described there.

Nothing here imports Dask until a job runs.
"""

from covwb.jobs.cluster import SCHEDULER_ENV, ClusterUnavailable, close_client, configure, describe, get_client
from covwb.jobs.plan import Cancelled, Failed, Plan, Preview, Progress, Ref, Task, merge_plans, run_plan
from covwb.jobs.registry import (
    JobInfo,
    JobNotDone,
    JobNotFound,
    JobRegistry,
    attach,
    cancel,
    default_registry,
    info,
    jobs,
    preview,
    result,
    submit,
)
from covwb.jobs.runner import DaskRunner, JobError

__all__ = [
    "SCHEDULER_ENV",
    "Cancelled",
    "ClusterUnavailable",
    "DaskRunner",
    "Failed",
    "JobError",
    "JobInfo",
    "JobNotDone",
    "JobNotFound",
    "JobRegistry",
    "Plan",
    "Preview",
    "Progress",
    "Ref",
    "Task",
    "attach",
    "cancel",
    "close_client",
    "configure",
    "default_registry",
    "describe",
    "get_client",
    "info",
    "jobs",
    "merge_plans",
    "preview",
    "result",
    "run_plan",
    "submit",
]
