"""Scenario 32 (private serverless): a private-link stack and serverless compute.

Without `databricksAccount` the preview says serverless notebooks cannot track to the stack and
what an account admin must create, and `make smoke COMPUTE=serverless` fails at the notebook run
with that message. With it, `up` creates the network connectivity configuration through the
account API, its private endpoint rules to the AzureML workspace and its storage, approves the
connections they leave on those resources and binds the NCC to the workspace; the fake then lets
serverless compute reach AzureML, and the same smoke passes. A preview after it plans nothing;
`destroy` removes the NCC and its rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import smoke as rig
from tests.e2e.conftest import Deployer
from tests.e2e.helpers import init_stack, outputs, set_service_principal
from tests.fakecloud.local_mlflow import Server
from tests.fakecloud.notebook_runner import mlflow_routes
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
ACCOUNT_ID = "0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
BLOCKED = "serverless notebooks cannot track to this private stack"


def _connections(cloud: FakeCloud) -> dict[str, str]:
    """Private endpoint connection state by target type."""
    return {
        r["type"].lower().rsplit("/", 1)[0]: r["properties"]["privateLinkServiceConnectionState"][
            "status"
        ]
        for r in cloud.arm.dump()["resources"]
        if r["type"].lower().endswith("/privateendpointconnections")
    }


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """(behind the Databricks workspace's MLflow, behind the AzureML workspace's)."""
    with rig.mlflow_servers(tmp_path, "dbx-mlflow", "aml-mlflow") as [databricks, azureml]:
        yield databricks, azureml


def test_private_stack_gives_serverless_compute_an_approved_ncc_or_says_it_cannot(
    deployer: Deployer, cloud: FakeCloud, servers: tuple[Server, Server]
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud, "private")
    set_service_principal(deployer)
    pulumi("config", "set", "databricks-azureml:privateLink", "true")

    up = pulumi("up", "--yes")  # its preview phase first
    assert BLOCKED in up.output
    assert "an NCC in westeurope" in up.output
    assert cloud.account.nccs == {}
    # serverless cannot reach the private AzureML workspace: smoke fails at the run, and says why
    azureml, runner = rig.serve_mlflow(cloud, outputs(deployer), servers)
    routes = mlflow_routes(cloud.arm, azureml.uri, databricks=False)
    serverless = ("COMPUTE=serverless",)
    blocked = rig.make_smoke(deployer, routes, ok=False, make_args=serverless, stack="private")
    failed = rig.failed_step(blocked)
    assert failed.startswith("FAIL    notebook run"), blocked.output
    assert BLOCKED in failed
    assert "an NCC in westeurope" in failed

    pulumi("config", "set", "--path", "databricks-azureml:databricksAccount.accountId", ACCOUNT_ID)
    up = pulumi("up", "--yes", "--skip-preview")
    assert BLOCKED not in up.output
    result = outputs(deployer)

    [ncc] = cloud.account.nccs.values()
    assert (ncc["account_id"], ncc["region"]) == (ACCOUNT_ID, "westeurope")
    rules = {r["group_id"]: r["resource_id"] for r in ncc["rules"].values()}
    assert set(rules) == {"amlworkspace", "blob"}
    assert rules["amlworkspace"] == result["amlWorkspaceId"]
    assert _connections(cloud) == {
        "microsoft.machinelearningservices/workspaces": "Approved",
        "microsoft.storage/storageaccounts": "Approved",
    }
    assert cloud.account.bindings == {
        str(_workspace_id(cloud, result["databricksWorkspaceId"])): (
            ncc["network_connectivity_config_id"]
        )
    }
    assert cloud.account.serverless_reaches(
        result["databricksWorkspaceUrl"], result["amlWorkspaceId"]
    )
    # the notebook on serverless now reaches the private AzureML workspace through the NCC
    smoke = rig.make_smoke(deployer, routes, ok=None, make_args=serverless, stack="private")
    assert smoke.code == 0, smoke.output + "\n".join(runner.logs[-1:])
    assert "pass    private endpoints" in smoke.stdout
    assert "(run on serverless)" in smoke.stdout
    assert ", 0 failed, " in smoke.stdout

    pulumi("preview", "--expect-no-changes")

    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.account.nccs == {}
    assert _connections(cloud) == {}


def _workspace_id(cloud: FakeCloud, arm_id: str) -> str:
    workspace = cloud.arm.get(arm_id)
    assert workspace is not None
    return workspace["properties"]["workspaceId"]
