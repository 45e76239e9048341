"""What a landing-zone stack borrows, and which way its clusters reach the internet, read from
the declared resources: anything a declaration references but the stack does not declare is
the platform's (core/config/landing_zone.py)."""

from __future__ import annotations

from typing import Any

from tools.offline import DeclaredResource

SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
GROUP = "azure-native:resources:ResourceGroup"
ZONE = "azure-native:privatedns:PrivateZone"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ROUTE_TABLE = "azure-native:network:RouteTable"
NAT_GATEWAY = "azure-native:network:NatGateway"


def _of(resources: list[DeclaredResource], type_: str) -> list[DeclaredResource]:
    return [r for r in resources if r.type == type_]


def borrowed(resources: list[DeclaredResource]) -> list[str]:
    """The borrowed resource group, VNet and DNS zones, one line each."""
    found: list[str] = []
    groups = {r.inputs.get("resourceGroupName") for r in _of(resources, GROUP)}
    used = {r.inputs.get("resourceGroupName") for r in resources if r.type != SUBNET}
    found += [f"resource group {g}" for g in sorted(used - groups - {None}, key=str)]
    vnets = {r.inputs.get("virtualNetworkName") for r in _of(resources, VNET)}
    spokes = {
        (s.inputs.get("resourceGroupName"), s.inputs.get("virtualNetworkName"))
        for s in _of(resources, SUBNET)
        if s.inputs.get("virtualNetworkName") not in vnets
    }
    found += [f"VNet {name} in {group} (subnets added)" for group, name in sorted(spokes, key=str)]
    zone_ids = {r.id for r in _of(resources, ZONE)}
    referenced = {
        config.get("privateDnsZoneId")
        for zone_group in _of(resources, ZONE_GROUP)
        for config in zone_group.inputs.get("privateDnsZoneConfigs") or []
    }
    found += [f"private DNS zone {z}" for z in sorted(referenced - zone_ids - {None}, key=str)]
    if _of(resources, ENDPOINT) and not _of(resources, ZONE_GROUP):
        found.append("private DNS records: added by the platform's policy (no zone groups)")
    return found


def egress(resources: list[DeclaredResource]) -> str:
    """How the Databricks subnets reach the internet."""
    for table in _of(resources, ROUTE_TABLE):
        hops = [_hop(route) for route in table.inputs.get("routes") or []]
        if hops:
            return f"egress: 0.0.0.0/0 through the firewall at {', '.join(hops)}, no public IP"
    if _of(resources, NAT_GATEWAY):
        return "egress: NAT gateway with a static public IP"
    return "egress: none declared"


def _hop(route: dict[str, Any]) -> str:
    return str(route.get("nextHopIpAddress"))


def lines(resources: list[DeclaredResource]) -> list[str]:
    found = borrowed(resources)
    text = [egress(resources)]
    if found:
        text.append("borrowed (read, never written or deleted): " + "; ".join(found))
    return text
