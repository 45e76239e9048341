"""`python -m tools.smoke.job`: a scheduled job that runs the example notebook, built from
smoke's steps and submission code, against the fake Databricks' Jobs API."""

from __future__ import annotations

import io
from pathlib import Path

from tests.test_smoke import cloud, deploy, mlflow_state, project, server, services_for
from tools.smoke import job

__all__ = ["cloud", "mlflow_state", "project", "server"]  # fixtures, used by name
CRON = "0 0 6 * * ?"
FOLDER = "/Users/deployer@contoso.com/databricks-azureml-jobs/dev"


def deploy_job(cloud, outputs, project: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = job.main(
        ["--stack", "dev", "--cron", CRON, *args],
        services=services_for(cloud, outputs, project),
        stdout=out,
    )
    return code, out.getvalue()


def test_a_job_runs_the_notebook_on_serverless_on_its_schedule_and_is_reset_not_doubled(
    cloud, project: Path
) -> None:
    outputs = deploy(cloud)
    code, said = deploy_job(cloud, outputs, project)
    assert code == 0, said
    ws = cloud.databricks.workspaces[outputs["databricksWorkspaceUrl"].removeprefix("https://")]
    [created] = ws.jobs.values()
    settings = created["settings"]
    assert settings["name"] == "databricks-azureml track_with_azureml (dev)"
    assert settings["schedule"] == {"quartz_cron_expression": CRON, "timezone_id": "UTC"}
    [task] = settings["tasks"]
    assert "existing_cluster_id" not in task and task["environment_key"] == "serverless"
    assert task["notebook_task"]["notebook_path"] == f"{FOLDER}/track_with_azureml"
    assert settings["environments"] == [
        {"environment_key": "serverless", "spec": {"environment_version": "5"}}
    ]
    assert f"{FOLDER}/mlflow_setup/anywhere.py" in ws.objects
    assert said.startswith(f"job {created['job_id']} created: ")

    code, said = deploy_job(cloud, outputs, project, "--compute", "cluster")
    assert code == 0 and "updated" in said
    [updated] = ws.jobs.values()
    [task] = updated["settings"]["tasks"]
    assert task["existing_cluster_id"] == outputs["clusterId"]
    assert "environments" not in updated["settings"]


def test_broken_outputs_deploy_no_job_and_say_why(cloud, project: Path) -> None:
    outputs = {**deploy(cloud), "trackingMode": "both"}
    code, said = deploy_job(cloud, outputs, project)
    assert code == 1
    assert said.startswith("job not deployed: stack dev's outputs: stack output 'trackingMode'")
    assert "Traceback" not in said
