"""Enterprise controls: diagnostic settings, the resource group lock, team access, the budget and
the Databricks workspace storage firewall, from config to what the program declares."""

from __future__ import annotations

import pytest

from components.budget import month_start
from components.diagnostics import (
    AML_WORKSPACE,
    DATABRICKS_WORKSPACE,
    KEY_VAULT,
    ONLINE_ENDPOINT,
    STORAGE_BLOB,
)
from components.team_access import AZUREML_DATA_SCIENTIST, READER, STORAGE_BLOB_DATA_READER
from core.config import (
    BudgetThresholdType,
    PrincipalType,
    parse_config,
)
from core.errors import ConfigError
from tests.conftest import program
from tests.stacks import DEV, PRIVATE, SECRET_KEYS, with_values
from tools.offline import SUBSCRIPTION_ID

DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
LOCK = "azure-native:authorization:ManagementLockAtResourceGroupLevel"
ROLE = "azure-native:authorization:RoleAssignment"
BUDGET = "azure-native:consumption:Budget"
GROUP = "azure-native:resources:ResourceGroup"
RG_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/mlflow-dev-rg"
SOC = (
    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/soc/providers/"
    "Microsoft.OperationalInsights/workspaces/central"
)
SCIENTISTS = "aaaaaaaa-1111-2222-3333-444444444444"
AUDITOR = "bbbbbbbb-1111-2222-3333-444444444444"
ACCESS = {
    "dataScientists": [{"objectId": SCIENTISTS, "type": "Group"}],
    "readers": [{"objectId": AUDITOR, "type": "User"}],
}
BUDGET_CONFIG = {"amount": 750, "contactEmails": ["finops@contoso.com"]}


def rejected(raw: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "dev", SECRET_KEYS & raw.keys())
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- config ----------------------------------------------------------------------------------


def test_defaults_send_diagnostics_to_the_stacks_workspace_for_90_days_and_nothing_else():
    config = parse_config(DEV, "dev")
    assert config.diagnostics.enabled is True
    assert config.diagnostics.workspace_id is None
    assert config.diagnostics.retention_days == 90
    assert config.access.data_scientists == () and config.access.readers == ()
    assert config.budget is None
    assert config.databricks_storage_firewall is False


def test_access_reads_typed_principals_in_lowercase():
    config = parse_config(
        with_values(
            DEV, access={"dataScientists": [{"objectId": SCIENTISTS.upper(), "type": "Group"}]}
        ),
        "dev",
    )
    (principal,) = config.access.data_scientists
    assert principal.object_id == SCIENTISTS
    assert principal.type is PrincipalType.GROUP


def test_budget_defaults_to_80_and_100_percent_actual_and_100_forecast():
    config = parse_config(with_values(DEV, budget=BUDGET_CONFIG), "dev")
    assert config.budget is not None
    assert config.budget.amount == 750
    assert [(t.percent, t.type) for t in config.budget.thresholds] == [
        (80, BudgetThresholdType.ACTUAL),
        (100, BudgetThresholdType.ACTUAL),
        (100, BudgetThresholdType.FORECASTED),
    ]


