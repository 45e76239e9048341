"""A scheduled Databricks job that runs the example notebook, tracked like an interactive run.

    python -m tools.smoke.job --stack dev --cron "0 0 6 * * ?" [--timezone UTC]
                              [--compute serverless|cluster]

It reuses smoke's steps and submission code: the stack outputs and the sign-in to the workspace
(tools/smoke/deployment.py, workspace.py), the upload of the notebook and `mlflow_setup/` into
`/Users/<you>/databricks-azureml-jobs/<stack>/`, and the notebook task (tools/smoke/submit.py):
on serverless compute (the default: a job needs no cluster kept for it) or on the stack's
cluster. The job is created, or its settings reset when a job of the same name exists, and runs
as you: for exclusive tracking or the AzureML registry you need to be one of `cluster.users`
(the notebook uses the stack's service credential, or reads the service principal from its
secret scope). Its cron is Quartz
syntax (Jobs API, `schedule.quartz_cron_expression`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from mlflow_setup import MlflowSetupError
from tools.smoke.base import StepError
from tools.smoke.run import Smoke
from tools.smoke.services import Services
from tools.smoke.submit import COMPUTES, SERVERLESS, environments, task_fields


def job_name(stack: str) -> str:
    return f"databricks-azureml track_with_azureml ({stack})"


def job_settings(
    stack: str, notebook_path: str, compute: str, cluster_id: str | None, cron: str, timezone: str
) -> dict[str, Any]:
    """The job's settings, for `jobs.create` and `jobs.reset` alike."""
    from databricks.sdk.service import jobs

    return {
        "name": job_name(stack),
        "tasks": [jobs.Task(**task_fields(notebook_path, compute, cluster_id))],
        "environments": environments(compute),
        "schedule": jobs.CronSchedule(quartz_cron_expression=cron, timezone_id=timezone),
        "max_concurrent_runs": 1,
        "tags": {"databricks-azureml-stack": stack},
    }


def deploy_job(smoke: Smoke, cron: str, timezone: str) -> str:
    """Upload the notebook with smoke's steps, then create or reset the job; what was done."""
    for step in (smoke.step_outputs, smoke.step_databricks_api):
        step()
    smoke.folder = f"/Users/{smoke.user}/databricks-azureml-jobs/{smoke.stack}"
    smoke.step_upload()
    out = smoke._out()
    settings = job_settings(
        smoke.stack, str(smoke.notebook_path), smoke.compute, out.cluster_id, cron, timezone
    )
    from databricks.sdk.service import jobs

    existing = [j for j in smoke.client.jobs.list(name=settings["name"]) if j.job_id]
    if existing:
        job_id, done = existing[0].job_id, "updated"
        smoke.client.jobs.reset(job_id, jobs.JobSettings(**settings))
    else:
        job_id, done = smoke.client.jobs.create(**settings).job_id, "created"
    return f"job {job_id} {done}: {settings['name']}, {cron} ({timezone}), {smoke.compute}"


def main(
    argv: Sequence[str] | None = None,
    *,
    services: Services | None = None,
    stdout: TextIO | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.smoke.job", description=__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--cron", required=True, help='Quartz cron, e.g. "0 0 6 * * ?"')
    parser.add_argument("--timezone", default="UTC")
    parser.add_argument("--compute", choices=COMPUTES, default=SERVERLESS)
    args = parser.parse_args(argv)
    out = stdout or sys.stdout
    smoke = Smoke(stack=args.stack, services=services or Services(), out=out, compute=args.compute)
    try:
        print(deploy_job(smoke, args.cron, args.timezone), file=out)
    except (StepError, MlflowSetupError) as error:
        print(f"job not deployed: {error}", file=out)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
