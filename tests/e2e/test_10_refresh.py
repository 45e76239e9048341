"""Scenario 10: `pulumi refresh` on a live stack, with inputs recorded as azure-native records
them (tests/e2e/standin/azure_native.py, read_inputs).

Databricks' network intent policy has written its rules into the NSG, which the program declares
without rules: refresh reads them and the next preview has nothing to do. Serving: a refresh
records the endpoint's live traffic in its inputs; after a version bump has deleted that
deployment, a tag change must not write that traffic back (the fake ARM refuses traffic naming
a deployment that does not exist, as Azure does): traffic stays on the live deployment.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import applied_steps, init_stack, one_of_type, short, up_with_online_endpoint
from tests.fakecloud.arm_workspace_rules import NETWORK_INTENT_PREFIX
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
NSG = "microsoft.network/networksecuritygroups"
ENDPOINTS = "microsoft.machinelearningservices/workspaces/onlineendpoints"
DEPLOYMENTS = "microsoft.machinelearningservices/workspaces/onlineendpoints/deployments"


def state_of(deployer: Deployer, type_: str) -> dict:
    exported = json.loads(deployer.pulumi("stack", "export").stdout)
    [found] = [r for r in exported["deployment"]["resources"] if r["type"] == type_]
    return found


def test_refresh_reads_the_nsg_rules_databricks_wrote_and_leaves_nothing_to_do(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    pulumi("up", "--yes", "--skip-preview")
    live = [r["name"] for r in one_of_type(cloud, NSG)["properties"]["securityRules"]]
    assert live and all(name.startswith(NETWORK_INTENT_PREFIX) for name in live)
    nsg = state_of(deployer, "azure-native:network:NetworkSecurityGroup")
    assert not nsg["outputs"].get("securityRules")  # written after the NSG was

    pulumi("refresh", "--yes", "--skip-preview")
    nsg = state_of(deployer, "azure-native:network:NetworkSecurityGroup")
    assert sorted(r["name"] for r in nsg["outputs"]["securityRules"]) == sorted(live)
    assert "securityRules" not in nsg["inputs"]  # a sub-resource the program leaves unset
    pulumi("preview", "--expect-no-changes")
    # and an update of the NSG (a tag) keeps the rules, as azure-native does
    pulumi("config", "set", "--path", "databricks-azureml:tags.team", "ml-platform")
    pulumi("up", "--yes", "--skip-preview")
    kept = [r["name"] for r in one_of_type(cloud, NSG)["properties"]["securityRules"]]
    assert sorted(kept) == sorted(live)
    pulumi("refresh", "--yes", "--skip-preview")
    pulumi("preview", "--expect-no-changes")


def test_traffic_stays_on_the_live_deployment_after_refresh_version_bump_and_a_tag_change(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    up_with_online_endpoint(deployer, cloud)
    first = one_of_type(cloud, DEPLOYMENTS)["name"]

    # refresh records the live traffic {first: 100} in the endpoint's inputs
    pulumi("refresh", "--yes", "--skip-preview")
    endpoint = state_of(deployer, "azure-native:machinelearningservices:OnlineEndpoint")
    assert endpoint["inputs"]["properties"]["traffic"] == {first: 100}
    pulumi("preview", "--expect-no-changes")

    # a version bump moves traffic to a new deployment and deletes the first
    pulumi("config", "set", "--path", "databricks-azureml:endpoint.version", "2")
    pulumi("up", "--yes", "--skip-preview")
    second = one_of_type(cloud, DEPLOYMENTS)["name"]
    assert second != first
    assert one_of_type(cloud, ENDPOINTS)["properties"]["traffic"] == {second: 100}

    # a tag change: the endpoint is written again, with the live traffic, never the recorded
    pulumi("config", "set", "--path", "databricks-azureml:tags.team", "ml-platform")
    steps = {short(urn): op for urn, op in applied_steps(deployer).items()}
    assert steps["pulumi-python:dynamic/serving:EndpointTraffic::serving-traffic"] == "update"
    live = one_of_type(cloud, ENDPOINTS)
    assert live["properties"]["traffic"] == {second: 100}
    assert live["tags"]["team"] == "ml-platform"

    # a refresh after the bump, then another endpoint setting: its auth mode
    pulumi("refresh", "--yes", "--skip-preview")
    pulumi("preview", "--expect-no-changes")
    pulumi("config", "set", "--path", "databricks-azureml:endpoint.authMode", "Key")
    pulumi("up", "--yes", "--skip-preview")
    live = one_of_type(cloud, ENDPOINTS)
    assert live["properties"]["traffic"] == {second: 100}
    assert live["properties"]["authMode"] == "Key"
    pulumi("refresh", "--yes", "--skip-preview")
    pulumi("preview", "--expect-no-changes")
