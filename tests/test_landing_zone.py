"""Deploying into a landing zone: each new key's refusals (one message per mistake, naming the
key), and what the program declares, and leaves undeclared, for a borrowed VNet, resource group
and DNS zones, firewall egress and name overrides."""

from __future__ import annotations

import pytest

from core.config import parse_config
from core.errors import ConfigError
from tests.conftest import program, rejected
from tests.stacks import DEV, PRIVATE, SECRET_KEYS, with_values
from tools import borrowed, preview

SUB = "3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21"  # the offline deployer's subscription
OTHER_SUB = "00000000-0000-0000-0000-0000000000ff"
SPOKE = f"/subscriptions/{SUB}/resourceGroups/spoke-rg/providers/Microsoft.Network/virtualNetworks/spoke-vnet"
HUB_ZONES = (
    f"/subscriptions/{SUB}/resourceGroups/hub-rg/providers/Microsoft.Network/privateDnsZones"
)
AML_ZONES = (
    "privatelink.api.azureml.ms",
    "privatelink.notebooks.azure.net",
    "privatelink.blob.core.windows.net",
    "privatelink.file.core.windows.net",
    "privatelink.vaultcore.azure.net",
    "privatelink.dfs.core.windows.net",
)
FIREWALL = {"egress": "firewall", "firewallPrivateIp": "10.0.1.4"}


def zone_ids(*zones: str) -> dict[str, str]:
    return {zone: f"{HUB_ZONES}/{zone}" for zone in zones}


def refusal(raw: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "dev", SECRET_KEYS & raw.keys())
    return str(caught.value)


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "spoke-vnet",
        "/subscriptions/not-a-guid/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v",
        f"/subscriptions/{SUB}/resourceGroups/g/providers/Microsoft.Network/subnets/v",
    ],
)
def test_virtual_network_id_that_is_not_a_vnet_arm_id_is_refused(value):
    message = refusal(with_values(DEV, network={"virtualNetworkId": value}))
    assert message.startswith("databricks-azureml:network.virtualNetworkId:")
    assert "is not a VNet's ARM id" in message


def test_vnet_in_another_subscription_than_the_configured_one_is_refused_offline():
    raw = {
        **with_values(DEV, network={"virtualNetworkId": SPOKE}),
        "azure-native:subscriptionId": OTHER_SUB,
    }
    message = refusal(raw)
    assert "network.virtualNetworkId" in message
    assert f"not azure-native:subscriptionId {OTHER_SUB}" in message


def test_unknown_egress_is_refused_with_the_allowed_values():
    message = refusal(with_values(DEV, network={"egress": "proxy"}))
    assert "network.egress" in message and "allowed: natGateway, firewall" in message


def test_firewall_egress_without_the_firewall_ip_is_refused():
    message = refusal(with_values(DEV, network={"egress": "firewall"}))
    assert "network.firewallPrivateIp" in message and "is required" in message


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("10.0.1", "is not an IPv4 address"),
        ("20.50.1.4", "is not a private address"),
        ("10.139.9.4", "is inside network.addressSpace 10.139.0.0/16"),
    ],
)
def test_firewall_ip_that_is_not_a_private_hub_address_is_refused(value, problem):
    message = refusal(with_values(DEV, network={"egress": "firewall", "firewallPrivateIp": value}))
    assert "network.firewallPrivateIp" in message and problem in message


def test_firewall_ip_with_nat_gateway_egress_is_refused():
    message = refusal(with_values(DEV, network={"firewallPrivateIp": "10.0.1.4"}))
    assert (
        "network.firewallPrivateIp" in message
        and "only used with network.egress firewall" in message
    )


def test_unknown_private_dns_mode_is_refused():
    message = refusal(with_values(DEV, privateDns={"zones": "central"}))
    assert "privateDns.zones" in message and "allowed: stack, existing, policy" in message


def test_zone_ids_without_existing_zones_are_refused():
    message = refusal(with_values(DEV, privateDns={"zoneIds": zone_ids(AML_ZONES[0])}))
    assert "privateDns.zoneIds" in message and "only used with privateDns.zones existing" in message


def test_zone_id_that_names_another_zone_is_refused():
    ids = {"privatelink.api.azureml.ms": f"{HUB_ZONES}/privatelink.blob.core.windows.net"}
    message = refusal(with_values(DEV, privateDns={"zones": "existing", "zoneIds": ids}))
    assert "privateDns.zoneIds.privatelink.api.azureml.ms" in message
    assert "names zone 'privatelink.blob.core.windows.net'" in message


