"""Jobs (not one-time runs) in the fake Databricks: create, list by name, reset.

Rules, from the Jobs API reference (docs.databricks.com/api/azure/workspace/jobs):
- every task has a `task_key`, unique in the job, and runs on a cluster or, with none, on
  serverless compute in one of the job's `environments` (tests/fakecloud/serverless.py);
- a `schedule` needs `quartz_cron_expression` and `timezone_id`;
- `jobs/reset` replaces every setting of an existing job (INVALID_PARAMETER_VALUE for an unknown
  job id); `jobs/list?name=` lists the jobs of exactly that name.
"""

from __future__ import annotations

import copy
import itertools
from typing import TYPE_CHECKING, Any

from tests.fakecloud import serverless

if TYPE_CHECKING:
    from tests.fakecloud.databricks import Answer, Workspace

_JOB_IDS = itertools.count(500)


def _settings_error(ws: Workspace, settings: dict[str, Any]) -> str:
    tasks = settings.get("tasks") or []
    keys = [t.get("task_key") for t in tasks]
    if not tasks or not all(keys) or len(set(keys)) != len(keys):
        return "every task needs a task_key, unique in the job"
    for task in tasks:
        if serverless.is_serverless(task):
            _, problem = serverless.environment(task, settings)
        elif task.get("existing_cluster_id") and task["existing_cluster_id"] not in ws.clusters:
            problem = f"Cluster {task['existing_cluster_id']} does not exist"
        else:
            problem = ""
        if problem:
            return problem
    schedule = settings.get("schedule")
    if schedule is not None and not (
        schedule.get("quartz_cron_expression") and schedule.get("timezone_id")
    ):
        return "schedule needs quartz_cron_expression and timezone_id"
    return ""


def _create(ws: Workspace, args: dict[str, Any]) -> Answer:
    from tests.fakecloud.databricks import Answer, error

    if problem := _settings_error(ws, args):
        return error(400, "INVALID_PARAMETER_VALUE", problem)
    job_id = next(_JOB_IDS)
    ws.jobs[job_id] = {
        "job_id": job_id,
        "creator_user_name": ws.caller,
        "settings": copy.deepcopy(args),
    }
    return Answer(200, {"job_id": job_id})


def _list(ws: Workspace, args: dict[str, Any]) -> Answer:
    from tests.fakecloud.databricks import Answer

    name = args.get("name")
    found = [
        copy.deepcopy(j) for j in ws.jobs.values() if name in (None, j["settings"].get("name"))
    ]
    return Answer(200, {"jobs": found} if found else {})


def _reset(ws: Workspace, args: dict[str, Any]) -> Answer:
    from tests.fakecloud.databricks import Answer, error

    job_id = int(args.get("job_id") or 0)
    if job_id not in ws.jobs:
        return error(400, "INVALID_PARAMETER_VALUE", f"Job {job_id} does not exist.")
    settings = args.get("new_settings") or {}
    if problem := _settings_error(ws, settings):
        return error(400, "INVALID_PARAMETER_VALUE", problem)
    ws.jobs[job_id]["settings"] = copy.deepcopy(settings)
    return Answer(200, {})


ROUTES = {
    ("POST", "/jobs/create"): _create,
    ("GET", "/jobs/list"): _list,
    ("POST", "/jobs/reset"): _reset,
}
