"""The Databricks VNet: address space and subnets, checked against each other; in a landing
zone, the borrowed VNet and the egress through the platform's firewall."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from pydantic.alias_generators import to_snake

import core.config.schema as schema
from core import cidr
from core.config.enums import Egress
from core.config.readers import _object, arm_id, read_fields
from core.errors import ConfigError

# The keys that hold CIDRs; the others say where the VNet comes from and how traffic leaves it.
CIDR_KEYS = ("addressSpace", "hostSubnet", "containerSubnet", "endpointSubnet")
# An existing VNet's ARM id (Microsoft.Network/virtualNetworks).
_VNET_ID = arm_id("Microsoft.Network/virtualNetworks")


@dataclass(frozen=True)
class NetworkPlan:
    address_space: IPv4Network
    host_subnet: IPv4Network
    container_subnet: IPv4Network
    endpoint_subnet: IPv4Network | None  # only with privateLink or databricksPrivateLink
    existing_vnet: ExistingVnet | None = None  # None: the stack's own VNet
    egress: Egress = Egress.NAT_GATEWAY
    firewall_private_ip: str | None = None  # with egress firewall


@dataclass(frozen=True)
class ExistingVnet:
    """A VNet the stack borrows: it creates subnets in it, never the VNet itself."""

    id: str
    subscription_id: str
    resource_group: str
    name: str


def _network(ours: Mapping[str, Any], endpoints: bool) -> NetworkPlan:
    values = read_fields(schema.Network, _object(ours, "network") or {}, "network.")
    nets = {f"network.{k}": cidr.parse_cidr(f"network.{k}", values[to_snake(k)]) for k in CIDR_KEYS}
    space = nets.pop("network.addressSpace")
    cidr.check_address_space("network.addressSpace", space)
    if not endpoints:
        nets.pop("network.endpointSubnet")
    cidr.check_subnets(
        "network.addressSpace",
        space,
        nets,
        databricks={"network.hostSubnet", "network.containerSubnet"},
    )
    return NetworkPlan(
        address_space=space,
        host_subnet=nets["network.hostSubnet"],
        container_subnet=nets["network.containerSubnet"],
        endpoint_subnet=nets.get("network.endpointSubnet"),
        existing_vnet=_existing_vnet(values["virtual_network_id"]),
        egress=values["egress"],
        firewall_private_ip=_firewall_ip(values["egress"], values["firewall_private_ip"], space),
    )


def _existing_vnet(value: Any) -> ExistingVnet | None:
    if value is None:
        return None
    match = _VNET_ID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(
            "network.virtualNetworkId",
            value,
            "is not a VNet's ARM id: /subscriptions/<guid>/resourceGroups/<group>/providers/"
            "Microsoft.Network/virtualNetworks/<name>",
        )
    return ExistingVnet(value, match["subscription"], match["group"], match["name"])


def _firewall_ip(egress: Egress, value: Any, space: IPv4Network) -> str | None:
    key = "network.firewallPrivateIp"
    if egress is not Egress.FIREWALL:
        if value is not None:
            raise ConfigError(key, value, "is only used with network.egress firewall")
        return None
    if value is None:
        raise ConfigError(key, None, "is required with network.egress firewall: its private IP")
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        raise ConfigError(key, value, "is not an IPv4 address such as 10.0.1.4") from None
    if not address.is_private:
        raise ConfigError(key, value, "is not a private address: the firewall's private IP")
    if address in space:
        # The hub's firewall lives in the hub VNet, reached over peering, never in a subnet of ours.
        raise ConfigError(key, value, f"is inside network.addressSpace {space}, not in the hub")
    return str(address)


def check_vnet_subscription(raw: Mapping[str, Any], plan: NetworkPlan) -> None:
    """Databricks needs the VNet in the workspace's subscription: checked here when the stack
    names its subscription (azure-native:subscriptionId), else at deploy (stack.py)."""
    deployment = raw.get("azure-native:subscriptionId")
    vnet = plan.existing_vnet
    if vnet is None or not isinstance(deployment, str) or not deployment:
        return
    if vnet.subscription_id.lower() != deployment.lower():
        raise ConfigError(
            "network.virtualNetworkId",
            vnet.id,
            f"is in subscription {vnet.subscription_id}, not azure-native:subscriptionId "
            f"{deployment}: Databricks needs the VNet in the workspace's subscription",
        )
