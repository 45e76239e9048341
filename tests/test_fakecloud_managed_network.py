"""The fake ARM's managed network outbound rules, in-process: the rules Azure adds itself on
provisioning, the network's status, and the program's rules served one by one
(tests/fakecloud/arm_managed_network.py cites the sources)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakecloud.arm import SUBSCRIPTION, FakeArm

RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-private-rg"
ML = f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/mlflow-private-mlw"
ACCOUNT = f"{RG}/providers/Microsoft.Storage/storageAccounts/mlflowprivatest"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/mlflow-private-kv"
RULE = f"{ML}/outboundRules/pkg-pypi-org"
PYPI = {"properties": {"type": "FQDN", "category": "UserDefined", "destination": "pypi.org"}}


@pytest.fixture
def arm() -> Iterator[FakeArm]:
    fake = FakeArm()  # in-process requests only: no server needed
    fake.put(RG, {"location": "westeurope"})
    fake.put(ACCOUNT, {"location": "westeurope", "properties": {"publicNetworkAccess": "Enabled"}})
    fake.put(VAULT, {"location": "westeurope", "properties": {"publicNetworkAccess": "disabled"}})
    yield fake


def _workspace(arm: FakeArm, mode: str | None, **network: object) -> None:
    props: dict = {"storageAccount": ACCOUNT, "keyVault": VAULT}
    if mode:
        props["managedNetwork"] = {"isolationMode": mode, **network}
    arm.put(ML, {"location": "westeurope", "properties": props})


def _provision(arm: FakeArm) -> None:
    assert arm.request("POST", f"{ML}/provisionManagedNetwork", {}).status == 202
    assert arm.finish_operations() == []


def _network(arm: FakeArm) -> dict:
    return arm.get(ML)["properties"]["managedNetwork"]


def test_provisioning_an_approved_only_network_adds_azures_required_rules_active(arm):
    _workspace(arm, "AllowOnlyApprovedOutbound")
    assert "outboundRules" not in _network(arm)
    _provision(arm)
    network = _network(arm)
    assert network["status"] == {"status": "Active", "sparkReady": False}
    rules = network["outboundRules"]
    assert {r["category"] for r in rules.values()} == {"Required"}
    assert {r["status"] for r in rules.values()} == {"Active"}
    endpoints = sorted(
        r["destination"]["subresourceTarget"]
        for r in rules.values()
        if r["type"] == "PrivateEndpoint"
    )
    assert endpoints == ["blob", "file", "vault"]
    tags = sorted(
        r["destination"]["serviceTag"] for r in rules.values() if r["type"] == "ServiceTag"
    )
    assert tags == [
        "AzureActiveDirectory",
        "AzureFrontDoor.FirstParty",
        "AzureMachineLearning",
        "AzureMonitor",
        "AzureResourceManager",
        "BatchNodeManagement",
        "MicrosoftContainerRegistry",
    ]


def test_internet_outbound_gets_endpoints_only_to_dependencies_with_public_access_disabled(arm):
    _workspace(arm, "AllowInternetOutbound")
    _provision(arm)
    rules = _network(arm)["outboundRules"]
    assert [(r["type"], r["destination"]["serviceResourceId"]) for r in rules.values()] == [
        ("PrivateEndpoint", VAULT)
    ]


def test_a_workspace_update_that_omits_the_rules_keeps_azures_and_the_programs(arm):
    _workspace(arm, "AllowOnlyApprovedOutbound")
    assert arm.request("PUT", RULE, PYPI).status == 201
    _provision(arm)
    before = _network(arm)["outboundRules"]
    _workspace(arm, "AllowOnlyApprovedOutbound")
    assert _network(arm)["outboundRules"] == before
    assert _network(arm)["status"]["status"] == "Active"


def test_a_workspace_update_naming_its_rules_keeps_azures_rules_beside_them(arm):
    _workspace(arm, "AllowOnlyApprovedOutbound")
    assert arm.request("PUT", RULE, PYPI).status == 201
    _provision(arm)
    _workspace(arm, "AllowOnlyApprovedOutbound", outboundRules={})
    rules = _network(arm)["outboundRules"]
    assert "pkg-pypi-org" not in rules
    assert "__SYS_ST_AzureMachineLearning" in rules


def test_a_rule_written_one_by_one_shows_in_the_workspace_and_goes_with_its_delete(arm):
    _workspace(arm, "AllowOnlyApprovedOutbound")
    created = arm.request("PUT", RULE, PYPI)
    assert created.status == 201
    assert created.body["properties"]["status"] == "Inactive"  # not provisioned yet
    assert _network(arm)["outboundRules"]["pkg-pypi-org"]["destination"] == "pypi.org"
    _provision(arm)
    got = arm.request("GET", RULE)
    assert got.status == 200
    assert got.body["properties"] == {
        "type": "FQDN",
        "category": "UserDefined",
        "destination": "pypi.org",
        "status": "Active",
    }
    assert arm.request("DELETE", RULE).status == 200
    assert "pkg-pypi-org" not in _network(arm)["outboundRules"]
    assert arm.request("GET", RULE).status == 404


def test_a_rule_on_a_workspace_without_a_managed_network_is_refused(arm):
    _workspace(arm, None)
    refused = arm.request("PUT", RULE, PYPI)
    assert refused.status == 400
    assert refused.body["error"]["code"] == "BadRequest"


def test_a_rule_without_its_type_is_refused(arm):
    _workspace(arm, "AllowOnlyApprovedOutbound")
    assert arm.request("PUT", RULE, {"properties": {"destination": "pypi.org"}}).status == 400


def test_a_rule_of_a_workspace_that_does_not_exist_is_not_found(arm):
    assert arm.request("PUT", RULE, PYPI).status == 404
