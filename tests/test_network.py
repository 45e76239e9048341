"""The Network component under Pulumi mocks: what a `pulumi up` on Azure would be asked to create.

Each test builds a fresh program (resource group + Network) from a config validated by
`parse_config` and inspects what was declared, with wire (camelCase) property names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pytest
from pulumi_azure_native import network as azure_network

from components.network import Network, NetworkArgs
from components.resource_group import ResourceGroup, ResourceGroupArgs
from core import naming
from core.config import StackConfig, parse_config
from tests.stacks import DEV, SECRET_KEY
from tests.stacks import PRIVATE as PRIVATE_LINK
from tools.offline import ProgramResult, arm_id, run_function

VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
NSG = "azure-native:network:NetworkSecurityGroup"
NAT = "azure-native:network:NatGateway"
PIP = "azure-native:network:PublicIPAddress"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
DATABRICKS = "Microsoft.Databricks/workspaces"


# The NSG rules Azure Databricks' network intent policy writes for a VNet-injected workspace with
# secure cluster connectivity: Azure quickstart templates (microsoft.databricks
# databricks-all-in-one-template-for-vnet-injection*), ports of the webapp rule per the Azure
# Databricks January 2025 release notes (443, 3306, 8443-8451).
_COMMON = {
    "access": "Allow",
    "sourceAddressPrefix": "VirtualNetwork",
    "sourcePortRange": "*",
}
EXPECTED_RULES = [
    {
        **_COMMON,
        "name": "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-worker-inbound",
        "description": "Required for worker nodes communication within a cluster.",
        "priority": 100,
        "direction": "Inbound",
        "protocol": "*",
        "destinationAddressPrefix": "VirtualNetwork",
        "destinationPortRange": "*",
    },
    {
        **_COMMON,
        "name": "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-databricks-webapp",
        "description": "Required for workers communication with Databricks Webapp.",
        "priority": 100,
        "direction": "Outbound",
        "protocol": "Tcp",
        "destinationAddressPrefix": "AzureDatabricks",
        "destinationPortRanges": ["443", "3306", "8443-8451"],
    },
    {
        **_COMMON,
        "name": "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-sql",
        "description": "Required for workers communication with Azure SQL services.",
        "priority": 101,
        "direction": "Outbound",
        "protocol": "Tcp",
        "destinationAddressPrefix": "Sql",
        "destinationPortRange": "3306",
    },
    {
        **_COMMON,
        "name": "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-storage",
        "description": "Required for workers communication with Azure Storage services.",
        "priority": 102,
        "direction": "Outbound",
        "protocol": "Tcp",
        "destinationAddressPrefix": "Storage",
        "destinationPortRange": "443",
    },
    {
        **_COMMON,
        "name": "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-worker-outbound",
        "description": "Required for worker nodes communication within a cluster.",
        "priority": 103,
        "direction": "Outbound",
        "protocol": "*",
        "destinationAddressPrefix": "VirtualNetwork",
        "destinationPortRange": "*",
    },
    {
        **_COMMON,
        "name": "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-eventhub",
        "description": "Required for worker communication with Azure Eventhub services.",
        "priority": 104,
        "direction": "Outbound",
        "protocol": "Tcp",
        "destinationAddressPrefix": "EventHub",
        "destinationPortRange": "9093",
    },
]


def config_for(raw: Mapping[str, Any], stack: str = "dev") -> StackConfig:
    return parse_config(raw, stack, {SECRET_KEY})


def build(raw: Mapping[str, Any], stack: str = "dev") -> tuple[ProgramResult, StackConfig]:
    """Run resource group + Network as a program under mocks; export the component's outputs."""
    config = config_for(raw, stack)
    names = naming.resource_names(config.prefix, config.stack)
    captured: dict[str, Network] = {}

    def program() -> None:
        group = ResourceGroup(
            "main", ResourceGroupArgs(name=names.resource_group, location=config.location)
        )
        net = Network(
            "main",
            NetworkArgs(
                resource_group_name=group.name,
                location=config.location,
                names=names,
                plan=config.network,
            ),
        )
        captured["network"] = net
        pulumi.export("vnetId", net.vnet_id)
        pulumi.export("hostSubnetName", net.host_subnet_name)
        pulumi.export("containerSubnetName", net.container_subnet_name)
        pulumi.export("endpointSubnetId", net.endpoint_subnet_id)

    result = run_function(program, raw, stack, secret_keys={SECRET_KEY})
    assert result.error is None, result.error
    result.component = captured["network"]  # type: ignore[attr-defined]
    return result, config


def subnet(result: ProgramResult, role: str) -> Any:
    return result.one(SUBNET, f"-{role}-subnet")


