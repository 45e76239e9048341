"""Serverless compute's network connectivity configuration: what the program declares with and
without `databricksAccount`, and the approval of the private endpoints Databricks creates."""

from __future__ import annotations

import pytest

from components.serverless_connectivity import (
    PrivateEndpointApprovalProvider,
    approve_connection,
    connection_of,
    ncc_name,
)
from tests.conftest import program
from tests.fakecloud.arm import SUBSCRIPTION, FakeArm
from tests.stacks import DEV, PRIVATE, with_values
from tests.test_teardown_arm import arm_for
from tools.preview import serverless_warnings

ACCOUNT_ID = "0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
ACCOUNT = {"accountId": ACCOUNT_ID}
NCC = "databricks:index/mwsNetworkConnectivityConfig:MwsNetworkConnectivityConfig"
RULE = "databricks:index/mwsNccPrivateEndpointRule:MwsNccPrivateEndpointRule"
BINDING = "databricks:index/mwsNccBinding:MwsNccBinding"
APPROVAL = "pulumi-python:dynamic/serverless:PrivateEndpointApproval"
PROVIDER = "pulumi:providers:databricks"
AML = "azure-native:machinelearningservices:Workspace"
STORAGE = "azure-native:storage:StorageAccount"
DBW = "azure-native:databricks:Workspace"


def test_private_stack_with_an_account_declares_an_ncc_in_the_stack_region():
    result = program(with_values(PRIVATE, databricksAccount=ACCOUNT), "private")
    ncc = result.one(NCC)
    assert ncc.inputs["region"] == "westeurope"
    assert ncc.inputs["name"].startswith("mlflow-private-")
    assert len(ncc.inputs["name"]) <= 30


def test_the_account_objects_go_through_an_account_level_provider():
    result = program(with_values(PRIVATE, databricksAccount=ACCOUNT), "private")
    account = result.one(PROVIDER, "databricks-account")
    assert account.inputs["host"] == "https://accounts.azuredatabricks.net"
    assert account.inputs["accountId"] == ACCOUNT_ID
    for type_ in (NCC, RULE, BINDING):
        for resource in result.of_type(type_):
            assert resource.provider.startswith(account.urn)


def test_private_stack_rules_reach_the_azureml_workspace_and_its_blob_storage():
    result = program(with_values(PRIVATE, databricksAccount=ACCOUNT), "private")
    ncc_id = result.one(NCC).outputs["networkConnectivityConfigId"]
    rules = {r.inputs["groupId"]: r.inputs for r in result.of_type(RULE)}
    assert set(rules) == {"amlworkspace", "blob"}
    assert rules["amlworkspace"]["resourceId"] == result.one(AML).id
    assert rules["blob"]["resourceId"] == result.one(STORAGE).id
    assert {r["networkConnectivityConfigId"] for r in rules.values()} == {ncc_id}


def test_each_rule_is_approved_on_its_target_by_the_endpoint_databricks_created():
    result = program(with_values(PRIVATE, databricksAccount=ACCOUNT), "private")
    endpoints = {r.inputs["resourceId"]: r.outputs["endpointName"] for r in result.of_type(RULE)}
    approvals = {a.inputs["target_id"]: a.inputs["endpoint_name"] for a in result.of_type(APPROVAL)}
    assert approvals == endpoints
    assert set(approvals) == {result.one(AML).id, result.one(STORAGE).id}


def test_the_ncc_is_bound_to_the_workspace_after_its_endpoints_are_approved():
    result = program(with_values(PRIVATE, databricksAccount=ACCOUNT), "private")
    binding = result.one(BINDING)
    assert binding.inputs["workspaceId"] == result.one(DBW).outputs["workspaceId"]
    assert (
        binding.inputs["networkConnectivityConfigId"]
        == (result.one(NCC).outputs["networkConnectivityConfigId"])
    )
    approvals = {a.urn for a in result.of_type(APPROVAL)}
    assert approvals and approvals <= set(binding.depends_on)


def test_public_stack_with_an_account_binds_an_ncc_without_endpoint_rules():
    result = program(with_values(DEV, databricksAccount=ACCOUNT))
    assert len(result.of_type(NCC)) == 1
    assert len(result.of_type(BINDING)) == 1
    assert result.of_type(RULE) == []
    assert result.of_type(APPROVAL) == []


def test_no_account_declares_no_account_objects():
    result = program(PRIVATE, "private")
    for type_ in (NCC, RULE, BINDING, APPROVAL):
        assert result.of_type(type_) == []
    assert [p.name for p in result.of_type(PROVIDER)] == ["databricks-workspace"]


