"""Scenario 13: `make smoke` after `pulumi up`, the README's "Verify a deployment".

The fake Databricks runs the submitted example notebook for real (local Spark, the loopback
MLflow server behind the AzureML workspace's tracking URI: tests/fakecloud/notebook_runner.py);
smoke reads back what it made. Then two broken deployments fail at their step: a cluster whose
environment tracks to another workspace, and a notebook that raises.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Deployer, Result
from tests.e2e.helpers import init_stack, outputs, set_service_principal
from tests.fakecloud.dns import DATABRICKS_DOMAIN
from tests.fakecloud.local_mlflow import Server, start_server, stop, wait_healthy
from tests.fakecloud.mlflow_routes import ROUTES_ENV
from tests.fakecloud.notebook_runner import LocalNotebookRunner, mlflow_routes
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
VERDICTS = ("pass ", "FAIL ", "skipped ")
SITE = Path(__file__).resolve().parent / "standin" / "site"  # sitecustomize: DNS and routes


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    started = start_server(tmp_path / "aml-mlflow", serve_artifacts=False)
    try:
        yield started
    finally:
        stop(started.process)


def smoke(deployer: Deployer, cloud: FakeCloud, server: Server, *, ok: bool) -> Result:
    """`make smoke` as a user runs it; the fake's DNS and MLflow routes come in through
    sitecustomize, the Azure login is the az stand-in's."""
    env = {
        **deployer.env,
        "PYTHONPATH": str(SITE),
        ROUTES_ENV: json.dumps(mlflow_routes(cloud.arm, server.uri)),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        # Workspace names resolve to loopback here (sitecustomize), so no proxy for them.
        "NO_PROXY": f"{deployer.env['NO_PROXY']},{DATABRICKS_DOMAIN}",
    }
    return Deployer(deployer.workdir, env).run(
        "make", "smoke", "STACK=dev", "SMOKE_ARGS=--timeout 600", ok=ok
    )


def step_lines(result: Result) -> list[str]:
    """The verdict lines (not make's echo of the command, nor the progress lines)."""
    return [line for line in result.stdout.splitlines() if line.startswith(VERDICTS)]


def test_smoke_passes_after_up_and_fails_at_the_broken_step(
    deployer: Deployer, cloud: FakeCloud, server: Server
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    pulumi("config", "set", "databricks-azureml:trackingMode", "exclusive")
    set_service_principal(deployer)  # exclusive: the cluster signs in to AzureML as it
    pulumi("up", "--yes")
    raw = outputs(deployer)
    wait_healthy(server)
    runner = LocalNotebookRunner(cloud.arm, server.uri)
    cloud.databricks.runner = runner
    host = raw["databricksWorkspaceUrl"].removeprefix("https://")
    cluster = cloud.databricks.workspaces[host].clusters[raw["clusterId"]]
    cluster["state"] = "TERMINATED"  # auto-terminated since `up`

    passed = smoke(deployer, cloud, server, ok=True)

    lines = step_lines(passed)
    assert [line.split(":")[0] for line in lines] == [
        "pass    stack outputs",
        "pass    azureml workspace",
        "pass    databricks link",
        "skipped private endpoints",
        "pass    databricks api",
        "pass    cluster",
        "pass    notebook upload",
        "pass    notebook run",
        "pass    mlflow run",
        "pass    model version",
        "skipped online endpoint",
        "skipped batch endpoint",
        "pass    cleanup",
    ], passed.output + "\n".join(runner.logs)
    assert "smoke passed: 10 passed, 0 failed, 3 skipped (dev)" in passed.stdout
    assert "is terminated: starting it" in passed.stdout
    assert "epochs=20" in passed.stdout
    assert "track-with-azureml-classifier version 1" in passed.stdout
    [run] = cloud.databricks.snapshot()[host]["runs"].values()
    assert run["state"]["result_state"] == "SUCCESS"
    assert run["run_page_url"] in passed.stdout

    # The cluster's environment points at another workspace: the cluster step says so.
    wrong = raw["mlflowTrackingUri"].replace(raw["amlWorkspaceName"], "another-aml")
    cluster["spark_env_vars"].update(MLFLOW_TRACKING_URI=wrong, MLFLOW_REGISTRY_URI=wrong)
    broken = smoke(deployer, cloud, server, ok=False)
    [failed] = [line for line in step_lines(broken) if line.startswith("FAIL")]
    assert failed.startswith("FAIL    cluster: ") and f"tracks to {wrong}" in failed
    assert "smoke FAILED: 4 passed, 1 failed, 8 skipped (dev)" in broken.stdout

    # The environment repaired, a notebook that raises fails the run step with its error.
    cluster["spark_env_vars"].update(
        MLFLOW_TRACKING_URI=raw["mlflowTrackingUri"], MLFLOW_REGISTRY_URI=raw["mlflowRegistryUri"]
    )
    notebook = deployer.workdir / "notebooks" / "track_with_azureml.py"
    source = notebook.read_text().split("\n", 1)
    notebook.write_text(f'{source[0]}\nraise RuntimeError("no training data")\n{source[1]}')
    raised = smoke(deployer, cloud, server, ok=False)
    [failed] = [line for line in step_lines(raised) if line.startswith("FAIL")]
    assert failed.startswith("FAIL    notebook run: run ")
    assert "FAILED: RuntimeError: no training data" in failed