def test_zone_id_that_is_not_a_zone_arm_id_is_refused():
    ids = {"privatelink.api.azureml.ms": "privatelink.api.azureml.ms"}
    message = refusal(with_values(DEV, privateDns={"zones": "existing", "zoneIds": ids}))
    assert "privateDns.zoneIds.privatelink.api.azureml.ms" in message
    assert "is not a private DNS zone's ARM id" in message


def test_existing_zones_lacking_one_the_endpoints_need_are_named_before_anything_is_made():
    ids = zone_ids(*(z for z in AML_ZONES if z != "privatelink.vaultcore.azure.net"))
    result = rejected(with_values(PRIVATE, privateDns={"zones": "existing", "zoneIds": ids}))
    assert "privateDns.zoneIds" in result.error
    assert "lacks privatelink.vaultcore.azure.net" in result.error
    assert not result.of_type("azure-native:network:PrivateEndpoint")


@pytest.mark.parametrize("value", ["rg.", "a" * 91, "rg with space"])
def test_resource_group_name_against_azures_rule_is_refused(value):
    message = refusal(with_values(DEV, resourceGroupName=value))
    assert message.startswith("databricks-azureml:resourceGroupName:")
    assert "resource group name" in message


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"budget": {"amount": 100, "contactEmails": ["ml@example.com"]}}, "budget"),
        (
            {"access": {"readers": [{"objectId": SUB, "type": "Group"}]}},
            "access.readers",
        ),
    ],
)
def test_group_level_resources_on_a_borrowed_group_are_refused(extra, key):
    message = refusal(with_values(DEV, resourceGroupName="team-ml-rg", **extra))
    assert f"databricks-azureml:{key}:" in message and "borrowed resource group" in message


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("storageAccount", "Team_Storage", "storage account name"),
        ("keyVault", "kv--team", "key vault name"),
        ("keyVault", "kv", "key vault name"),
        ("amlWorkspace", "-mlw", "AzureML workspace name"),
        ("databricksWorkspace", "d" * 65, "Databricks workspace name"),
    ],
)
def test_name_override_that_breaks_azures_rule_is_refused(key, value, rule):
    message = refusal(with_values(DEV, names={key: value}))
    assert f"names.{key}" in message and rule in message


def test_unknown_name_override_is_refused_with_the_known_ones():
    message = refusal(with_values(DEV, names={"vnet": "x-vnet"}))
    assert "names.vnet" in message and "databricksWorkspace" in message


# --- what the program declares ------------------------------------------------------------------


LANDING_ZONE = with_values(
    PRIVATE,
    network={"virtualNetworkId": SPOKE, **FIREWALL},
    privateDns={
        "zones": "existing",
        "zoneIds": zone_ids(*AML_ZONES, "privatelink.azuredatabricks.net"),
    },
    resourceGroupName="team-ml-rg",
    databricksPrivateLink="full",
)


@pytest.fixture(scope="module")
def landing_zone():
    return program(LANDING_ZONE)


def test_borrowed_vnet_group_and_zones_are_never_declared(landing_zone):
    declared = {r.type for r in landing_zone.resources}
    for type_ in (
        "azure-native:network:VirtualNetwork",
        "azure-native:resources:ResourceGroup",
        "azure-native:privatedns:PrivateZone",
        "azure-native:privatedns:VirtualNetworkLink",
        "azure-native:authorization:ManagementLockAtResourceGroupLevel",
    ):
        assert type_ not in declared


def test_subnets_are_created_in_the_borrowed_vnet(landing_zone):
    subnets = landing_zone.of_type("azure-native:network:Subnet")
    assert len(subnets) == 3
    for declared in subnets:
        assert declared.inputs["resourceGroupName"] == "spoke-rg"
        assert declared.inputs["virtualNetworkName"] == "spoke-vnet"
    workspace = landing_zone.one("azure-native:databricks:Workspace")
    assert workspace.inputs["parameters"]["customVirtualNetworkId"] == {"value": SPOKE}


def test_everything_else_goes_in_the_borrowed_resource_group(landing_zone):
    for declared in landing_zone.resources:
        if declared.custom and declared.type != "azure-native:network:Subnet":
            assert declared.inputs.get("resourceGroupName", "team-ml-rg") == "team-ml-rg"
    assert landing_zone.outputs["resourceGroupName"] == "team-ml-rg"