@pytest.fixture(params=["dev", "private-link"])
def stack(request: pytest.FixtureRequest) -> tuple[ProgramResult, StackConfig]:
    return build(DEV if request.param == "dev" else PRIVATE_LINK)


# --- VNet -------------------------------------------------------------------------------------


def test_vnet_spans_the_configured_address_space(stack):
    result, config = stack
    vnet = result.one(VNET)
    names = naming.resource_names(config.prefix, config.stack)
    assert vnet.inputs["addressSpace"] == {"addressPrefixes": ["10.139.0.0/16"]}
    assert vnet.inputs["virtualNetworkName"] == names.virtual_network == "mlflow-dev-vnet"
    assert vnet.inputs["location"] == "westeurope"
    assert vnet.inputs["resourceGroupName"] == "mlflow-dev-rg"


def test_vnet_declares_no_inline_subnets_and_ignores_their_drift(monkeypatch):
    """One subnet style: standalone Subnet resources. The VNet leaves `subnets` unset (not []),
    so azure-native keeps the existing subnets on update, and ignores the property's drift."""
    seen: list[pulumi.ResourceOptions] = []

    class RecordingVirtualNetwork(azure_network.VirtualNetwork):
        def __init__(self, resource_name: str, *args: Any, **kwargs: Any) -> None:
            seen.append(kwargs["opts"])
            super().__init__(resource_name, *args, **kwargs)

    monkeypatch.setattr(azure_network, "VirtualNetwork", RecordingVirtualNetwork)
    result, _ = build(PRIVATE_LINK)

    assert "subnets" not in result.one(VNET).inputs
    assert len(result.of_type(SUBNET)) == 3
    assert len(seen) == 1
    assert seen[0].ignore_changes == ["subnets"]


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
    raw = {
        **(PRIVATE_LINK if private_link else DEV),
        "databricks-azureml:network": json.dumps(layout),
    }
    result, config = build(raw)

    assert result.one(VNET).inputs["addressSpace"]["addressPrefixes"] == [layout["addressSpace"]]
    assert subnet(result, "host").inputs["addressPrefix"] == layout["hostSubnet"]
    assert subnet(result, "container").inputs["addressPrefix"] == layout["containerSubnet"]
    assert str(config.network.host_subnet) == layout["hostSubnet"]
    if private_link:
        assert subnet(result, "endpoint").inputs["addressPrefix"] == layout["endpointSubnet"]
    else:
        assert len(result.of_type(SUBNET)) == 2


def test_dev_subnets_use_the_default_layout():
    result, _ = build(DEV)
    assert subnet(result, "host").inputs["addressPrefix"] == "10.139.0.0/22"
    assert subnet(result, "container").inputs["addressPrefix"] == "10.139.4.0/22"


def test_both_databricks_subnets_are_delegated_to_databricks_only(stack):
    result, _ = stack
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
    result, _ = stack
    for role in ("host", "container"):
        declared = subnet(result, role)
        others = [r for r in result.resources if r.urn != declared.urn]
        assert not any(declared.id in json.dumps(r.inputs) for r in others)
    prefixes = [s.inputs["addressPrefix"] for s in result.of_type(SUBNET)]
    assert len(set(prefixes)) == len(prefixes)


def test_one_nsg_with_the_databricks_rules_is_on_both_databricks_subnets(stack):
    result, _ = stack
    nsg = result.one(NSG)
    assert nsg.inputs["networkSecurityGroupName"] == "mlflow-dev-databricks-nsg"
    for role in ("host", "container"):
        assert subnet(result, role).inputs["networkSecurityGroup"] == {"id": nsg.id}


def test_nsg_declares_exactly_the_rules_of_the_databricks_network_intent_policy(stack):
    """Same names, priorities, directions, ports and descriptions as Databricks writes them, so
    `pulumi refresh` + `pulumi up` finds nothing to change and nothing to fight over."""
    result, _ = stack
    rules = result.one(NSG).inputs["securityRules"]
    assert sorted(rules, key=lambda r: r["name"]) == sorted(EXPECTED_RULES, key=lambda r: r["name"])


def test_nsg_rule_priorities_are_unique_per_direction(stack):
    result, _ = stack
    rules = result.one(NSG).inputs["securityRules"]
    keys = [(r["direction"], r["priority"]) for r in rules]
    assert len(set(keys)) == len(keys) == 6


def test_nat_gateway_with_static_standard_public_ip_is_the_egress_of_both_subnets(stack):
    result, _ = stack
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


def test_dev_stack_has_no_endpoint_subnet():
    result, _ = build(DEV)
    assert sorted(s.name for s in result.of_type(SUBNET)) == [
        "main-container-subnet",
        "main-host-subnet",
    ]
    assert result.outputs["endpointSubnetId"] is None
    assert result.component.endpoint_subnet_id is None


