"""Scenario 8: Databricks private link, full: the workspace private-only, its endpoints and zone,
its storage behind the firewall (access connector, blob and dfs endpoints), the policy pack
satisfied, and a destroy that removes the endpoints before the workspace.

The two endpoints to the workspace connect to one resource, and Azure refuses a second
connection while one is being made (409 ConcurrentUpdateError; the fake ARM does too,
tests/fakecloud/arm_workspace_rules.py): the stack creates them one after the other."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import arm_types, init_stack, policy_venv
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
WORKSPACES = "microsoft.databricks/workspaces"
ENDPOINTS = "microsoft.network/privateendpoints"


def test_full_private_link_deploys_passes_the_pack_and_destroys(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    pulumi("config", "set", "databricks-azureml:databricksPrivateLink", "full")
    policy_venv(deployer)
    up = pulumi("up", "--yes", "--policy-pack", "policy")
    assert "public network access is off" in up.output  # the program's warning

    resources = cloud.arm.dump()["resources"]
    [workspace] = [r for r in resources if r["type"].lower() == WORKSPACES]
    assert workspace["properties"]["publicNetworkAccess"] == "Disabled"
    assert workspace["properties"]["requiredNsgRules"] == "NoAzureDatabricksRules"
    # The workspace storage firewall, on by default with private link.
    assert workspace["properties"]["defaultStorageFirewall"] == "Enabled"
    [connector] = [
        r for r in resources if r["type"].lower() == "microsoft.databricks/accessconnectors"
    ]
    assert workspace["properties"]["accessConnector"]["id"] == connector["id"]
    storage = workspace["properties"]["parameters"]["storageAccountName"]["value"]
    storage_targets = {
        _connection_groups(connection)[0]
        for r in resources
        if r["type"].lower() == ENDPOINTS
        for connection in r["properties"]["privateLinkServiceConnections"]
        if _target(connection).endswith(storage)
    }
    assert storage_targets == {"blob", "dfs"}
    groups = sorted(
        _connection_groups(connection)[0]
        for r in resources
        if r["type"].lower() == ENDPOINTS
        for connection in r["properties"]["privateLinkServiceConnections"]
    )
    assert groups == ["blob", "browser_authentication", "databricks_ui_api", "dfs"]
    # one at a time: the second endpoint's PUT follows the end of the first's operation
    puts = [
        (i, c.path.lower())
        for i, c in enumerate(cloud.arm.calls())
        if c.method == "PUT"
        and "/privateendpoints/" in c.path.lower()
        and c.path.count("/") == 8
        and _groups(c.body) & {"browser_authentication", "databricks_ui_api"}
    ]
    [(ui_api, _), (browser, _)] = sorted(puts, key=lambda put: "browser" in put[1])
    assert ui_api < browser
    between = cloud.arm.calls()[ui_api:browser]
    assert any("/operationstatuses/" in c.path.lower() for c in between)
    zones = [
        r["name"] for r in resources if r["type"].lower() == "microsoft.network/privatednszones"
    ]
    assert sorted(zones) == [
        "privatelink.azuredatabricks.net",
        "privatelink.blob.core.windows.net",
        "privatelink.dfs.core.windows.net",
    ]

    pulumi("destroy", "--yes", "--skip-preview")
    deletes = [c.path.lower() for c in cloud.arm.calls("DELETE")]
    workspace_delete = next(  # the workspace itself, not a setting on it
        i
        for i, p in enumerate(deletes)
        if "/microsoft.databricks/workspaces/" in p
        and "/" not in p.partition("/microsoft.databricks/workspaces/")[2]
    )
    endpoint_deletes = [i for i, p in enumerate(deletes) if "/privateendpoints/" in p]
    assert endpoint_deletes and max(endpoint_deletes) < workspace_delete
    assert arm_types(cloud)[WORKSPACES] == 0
    assert cloud.arm.dump()["resources"] == []


def _groups(body: object) -> set[str]:
    """The group ids a private endpoint PUT connects to."""
    connections = (body or {}).get("properties", {}).get("privateLinkServiceConnections", [])
    return {group for connection in connections for group in _connection_groups(connection)}


def _connection_groups(connection: dict) -> list[str]:
    """A connection's group ids, in either body shape (flat, or under `properties`)."""
    return (connection.get("properties") or {}).get("groupIds") or connection["groupIds"]


def _target(connection: dict) -> str:
    inner = connection.get("properties") or {}
    return inner.get("privateLinkServiceId") or connection["privateLinkServiceId"]