def test_preview_of_a_private_stack_without_an_account_says_serverless_cannot_track():
    (message,) = serverless_warnings(program(PRIVATE, "private", deployed=False).resources)
    assert message.startswith("serverless notebooks cannot track to this private stack")
    assert "an NCC in westeurope" in message
    assert "(group amlworkspace)" in message
    assert "(group blob)" in message
    assert "attached to this Databricks workspace" in message
    assert "databricksAccount.accountId" in message


def test_preview_warns_nothing_with_an_account_or_on_a_public_stack():
    with_account = with_values(PRIVATE, databricksAccount=ACCOUNT)
    assert serverless_warnings(program(with_account, "private", deployed=False).resources) == []
    assert serverless_warnings(program(DEV, deployed=False).resources) == []


@pytest.mark.parametrize(
    ("prefix", "stack", "expected"),
    [
        ("mlflow", "dev", "mlflow-dev-a1b2c3"),
        ("mlflowteam", "a-very-long-stack-name", "mlflowteam-a-very-long-a1b2c3"),
    ],
)
def test_ncc_name_fits_thirty_characters_and_ends_with_the_stack_suffix(prefix, stack, expected):
    assert ncc_name(prefix, stack, "a1b2c3") == expected


# --- approval through ARM ----------------------------------------------------------------------

GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-private-rg"
ACCOUNT_SA = f"{GROUP}/providers/Microsoft.Storage/storageAccounts/mlflowsa"
WORKSPACE = f"{GROUP}/providers/Microsoft.MachineLearningServices/workspaces/mlflow-aml"
DATABRICKS_PE = (
    "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/databricks-ncc/providers/"
    "Microsoft.Network/privateEndpoints/databricks-7e1f-pe"
)


def seeded(arm: FakeArm) -> None:
    arm.put(GROUP, {"location": "westeurope"})
    arm.put(ACCOUNT_SA, {"location": "westeurope", "properties": {}})
    arm.put(WORKSPACE, {"location": "westeurope", "properties": {}})


def test_connection_of_matches_the_endpoint_by_name_whatever_the_case():
    connections = [
        {"id": "c1", "properties": {"privateEndpoint": {"id": DATABRICKS_PE.replace("7e1f", "x")}}},
        {"id": "c2", "properties": {"privateEndpoint": {"id": DATABRICKS_PE.upper()}}},
    ]
    assert connection_of(connections, "databricks-7e1f-pe")["id"] == "c2"
    assert connection_of(connections, "other-pe") is None


def test_approval_approves_the_pending_connection_of_the_databricks_endpoint():
    with FakeArm() as arm, arm_for(arm) as client:
        seeded(arm)
        pending = arm.add_pending_connection(WORKSPACE, DATABRICKS_PE, "amlworkspace")
        connection_id = approve_connection(client, WORKSPACE, "databricks-7e1f-pe")
        assert connection_id == pending
        state = arm.get(pending)["properties"]["privateLinkServiceConnectionState"]
        assert state["status"] == "Approved"


def test_approval_of_storage_uses_the_storage_api_version():
    with FakeArm() as arm, arm_for(arm) as client:
        seeded(arm)
        arm.add_pending_connection(ACCOUNT_SA, DATABRICKS_PE, "blob")
        approve_connection(client, ACCOUNT_SA, "databricks-7e1f-pe")
        puts = [c for c in arm.calls("PUT") if "privateEndpointConnections" in c.path]
        assert [c.query["api-version"] for c in puts] == ["2023-05-01"]


def test_approval_fails_naming_the_endpoint_when_no_connection_comes():
    from arm.client import ArmError

    with FakeArm() as arm, arm_for(arm) as client:
        seeded(arm)
        client.timeout = 0
        with pytest.raises(ArmError, match=r"databricks-7e1f-pe.*no connection from it"):
            approve_connection(client, WORKSPACE, "databricks-7e1f-pe")


def test_approval_provider_creates_with_the_connection_id_and_replaces_on_a_new_endpoint():
    with FakeArm() as arm:
        seeded(arm)
        pending = arm.add_pending_connection(WORKSPACE, DATABRICKS_PE, "amlworkspace")
        provider = PrivateEndpointApprovalProvider(lambda _sub, _cloud: arm_for(arm))
        props = {
            "subscription_id": SUBSCRIPTION,
            "target_id": WORKSPACE,
            "endpoint_name": "databricks-7e1f-pe",
        }
        assert provider.create(props).id == pending
        diff = provider.diff(pending, props, {**props, "endpoint_name": "databricks-9a0b-pe"})
        assert diff.replaces == ["endpoint_name"]


def test_approval_refuses_a_rule_that_names_no_endpoint_yet():
    from arm.client import ArmError

    with FakeArm() as arm, arm_for(arm) as client:
        seeded(arm)
        arm.add_pending_connection(WORKSPACE, DATABRICKS_PE, "amlworkspace")
        with pytest.raises(ArmError, match="names no endpoint yet"):
            approve_connection(client, WORKSPACE, "")
