"""Databricks private link (config `databricksPrivateLink`), as the program declares it."""

import pytest

from tests.conftest import program
from tests.stacks import DEV, PRIVATE, with_values

WORKSPACE = "azure-native:databricks:Workspace"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE = "azure-native:privatedns:PrivateZone"
LINK = "azure-native:privatedns:VirtualNetworkLink"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
DATABRICKS_ZONE = "privatelink.azuredatabricks.net"


def databricks_endpoints(result):
    return {
        connection["groupIds"][0]: endpoint
        for endpoint in result.of_type(ENDPOINT)
        for connection in endpoint.inputs["privateLinkServiceConnections"]
        if connection["groupIds"][0] in ("databricks_ui_api", "browser_authentication")
    }


def test_without_databricks_private_link_the_workspace_is_reached_publicly(dev):
    workspace = dev.one(WORKSPACE).inputs
    assert workspace["requiredNsgRules"] == "AllRules"
    assert workspace["publicNetworkAccess"] == "Enabled"
    assert databricks_endpoints(dev) == {}
    assert dev.of_type(ZONE) == []


def test_backend_sends_cluster_traffic_through_a_ui_api_endpoint_and_keeps_public_access():
    result = program(with_values(DEV, databricksPrivateLink="backend"))
    workspace = result.one(WORKSPACE)
    assert workspace.inputs["requiredNsgRules"] == "NoAzureDatabricksRules"
    assert workspace.inputs["publicNetworkAccess"] == "Enabled"
    endpoints = databricks_endpoints(result)
    assert set(endpoints) == {"databricks_ui_api"}
    [connection] = endpoints["databricks_ui_api"].inputs["privateLinkServiceConnections"]
    assert connection["privateLinkServiceId"] == workspace.id
    subnet = result.one(SUBNET, "-endpoint-subnet")
    assert endpoints["databricks_ui_api"].inputs["subnet"] == {"id": subnet.id}
    assert endpoints["databricks_ui_api"].inputs["privateEndpointName"] == (
        "mlflow-dev-dbw-databricks-ui-api-pe"
    )


def test_full_also_turns_public_access_off_and_adds_browser_authentication():
    result = program(with_values(DEV, databricksPrivateLink="full"))
    workspace = result.one(WORKSPACE).inputs
    assert workspace["publicNetworkAccess"] == "Disabled"
    assert workspace["requiredNsgRules"] == "NoAzureDatabricksRules"
    assert set(databricks_endpoints(result)) == {"databricks_ui_api", "browser_authentication"}


@pytest.mark.parametrize("setting", ["backend", "full"])
def test_one_databricks_zone_linked_to_the_vnet_holds_every_databricks_endpoint(setting):
    # without the workspace storage firewall's blob and dfs zones (tested on their own)
    result = program(
        with_values(DEV, databricksPrivateLink=setting, databricksStorageFirewall=False)
    )
    [zone] = result.of_type(ZONE)
    assert zone.inputs["privateZoneName"] == DATABRICKS_ZONE
    [link] = result.of_type(LINK)
    assert link.inputs["virtualNetwork"] == {"id": result.one(VNET).id}
    groups = result.of_type(ZONE_GROUP)
    assert len(groups) == len(databricks_endpoints(result))
    for zone_group in groups:
        configs = zone_group.inputs["privateDnsZoneConfigs"]
        assert [c["privateDnsZoneId"] for c in configs] == [zone.id]


def test_with_azureml_private_link_both_share_the_endpoint_subnet_and_the_zones():
    result = program(with_values(PRIVATE, databricksPrivateLink="backend"))
    zones = sorted(z.inputs["privateZoneName"] for z in result.of_type(ZONE))
    assert DATABRICKS_ZONE in zones and "privatelink.api.azureml.ms" in zones
    assert len(zones) == len(set(zones))
    subnet = result.one(SUBNET, "-endpoint-subnet")
    assert all(pe.inputs["subnet"] == {"id": subnet.id} for pe in result.of_type(ENDPOINT))


def test_endpoints_and_zone_links_go_before_the_workspace_and_the_vnet_on_destroy():
    """Pulumi deletes a resource before what it depends on: the endpoint depends on the
    workspace and the subnet, the zone link on the VNet."""
    result = program(
        with_values(DEV, databricksPrivateLink="full", databricksStorageFirewall=False)
    )
    workspace, vnet = result.one(WORKSPACE), result.one(VNET)
    subnet = result.one(SUBNET, "-endpoint-subnet")
    for endpoint in databricks_endpoints(result).values():
        assert {workspace.urn, subnet.urn} <= set(endpoint.depends_on)
    assert vnet.urn in result.one(LINK).depends_on


def test_dual_tracking_is_allowed_with_databricks_private_link():
    result = program(with_values(DEV, databricksPrivateLink="backend"))
    assert result.outputs["trackingMode"] == "dual"


def test_under_the_storage_firewall_the_cluster_starts_after_dbfs_endpoints_and_zones():
    result = program(PRIVATE, "private")
    cluster = result.one("databricks:index/cluster:Cluster")
    needed = {
        r.urn
        for r in result.resources
        if r.name
        in {
            "databricks-storage-blob-pe",
            "databricks-storage-dfs-pe",
            "databricks-storage-blob-zones",
            "databricks-storage-dfs-zones",
        }
    }
    assert len(needed) == 4
    assert needed <= set(cluster.depends_on)


def test_without_the_storage_firewall_the_cluster_waits_for_no_storage_endpoint(dev):
    cluster = dev.one("databricks:index/cluster:Cluster")
    assert not [urn for urn in cluster.depends_on if "storage-blob" in urn or "storage-dfs" in urn]
