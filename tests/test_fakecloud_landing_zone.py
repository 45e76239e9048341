"""The fake ARM's landing zone (tests/fakecloud/arm_landing_zone.py): what it seeds, and each of
Azure's network rules it applies, checked to refuse what Azure refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakecloud.arm import SUBSCRIPTION, FakeArm
from tests.fakecloud.arm_landing_zone import LandingZone, add_subnet, seed

APP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/app-rg"
DBW = f"{APP}/providers/Microsoft.Databricks/workspaces/dbw"
PE = f"{APP}/providers/Microsoft.Network/privateEndpoints/pe"


@pytest.fixture
def fake() -> Iterator[tuple[FakeArm, LandingZone]]:
    with FakeArm() as arm:
        arm.put(APP, {"location": "westeurope"})
        yield arm, seed(arm)


def status(arm: FakeArm, method: str, rid: str, body: dict | None = None) -> tuple[int, str]:
    reply = arm.request(method, rid, body)
    arm.finish_operations()
    code = (reply.body or {}).get("error", {}).get("code", "") if reply.status >= 400 else ""
    return reply.status, code


def workspace(vnet: str, location: str = "westeurope") -> dict:
    return {
        "location": location,
        "properties": {
            "managedResourceGroupId": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mrg",
            "parameters": {
                "customVirtualNetworkId": {"value": vnet},
                "customPublicSubnetName": {"value": "host"},
                "customPrivateSubnetName": {"value": "container"},
            },
        },
    }


def test_seed_holds_the_hub_the_zones_and_an_empty_spoke(fake):
    arm, zone = fake
    assert all(arm.get(rid) is not None for rid in zone.resource_ids())
    assert zone.firewall_ip == "10.0.1.4"
    assert "privatelink.azuredatabricks.net" in zone.zone_ids
    assert not [k for k in arm.resources if k.startswith(zone.spoke_vnet.lower() + "/subnets/")]


def test_subnet_outside_the_vnet_address_space_is_refused(fake):
    arm, zone = fake
    body = {"properties": {"addressPrefix": "10.139.0.0/24"}}
    assert status(arm, "PUT", f"{zone.spoke_vnet}/subnets/host", body) == (
        400,
        "NetcfgInvalidSubnet",
    )


def test_subnet_overlapping_another_is_refused_and_a_disjoint_one_is_not(fake):
    arm, zone = fake
    add_subnet(arm, zone, "other-team", "10.20.8.0/24")
    overlap = {"properties": {"addressPrefix": "10.20.8.0/23"}}
    disjoint = {"properties": {"addressPrefix": "10.20.0.0/24"}}
    assert status(arm, "PUT", f"{zone.spoke_vnet}/subnets/host", overlap) == (
        400,
        "NetcfgInvalidSubnet",
    )
    assert status(arm, "PUT", f"{zone.spoke_vnet}/subnets/host", disjoint)[0] == 201


def test_vnet_with_a_subnet_in_use_cannot_be_deleted_nor_the_subnet(fake):
    arm, zone = fake
    subnet = add_subnet(arm, zone, "endpoints", "10.20.2.0/26")
    arm.put(PE, {"location": "westeurope", "properties": {"subnet": {"id": subnet}}})
    assert status(arm, "DELETE", subnet) == (400, "InUseSubnetCannotBeDeleted")
    assert status(arm, "DELETE", zone.spoke_vnet) == (400, "InUseSubnetCannotBeDeleted")
    arm.request("DELETE", PE)
    assert status(arm, "DELETE", subnet)[0] == 200


def test_databricks_workspace_on_a_vnet_in_another_region_is_refused(fake):
    arm, zone = fake
    assert status(arm, "PUT", DBW, workspace(zone.spoke_vnet, "northeurope")) == (
        400,
        "InvalidVirtualNetworkId",
    )


def test_databricks_workspace_on_a_vnet_in_another_subscription_is_refused(fake):
    arm, zone = fake
    other = "00000000-0000-0000-0000-0000000000ff"
    foreign = zone.spoke_vnet.replace(SUBSCRIPTION, other)
    arm.resources[foreign.lower()] = {**arm.get(zone.spoke_vnet), "id": foreign}
    assert status(arm, "PUT", DBW, workspace(foreign)) == (400, "InvalidVirtualNetworkId")


def test_zone_group_naming_a_zone_that_does_not_exist_is_refused(fake):
    arm, zone = fake
    subnet = add_subnet(arm, zone, "endpoints", "10.20.2.0/26")
    arm.put(PE, {"location": "westeurope", "properties": {"subnet": {"id": subnet}}})
    missing = zone.zone_ids["privatelink.blob.core.windows.net"].replace("blob", "queue")
    configs = lambda zone_id: {  # noqa: E731
        "properties": {
            "privateDnsZoneConfigs": [{"name": "z", "properties": {"privateDnsZoneId": zone_id}}]
        }
    }
    group = f"{PE}/privateDnsZoneGroups/default"
    assert status(arm, "PUT", group, configs(missing)) == (404, "NotFound")
    hub_zone = zone.zone_ids["privatelink.blob.core.windows.net"]
    assert status(arm, "PUT", group, configs(hub_zone))[0] == 201
