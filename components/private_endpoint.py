"""Private endpoint plumbing: private DNS zones linked to a VNet, and endpoints that use them.

Two small components, so that several endpoints share their zones:
- `PrivateDnsZones`: one private DNS zone per name (deduplicated) plus its link to the VNet.
  Azure DNS resolves a name from one zone per VNet, so a second zone with the same name would
  split the records; build this once and hand its `ids` to every endpoint.
- `PrivateEndpoint`: an endpoint for one group id of a target resource in a subnet, with one
  private DNS zone group attaching every zone that group id needs, so Azure writes the A records.

Zone names per group id follow "Azure Private Endpoint private DNS zone values"
(learn.microsoft.com/azure/private-link/private-endpoint-dns), public cloud.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pulumi
from pulumi_azure_native import network, privatedns

# group id (private link sub-resource) -> private DNS zones its records go to
DNS_ZONES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
        "blob": ("privatelink.blob.core.windows.net",),
        "file": ("privatelink.file.core.windows.net",),
        "vault": ("privatelink.vaultcore.azure.net",),
        "registry": ("privatelink.azurecr.io",),
    }
)

# Private DNS zones and their VNet links are global resources: Azure rejects a region.
GLOBAL = "global"
ZONE_GROUP_NAME = "default"


def zones_for(group_id: str) -> tuple[str, ...]:
    """The private DNS zones an endpoint for `group_id` needs."""
    try:
        return DNS_ZONES[group_id]
    except KeyError:
        known = ", ".join(DNS_ZONES)
        raise ValueError(
            f"no private DNS zones known for group id {group_id!r} ({known})"
        ) from None


def dns_zone_names(group_ids: Iterable[str]) -> tuple[str, ...]:
    """Every zone the given group ids need, each once, in first-seen order."""
    return tuple(dict.fromkeys(zone for group in group_ids for zone in zones_for(group)))


def _slug(zone: str) -> str:
    return zone.replace(".", "-")


@dataclass(frozen=True)
class PrivateDnsZonesArgs:
    resource_group_name: pulumi.Input[str]
    vnet_id: pulumi.Input[str]
    zone_names: tuple[str, ...]  # duplicates are folded into one zone
    link_name: str  # Azure name of each zone's VNet link


class PrivateDnsZones(pulumi.ComponentResource):
    """Private DNS zones, each linked (without auto-registration) to one VNet."""

    ids: Mapping[str, pulumi.Output[str]]  # zone name -> zone ARM id

    def __init__(
        self, name: str, args: PrivateDnsZonesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("databricks-azureml:network:PrivateDnsZones", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ids: dict[str, pulumi.Output[str]] = {}
        for zone_name in dict.fromkeys(args.zone_names):
            zone = privatedns.PrivateZone(
                f"{name}-{_slug(zone_name)}",
                resource_group_name=args.resource_group_name,
                private_zone_name=zone_name,
                location=GLOBAL,
                opts=child,
            )
            privatedns.VirtualNetworkLink(
                f"{name}-{_slug(zone_name)}-link",
                resource_group_name=args.resource_group_name,
                private_zone_name=zone.name,
                virtual_network_link_name=args.link_name,
                virtual_network=privatedns.SubResourceArgs(id=args.vnet_id),
                registration_enabled=False,
                location=GLOBAL,
                opts=child,
            )
            ids[zone_name] = zone.id
        self.ids = MappingProxyType(ids)
        self.register_outputs({"ids": dict(ids)})


@dataclass(frozen=True)
class PrivateEndpointArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    endpoint_name: str  # Azure name of the endpoint; its NIC is named after it
    target_resource_id: pulumi.Input[str]
    group_id: str  # a key of DNS_ZONES
    subnet_id: pulumi.Input[str]
    dns_zones: PrivateDnsZones  # must hold every zone `zones_for(group_id)` names


class PrivateEndpoint(pulumi.ComponentResource):
    """A private endpoint for one group id, attached to its DNS zones by one zone group."""

    id: pulumi.Output[str]

    def __init__(
        self, name: str, args: PrivateEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("databricks-azureml:network:PrivateEndpoint", name, None, opts)
        zones = zones_for(args.group_id)
        missing = [zone for zone in zones if zone not in args.dns_zones.ids]
        if missing:
            raise ValueError(f"{name}: DNS zones {missing} are not in the zones given")
        child = pulumi.ResourceOptions(parent=self)
        endpoint = network.PrivateEndpoint(
            f"{name}-pe",
            resource_group_name=args.resource_group_name,
            location=args.location,
            private_endpoint_name=args.endpoint_name,
            custom_network_interface_name=f"{args.endpoint_name}-nic",
            # A bare reference: network.SubnetArgs would add subnet policy defaults to it.
            subnet={"id": args.subnet_id},
            private_link_service_connections=[
                network.PrivateLinkServiceConnectionArgs(
                    name=args.endpoint_name,
                    private_link_service_id=args.target_resource_id,
                    group_ids=[args.group_id],
                )
            ],
            opts=child,
        )
        network.PrivateDnsZoneGroup(
            f"{name}-zones",
            resource_group_name=args.resource_group_name,
            private_endpoint_name=endpoint.name,
            private_dns_zone_group_name=ZONE_GROUP_NAME,
            private_dns_zone_configs=[
                network.PrivateDnsZoneConfigArgs(
                    name=_slug(zone), private_dns_zone_id=args.dns_zones.ids[zone]
                )
                for zone in zones
            ],
            opts=child,
        )
        self.id = endpoint.id
        self.register_outputs({"id": self.id})
