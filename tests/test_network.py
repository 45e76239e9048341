"""The network, as the program declares it under Pulumi mocks: what `pulumi up` on Azure would
be asked to create, with wire (camelCase) property names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import program
from tests.stacks import DEV, with_values
from tests.stacks import PRIVATE as PRIVATE_LINK
from tools.offline import ProgramResult

VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
NSG = "azure-native:network:NetworkSecurityGroup"
NAT = "azure-native:network:NatGateway"
PIP = "azure-native:network:PublicIPAddress"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
DATABRICKS = "Microsoft.Databricks/workspaces"


def subnet(result: ProgramResult, role: str) -> Any:
    return result.one(SUBNET, f"-{role}-subnet")


# --- VNet -------------------------------------------------------------------------------------


def test_vnet_spans_the_configured_address_space(stack):
    vnet = stack.one(VNET)
    assert vnet.inputs["addressSpace"] == {"addressPrefixes": ["10.139.0.0/16"]}
    assert vnet.inputs["virtualNetworkName"] == "mlflow-dev-vnet"
    assert vnet.inputs["location"] == "westeurope"
    assert vnet.inputs["resourceGroupName"] == "mlflow-dev-rg"


def test_vnet_declares_no_inline_subnets_and_ignores_their_drift():
    """One subnet style: standalone Subnet resources. The VNet leaves `subnets` unset (not []),
    so azure-native keeps the existing subnets on update, and ignores the property's drift."""
    result = program(PRIVATE_LINK)
    vnet = result.one(VNET)
    assert "subnets" not in vnet.inputs
    assert vnet.ignore_changes == ["subnets"]
    assert len(result.of_type(SUBNET)) == 3


# --- subnets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "private_link"),
    [
        (
            {
                "addressSpace": "10.20.0.0/16",
                "hostSubnet": "10.20.64.0/24",
                "containerSubnet": "10.20.128.0/23",
            },
            False,
        ),
        (
            {
                "addressSpace": "172.16.0.0/20",
                "hostSubnet": "172.16.8.0/26",
                "containerSubnet": "172.16.0.0/25",
                "endpointSubnet": "172.16.15.240/28",
            },
            True,
        ),
    ],
)
def test_subnet_cidrs_come_from_the_validated_config(layout, private_link):
    result = program(with_values(PRIVATE_LINK if private_link else DEV, network=layout))

    assert result.one(VNET).inputs["addressSpace"]["addressPrefixes"] == [layout["addressSpace"]]
    assert subnet(result, "host").inputs["addressPrefix"] == layout["hostSubnet"]
    assert subnet(result, "container").inputs["addressPrefix"] == layout["containerSubnet"]
    if private_link:
        assert subnet(result, "endpoint").inputs["addressPrefix"] == layout["endpointSubnet"]
    else:
        assert len(result.of_type(SUBNET)) == 2


def test_dev_subnets_use_the_default_layout(dev):
    result = dev
    assert subnet(result, "host").inputs["addressPrefix"] == "10.139.0.0/22"
    assert subnet(result, "container").inputs["addressPrefix"] == "10.139.4.0/22"


def test_both_databricks_subnets_are_delegated_to_databricks_only(stack):
    result = stack
    for role, azure_name in (("host", "databricks-host"), ("container", "databricks-container")):
        declared = subnet(result, role)
        assert declared.inputs["subnetName"] == azure_name
        assert declared.inputs["virtualNetworkName"] == "mlflow-dev-vnet"
        assert declared.inputs["delegations"] == [
            {"name": f"databricks-{role}", "serviceName": DATABRICKS}
        ]


def test_databricks_subnets_are_used_by_nothing_else(stack):
    """Nothing the network declares (no endpoint, no other subnet) refers to the Databricks
    subnets; each is its own address range."""
    result = stack
    for role in ("host", "container"):
        declared = subnet(result, role)
        others = [r for r in result.resources if r.urn != declared.urn]
        assert not any(declared.id in json.dumps(r.inputs) for r in others)
    prefixes = [s.inputs["addressPrefix"] for s in result.of_type(SUBNET)]
    assert len(set(prefixes)) == len(prefixes)


def test_one_nsg_is_on_both_databricks_subnets(stack):
    result = stack
    nsg = result.one(NSG, "network-nsg")
    assert nsg.inputs["networkSecurityGroupName"] == "mlflow-dev-databricks-nsg"
    for role in ("host", "container"):
        assert subnet(result, role).inputs["networkSecurityGroup"] == {"id": nsg.id}


def test_nsg_leaves_its_rules_to_the_databricks_network_intent_policy(stack):
    """Databricks writes its own rules (its names and priorities) and Azure refuses to delete
    them: the NSG declares none and ignores changes to them, so refresh + up stays a no-op."""
    nsg = stack.one(NSG, "network-nsg")
    assert "securityRules" not in nsg.inputs
    assert nsg.ignore_changes == ["securityRules"]


