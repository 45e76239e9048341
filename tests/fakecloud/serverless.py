"""Serverless job runs in the fake Databricks (tests/fakecloud/databricks.py `_submit_run`).

Rules, each from Databricks' public documentation:
- a task with no `existing_cluster_id`, `new_cluster` or `job_cluster_key` runs on serverless
  compute (Jobs API, "Create and trigger a one-time run"; Learn, "Run your Lakeflow Jobs with
  serverless compute");
- a task's `environment_key` names one of the run's `environments`, each with a `spec` that gives
  `environment_version` (`client` is its deprecated name) (Jobs API, `environments`, and the
  SDKs' `Environment`); an unknown key is INVALID_PARAMETER_VALUE;
- serverless compute is no cluster: the notebook gets none of any cluster's `spark_env_vars`
  (there is no cluster to set them on; Learn, "Serverless compute limitations": no init scripts
  or cluster-scoped settings), and DATABRICKS_RUNTIME_VERSION reads `client.<version>`, which is
  how MLflow tells serverless apart (mlflow/utils/databricks_utils.py,
  is_in_databricks_serverless_runtime).
"""

from __future__ import annotations

from typing import Any

CLUSTER_KEYS = ("existing_cluster_id", "new_cluster", "job_cluster_key")
DEFAULT_VERSION = "4"  # a run without an environment spec gets the workspace's default


def is_serverless(task: dict[str, Any]) -> bool:
    return not any(task.get(key) for key in CLUSTER_KEYS)


def environment(task: dict[str, Any], args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The task's environment spec, or an error message ("" when it is fine)."""
    key = task.get("environment_key")
    if key is None:
        return {"environment_version": DEFAULT_VERSION}, ""
    specs = {e.get("environment_key"): e.get("spec") or {} for e in args.get("environments") or []}
    if key not in specs:
        return {}, f"environment_key {key!r} is not one of the run's environments"
    spec = specs[key]
    if not (spec.get("environment_version") or spec.get("client")):
        return {}, f"environment {key!r} needs spec.environment_version"
    return spec, ""


def serverless_env(spec: dict[str, Any]) -> dict[str, str]:
    """What a serverless notebook sees of its compute in its environment."""
    version = str(spec.get("environment_version") or spec.get("client"))
    return {"DATABRICKS_RUNTIME_VERSION": f"client.{version}"}
