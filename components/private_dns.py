"""Private DNS zones linked to the VNet: one per name, shared by every private endpoint.

Azure DNS resolves a name from one zone per VNet, so a second zone with the same name would
split the records: the stack builds the zones once, beside the network, and hands their ids to
every component that places private endpoints.

Zone names per group id follow "Azure Private Endpoint private DNS zone values"
(learn.microsoft.com/azure/private-link/private-endpoint-dns), public cloud.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pulumi
from pulumi_azure_native import privatedns

# group id (private link sub-resource) -> private DNS zones its records go to
DNS_ZONES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
        "blob": ("privatelink.blob.core.windows.net",),
        "file": ("privatelink.file.core.windows.net",),
        "dfs": ("privatelink.dfs.core.windows.net",),
        "vault": ("privatelink.vaultcore.azure.net",),
        "registry": ("privatelink.azurecr.io",),
        # Azure Databricks: both sub-resources resolve through one zone (Learn: "Azure Private
        # Link concepts" for Databricks; quickstart databricks-all-in-one-template-for-vnet-
        # injection-privateendpoint).
        "databricks_ui_api": ("privatelink.azuredatabricks.net",),
        "browser_authentication": ("privatelink.azuredatabricks.net",),
    }
)

# Private DNS zones and their VNet links are global resources: Azure rejects a region.
GLOBAL = "global"


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


def slug(zone: str) -> str:
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
                f"{name}-{slug(zone_name)}",
                resource_group_name=args.resource_group_name,
                private_zone_name=zone_name,
                location=GLOBAL,
                opts=child,
            )
            privatedns.VirtualNetworkLink(
                f"{name}-{slug(zone_name)}-link",
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
