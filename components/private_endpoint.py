"""A private endpoint for one group id of a target resource, attached to its DNS zones.

`EndpointPlacement` is what a component that places private endpoints takes as an argument:
the endpoint subnet and the ids of the private DNS zones (components/private_dns.py). One
private DNS zone group per endpoint attaches every zone its group id needs, so Azure writes the
A records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import pulumi
from pulumi_azure_native import network

from components.private_dns import slug, zones_for

ZONE_GROUP_NAME = "default"


@dataclass(frozen=True)
class EndpointPlacement:
    subnet_id: pulumi.Input[str]
    zone_ids: Mapping[str, pulumi.Input[str]]  # zone name -> private DNS zone ARM id
    # False: no zone groups; the landing zone's Azure Policy (DeployIfNotExists) adds them
    zone_groups: bool = True


@dataclass(frozen=True)
class PrivateEndpointArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    endpoint_name: str  # Azure name of the endpoint; its NIC is named after it
    target_resource_id: pulumi.Input[str]
    group_id: str  # a key of DNS_ZONES
    placement: EndpointPlacement  # must hold every zone `zones_for(group_id)` names
    # Merged into the endpoint's own options: an order among endpoints of one target
    # (depends_on), replacement with the target (components/workspace_scope.py).
    endpoint_options: pulumi.ResourceOptions | None = None


class PrivateEndpoint(pulumi.ComponentResource):
    """A private endpoint for one group id, attached to its DNS zones by one zone group."""

    id: pulumi.Output[str]

    def __init__(
        self, name: str, args: PrivateEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("databricks-azureml:network:PrivateEndpoint", name, None, opts)
        zones = zones_for(args.group_id) if args.placement.zone_groups else ()
        missing = [zone for zone in zones if zone not in args.placement.zone_ids]
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
            subnet={"id": args.placement.subnet_id},
            private_link_service_connections=[
                network.PrivateLinkServiceConnectionArgs(
                    name=args.endpoint_name,
                    private_link_service_id=args.target_resource_id,
                    group_ids=[args.group_id],
                )
            ],
            opts=pulumi.ResourceOptions.merge(child, args.endpoint_options),
        )
        if zones:
            network.PrivateDnsZoneGroup(
                f"{name}-zones",
                resource_group_name=args.resource_group_name,
                private_endpoint_name=endpoint.name,
                private_dns_zone_group_name=ZONE_GROUP_NAME,
                private_dns_zone_configs=[
                    network.PrivateDnsZoneConfigArgs(
                        name=slug(zone), private_dns_zone_id=args.placement.zone_ids[zone]
                    )
                    for zone in zones
                ],
                opts=child,
            )
        self.id = endpoint.id
        self.register_outputs({"id": self.id})


class EndpointSite(Protocol):
    """What a workspace's Args give the private endpoints it places."""

    @property
    def resource_group_name(self) -> pulumi.Input[str]: ...

    @property
    def location(self) -> str: ...

    @property
    def workspace_name(self) -> str: ...

    @property
    def private_endpoints(self) -> EndpointPlacement | None: ...


def workspace_endpoint(
    name: str,
    label: str,
    site: EndpointSite,
    target: pulumi.Input[str],
    group: str,
    opts: pulumi.ResourceOptions,
    endpoint_options: pulumi.ResourceOptions | None = None,
) -> PrivateEndpoint:
    """A workspace's endpoint `<name>-<label>` to `group` of `target`: named
    `<workspace>-<label>-pe` in Azure, in the workspace's resource group and endpoint subnet."""
    assert site.private_endpoints is not None
    return PrivateEndpoint(
        f"{name}-{label}",
        PrivateEndpointArgs(
            resource_group_name=site.resource_group_name,
            location=site.location,
            endpoint_name=f"{site.workspace_name}-{label}-pe",
            target_resource_id=target,
            group_id=group,
            placement=site.private_endpoints,
            endpoint_options=endpoint_options,
        ),
        opts=opts,
    )
