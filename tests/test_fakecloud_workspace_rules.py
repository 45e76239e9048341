"""The fake ARM's workspace rules for day 2 (tests/fakecloud/arm_workspace_rules.py): it must be
as strict as Azure, so each rule is checked to refuse what Azure refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakecloud.arm import SUBSCRIPTION, FakeArm
from tests.fakecloud.arm_workspace_rules import NETWORK_INTENT_PREFIX

RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
NET = f"{RG}/providers/Microsoft.Network"
NSG = f"{NET}/networkSecurityGroups/nsg"
VNET = f"{NET}/virtualNetworks/vnet"
DBW = f"{RG}/providers/Microsoft.Databricks/workspaces/dbw"
AML = f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/mlw"
ENDPOINT = f"{AML}/onlineEndpoints/ep"


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    with FakeArm() as arm:
        arm.put(RG, {"location": "westeurope"})
        yield arm


def databricks(fake: FakeArm, required_nsg_rules: str = "AllRules") -> None:
    fake.put(NSG, {"location": "westeurope", "properties": {}})
    fake.put(VNET, {"location": "westeurope", "properties": {}})
    for subnet in ("host", "container"):
        fake.put(f"{VNET}/subnets/{subnet}", {"properties": {"networkSecurityGroup": {"id": NSG}}})
    fake.put(
        DBW,
        {
            "location": "westeurope",
            "properties": {
                "managedResourceGroupId": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mrg",
                "requiredNsgRules": required_nsg_rules,
                "parameters": {
                    "customVirtualNetworkId": {"value": VNET},
                    "customPublicSubnetName": {"value": "host"},
                    "customPrivateSubnetName": {"value": "container"},
                },
            },
        },
    )


def rules(fake: FakeArm) -> dict[str, tuple[str, int]]:
    return {
        r["name"].removeprefix(NETWORK_INTENT_PREFIX): (
            r["properties"]["direction"],
            r["properties"]["priority"],
        )
        for r in fake.get(NSG)["properties"]["securityRules"]
    }


def test_a_vnet_injected_workspace_writes_the_network_intent_rules_into_the_nsg(fake):
    databricks(fake)
    assert rules(fake) == {
        "databricks-worker-to-worker-inbound": ("Inbound", 100),
        "databricks-worker-to-databricks-webapp": ("Outbound", 100),
        "databricks-worker-to-sql": ("Outbound", 101),
        "databricks-worker-to-storage": ("Outbound", 102),
        "databricks-worker-to-worker-outbound": ("Outbound", 103),
        "databricks-worker-to-eventhub": ("Outbound", 104),
    }


def test_back_end_private_link_leaves_out_the_control_plane_rule(fake):
    databricks(fake, "NoAzureDatabricksRules")
    assert "databricks-worker-to-databricks-webapp" not in rules(fake)
    assert len(rules(fake)) == 5


def endpoint_put(fake: FakeArm, traffic: dict[str, int]):
    return fake.request(
        "PUT", ENDPOINT, {"location": "westeurope", "properties": {"traffic": traffic}}
    )


def test_endpoint_traffic_naming_a_missing_deployment_is_refused(fake):
    fake.put(AML, {"location": "westeurope", "properties": {}})
    assert endpoint_put(fake, {}).status == 201
    refused = endpoint_put(fake, {"v1-abc": 100})
    assert refused.status == 404
    assert refused.body["error"]["code"] == "UserError"
    assert (
        "Deployment v1-abc not found in endpoint ep, workspace mlw"
        in (refused.body["error"]["message"])
    )
    fake.put(f"{ENDPOINT}/deployments/v1-abc", {"location": "westeurope", "properties": {}})
    assert endpoint_put(fake, {"v1-abc": 100}).status == 200


def private_endpoint(fake: FakeArm, name: str, group: str):
    connection = {"name": name, "privateLinkServiceId": DBW, "groupIds": [group]}
    return fake.request(
        "PUT",
        f"{NET}/privateEndpoints/{name}",
        {"location": "westeurope", "properties": {"privateLinkServiceConnections": [connection]}},
    )


def test_a_second_endpoint_to_a_workspace_while_one_is_connecting_gets_409(fake):
    databricks(fake)
    first = private_endpoint(fake, "ui", "databricks_ui_api")
    assert first.status == 201 and "Azure-AsyncOperation" in first.headers
    second = private_endpoint(fake, "auth", "browser_authentication")
    assert second.status == 409
    assert second.body["error"]["code"] == "ConcurrentUpdateError"
    assert "updated by another process" in second.body["error"]["message"]
    fake.finish_operations()
    assert private_endpoint(fake, "auth", "browser_authentication").status == 201
