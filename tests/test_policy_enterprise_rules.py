"""The enterprise-control rules: diagnostic settings to Log Analytics, the protected group's
lock, and no role that makes a Databricks workspace admin. Over the real program (deployed
outputs) and over resources edited to break each rule."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import program
from tests.stacks import DEV, PRIVATE, with_values

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

import guard_rules as rules  # noqa: E402

SUB = "/subscriptions/3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21"
RG = f"{SUB}/resourceGroups/mlflow-dev-rg"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def declared(raw: dict, *, drop: str = "") -> list:
    """The program's resources as a stack policy sees them after `pulumi up`, minus any whose
    name contains `drop`."""
    run = program(raw)
    return [
        rules.Declared(r.type, r.name, r.outputs, r.urn, tuple(r.depends_on), r.protect)
        for r in run.resources
        if not (drop and drop in r.name)
    ]


# --- diagnostic settings ---------------------------------------------------------------------


@pytest.mark.parametrize("raw", [DEV, PRIVATE], ids=["dev", "private"])
def test_the_program_sends_every_logging_resource_to_log_analytics(raw):
    assert rules.diagnostic_settings_to_workspace(declared(raw)) == []


@pytest.mark.parametrize(
    ("dropped", "kind"),
    [
        ("diagnostics-databricks", "Databricks workspace"),
        ("diagnostics-azureml", "AzureML workspace"),
        ("diagnostics-key-vault", "key vault"),
        ("diagnostics-blob", "storage account"),
    ],
)
def test_a_resource_without_its_diagnostic_setting_is_a_violation(dropped, kind):
    violations = rules.diagnostic_settings_to_workspace(declared(DEV, drop=dropped))
    assert len(violations) == 1
    assert violations[0].message.startswith(kind)
    assert "sends no logs to a Log Analytics workspace" in violations[0].message


def test_diagnostics_off_fails_the_rule_for_every_logging_resource():
    resources = declared(with_values(DEV, diagnostics={"enabled": False}))
    kinds = sorted(
        v.message.split(" '")[0] for v in rules.diagnostic_settings_to_workspace(resources)
    )
    assert kinds == ["AzureML workspace", "Databricks workspace", "key vault", "storage account"]


def test_a_setting_without_a_workspace_is_a_violation():
    resources = declared(DEV)
    broken = [
        rules.Declared(r.resource_type, r.name, {**r.props, "workspaceId": None}, r.urn)
        if r.name == "diagnostics-key-vault"
        else r
        for r in resources
    ]
    [violation] = rules.diagnostic_settings_to_workspace(broken)
    assert "'diagnostics-key-vault' has no workspaceId" in violation.message


def test_in_preview_an_unknown_resource_uri_matches_by_dependency():
    vault = rules.Declared(rules.KEY_VAULT, "kv", {"vaultName": "kv1"}, "urn:kv")
    aml = rules.Declared(rules.AML_WORKSPACE, "mlw", {}, "urn:mlw")
    setting = rules.Declared(
        rules.DIAGNOSTIC_SETTING,
        "kv-diag",
        {"resourceUri": rules.UNKNOWN, "workspaceId": rules.UNKNOWN},
        "urn:d",
        ("urn:kv",),
    )
    unrelated = rules.Declared(
        rules.DIAGNOSTIC_SETTING, "other", {"resourceUri": rules.UNKNOWN, "workspaceId": "x"}
    )
    found = rules.diagnostic_settings_to_workspace([vault, aml, setting, unrelated])
    assert [v.urn for v in found] == ["urn:mlw"]


def test_a_stack_without_workspaces_is_not_checked():
    vault = rules.Declared(rules.KEY_VAULT, "kv", {"vaultName": "kv1"}, "urn:kv")
    assert rules.diagnostic_settings_to_workspace([vault]) == []


# --- the protected group's lock --------------------------------------------------------------


def test_a_protected_stack_with_its_resource_locks_passes():
    assert rules.protected_stack_locked(declared(with_values(DEV, protect=True))) == []


@pytest.mark.parametrize(
    ("dropped", "named"),
    [("locks-storage", "'azureml-storage'"), ("locks-key-vault", "'azureml-kv'"),
     ("locks-databricks", "'databricks-dbw'")],
)  # fmt: skip
def test_a_protected_stack_missing_a_resource_lock_is_a_violation(dropped, named):
    resources = declared(with_values(DEV, protect=True), drop=dropped)
    [violation] = rules.protected_stack_locked(resources)
    assert violation.message == (
        f"{named} is in a protected stack but no CanNotDelete lock covers it, so the portal or "
        "the CLI can delete it"
    )


def test_a_group_lock_over_an_azureml_workspace_is_a_violation():
    group_lock = rules.Declared(
        rules.GROUP_LOCK,
        "group-lock",
        {"resourceGroupName": "mlflow-dev-rg", "level": "CanNotDelete"},
    )
    resources = [*declared(with_values(DEV, protect=True)), group_lock]
    [violation] = rules.protected_stack_locked(resources)
    assert violation.message.startswith(
        "lock 'group-lock' is on a resource group that holds an AzureML workspace"
    )


def test_a_protected_group_without_a_workspace_or_a_lock_is_a_violation():
    group = rules.Declared(rules.RESOURCE_GROUP, "rg", {"resourceGroupName": "g"}, "u", (), True)
    [violation] = rules.protected_stack_locked([group])
    assert "resource group 'rg' is protected, but no management lock covers it" in (
        violation.message
    )


def test_a_lock_of_another_level_does_not_count():
    group = rules.Declared(rules.RESOURCE_GROUP, "rg", {"resourceGroupName": "g"}, "u", (), True)
    lock = rules.Declared(
        rules.GROUP_LOCK, "l", {"resourceGroupName": "g", "level": "NotSpecified"}
    )
    [violation] = rules.protected_group_locked([group, lock])
    assert "its lock has level 'NotSpecified'" in violation.message


def test_an_unprotected_stack_needs_no_lock():
    assert rules.protected_stack_locked(declared(DEV)) == []


# --- no Databricks admin by Azure role -------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [SUB, RG, f"{RG}/providers/Microsoft.Databricks/workspaces/mlflow-dev-dbw"],
)
@pytest.mark.parametrize("role", [OWNER, CONTRIBUTOR])
def test_owner_or_contributor_above_or_on_the_databricks_workspace_is_a_violation(scope, role):
    props = {
        "scope": scope,
        "roleDefinitionId": f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}",
    }
    [message] = rules.role_assignment_not_databricks_admin(props)
    assert "workspace admins, who can read every secret scope" in message


def test_narrower_roles_or_scopes_pass():
    aml = f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/mlflow-dev-mlw"
    definition = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
    assert (
        rules.role_assignment_not_databricks_admin(
            {"scope": RG, "roleDefinitionId": definition + READER}
        )
        == []
    )
    assert (
        rules.role_assignment_not_databricks_admin(
            {"scope": aml, "roleDefinitionId": definition + CONTRIBUTOR}
        )
        == []
    )


def test_every_role_assignment_of_the_program_passes():
    access = {
        "dataScientists": [{"objectId": "aaaaaaaa-1111-2222-3333-444444444444", "type": "Group"}],
        "readers": [{"objectId": "bbbbbbbb-1111-2222-3333-444444444444", "type": "User"}],
    }
    run = program(with_values(PRIVATE, access=access))
    assignments = run.of_type(rules.ROLE_ASSIGNMENT)
    assert len(assignments) >= 3
    for assignment in assignments:
        assert rules.role_assignment_not_databricks_admin(assignment.inputs) == []


# --- the workspace storage firewall comes whole ----------------------------------------------


def test_the_private_program_has_its_storage_firewall_whole():
    assert rules.databricks_storage_firewall_whole(declared(PRIVATE)) == []


@pytest.mark.parametrize("group", ["blob", "dfs"])
def test_a_firewalled_workspace_without_a_storage_endpoint_is_a_violation(group):
    [violation] = rules.databricks_storage_firewall_whole(
        declared(PRIVATE, drop=f"databricks-storage-{group}")
    )
    assert f"no '{group}' private endpoint to its storage account" in violation.message


def test_a_firewalled_workspace_without_its_access_connector_is_a_violation():
    workspace = rules.Declared(
        rules.DATABRICKS_WORKSPACE,
        "dbw",
        {
            "defaultStorageFirewall": "Enabled",
            "managedResourceGroupId": "/subscriptions/s/resourceGroups/m",
        },
        "urn:dbw",
    )
    [violation] = rules.databricks_storage_firewall_whole([workspace])
    assert "no accessConnector.id" in violation.message
    assert "no 'blob' or 'dfs' private endpoint" in violation.message


def test_a_workspace_without_the_firewall_is_not_checked():
    assert rules.databricks_storage_firewall_whole(declared(DEV)) == []


# --- after deployment: outputs carry the ARM id, not the path inputs -------------------------


def test_deployed_settings_and_locks_are_matched_by_their_ids():
    """azure-native's outputs for extension resources hold no resourceUri / resourceGroupName
    (path parameters); the rules read the target from the id instead."""
    resources = []
    for r in declared(with_values(DEV, protect=True)):
        props = dict(r.props)
        if r.resource_type == rules.DIAGNOSTIC_SETTING:
            props.pop("resourceUri")
        if r.resource_type == rules.SCOPE_LOCK:
            props.pop("scope")
        if r.resource_type == rules.RESOURCE_GROUP:
            props.pop("resourceGroupName")
        resources.append(
            rules.Declared(r.resource_type, r.name, props, r.urn, r.dependencies, r.protect)
        )
    assert rules.diagnostic_settings_to_workspace(resources) == []
    assert rules.protected_stack_locked(resources) == []
    missing = [r for r in resources if r.name != "diagnostics-blob"]
    [violation] = rules.diagnostic_settings_to_workspace(missing)
    assert violation.message.startswith("storage account")
