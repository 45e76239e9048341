"""The fake Databricks account API (NCCs, private endpoint rules, bindings) and what serverless
compute reaches through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakecloud.arm import SUBSCRIPTION, FakeArm
from tests.fakecloud.databricks_account import FakeDatabricksAccount

ACCOUNT = "0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
BASE = f"/api/2.0/accounts/{ACCOUNT}/network-connectivity-configs"
GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-private-rg"
AML = f"{GROUP}/providers/Microsoft.MachineLearningServices/workspaces/mlflow-aml"
DBW = f"{GROUP}/providers/Microsoft.Databricks/workspaces/mlflow-dbw"
HOST = "adb-1234567890123456.7.azuredatabricks.net"


@pytest.fixture
def cloud() -> Iterator[tuple[FakeArm, FakeDatabricksAccount]]:
    with FakeArm() as arm:
        arm.put(GROUP, {"location": "westeurope"})
        arm.put(AML, {"location": "westeurope", "properties": {"publicNetworkAccess": "Disabled"}})
        arm.resources[DBW.lower()] = {
            "id": DBW,
            "name": "mlflow-dbw",
            "type": "Microsoft.Databricks/workspaces",
            "location": "westeurope",
            "properties": {"workspaceId": "1234567890123456", "workspaceUrl": HOST},
        }
        yield arm, FakeDatabricksAccount(arm)


def call(account: FakeDatabricksAccount, method: str, path: str, body: dict | None = None):
    return account.handle(method, path, body, "token")


def ncc(account: FakeDatabricksAccount, region: str = "westeurope") -> str:
    answer = call(account, "POST", BASE, {"name": "mlflow-private-a1b2c3", "region": region})
    assert answer.status == 200, answer.body
    return answer.body["network_connectivity_config_id"]


def rule(account: FakeDatabricksAccount, ncc_id: str) -> dict:
    body = {"resource_id": AML, "group_id": "amlworkspace"}
    answer = call(account, "POST", f"{BASE}/{ncc_id}/private-endpoint-rules", body)
    assert answer.status == 200, answer.body
    return answer.body


def approve(arm: FakeArm, endpoint_name: str) -> None:
    (connection,) = [r for r in arm.resources.values() if r["name"].startswith(endpoint_name + ".")]
    body = {"properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}
    assert arm.request("PUT", connection["id"], body).status == 200


def bind(account: FakeDatabricksAccount, ncc_id: str):
    return call(
        account,
        "PATCH",
        f"/api/2.0/accounts/{ACCOUNT}/workspaces/1234567890123456",
        {"network_connectivity_config_id": ncc_id},
    )


def test_a_request_without_a_token_is_refused(cloud):
    _arm, account = cloud
    assert account.handle("GET", BASE, None, "").status == 401


def test_an_ncc_name_longer_than_thirty_characters_is_refused(cloud):
    _arm, account = cloud
    answer = call(account, "POST", BASE, {"name": "n" * 31, "region": "westeurope"})
    assert answer.status == 400
    assert "3 to 30" in answer.body["message"]


def test_a_rule_leaves_a_pending_connection_on_its_target_and_is_pending(cloud):
    arm, account = cloud
    created = rule(account, ncc(account))
    assert created["connection_state"] == "PENDING"
    (connection,) = [
        r for r in arm.resources.values() if r["name"].startswith(created["endpoint_name"])
    ]
    props = connection["properties"]
    assert props["privateLinkServiceConnectionState"]["status"] == "Pending"
    assert props["groupIds"] == ["amlworkspace"]


def test_a_rule_to_a_resource_that_does_not_exist_is_refused(cloud):
    _arm, account = cloud
    body = {"resource_id": AML.replace("mlflow-aml", "gone"), "group_id": "amlworkspace"}
    answer = call(account, "POST", f"{BASE}/{ncc(account)}/private-endpoint-rules", body)
    assert answer.status == 400


def test_an_approved_connection_makes_the_rule_established(cloud):
    arm, account = cloud
    ncc_id = ncc(account)
    created = rule(account, ncc_id)
    approve(arm, created["endpoint_name"])
    got = call(account, "GET", f"{BASE}/{ncc_id}/private-endpoint-rules/{created['rule_id']}")
    assert got.body["connection_state"] == "ESTABLISHED"


def test_approving_a_connection_no_endpoint_made_is_refused(cloud):
    arm, _account = cloud
    body = {"properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}
    answer = arm.request("PUT", f"{AML}/privateEndpointConnections/made-up", body)
    assert answer.status == 404


def test_deleting_a_pending_rule_removes_its_connection(cloud):
    arm, account = cloud
    ncc_id = ncc(account)
    created = rule(account, ncc_id)
    call(account, "DELETE", f"{BASE}/{ncc_id}/private-endpoint-rules/{created['rule_id']}")
    assert not [
        r for r in arm.resources.values() if "privateendpointconnections" in r["id"].lower()
    ]


def test_binding_an_ncc_of_another_region_is_refused(cloud):
    _arm, account = cloud
    answer = bind(account, ncc(account, region="northeurope"))
    assert answer.status == 400
    assert "same region" in answer.body["message"]


def test_serverless_reaches_a_private_azureml_workspace_only_with_a_bound_approved_rule(cloud):
    arm, account = cloud
    ncc_id = ncc(account)
    created = rule(account, ncc_id)
    assert account.serverless_reaches(HOST, AML) is False  # pending, unbound
    approve(arm, created["endpoint_name"])
    assert account.serverless_reaches(HOST, AML) is False  # approved, unbound
    assert bind(account, ncc_id).status == 200
    assert account.serverless_reaches(f"https://{HOST}", AML) is True


def test_serverless_does_not_reach_through_a_deleted_rule(cloud):
    arm, account = cloud
    ncc_id = ncc(account)
    created = rule(account, ncc_id)
    approve(arm, created["endpoint_name"])
    bind(account, ncc_id)
    call(account, "DELETE", f"{BASE}/{ncc_id}/private-endpoint-rules/{created['rule_id']}")
    assert account.serverless_reaches(HOST, AML) is False


def test_serverless_reaches_a_public_azureml_workspace_without_an_ncc(cloud):
    arm, account = cloud
    arm.resources[AML.lower()]["properties"]["publicNetworkAccess"] = "Enabled"
    assert account.serverless_reaches(HOST, AML) is True
