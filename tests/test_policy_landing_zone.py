"""The pack's landing-zone rules (policy/guard_rules/landing_zone.py), driven through the pack's
gRPC interface as the engine drives them: every subnet has an NSG; Databricks subnets egress
through a NAT gateway or the firewall, and a firewall stack has no public IP."""

from __future__ import annotations

import pytest

from tests.test_policy_rules import guard_engine, run_stack_policy

SUBNET = "azure-native:network:Subnet"
NSG_ID = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n"
NAT_ID = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/natGateways/n"
TABLE_ID = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/routeTables/t"
DELEGATED = {"delegations": [{"name": "d", "serviceName": "Microsoft.Databricks/workspaces"}]}
TO_FIREWALL = {
    "routes": [
        {
            "name": "to-firewall",
            "addressPrefix": "0.0.0.0/0",
            "nextHopType": "VirtualAppliance",
            "nextHopIpAddress": "10.0.1.4",
        }
    ]
}


@pytest.fixture(scope="module")
def pack():
    with guard_engine.PackProcess() as started:
        yield started


def test_a_subnet_without_an_nsg_is_reported(pack):
    found = run_stack_policy(
        pack,
        "subnet-has-nsg",
        [
            (SUBNET, "endpoint-subnet", {"addressPrefix": "10.20.2.0/26"}),
            (SUBNET, "host-subnet", {"networkSecurityGroup": {"id": NSG_ID}}),
        ],
    )
    assert len(found) == 1
    assert "subnet 'endpoint-subnet' has no networkSecurityGroup" in found[0][0]


def test_firewall_route_is_an_egress_and_nat_gateway_too(pack):
    firewall = {**DELEGATED, "routeTable": {"id": TABLE_ID}}
    nat = {**DELEGATED, "natGateway": {"id": NAT_ID}}
    for subnet in (firewall, nat):
        assert run_stack_policy(pack, "databricks-subnet-egress", [(SUBNET, "host", subnet)]) == []


def test_a_databricks_subnet_without_egress_or_with_both_is_reported(pack):
    both = {**DELEGATED, "routeTable": {"id": TABLE_ID}, "natGateway": {"id": NAT_ID}}
    found = run_stack_policy(
        pack, "databricks-subnet-egress", [(SUBNET, "host", DELEGATED), (SUBNET, "cont", both)]
    )
    messages = sorted(message for message, _ in found)
    assert "'cont' egresses through natGateway and routeTable" in messages[0]
    assert "'host' egresses through nothing" in messages[1]


def test_a_public_ip_beside_a_firewall_route_is_reported(pack):
    found = run_stack_policy(
        pack,
        "databricks-subnet-egress",
        [
            ("azure-native:network:RouteTable", "routes", TO_FIREWALL),
            (SUBNET, "host", {**DELEGATED, "routeTable": {"id": TABLE_ID}}),
            ("azure-native:network:PublicIPAddress", "pip", {"sku": {"name": "Standard"}}),
        ],
    )
    assert len(found) == 1
    assert "PublicIPAddress 'pip' in a stack whose egress goes through the firewall" in found[0][0]


def test_a_public_ip_without_a_firewall_route_is_not_this_rules_concern(pack):
    found = run_stack_policy(
        pack,
        "databricks-subnet-egress",
        [
            (SUBNET, "host", {**DELEGATED, "natGateway": {"id": NAT_ID}}),
            ("azure-native:network:PublicIPAddress", "pip", {"sku": {"name": "Standard"}}),
        ],
    )
    assert found == []
