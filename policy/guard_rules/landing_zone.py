"""Landing-zone rules: two of the deny policies platform teams most often assign (Azure
Landing Zones' "Subnets should have a Network Security Group" and "Network interfaces should
not have public IPs" / no public IP in a firewall-egress spoke), held by the stack itself.

Egress may go through the stack's NAT gateway or through the platform's firewall (a route
table, 0.0.0.0/0 to a virtual appliance); the DNS zones the private endpoints use may be the
stack's or the platform's: neither rule looks at where a zone lives."""

from __future__ import annotations

from collections.abc import Sequence

from .common import UNKNOWN, Declared, StackViolation, elements, is_set, lookup

SUBNET = "azure-native:network:Subnet"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
ROUTE_TABLE = "azure-native:network:RouteTable"
NAT_GATEWAY = "azure-native:network:NatGateway"
DATABRICKS_DELEGATION = "Microsoft.Databricks/workspaces"


def subnets_have_nsg(resources: Sequence[Declared]) -> list[StackViolation]:
    """Every subnet the stack declares has a network security group."""
    return [
        StackViolation(
            f"subnet {subnet.name!r} has no networkSecurityGroup; landing-zone policies deny a "
            "subnet without one: give it an NSG (Azure's default rules are enough)",
            subnet.urn or None,
        )
        for subnet in resources
        if subnet.resource_type == SUBNET
        and not is_set(lookup(subnet.props, "networkSecurityGroup", "id"))
    ]


def _to_firewall(table: Declared) -> bool:
    """Whether a route table sends the default route to a virtual appliance (a firewall)."""
    return any(
        lookup(route, "addressPrefix") == "0.0.0.0/0"
        and lookup(route, "nextHopType") == "VirtualAppliance"
        for route in elements(table.props, "routes")
    )


def databricks_egress(resources: Sequence[Declared]) -> list[StackViolation]:
    """Each Databricks subnet egresses through a NAT gateway or a route table, not both; where
    the stack routes through a firewall, it declares no public IP or NAT gateway."""
    found = []
    for subnet in resources:
        delegations = elements(subnet.props, "delegations")
        databricks = any(
            lookup(d, "serviceName") in (DATABRICKS_DELEGATION, UNKNOWN) for d in delegations
        )
        if subnet.resource_type != SUBNET or not databricks:
            continue
        paths = [k for k in ("natGateway", "routeTable") if is_set(lookup(subnet.props, k, "id"))]
        if len(paths) != 1:
            found.append(
                StackViolation(
                    f"Databricks subnet {subnet.name!r} egresses through "
                    f"{' and '.join(paths) or 'nothing'}; expected a natGateway or a "
                    "routeTable to the firewall",
                    subnet.urn or None,
                )
            )
    if any(r.resource_type == ROUTE_TABLE and _to_firewall(r) for r in resources):
        found += [
            StackViolation(
                f"{r.resource_type.rsplit(':', 1)[1]} {r.name!r} in a stack whose egress goes "
                "through the firewall; landing zones deny public IPs there",
                r.urn or None,
            )
            for r in resources
            if r.resource_type in (PUBLIC_IP, NAT_GATEWAY)
        ]
    return found