def test_nat_gateway_with_static_standard_public_ip_is_the_egress_of_both_subnets(stack):
    result = stack
    pip, nat = result.one(PIP), result.one(NAT)
    assert pip.inputs["publicIpAddressName"] == "mlflow-dev-natgw-pip"
    assert pip.inputs["sku"] == {"name": "Standard", "tier": "Regional"}
    assert pip.inputs["publicIPAllocationMethod"] == "Static"
    assert pip.inputs["publicIPAddressVersion"] == "IPv4"
    assert nat.inputs["natGatewayName"] == "mlflow-dev-natgw"
    assert nat.inputs["sku"] == {"name": "Standard"}
    assert nat.inputs["publicIpAddresses"] == [{"id": pip.id}]
    for role in ("host", "container"):
        declared = subnet(result, role)
        assert declared.inputs["natGateway"] == {"id": nat.id}
        # No default outbound access: the NAT gateway is the only way out.
        assert declared.inputs["defaultOutboundAccess"] is False


def test_dev_stack_has_no_endpoint_subnet(dev):
    assert sorted(s.name for s in dev.of_type(SUBNET)) == [
        "network-container-subnet",
        "network-host-subnet",
    ]
    assert not dev.of_type("azure-native:network:PrivateEndpoint")


def test_private_link_adds_an_endpoint_subnet_that_is_not_delegated(private):
    result = private
    endpoint = subnet(result, "endpoint")
    assert endpoint.inputs["subnetName"] == "private-endpoints"
    assert endpoint.inputs["addressPrefix"] == "10.139.8.0/26"
    assert endpoint.inputs["privateEndpointNetworkPolicies"] == "Disabled"
    for absent in ("delegations", "natGateway"):
        assert absent not in endpoint.inputs
    placed = result.of_type("azure-native:network:PrivateEndpoint")
    assert placed and all(pe.inputs["subnet"] == {"id": endpoint.id} for pe in placed)
    assert endpoint.id.endswith("/virtualNetworks/mlflow-dev-vnet/subnets/private-endpoints")


# --- ordering: what runs in parallel ------------------------------------------------------------


def test_only_the_orders_the_inputs_imply_no_explicit_depends_on(stack):
    """VNet, NSG and public IP start together once the resource group exists; the NAT gateway
    waits only for its IP; each subnet waits only for what it references, never for another
    subnet. Any explicit depends_on would show up here as an extra edge."""
    result = stack
    urn = {r.name: r.urn for r in result.resources if r.custom}
    deps = {r.name: set(r.depends_on) for r in result.resources if r.custom}
    group = urn["main-rg"]

    assert deps["network-vnet"] == {group}
    assert deps["network-nsg"] == {group}
    assert deps["network-natgw-pip"] == {group}
    assert deps["network-natgw"] == {group, urn["network-natgw-pip"]}
    for name in ("network-host-subnet", "network-container-subnet"):
        assert deps[name] == {group, urn["network-vnet"], urn["network-nsg"], urn["network-natgw"]}
    if "network-endpoint-subnet" in deps:
        assert deps["network-endpoint-nsg"] == {group}
        assert deps["network-endpoint-subnet"] == {
            group,
            urn["network-vnet"],
            urn["network-endpoint-nsg"],
        }


# --- names, parentage, public surface ------------------------------------------------------------


def test_names_are_stable_between_preview_and_up():
    first = program(PRIVATE_LINK)
    second = program(PRIVATE_LINK, deployed=False)

    def network_urns(result: ProgramResult) -> list[str]:
        return sorted(r.urn for r in result.resources if r.type.startswith("azure-native:network"))

    assert network_urns(first) == network_urns(second)


def test_azure_names_come_from_the_prefix_and_the_stack():
    result = program(with_values(DEV, prefix="ml"), "prod")
    assert result.one(VNET).inputs["virtualNetworkName"] == "ml-prod-vnet"
    assert result.one(NSG).inputs["networkSecurityGroupName"] == "ml-prod-databricks-nsg"
    assert result.one(NAT).inputs["natGatewayName"] == "ml-prod-natgw"
    assert result.one(PIP).inputs["publicIpAddressName"] == "ml-prod-natgw-pip"


def test_children_are_parented_to_the_component_and_named_from_it(stack):
    component = stack.one("databricks-azureml:network:Network")
    children = [r for r in stack.resources if r.parent == component.urn]
    assert {r.type for r in children} == {VNET, SUBNET, NSG, NAT, PIP}
    assert all(r.name.startswith("network-") for r in children)


def test_endpoint_subnet_has_an_nsg_of_its_own_with_default_rules_only(private):
    """Landing-zone policies deny a subnet without an NSG; the endpoint subnet's NSG is not the
    Databricks one, whose rules the network intent policy owns."""
    endpoint, nsg = subnet(private, "endpoint"), private.one(NSG, "endpoint-nsg")
    assert nsg.inputs["networkSecurityGroupName"] == "mlflow-dev-endpoints-nsg"
    assert "securityRules" not in nsg.inputs
    assert endpoint.inputs["networkSecurityGroup"] == {"id": nsg.id}
    assert nsg.id != private.one(NSG, "network-nsg").id


def test_every_subnet_has_an_nsg(stack):
    assert all("networkSecurityGroup" in s.inputs for s in stack.of_type(SUBNET))
