"""Scenario 30: the whole stack deployed into a seeded landing zone (tests/fakecloud/
arm_landing_zone.py): the spoke VNet, the hub's firewall and private DNS zones and a resource
group, all borrowed, with AzureML and `full` Databricks private link.

Up passes the policy pack and leaves nothing to do; another team's subnet added to the spoke
leaves nothing to do after refresh; destroy leaves the landing zone exactly as it was. A second
run leaves the DNS records to the platform's policy (privateDns.zones policy).
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import init_stack, of_type, policy_venv, set_service_principal
from tests.fakecloud.arm_landing_zone import LandingZone, add_subnet, seed
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
SUBNETS = "microsoft.network/virtualnetworks/subnets"
ZONE_GROUPS = "microsoft.network/privateendpoints/privatednszonegroups"
NOT_CREATED = (
    "microsoft.network/virtualnetworks",
    "microsoft.network/privatednszones",
    "microsoft.network/privatednszones/virtualnetworklinks",
    "microsoft.network/publicipaddresses",
    "microsoft.network/natgateways",
)


def configure(deployer: Deployer, cloud: FakeCloud, zone: LandingZone, dns: dict) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud, "lz")
    set_service_principal(deployer)
    for key, value in {
        "privateLink": "true",
        "trackingMode": "exclusive",
        "databricksPrivateLink": "full",
        "resourceGroupName": zone.spoke_group.rsplit("/", 1)[1],
        "network": json.dumps(
            {
                "virtualNetworkId": zone.spoke_vnet,
                "addressSpace": "10.20.0.0/22",
                "hostSubnet": "10.20.0.0/24",
                "containerSubnet": "10.20.1.0/24",
                "endpointSubnet": "10.20.2.0/26",
                "egress": "firewall",
                "firewallPrivateIp": zone.firewall_ip,
            }
        ),
        "privateDns": json.dumps(dns),
    }.items():
        pulumi("config", "set", f"databricks-azureml:{key}", value)
    policy_venv(deployer)


def test_stack_deploys_into_the_landing_zone_and_leaves_it_as_seeded(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    zone = seed(cloud.arm)
    configure(deployer, cloud, zone, {"zones": "existing", "zoneIds": dict(zone.zone_ids)})
    pulumi("up", "--yes", "--policy-pack", "policy")
    pulumi("preview", "--expect-no-changes")

    for kind in NOT_CREATED:
        borrowed = {i.lower() for i in (zone.hub_vnet, zone.spoke_vnet, *zone.zone_ids.values())}
        assert {r["id"].lower() for r in of_type(cloud, kind)} <= borrowed, kind
    spoke_subnets = sorted(
        r["name"] for r in of_type(cloud, SUBNETS) if r["id"].startswith(zone.spoke_vnet)
    )
    assert spoke_subnets == ["databricks-container", "databricks-host", "private-endpoints"]
    [table] = of_type(cloud, "microsoft.network/routetables")
    [route] = [_flat(r) for r in table["properties"]["routes"]]
    assert (route["addressPrefix"], route["nextHopIpAddress"]) == ("0.0.0.0/0", "10.0.1.4")
    zones_used = {
        _flat(config)["privateDnsZoneId"].lower()
        for group in of_type(cloud, ZONE_GROUPS)
        for config in group["properties"]["privateDnsZoneConfigs"]
    }
    assert zones_used and zones_used <= {i.lower() for i in zone.zone_ids.values()}

    add_subnet(cloud.arm, zone, "other-team", "10.20.8.0/24")
    seeded = _landing_zone(cloud, zone)
    pulumi("refresh", "--yes")
    pulumi("preview", "--expect-no-changes")

    pulumi("destroy", "--yes", "--skip-preview")
    assert _landing_zone(cloud, zone) == seeded
    # Read, never written: no request of up, refresh or destroy changed a borrowed resource.
    assert [
        (c.method, c.path)
        for c in cloud.arm.calls()
        if c.method in ("PUT", "PATCH", "DELETE") and c.path.lower() in zone.resource_ids()
    ] == []
    left = {r["id"].lower() for r in cloud.arm.dump()["resources"]}
    assert left == zone.resource_ids() | {f"{zone.spoke_vnet}/subnets/other-team".lower()}


def test_policy_dns_places_endpoints_without_zone_groups(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    zone = seed(cloud.arm)
    configure(deployer, cloud, zone, {"zones": "policy"})
    pulumi("up", "--yes", "--policy-pack", "policy")
    assert of_type(cloud, "microsoft.network/privateendpoints")
    assert of_type(cloud, ZONE_GROUPS) == []
    pulumi("destroy", "--yes", "--skip-preview")
    assert {r["id"].lower() for r in cloud.arm.dump()["resources"]} == zone.resource_ids()


def _landing_zone(cloud: FakeCloud, zone: LandingZone) -> dict[str, dict]:
    """The borrowed resources as ARM holds them, without what the stack put in the spoke."""
    found = {}
    for resource in cloud.arm.dump()["resources"]:
        rid = resource["id"].lower()
        if rid in zone.resource_ids() or rid.endswith("/subnets/other-team"):
            found[rid] = copy.deepcopy(resource)
    return found


def _flat(sub_resource: dict) -> dict:
    """A sub-resource's properties, in either body shape (flat, or under `properties`)."""
    return sub_resource.get("properties") or sub_resource
