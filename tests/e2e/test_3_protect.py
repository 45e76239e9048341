"""Scenario 3: `protect: true` makes destroy refuse and puts CanNotDelete locks on the
workspaces, the storage account and the key vault, never on the group (here with a budget and
team access too); turned off and applied, the locks go, then destroy succeeds."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import init_stack
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e

LOCK_PATH = "/providers/microsoft.authorization/locks/"
BUDGET = {"amount": 500, "contactEmails": ["finops@contoso.com"]}
ACCESS = {
    "dataScientists": [{"objectId": "aaaaaaaa-1111-2222-3333-444444444444", "type": "Group"}],
    "readers": [{"objectId": "bbbbbbbb-1111-2222-3333-444444444444", "type": "User"}],
}


def test_protected_stack_refuses_destroy_until_unprotected(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    pulumi("config", "set", "databricks-azureml:protect", "true")
    pulumi("config", "set", "databricks-azureml:budget", json.dumps(BUDGET))
    pulumi("config", "set", "databricks-azureml:access", json.dumps(ACCESS))
    pulumi("up", "--yes", "--skip-preview")

    state = cloud.arm.dump()["resources"]
    locks = [r for r in state if LOCK_PATH in r["id"].lower()]
    assert {r["properties"]["level"] for r in locks} == {"CanNotDelete"}
    locked = sorted(r["id"].lower().split(LOCK_PATH)[0].split("/providers/")[1] for r in locks)
    assert [scope.rsplit("/", 1)[0] for scope in locked] == [
        "microsoft.databricks/workspaces",
        "microsoft.keyvault/vaults",
        "microsoft.machinelearningservices/workspaces",
        "microsoft.storage/storageaccounts",
    ]
    [budget] = [r for r in state if "/microsoft.consumption/budgets/" in r["id"].lower()]
    assert budget["properties"]["amount"] == 500
    assert len(budget["properties"]["notifications"]) == 3
    assignments = [r for r in state if "/roleassignments/" in r["id"].lower()]
    assert len(assignments) == 3  # AzureML Data Scientist, blob reader, Reader
    # ARM refuses a delete from outside Pulumi (the portal, the CLI) under the lock.
    vault = next(r["id"] for r in state if "/microsoft.keyvault/vaults/" in r["id"].lower())
    refused_by_arm = cloud.arm.request("DELETE", vault, query={"api-version": "2024-11-01"})
    assert refused_by_arm.status == 409
    assert refused_by_arm.body["error"]["code"] == "ScopeLocked"
    group = next(r["id"] for r in state if r["type"] == "Microsoft.Resources/resourceGroups")
    group_refused = cloud.arm.request("DELETE", group, query={"api-version": "2024-03-01"})
    assert (group_refused.status, group_refused.body["error"]["code"]) == (409, "ScopeLocked")

    refused = pulumi("destroy", "--yes", ok=False)
    assert "protected" in refused.output
    assert cloud.arm.dump()["resources"], "a refused destroy must leave the stack in place"

    pulumi("config", "set", "databricks-azureml:protect", "false")
    before = len(cloud.arm.calls("DELETE"))
    pulumi("up", "--yes", "--skip-preview")
    removed = [c.path.lower() for c in cloud.arm.calls("DELETE")[before:]]
    assert sorted(removed) == sorted(r["id"].lower() for r in locks), (
        "unprotecting removes the locks and nothing else"
    )

    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.arm.dump()["resources"] == []
