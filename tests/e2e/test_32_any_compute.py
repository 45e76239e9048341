"""Scenario 32: the example notebook on any compute of the workspace, not only the stack's cluster.

`pulumi up` publishes the stack's outputs as a workspace file; `make smoke COMPUTE=serverless`
runs the notebook on the fake's "serverless" (no cluster, none of its environment:
tests/fakecloud/serverless.py), where `mlflow_setup.configure()` finds the published outputs
and, for exclusive tracking, reads the service principal from the stack's secret scope;
`COMPUTE=cluster` runs it on the stack's cluster as before. A user outside `cluster.users` who
runs the same notebook on serverless is refused the scope with a message naming who may read it.
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
SITE = Path(__file__).resolve().parent / "standin" / "site"  # sitecustomize: DNS and routes
PUBLISHED = "/Shared/databricks-azureml/dev/outputs.json"
DEPLOYER = "deployer@contoso.com"  # the fake's admin and every az token's user
OUTSIDER = "mallory@contoso.com"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """(behind the Databricks workspace's MLflow, behind the AzureML workspace's)."""
    started = [
        start_server(tmp_path / "dbx-mlflow", serve_artifacts=False),
        start_server(tmp_path / "aml-mlflow", serve_artifacts=False),
    ]
    try:
        yield started[0], started[1]
    finally:
        for server in started:
            stop(server.process)


def deployed(deployer: Deployer, cloud: FakeCloud, servers: tuple[Server, Server]) -> dict:
    """`pulumi up`, then the workspaces' MLflow and a runner whose notebooks sign in to the
    workspace (the SDK reads the published file and the scope with the run's token)."""
    deployer.pulumi("up", "--yes", "--skip-preview")
    raw = outputs(deployer)
    databricks, azureml = (wait_healthy(server, timeout=300) for server in servers)
    aml_id = raw["amlWorkspaceId"].lower()
    cloud.serve_mlflow(
        databricks.uri, lambda linked: azureml.uri if linked.lower() == aml_id else None
    )
    cloud.databricks.runner = LocalNotebookRunner(cloud.arm, azureml.uri, workspace=cloud)
    return raw


def smoke(deployer: Deployer, cloud: FakeCloud, compute: str, *extra: str) -> Result:
    """`make smoke COMPUTE=<compute>` as a user runs it (see test_28_default_smoke.py)."""
    runner = cloud.databricks.runner
    assert isinstance(runner, LocalNotebookRunner)
    env = {
        **deployer.env,
        "PYTHONPATH": str(SITE),
        ROUTES_ENV: json.dumps(mlflow_routes(cloud.arm, runner.server_uri, databricks=False)),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "NO_PROXY": f"{deployer.env['NO_PROXY']},{DATABRICKS_DOMAIN},.core.windows.net",
    }
    args = " ".join(("--timeout 600", *extra))
    result = Deployer(deployer.workdir, env).run(
        "make", "smoke", "STACK=dev", f"COMPUTE={compute}", f"SMOKE_ARGS={args}", ok=None
    )
    assert result.code == 0, result.output + "\n".join(runner.logs[-1:])
    assert "smoke passed: 10 passed, 0 failed, 3 skipped (dev)" in result.stdout
    return result


def workspace_of(cloud: FakeCloud, raw: dict):
    return cloud.databricks.workspaces[raw["databricksWorkspaceUrl"].removeprefix("https://")]


def last_run(cloud: FakeCloud, raw: dict) -> dict:
    runs = workspace_of(cloud, raw).runs
    return runs[max(runs)]


def test_the_default_stack_passes_smoke_on_serverless_and_on_its_cluster(
    deployer: Deployer, cloud: FakeCloud, servers: tuple[Server, Server]
) -> None:
    init_stack(deployer, cloud)
    raw = deployed(deployer, cloud, servers)
    ws = workspace_of(cloud, raw)
    published = json.loads(ws.objects[PUBLISHED]["content"])
    assert published["clusterId"] == raw["clusterId"]
    assert published["trackingMode"] == "dual"

    on_serverless = smoke(deployer, cloud, "serverless")
    task = last_run(cloud, raw)["tasks"][0]
    assert "existing_cluster_id" not in task and task["environment_key"] == "serverless"
    assert "(run on serverless)" in on_serverless.stdout
    assert "stack dev: the outputs stack 'dev' published at " + PUBLISHED in "\n".join(
        cloud.databricks.runner.logs  # type: ignore[union-attr]
    )

    smoke(deployer, cloud, "cluster")
    assert last_run(cloud, raw)["tasks"][0]["existing_cluster_id"] == raw["clusterId"]


def test_an_exclusive_stack_reads_the_secret_from_the_scope_and_refuses_an_outsider(
    deployer: Deployer, cloud: FakeCloud, servers: tuple[Server, Server]
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    pulumi("config", "set", "databricks-azureml:trackingMode", "exclusive")
    set_service_principal(deployer)
    pulumi("config", "set", "--path", "databricks-azureml:cluster.users[0]", "data-scientists")
    raw = deployed(deployer, cloud, servers)
    ws = workspace_of(cloud, raw)
    scope = raw["secretScope"]
    assert ws.scope_acls[scope]["data-scientists"] == "READ"

    smoke(deployer, cloud, "serverless", "--keep")
    assert (DEPLOYER, scope, "azure-client-secret") in ws.secret_reads
    smoke(deployer, cloud, "cluster")

    # The kept notebook, run on serverless by a user outside cluster.users.
    [notebook] = [p for p, o in ws.objects.items() if o["object_type"] == "NOTEBOOK"]
    cloud.databricks.users["dapi-outsider"] = OUTSIDER
    task = {"task_key": "t", "notebook_task": {"notebook_path": notebook}}
    submitted = cloud.databricks.handle(
        "POST", ws.host, "/api/2.1/jobs/runs/submit", {}, {"tasks": [task]}, "dapi-outsider"
    )
    for thread in cloud.databricks.threads:
        thread.join(timeout=600)
    run = ws.runs[submitted.body["run_id"]]
    assert run["state"]["result_state"] == "FAILED"
    refusal = ws.outputs[run["tasks"][0]["run_id"]]["error"]
    assert refusal.startswith("mlflow_setup.anywhere.SecretScopeAccessError: cannot read ")
    assert f"from secret scope '{scope}' (" in refusal
    assert OUTSIDER in refusal and "who may read the scope: data-scientists." in refusal
    assert "Traceback" not in refusal
    assert not [r for r in ws.secret_reads if r[0] == OUTSIDER]
