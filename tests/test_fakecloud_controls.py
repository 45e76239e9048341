"""The fake ARM's rules for the enterprise controls, in-process: management locks refuse what
Azure refuses under them, diagnostic settings and budgets are checked as ARM checks them, and
a workspace storage firewall needs its access connector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakecloud.arm import SUBSCRIPTION, FakeArm

RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-dev-rg"
LOCK = f"{RG}/providers/Microsoft.Authorization/locks/protect"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/mlflow-dev-kv"
ACCOUNT = f"{RG}/providers/Microsoft.Storage/storageAccounts/mlflowdevst"
LOGS = f"{RG}/providers/Microsoft.OperationalInsights/workspaces/mlflow-dev-log"
SETTING = "/providers/Microsoft.Insights/diagnosticSettings/to-log-analytics"
BUDGET = f"{RG}/providers/Microsoft.Consumption/budgets/monthly"
CONNECTOR = f"{RG}/providers/Microsoft.Databricks/accessConnectors/ac"
DATABRICKS = f"{RG}/providers/Microsoft.Databricks/workspaces/dbw"


@pytest.fixture
def arm() -> Iterator[FakeArm]:
    fake = FakeArm()  # in-process requests only: no server needed
    fake.put(RG, {"location": "westeurope"})
    fake.put(VAULT, {"location": "westeurope", "properties": {"tenantId": "t"}})
    fake.put(ACCOUNT, {"location": "westeurope", "properties": {}})
    fake.put(LOGS, {"location": "westeurope", "properties": {}})
    yield fake


def _error(reply) -> str:
    return reply.body["error"]["code"]


# --- locks -----------------------------------------------------------------------------------


def test_a_can_not_delete_lock_refuses_deletes_in_its_group_but_not_writes(arm):
    arm.put(LOCK, {"properties": {"level": "CanNotDelete"}})
    refused = arm.request("DELETE", VAULT)
    assert (refused.status, _error(refused)) == (409, "ScopeLocked")
    assert "following scope(s) are locked" in refused.body["error"]["message"]
    assert _error(arm.request("DELETE", RG)) == "ScopeLocked"
    assert arm.request("PUT", VAULT, {"location": "westeurope", "properties": {}}).status == 200


def test_the_lock_itself_can_be_removed_and_then_deletes_pass(arm):
    arm.put(LOCK, {"properties": {"level": "CanNotDelete"}})
    assert arm.request("DELETE", LOCK).status == 200
    assert arm.request("DELETE", VAULT).status == 200


def test_a_read_only_lock_also_refuses_writes(arm):
    arm.put(LOCK, {"properties": {"level": "ReadOnly"}})
    refused = arm.request("PUT", VAULT, {"location": "westeurope", "properties": {}})
    assert (refused.status, _error(refused)) == (409, "ScopeLocked")


# --- diagnostic settings ---------------------------------------------------------------------


def _setting(workspace: str = LOGS, logs=None) -> dict:
    return {
        "properties": {
            "workspaceId": workspace,
            "logs": logs if logs is not None else [{"category": "AuditEvent", "enabled": True}],
        }
    }


def test_a_diagnostic_setting_on_a_resource_and_on_a_blob_service_is_accepted(arm):
    assert arm.request("PUT", VAULT + SETTING, _setting()).status == 201
    blob = ACCOUNT + "/blobServices/default" + SETTING
    assert arm.request("PUT", blob, _setting()).status == 201


def test_a_diagnostic_setting_needs_an_existing_destination(arm):
    missing = LOGS.replace("mlflow-dev-log", "nowhere")
    assert arm.request("PUT", VAULT + SETTING, _setting(missing)).status == 400
    assert arm.request("PUT", VAULT + SETTING, {"properties": {"logs": []}}).status == 400


def test_a_diagnostic_setting_names_a_category_or_a_group_and_enables_something(arm):
    both = [{"category": "AuditEvent", "categoryGroup": "audit", "enabled": True}]
    assert arm.request("PUT", VAULT + SETTING, _setting(logs=both)).status == 400
    off = [{"category": "AuditEvent", "enabled": False}]
    assert arm.request("PUT", VAULT + SETTING, _setting(logs=off)).status == 400


def test_a_resource_takes_at_most_five_diagnostic_settings(arm):
    for n in range(5):
        assert arm.request("PUT", f"{VAULT}{SETTING}{n}", _setting()).status == 201
    assert arm.request("PUT", f"{VAULT}{SETTING}5", _setting()).status == 400


def test_a_diagnostic_setting_on_a_missing_resource_is_refused(arm):
    gone = VAULT.replace("mlflow-dev-kv", "gone")
    assert arm.request("PUT", gone + SETTING, _setting()).status == 404


# --- budgets ---------------------------------------------------------------------------------


def _budget(start="2026-12-01T00:00:00Z", notifications=None) -> dict:
    alert = {"enabled": True, "operator": "GreaterThan", "threshold": 80,
             "contactEmails": ["finops@contoso.com"]}  # fmt: skip
    return {
        "properties": {
            "amount": 500,
            "category": "Cost",
            "timeGrain": "Monthly",
            "timePeriod": {"startDate": start},
            "notifications": notifications if notifications is not None else {"a": alert},
        }
    }


def test_a_budget_starting_on_the_first_of_the_month_is_accepted(arm):
    assert arm.request("PUT", BUDGET, _budget()).status == 201


SUBSCRIPTION_BUDGET = (
    f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Consumption/budgets/mlflow-dev-rg-monthly"
)


def _filtered(dimensions: dict) -> dict:
    body = _budget()
    body["properties"]["filter"] = {"dimensions": dimensions}
    return body


def test_a_subscription_budget_filtered_on_two_groups_is_accepted_read_and_deleted(arm):
    groups = {"name": "ResourceGroupName", "operator": "In",
              "values": ["mlflow-dev-rg", "mlflow-dev-databricks-managed-rg"]}  # fmt: skip
    assert arm.request("PUT", SUBSCRIPTION_BUDGET, _filtered(groups)).status == 201
    read = arm.request("GET", SUBSCRIPTION_BUDGET)
    assert read.status == 200
    assert read.body["properties"]["filter"]["dimensions"]["values"][1] == (
        "mlflow-dev-databricks-managed-rg"
    )
    assert arm.request("DELETE", SUBSCRIPTION_BUDGET).status == 200
    assert arm.request("GET", SUBSCRIPTION_BUDGET).status == 404


@pytest.mark.parametrize(
    "dimensions",
    [
        {"name": "ResourceGroupName", "operator": "Equals", "values": ["mlflow-dev-rg"]},
        {"name": "ResourceGroupName", "operator": "In", "values": []},
        {"operator": "In", "values": ["mlflow-dev-rg"]},
    ],
    ids=["operator-not-in", "no-values", "no-name"],
)
def test_a_budget_filter_the_spec_does_not_allow_is_refused(arm, dimensions):
    refused = arm.request("PUT", SUBSCRIPTION_BUDGET, _filtered(dimensions))
    assert refused.status == 400
    assert refused.body["error"]["code"] == "BadRequest"


def test_an_and_filter_of_one_item_is_refused(arm):
    body = _budget()
    body["properties"]["filter"] = {
        "and": [{"dimensions": {"name": "ResourceGroupName", "operator": "In", "values": ["a"]}}]
    }
    assert arm.request("PUT", SUBSCRIPTION_BUDGET, body).status == 400


@pytest.mark.parametrize(
    "body",
    [
        _budget(start="2026-12-17T00:00:00Z"),
        _budget(notifications={"a": {"threshold": 1200, "contactEmails": ["x@contoso.com"]}}),
        _budget(notifications={"a": {"threshold": 80, "contactEmails": []}}),
        _budget(
            notifications={
                str(n): {"threshold": 10 * n, "contactEmails": ["x@contoso.com"]} for n in range(6)
            }
        ),
    ],
    ids=["mid-month", "threshold-over-1000", "no-contact", "six-notifications"],
)
def test_a_budget_azure_refuses_is_refused(arm, body):
    assert arm.request("PUT", BUDGET, body).status == 400


# --- workspace storage firewall --------------------------------------------------------------


def _workspace(connector: str | None) -> dict:
    properties = {"computeMode": "Hybrid", "defaultStorageFirewall": "Enabled"}
    if connector:
        properties["accessConnector"] = {"id": connector, "identityType": "SystemAssigned"}
    return {"location": "westeurope", "sku": {"name": "premium"}, "properties": properties}


def test_the_storage_firewall_needs_an_existing_access_connector(arm):
    assert arm.request("PUT", DATABRICKS, _workspace(None)).status == 400
    assert arm.request("PUT", DATABRICKS, _workspace(CONNECTOR)).status == 400
    arm.put(CONNECTOR, {"location": "westeurope", "identity": {"type": "SystemAssigned"}})
    assert arm.get(CONNECTOR)["identity"]["principalId"]
    body = _workspace(CONNECTOR)
    body["properties"]["managedResourceGroupId"] = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/m"
    assert arm.request("PUT", DATABRICKS, body).status in (200, 201)


def test_a_new_workspace_gets_a_named_storage_account_in_its_managed_group(arm):
    arm.put(CONNECTOR, {"location": "westeurope", "identity": {"type": "SystemAssigned"}})
    body = _workspace(CONNECTOR)
    managed = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/m"
    body["properties"]["managedResourceGroupId"] = managed
    workspace = arm.put(DATABRICKS, body)
    name = workspace["properties"]["parameters"]["storageAccountName"]["value"]
    assert name.startswith("dbstorage")
    assert arm.get(f"{managed}/providers/Microsoft.Storage/storageAccounts/{name}") is not None