def test_private_link_adds_an_endpoint_subnet_that_is_not_delegated():
    result, config = build(PRIVATE_LINK)
    endpoint = subnet(result, "endpoint")
    assert endpoint.inputs["subnetName"] == "private-endpoints"
    assert (
        endpoint.inputs["addressPrefix"] == str(config.network.endpoint_subnet) == "10.139.8.0/26"
    )
    assert endpoint.inputs["privateEndpointNetworkPolicies"] == "Disabled"
    for absent in ("delegations", "networkSecurityGroup", "natGateway"):
        assert absent not in endpoint.inputs
    assert result.outputs["endpointSubnetId"] == endpoint.id
    assert endpoint.id.endswith("/virtualNetworks/mlflow-dev-vnet/subnets/private-endpoints")


# --- ordering: what runs in parallel ------------------------------------------------------------


def test_only_the_orders_the_inputs_imply_no_explicit_depends_on(stack):
    """VNet, NSG and public IP start together once the resource group exists; the NAT gateway
    waits only for its IP; each subnet waits only for what it references, never for another
    subnet. Any explicit depends_on would show up here as an extra edge."""
    result, _ = stack
    urn = {r.name: r.urn for r in result.resources if r.custom}
    deps = {r.name: set(r.depends_on) for r in result.resources if r.custom}
    group = urn["main-rg"]

    assert deps["main-vnet"] == {group}
    assert deps["main-nsg"] == {group}
    assert deps["main-natgw-pip"] == {group}
    assert deps["main-natgw"] == {group, urn["main-natgw-pip"]}
    for name in ("main-host-subnet", "main-container-subnet"):
        assert deps[name] == {group, urn["main-vnet"], urn["main-nsg"], urn["main-natgw"]}
    if "main-endpoint-subnet" in deps:
        assert deps["main-endpoint-subnet"] == {group, urn["main-vnet"]}


# --- names, parentage, public surface ------------------------------------------------------------


def test_names_are_stable_between_two_runs():
    first, _ = build(PRIVATE_LINK)
    second, _ = build(PRIVATE_LINK)

    def azure_names(result: ProgramResult) -> list[tuple[str, str, str]]:
        keys = ("virtualNetworkName", "subnetName", "networkSecurityGroupName", "natGatewayName")
        keys += ("publicIpAddressName",)
        return sorted(
            (r.urn, r.type, next((r.inputs[k] for k in keys if k in r.inputs), ""))
            for r in result.resources
        )

    assert azure_names(first) == azure_names(second)
    # two components, the group, VNet, NSG, public IP, NAT gateway and three subnets
    assert len(azure_names(first)) == 10


def test_azure_names_come_from_the_stack_naming_rules():
    config = config_for(DEV, "prod")
    names = naming.resource_names(config.prefix, config.stack)
    result, _ = build(DEV, "prod")
    assert result.one(VNET).inputs["virtualNetworkName"] == names.virtual_network
    assert result.one(NSG).inputs["networkSecurityGroupName"] == names.network_security_group
    assert result.one(NAT).inputs["natGatewayName"] == names.nat_gateway
    assert result.one(PIP).inputs["publicIpAddressName"] == names.public_ip
    assert names.virtual_network == "mlflow-prod-vnet"


def test_children_are_parented_to_the_component_and_named_from_it(stack):
    result, _ = stack
    component = result.one("databricks-azureml:network:Network")
    children = [r for r in result.resources if r.parent == component.urn]
    assert {r.type for r in children} == {VNET, SUBNET, NSG, NAT, PIP}
    assert all(r.name.startswith("main-") for r in children)
    outside = [r for r in result.resources if r.custom and r.type != RESOURCE_GROUP]
    assert all(r.parent == component.urn for r in outside)


def test_component_exposes_only_the_vnet_id_and_the_subnets(stack):
    result, config = stack
    net = result.component
    public = {k: v for k, v in vars(net).items() if not k.startswith("_")}
    assert set(public) - {"urn", "id"} == {
        "vnet_id",
        "host_subnet_name",
        "container_subnet_name",
        "endpoint_subnet_id",
    }
    assert not any(isinstance(v, pulumi.Resource) for v in public.values())

    vnet = result.one(VNET)
    assert result.outputs["vnetId"] == vnet.id == arm_id(VNET, vnet.name, vnet.inputs)
    assert result.outputs["hostSubnetName"] == "databricks-host"
    assert result.outputs["containerSubnetName"] == "databricks-container"
    if config.private_link:
        assert result.outputs["endpointSubnetId"] == subnet(result, "endpoint").id