def test_firewall_egress_routes_everything_to_the_firewall_and_has_no_public_ip(landing_zone):
    assert not landing_zone.of_type("azure-native:network:PublicIPAddress")
    assert not landing_zone.of_type("azure-native:network:NatGateway")
    table = landing_zone.one("azure-native:network:RouteTable")
    assert table.inputs["routeTableName"] == "mlflow-dev-firewall-rt"
    assert table.inputs["routes"] == [
        {
            "name": "to-firewall",
            "addressPrefix": "0.0.0.0/0",
            "nextHopType": "VirtualAppliance",
            "nextHopIpAddress": "10.0.1.4",
        }
    ]
    for role in ("host", "container"):
        declared = landing_zone.one("azure-native:network:Subnet", f"-{role}-subnet")
        assert declared.inputs["routeTable"] == {"id": table.id}
        assert "natGateway" not in declared.inputs
        assert declared.inputs["defaultOutboundAccess"] is False


def test_existing_zones_are_attached_by_zone_groups(landing_zone):
    groups = landing_zone.of_type("azure-native:network:PrivateDnsZoneGroup")
    zones = {c["privateDnsZoneId"] for g in groups for c in g.inputs["privateDnsZoneConfigs"]}
    assert f"{HUB_ZONES}/privatelink.api.azureml.ms" in zones
    assert f"{HUB_ZONES}/privatelink.azuredatabricks.net" in zones
    assert all(zone.startswith(HUB_ZONES) for zone in zones)


def test_policy_dns_places_endpoints_without_zone_groups():
    result = program(with_values(PRIVATE, privateDns={"zones": "policy"}))
    assert result.of_type("azure-native:network:PrivateEndpoint")
    assert not result.of_type("azure-native:network:PrivateDnsZoneGroup")
    assert not result.of_type("azure-native:privatedns:PrivateZone")


def test_vnet_in_another_subscription_is_refused_at_deploy():
    other = SPOKE.replace(SUB, OTHER_SUB)
    result = rejected(with_values(DEV, network={"virtualNetworkId": other}))
    assert "network.virtualNetworkId" in result.error
    assert f"is in subscription {OTHER_SUB}, not the deployment's {SUB}" in result.error


def test_name_overrides_replace_the_derived_names():
    result = program(
        with_values(
            DEV,
            names={
                "databricksWorkspace": "dbw-team-ml-weu",
                "amlWorkspace": "mlw-team-ml-weu",
                "storageAccount": "stteammlweu",
                "keyVault": "kv-team-ml-weu",
            },
        )
    )
    assert (
        result.one("azure-native:databricks:Workspace").inputs["workspaceName"] == "dbw-team-ml-weu"
    )
    assert (
        result.one("azure-native:machinelearningservices:Workspace").inputs["workspaceName"]
        == "mlw-team-ml-weu"
    )
    assert result.one("azure-native:storage:StorageAccount").inputs["accountName"] == "stteammlweu"
    assert result.one("azure-native:keyvault:Vault").inputs["vaultName"] == "kv-team-ml-weu"


def test_protect_on_a_borrowed_group_locks_the_stacks_resources_never_the_group():
    result = program(with_values(DEV, resourceGroupName="team-ml-rg", protect=True))
    azure_locks = [
        r for r in result.resources if r.type.startswith("azure-native:") and "Lock" in r.type
    ]
    assert azure_locks
    assert {r.type for r in azure_locks} == {"azure-native:authorization:ManagementLockByScope"}
    assert not [r for r in azure_locks if str(r.inputs["scope"]).lower().endswith("/team-ml-rg")]


# --- the preview's exposure summary -----------------------------------------------------------


def test_preview_lists_the_borrowed_resources_and_the_firewall_egress(landing_zone):

    text = "\n".join(preview.exposure_lines(landing_zone.resources))
    assert "egress: 0.0.0.0/0 through the firewall at 10.0.1.4, no public IP" in text
    assert "resource group team-ml-rg" in text
    assert "VNet spoke-vnet in spoke-rg (subnets added)" in text
    assert f"private DNS zone {HUB_ZONES}/privatelink.api.azureml.ms" in text


def test_preview_of_a_stack_of_its_own_borrows_nothing_and_egresses_by_nat(dev):

    assert borrowed.borrowed(dev.resources) == []
    assert borrowed.egress(dev.resources) == "egress: NAT gateway with a static public IP"


def test_preview_says_policy_adds_the_dns_records():

    result = program(with_values(PRIVATE, privateDns={"zones": "policy"}))
    assert borrowed.borrowed(result.resources) == [
        "private DNS records: added by the platform's policy (no zone groups)"
    ]
