"""A landing zone in the fake ARM (tests/fakecloud/arm.py): a hub resource group with the hub
VNet, the central privatelink.* zones and a firewall address, a spoke VNet for the stack, and
the rules of Azure's network resource provider that a stack deploying into them meets. Each
rule cites its source; each refusal is the code Azure answers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

SUBSCRIPTION = "3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21"  # the fake ARM's subscription
VNET = "microsoft.network/virtualnetworks"
SUBNET = "microsoft.network/virtualnetworks/subnets"
ZONE = "microsoft.network/privatednszones"
ZONE_GROUP = "microsoft.network/privateendpoints/privatednszonegroups"
PRIVATE_ENDPOINT = "microsoft.network/privateendpoints"
DATABRICKS_WORKSPACE = "microsoft.databricks/workspaces"
# The zones a platform's hub holds for the services this stack uses (Learn, "Azure Private
# Endpoint private DNS zone values").
HUB_ZONES = (
    "privatelink.api.azureml.ms",
    "privatelink.notebooks.azure.net",
    "privatelink.blob.core.windows.net",
    "privatelink.file.core.windows.net",
    "privatelink.dfs.core.windows.net",
    "privatelink.vaultcore.azure.net",
    "privatelink.azurecr.io",
    "privatelink.azuredatabricks.net",
)
Refusal = tuple[int, str, str]  # status, ARM error code, message


class Seeder(Protocol):
    def put(self, resource_id: str, body: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class LandingZone:
    hub_group: str
    spoke_group: str
    hub_vnet: str
    spoke_vnet: str
    firewall_ip: str
    zone_ids: Mapping[str, str]  # zone name -> id

    def resource_ids(self) -> set[str]:
        """Everything seeded, lower-case: what must still be there, unchanged, after destroy."""
        ids = {self.hub_group, self.spoke_group, self.hub_vnet, self.spoke_vnet}
        ids |= {f"{self.hub_vnet}/subnets/AzureFirewallSubnet", *self.zone_ids.values()}
        return {i.lower() for i in ids}


def seed(arm: Seeder, location: str = "westeurope") -> LandingZone:
    """The hub (VNet 10.0.0.0/16, AzureFirewallSubnet, the firewall at 10.0.1.4, the zones)
    and an empty spoke VNet 10.20.0.0/20, peered in real life and here only by address plan."""
    sub = f"/subscriptions/{SUBSCRIPTION}/resourceGroups"
    hub, spoke = f"{sub}/platform-hub-rg", f"{sub}/team-spoke-rg"
    network = "providers/Microsoft.Network"
    for group in (hub, spoke):
        arm.put(group, {"location": location})
    hub_vnet = f"{hub}/{network}/virtualNetworks/hub-vnet"
    spoke_vnet = f"{spoke}/{network}/virtualNetworks/team-spoke-vnet"
    for vnet, space in ((hub_vnet, "10.0.0.0/16"), (spoke_vnet, "10.20.0.0/20")):
        arm.put(vnet, {"location": location, "properties": _space(space)})
    arm.put(
        f"{hub_vnet}/subnets/AzureFirewallSubnet", {"properties": {"addressPrefix": "10.0.1.0/26"}}
    )
    zones = {z: f"{hub}/{network}/privateDnsZones/{z}" for z in HUB_ZONES}
    for zone_id in zones.values():
        arm.put(zone_id, {"location": "global"})
    return LandingZone(hub, spoke, hub_vnet, spoke_vnet, "10.0.1.4", zones)


def add_subnet(arm: Seeder, zone: LandingZone, name: str, cidr: str) -> str:
    """Another team's subnet in the spoke, as the platform adds it."""
    rid = f"{zone.spoke_vnet}/subnets/{name}"
    arm.put(rid, {"properties": {"addressPrefix": cidr}})
    return rid


def _space(cidr: str) -> dict[str, Any]:
    return {"addressSpace": {"addressPrefixes": [cidr]}}