def test_storage_firewall_is_on_by_default_under_private_link_only():
    assert parse_config(PRIVATE, "dev", SECRET_KEYS).databricks_storage_firewall is True
    backend = with_values(DEV, databricksPrivateLink="backend")
    assert parse_config(backend, "dev").databricks_storage_firewall is True
    off = with_values(backend, databricksStorageFirewall=False)
    assert parse_config(off, "dev").databricks_storage_firewall is False


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"diagnostics": {"retentionDays": 7}}, "diagnostics.retentionDays: 7 is outside 30..730"),
        ({"diagnostics": {"retentionDays": 1000}}, "diagnostics.retentionDays: 1000 is outside"),
        ({"diagnostics": {"enabled": "maybe"}}, "diagnostics.enabled: maybe is not a boolean"),
        ({"diagnostics": {"workspaceId": "central"}}, "diagnostics.workspaceId: central is not a "
         "Log Analytics workspace id"),
        ({"diagnostics": {"retention": 90}}, "diagnostics.retention: (a number, not shown) is set for an unknown key"),
        ({"access": {"admins": []}}, "access.admins: (a list, not shown) is set for an unknown key"),
        ({"access": {"readers": "everyone"}}, "access.readers: everyone is not a list"),
        ({"access": {"readers": [{"objectId": "nope", "type": "User"}]}},
         "access.readers[0].objectId: nope is not a GUID"),
        ({"access": {"readers": [{"objectId": AUDITOR, "type": "Robot"}]}},
         "access.readers[0].type: Robot is not allowed; allowed: Group, ServicePrincipal, User"),
        ({"access": {"readers": [{"objectId": AUDITOR, "type": "User", "role": "Owner"}]}},
         "access.readers[0].role: (a string, not shown) is set for an unknown key"),
        ({"access": {"dataScientists": [{"objectId": SCIENTISTS, "type": "Group"}] * 2}},
         "access.dataScientists[1].objectId: " + SCIENTISTS + " is listed twice"),
        ({"budget": {"contactEmails": ["a@contoso.com"]}}, "budget.amount: (not set) is required"),
        ({"budget": {"amount": -5, "contactEmails": ["a@contoso.com"]}},
         "budget.amount: -5 is not a positive number"),
        ({"budget": {"amount": 100}}, "budget.contactEmails: (not set) is not a list of 1 to 50"),
        ({"budget": {"amount": 100, "contactEmails": ["not-an-address"]}},
         'budget.contactEmails: ["not-an-address"] is not a list of 1 to 50 e-mail addresses'),
        ({"budget": {**BUDGET_CONFIG, "thresholds": [{"percent": 1200}]}},
         "budget.thresholds[0].percent: 1200 is not a percentage above 0, at most 1000"),
        ({"budget": {**BUDGET_CONFIG, "thresholds": [{"percent": 90, "type": "Guess"}]}},
         "budget.thresholds[0].type: Guess is not allowed; allowed: Actual, Forecasted"),
        ({"budget": {**BUDGET_CONFIG, "thresholds": [{"percent": p} for p in range(10, 70, 10)]}},
         "is not a list of 1 to 5 {percent, type}"),
        ({"budget": {**BUDGET_CONFIG, "currency": "EUR"}},
         "budget.currency: (a string, not shown) is set for an unknown key"),
        ({"databricksStorageFirewall": True},
         "databricksStorageFirewall: true needs privateLink true or databricksPrivateLink"),
    ],
)  # fmt: skip
def test_bad_enterprise_control_config_is_refused_with_one_message(values, expected):
    assert expected in rejected(with_values(DEV, **values))


# --- diagnostic settings ---------------------------------------------------------------------


def _settings(result) -> dict[str, dict]:
    return {r.inputs["resourceUri"]: r.inputs for r in result.of_type(DIAGNOSTIC)}


def test_every_logging_resource_sends_its_logs_to_the_stacks_log_analytics_workspace():
    result = program(DEV)
    logs = result.one("azure-native:operationalinsights:Workspace")
    settings = _settings(result)
    targets = {
        result.one("azure-native:databricks:Workspace").id: DATABRICKS_WORKSPACE,
        result.one("azure-native:machinelearningservices:Workspace").id: AML_WORKSPACE,
        result.one("azure-native:keyvault:Vault").id: KEY_VAULT,
        result.one("azure-native:storage:StorageAccount").id + "/blobServices/default": (
            STORAGE_BLOB
        ),
    }
    assert set(settings) == set(targets)
    for uri, selection in targets.items():
        setting = settings[uri]
        assert setting["workspaceId"] == logs.id
        assert [log["category"] for log in setting["logs"] if "category" in log] == list(
            selection.categories
        )
        assert [log["categoryGroup"] for log in setting["logs"] if "categoryGroup" in log] == list(
            selection.category_groups
        )
        assert all(log["enabled"] is True for log in setting["logs"])
        assert bool(setting.get("metrics")) is selection.metrics


