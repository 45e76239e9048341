"""Scenario 32: the example notebook on any compute of the workspace, not only the stack's cluster.

`pulumi up` publishes the stack's outputs as a workspace file; `make smoke COMPUTE=serverless`
runs the notebook on the fake's "serverless" (no cluster, none of its environment:
tests/fakecloud/serverless.py), where `mlflow_setup.configure()` finds the published outputs
and, for exclusive tracking without a service principal (the default), signs in with the
stack's Unity Catalog service credential, no secret stored;
`COMPUTE=cluster` runs it on the stack's cluster as before (proven on the same stacks by
test_28_default_smoke.py, default, and test_13_smoke.py, exclusive: one notebook run each here). A user outside `cluster.users` who
runs the same notebook on serverless is refused the credential with a message naming who may
use it. The service principal's path is test_13_smoke.py's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import smoke as rig
from tests.e2e.conftest import Deployer, Result
from tests.e2e.helpers import init_stack
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


def test_an_exclusive_stack_signs_in_with_its_service_credential_and_refuses_an_outsider(
    deployer: Deployer, cloud: FakeCloud, servers: tuple[Server, Server]
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    pulumi("config", "set", "databricks-azureml:trackingMode", "exclusive")  # no servicePrincipal
    pulumi("config", "set", "--path", "databricks-azureml:cluster.users[0]", "data-scientists")
    raw, _, _ = rig.up_with_mlflow(deployer, cloud, servers)
    ws = workspace_of(cloud, raw)
    name = raw["serviceCredential"]
    credentials = cloud.databricks.service_credentials
    assert credentials.credentials[name]["purpose"] == "SERVICE"
    assert credentials.grants[name] == {"data-scientists": {"ACCESS"}}
    assert ws.secrets == {}  # no secret stored
    published = json.loads(ws.objects[PUBLISHED]["content"])
    assert published["serviceCredential"] == name

    smoke(deployer, cloud, "serverless", "--keep")
    assert credentials.issued and set(credentials.issued) == {(DEPLOYER, name)}
    assert f"signed in as  the service credential {name}" in "\n".join(
        cloud.databricks.runner.logs  # type: ignore[union-attr]
    )

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
    assert refusal.startswith(
        "mlflow_setup.service_credential.ServiceCredentialAccessError: cannot use the service "
        f"credential '{name}' ("
    ), refusal
    assert f"User does not have ACCESS on Credential '{name}'." in refusal, refusal
    assert "the stack grants ACCESS on it to data-scientists." in refusal
    assert "Traceback" not in refusal
    assert not [i for i in credentials.issued if i[0] == OUTSIDER]

    # destroy removes the credential, its grants, the connector and its role: nothing blocks
    # the next `up` (credential names are unique in the metastore)
    pulumi("destroy", "--yes", "--skip-preview")
    assert credentials.credentials == {} and credentials.grants == {}
    with cloud.arm._lock:
        left = [key for key in cloud.arm.resources if "accessconnectors" in key]
    assert left == []