def _props(resource: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (resource or {}).get("properties") or {}


def refuse_put(
    resources: Mapping[str, dict[str, Any]], kind: str, rid: str, body: Mapping[str, Any]
) -> Refusal | None:
    props = body.get("properties") or {}
    if kind == SUBNET:
        return _refuse_subnet(resources, rid, props)
    if kind == DATABRICKS_WORKSPACE:
        return _refuse_workspace_vnet(resources, body, props)
    if kind == ZONE_GROUP:
        for config in props.get("privateDnsZoneConfigs") or []:
            zone_id = str(_props(config).get("privateDnsZoneId") or config.get("privateDnsZoneId"))
            if zone_id.lower() not in resources:
                # A zone group's zone is a resource reference ARM resolves (network.json
                # PrivateDnsZoneConfig.privateDnsZoneId); an absent one is not found.
                return 404, "NotFound", f"Private DNS zone {zone_id} was not found."
    return None


def _refuse_subnet(
    resources: Mapping[str, dict[str, Any]], rid: str, props: Mapping[str, Any]
) -> Refusal | None:
    """A subnet inside its VNet's address space, overlapping none of its siblings. Azure
    answers NetcfgInvalidSubnet to both: "Subnet '<name>' is not valid in virtual network
    '<vnet>'" (Azure/azure-cli #10917 quotes it for an overlap)."""
    vnet_id, _, name = rid.lower().rpartition("/subnets/")
    vnet = resources.get(vnet_id)
    prefix = props.get("addressPrefix")
    if vnet is None or not prefix:
        return None
    cidr = ipaddress.ip_network(prefix)
    spaces = [
        ipaddress.ip_network(p)
        for p in _props(vnet).get("addressSpace", {}).get("addressPrefixes", [])
    ]
    siblings = [
        ipaddress.ip_network(_props(r)["addressPrefix"])
        for key, r in resources.items()
        if key.startswith(vnet_id + "/subnets/")
        and key != rid.lower()
        and _props(r).get("addressPrefix")
    ]
    if (spaces and not any(cidr.subnet_of(s) for s in spaces)) or any(
        cidr.overlaps(s) for s in siblings
    ):
        return (
            400,
            "NetcfgInvalidSubnet",
            f"Subnet '{name}' is not valid in virtual network '{vnet['name']}'.",
        )
    return None


def _refuse_workspace_vnet(
    resources: Mapping[str, dict[str, Any]], body: Mapping[str, Any], props: Mapping[str, Any]
) -> Refusal | None:
    """Learn, "Deploy Azure Databricks in your Azure virtual network (VNet injection)": the
    VNet must be in the same region and subscription as the workspace."""
    vnet_id = str(
        ((props.get("parameters") or {}).get("customVirtualNetworkId") or {}).get("value") or ""
    )
    vnet = resources.get(vnet_id.lower())
    if not vnet_id or vnet is None:
        return None
    if vnet_id.split("/")[2].lower() != SUBSCRIPTION:
        return (
            400,
            "InvalidVirtualNetworkId",
            f"The virtual network {vnet_id} must be in the workspace's subscription.",
        )
    if vnet.get("location", "").lower() != str(body.get("location", "")).lower().replace(" ", ""):
        return (
            400,
            "InvalidVirtualNetworkId",
            f"The virtual network {vnet_id} must be in the workspace's region.",
        )
    return None


def refuse_delete(resources: Mapping[str, dict[str, Any]], kind: str, key: str) -> Refusal | None:
    """A subnet in use (a private endpoint's NIC, an injected Databricks workspace) cannot be
    deleted, nor the VNet holding it: InUseSubnetCannotBeDeleted (Learn, "Troubleshoot
    virtual network deletion": delete what uses the subnet first)."""
    subnets = (
        [key]
        if kind == SUBNET
        else [k for k in resources if k.startswith(key + "/subnets/")]
        if kind == VNET
        else []
    )
    for subnet in subnets:
        user = _user_of(resources, subnet)
        if user:
            name = subnet.rsplit("/", 1)[1]
            return (
                400,
                "InUseSubnetCannotBeDeleted",
                f"Subnet {name} is in use by {user} and cannot be deleted.",
            )
    return None


def _user_of(resources: Mapping[str, dict[str, Any]], subnet: str) -> str | None:
    vnet, _, name = subnet.rpartition("/subnets/")
    for r in resources.values():
        kind, props = str(r.get("type", "")).lower(), _props(r)
        if (
            kind == PRIVATE_ENDPOINT
            and str((props.get("subnet") or {}).get("id", "")).lower() == subnet
        ):
            return r["id"]
        parameters = props.get("parameters") or {}
        injected = str((parameters.get("customVirtualNetworkId") or {}).get("value") or "").lower()
        names = {
            str((parameters.get(k) or {}).get("value") or "").lower()
            for k in ("customPublicSubnetName", "customPrivateSubnetName")
        }
        if kind == DATABRICKS_WORKSPACE and injected == vnet and name in names:
            return r["id"]
    return None