def test_the_azureml_workspace_sends_all_logs_and_all_metrics():
    result = program(DEV)
    aml = result.one("azure-native:machinelearningservices:Workspace")
    setting = _settings(result)[aml.id]
    assert setting["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert setting["metrics"] == [{"category": "AllMetrics", "enabled": True}]


def test_key_vault_audit_events_and_databricks_audit_categories_are_named():
    assert KEY_VAULT.categories == ("AuditEvent",)
    for category in ("accounts", "clusters", "secrets", "notebook", "mlflowExperiment"):
        assert category in DATABRICKS_WORKSPACE.categories


def test_a_central_workspace_receives_the_logs_and_retention_is_config():
    raw = with_values(DEV, diagnostics={"workspaceId": SOC, "retentionDays": 365})
    result = program(raw)
    assert {s["workspaceId"] for s in _settings(result).values()} == {SOC}
    logs = result.one("azure-native:operationalinsights:Workspace")
    assert logs.inputs["retentionInDays"] == 365


def test_diagnostics_off_declares_no_setting():
    result = program(with_values(DEV, diagnostics={"enabled": False}))
    assert result.of_type(DIAGNOSTIC) == []


def test_the_online_endpoint_gets_its_own_diagnostic_setting():
    raw = with_values(
        PRIVATE,
        endpoint={"model": "diabetes", "version": 1},
        modelRegistry="azureml",
        amlManagedNetwork="allowOnlyApprovedOutbound",
    )
    result = program(raw)
    endpoint = result.one("azure-native:machinelearningservices:OnlineEndpoint")
    setting = _settings(result)[endpoint.id]
    assert [log["category"] for log in setting["logs"]] == list(ONLINE_ENDPOINT.categories)


# --- lock ------------------------------------------------------------------------------------


def test_protect_puts_a_can_not_delete_lock_on_the_group_that_everything_else_waits_for():
    result = program(with_values(DEV, protect=True))
    lock = result.one(LOCK)
    assert lock.inputs["level"] == "CanNotDelete"
    assert lock.inputs["resourceGroupName"] == "mlflow-dev-rg"
    assert not lock.protect  # `protect: false` + `pulumi up` must be able to remove it
    # The managed-network and encryption guards come before the group itself (a refused
    # switch touches nothing) and hold no Azure resource, so the lock cannot be in their way.
    before_group = (
        "pulumi-python:dynamic/network:ManagedNetworkGuard",
        "pulumi-python:dynamic/encryption:EncryptionGuard",
    )
    others = [
        r
        for r in result.resources
        if r.custom
        and r.type not in (GROUP, LOCK, *before_group)
        and not r.type.startswith("pulumi:providers:")
    ]
    assert others
    waiting = [r.name for r in others if lock.urn not in r.depends_on]
    assert waiting == [], "created after the lock, deleted before it"


def test_no_lock_without_protect():
    assert program(DEV).of_type(LOCK) == []


# --- team access -----------------------------------------------------------------------------


def _assignments(result) -> dict[tuple[str, str], dict]:
    return {
        (r.inputs["principalId"], r.inputs["roleDefinitionId"].rsplit("/", 1)[1]): r.inputs
        for r in result.of_type(ROLE)
    }


def test_data_scientists_get_azureml_data_scientist_and_blob_reader_readers_get_reader():
    result = program(with_values(DEV, access=ACCESS))
    aml = result.one("azure-native:machinelearningservices:Workspace")
    account = result.one("azure-native:storage:StorageAccount")
    found = _assignments(result)
    assert found[(SCIENTISTS, AZUREML_DATA_SCIENTIST)]["scope"] == aml.id
    assert found[(SCIENTISTS, AZUREML_DATA_SCIENTIST)]["principalType"] == "Group"
    assert found[(SCIENTISTS, STORAGE_BLOB_DATA_READER)]["scope"] == account.id
    assert found[(AUDITOR, READER)]["scope"] == RG_ID
    assert found[(AUDITOR, READER)]["principalType"] == "User"
    assert len(found) == 3
    for inputs in found.values():
        assert inputs["roleDefinitionId"].startswith(
            f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
        )


# Microsoft's list, "Azure built-in roles" (learn.microsoft.com/azure/role-based-access-control/
# built-in-roles), read 2026-12: name -> id. The program's ids must be these.
BUILT_IN_ROLES = {
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
}


def test_every_role_the_program_assigns_is_a_microsoft_built_in_role():
    assert BUILT_IN_ROLES["Reader"] == READER
    assert BUILT_IN_ROLES["Storage Blob Data Reader"] == STORAGE_BLOB_DATA_READER
    assert BUILT_IN_ROLES["AzureML Data Scientist"] == AZUREML_DATA_SCIENTIST
    result = program(with_values(PRIVATE, access=ACCESS))
    used = {role for _, role in _assignments(result)}
    assert used <= set(BUILT_IN_ROLES.values())


# --- budget ----------------------------------------------------------------------------------


def test_budget_is_monthly_on_the_group_with_an_alert_per_threshold():
    result = program(with_values(DEV, budget=BUDGET_CONFIG))
    budget = result.one(BUDGET).inputs
    assert budget["scope"] == RG_ID
    assert budget["amount"] == 750
    assert budget["category"] == "Cost"
    assert budget["timeGrain"] == "Monthly"
    assert budget["timePeriod"]["startDate"].endswith("-01T00:00:00Z")
    alerts = budget["notifications"].values()
    assert sorted((a["thresholdType"], a["threshold"]) for a in alerts) == [
        ("Actual", 80), ("Actual", 100), ("Forecasted", 100)
    ]  # fmt: skip
    assert all(a["contactEmails"] == ["finops@contoso.com"] for a in alerts)
    assert all(a["operator"] == "GreaterThan" and a["enabled"] for a in alerts)
    assert "timePeriod" in result.one(BUDGET).ignore_changes


def test_no_budget_unless_configured():
    assert program(DEV).of_type(BUDGET) == []


def test_a_budget_starts_on_the_first_of_the_month():
    from datetime import date

    assert month_start(date(2026, 12, 17)) == "2026-12-01T00:00:00Z"


# --- workspace storage firewall --------------------------------------------------------------

CONNECTOR = "azure-native:databricks:AccessConnector"
ENDPOINT = "azure-native:network:PrivateEndpoint"
DATABRICKS = "azure-native:databricks:Workspace"


def test_under_private_link_the_workspace_storage_is_firewalled_through_an_access_connector():
    result = program(PRIVATE)
    connector = result.one(CONNECTOR)
    assert connector.inputs["identity"] == {"type": "SystemAssigned"}
    workspace = result.one(DATABRICKS)
    assert workspace.inputs["defaultStorageFirewall"] == "Enabled"
    assert workspace.inputs["accessConnector"] == {
        "id": connector.id,
        "identityType": "SystemAssigned",
    }
    assert connector.urn in workspace.depends_on or connector.id in str(workspace.inputs)


def test_the_firewalled_storage_gets_blob_and_dfs_endpoints_and_their_dns_zones():
    result = program(PRIVATE)
    workspace = result.one(DATABRICKS)
    account = workspace.outputs["parameters"]["storageAccountName"]["value"]
    managed = workspace.inputs["managedResourceGroupId"]
    target = f"{managed}/providers/Microsoft.Storage/storageAccounts/{account}"
    groups = {
        tuple(c["groupIds"]): c["privateLinkServiceId"]
        for pe in result.of_type(ENDPOINT)
        for c in pe.inputs["privateLinkServiceConnections"]
        if c["privateLinkServiceId"] == target
    }
    assert set(groups) == {("blob",), ("dfs",)}
    zones = {
        z.inputs["privateZoneName"] for z in result.of_type("azure-native:privatedns:PrivateZone")
    }
    assert {"privatelink.blob.core.windows.net", "privatelink.dfs.core.windows.net"} <= zones


def test_without_private_networking_the_workspace_storage_stays_as_azure_creates_it():
    result = program(DEV)
    assert result.of_type(CONNECTOR) == []
    workspace = result.one(DATABRICKS).inputs
    assert "defaultStorageFirewall" not in workspace and "accessConnector" not in workspace


def test_the_firewall_can_be_turned_off_under_private_link():
    result = program(with_values(PRIVATE, databricksStorageFirewall=False))
    assert result.of_type(CONNECTOR) == []
    assert "defaultStorageFirewall" not in result.one(DATABRICKS).inputs


def test_the_workspace_storage_blob_setting_sends_read_write_and_delete_logs():
    result = program(DEV)
    storage = result.one("azure-native:storage:StorageAccount")
    setting = _settings(result)[storage.id + "/blobServices/default"]
    assert setting["logs"] == [
        {"category": "StorageRead", "enabled": True},
        {"category": "StorageWrite", "enabled": True},
        {"category": "StorageDelete", "enabled": True},
    ]
