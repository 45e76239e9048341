"""Scenario 8: Databricks private link, full: the workspace private-only, its endpoints and zone,
its storage behind the firewall (access connector, blob and dfs endpoints), the policy pack
satisfied, and a destroy that removes the endpoints before the workspace."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import arm_types, init_stack
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
    # The pack's own virtualenv (README: python -m venv policy/venv), here the project's.
    (deployer.workdir / "policy" / "venv").symlink_to(deployer.workdir / "venv")
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
        connection.get("properties", connection)["groupIds"][0]
        for r in resources
        if r["type"].lower() == ENDPOINTS
        for connection in r["properties"]["privateLinkServiceConnections"]
        if connection.get("properties", connection)["privateLinkServiceId"].endswith(storage)
    }
    assert storage_targets == {"blob", "dfs"}
    groups = sorted(
        connection.get("properties", connection)["groupIds"][0]
        for r in resources
        if r["type"].lower() == ENDPOINTS
        for connection in r["properties"]["privateLinkServiceConnections"]
    )
    assert groups == ["blob", "browser_authentication", "databricks_ui_api", "dfs"]
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
