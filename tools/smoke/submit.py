"""Where the example notebook runs: the task a one-time smoke run submits, and a scheduled job
(tools/smoke/job.py) reuses, on the stack's cluster or on serverless compute.

Serverless: a task with no cluster runs on serverless compute (Jobs API, "Create and trigger a
one-time run"), in the run's environment named by `environment_key`. Environment version 5 is
the current one in 2026 (Learn, "Serverless environment versions": released February 25, 2026,
Python 3.12.3, MLflow 3.8.1 preinstalled; the notebook's %pip line installs its own MLflow).
"""

from __future__ import annotations

from typing import Any

CLUSTER, SERVERLESS = "cluster", "serverless"
COMPUTES = (CLUSTER, SERVERLESS)
SERVERLESS_ENVIRONMENT_VERSION = "5"
ENVIRONMENT_KEY = "serverless"
TASK_KEY = "track_with_azureml"


def task_fields(notebook_path: str, compute: str, cluster_id: str | None) -> dict[str, Any]:
    """The notebook task's fields for `jobs.SubmitTask` and `jobs.Task` alike."""
    from databricks.sdk.service import jobs

    if compute not in COMPUTES:
        raise ValueError(f"compute {compute!r}: expected {' or '.join(COMPUTES)}")
    notebook = jobs.NotebookTask(notebook_path=notebook_path, source=jobs.Source.WORKSPACE)
    if compute == SERVERLESS:
        return {"task_key": TASK_KEY, "notebook_task": notebook, "environment_key": ENVIRONMENT_KEY}
    if not cluster_id:
        raise ValueError("compute 'cluster' needs the stack's cluster id")
    return {"task_key": TASK_KEY, "notebook_task": notebook, "existing_cluster_id": cluster_id}


def environments(compute: str) -> list[Any] | None:
    """The run's environments: one for serverless, none on a cluster."""
    if compute != SERVERLESS:
        return None
    from databricks.sdk.service import compute as compute_api
    from databricks.sdk.service import jobs

    spec = compute_api.Environment(environment_version=SERVERLESS_ENVIRONMENT_VERSION)
    return [jobs.JobEnvironment(environment_key=ENVIRONMENT_KEY, spec=spec)]
