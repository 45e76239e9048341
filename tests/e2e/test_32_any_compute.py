"""Scenario 32: the example notebook on any compute of the workspace, not only the stack's cluster.

`pulumi up` publishes the stack's outputs as a workspace file; `make smoke COMPUTE=serverless`
runs the notebook on the fake's "serverless" (no cluster, none of its environment:
tests/fakecloud/serverless.py), where `mlflow_setup.configure()` finds the published outputs
and, for exclusive tracking, reads the service principal from the stack's secret scope;
`COMPUTE=cluster` runs it on the stack's cluster as before (proven on the same stacks by
test_28_default_smoke.py, default, and test_13_smoke.py, exclusive: one notebook run each here). A user outside `cluster.users` who
runs the same notebook on serverless is refused the scope with a message naming who may read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import smoke as rig
from tests.e2e.conftest import Deployer, Result
from tests.e2e.helpers import init_stack, set_service_principal
from tests.fakecloud.local_mlflow import Server
from tests.fakecloud.notebook_runner import LocalNotebookRunner, mlflow_routes
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
PUBLISHED = "/Shared/databricks-azureml/dev/outputs.json"
DEPLOYER = "deployer@contoso.com"  # the fake's admin and every az token's user
OUTSIDER = "mallory@contoso.com"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """(behind the Databricks workspace's MLflow, behind the AzureML workspace's)."""
    with rig.mlflow_servers(tmp_path, "dbx-mlflow", "aml-mlflow") as [databricks, azureml]:
        yield databricks, azureml


def smoke(deployer: Deployer, cloud: FakeCloud, compute: str, *extra: str) -> Result:
    """`make smoke COMPUTE=<compute>` as a user runs it (tests/e2e/smoke.py)."""
    runner = cloud.databricks.runner
    assert isinstance(runner, LocalNotebookRunner)
    routes = mlflow_routes(cloud.arm, runner.server_uri, databricks=False)
    result = rig.make_smoke(
        deployer,
        routes,
        ok=None,
        resolved=(".core.windows.net",),
        make_args=(f"COMPUTE={compute}",),
        smoke_args=extra,
    )
    assert result.code == 0, result.output + "\n".join(runner.logs[-1:])
    assert "smoke passed: 10 passed, 0 failed, 3 skipped (dev)" in result.stdout
    return result


def workspace_of(cloud: FakeCloud, raw: dict):
    return cloud.databricks.workspaces[raw["databricksWorkspaceUrl"].removeprefix("https://")]


def last_run(cloud: FakeCloud, raw: dict) -> dict:
    runs = workspace_of(cloud, raw).runs
    return runs[max(runs)]


def test_the_default_stack_passes_smoke_on_serverless(
    deployer: Deployer, cloud: FakeCloud, servers: tuple[Server, Server]
) -> None:
    init_stack(deployer, cloud)
    raw, _, _ = rig.up_with_mlflow(deployer, cloud, servers)
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


def test_an_exclusive_stack_reads_the_secret_from_the_scope_and_refuses_an_outsider(
    deployer: Deployer, cloud: FakeCloud, servers: tuple[Server, Server]
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    pulumi("config", "set", "databricks-azureml:trackingMode", "exclusive")
    set_service_principal(deployer)
    pulumi("config", "set", "--path", "databricks-azureml:cluster.users[0]", "data-scientists")
    raw, _, _ = rig.up_with_mlflow(deployer, cloud, servers)
    ws = workspace_of(cloud, raw)
    scope = raw["secretScope"]
    assert ws.scope_acls[scope]["data-scientists"] == "READ"

    smoke(deployer, cloud, "serverless", "--keep")
    assert (DEPLOYER, scope, "azure-client-secret") in ws.secret_reads

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
