"""Customer-managed keys and the compliance profile: what the program declares, in which order,
and which changes the guard refuses before any write."""

from __future__ import annotations

import pytest

from components.encryption_guard import EncryptionGuardProvider, encryption_problems
from tests.conftest import program
from tests.stacks import DEV, with_values
from tools.offline import KEY_VERSION, SUBSCRIPTION_ID

VAULT_ID = (
    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/security/providers/"
    "Microsoft.KeyVault/vaults/contoso-cmk"
)
CMK = {"keyVaultId": VAULT_ID, "keyName": "workspaces"}
ROLE = "azure-native:authorization:RoleAssignment"
DBW = "azure-native:databricks:Workspace"
MLW = "azure-native:machinelearningservices:Workspace"
DBFS = "pulumi-python:dynamic/encryption:DbfsEncryption"
CRYPTO_USER = (
    f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
    "e147488a-f6f5-4113-8e2d-b22465e65bf6"
)


def encrypted(**more: object):
    return program(with_values(DEV, customerManagedKey=CMK, **more))


def test_databricks_workspace_gets_managed_services_and_disk_keys_and_prepares_dbfs():
    workspace = encrypted().one(DBW).inputs
    services = workspace["encryption"]["entities"]["managedServices"]
    disk = workspace["encryption"]["entities"]["managedDisk"]
    assert services == {
        "keySource": "Microsoft.Keyvault",
        "keyVaultProperties": {
            "keyName": "workspaces",
            "keyVaultUri": "https://contoso-cmk.vault.azure.net/",
            "keyVersion": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        },
    }
    assert disk["rotationToLatestKeyVersionEnabled"] is True
    assert disk["keyVaultProperties"]["keyName"] == "workspaces"
    assert workspace["parameters"]["prepareEncryption"] == {"value": True}
    assert "encryption" not in workspace["parameters"]  # the second phase writes it


def test_a_pinned_version_and_a_disk_key_are_used_as_given_without_auto_rotation():
    given = {**CMK, "keyVersion": "b" * 32, "managedDiskKeyName": "disks"}
    workspace = program(with_values(DEV, customerManagedKey=given)).one(DBW).inputs
    disk = workspace["encryption"]["entities"]["managedDisk"]
    assert disk["keyVaultProperties"]["keyName"] == "disks"
    assert disk["keyVaultProperties"]["keyVersion"] == "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    assert disk["rotationToLatestKeyVersionEnabled"] is False
    services = workspace["encryption"]["entities"]["managedServices"]["keyVaultProperties"]
    assert services["keyVersion"] == "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"


def test_every_identity_that_uses_the_key_gets_the_crypto_role_on_the_vault():
    result = encrypted()
    on_vault = [r for r in result.of_type(ROLE) if r.inputs["scope"] == VAULT_ID]
    assert sorted(r.name for r in on_vault) == [
        "azureml-key-key-access",
        "databricks-disk-key-access",
        "databricks-storage-key-access",
    ]
    for role in on_vault:
        assert role.inputs["roleDefinitionId"] == CRYPTO_USER
        assert role.inputs["principalType"] == "ServicePrincipal"
    workspace = result.one(DBW).outputs
    principals = {r.name: r.inputs["principalId"] for r in on_vault}
    assert (
        principals["databricks-storage-key-access"]
        == (workspace["storageAccountIdentity"]["principalId"])
    )
    assert (
        principals["databricks-disk-key-access"]
        == (workspace["managedDiskIdentity"]["principalId"])
    )


def test_dbfs_key_is_written_after_both_databricks_roles():
    result = encrypted()
    dbfs = result.one(DBFS)
    assert dbfs.inputs["key_name"] == "workspaces"
    assert dbfs.inputs["key_version"] == KEY_VERSION
    assert dbfs.inputs["vault_uri"] == "https://contoso-cmk.vault.azure.net/"
    assert dbfs.inputs["workspace_id"] == result.one(DBW).id
    roles = {r.urn for r in result.of_type(ROLE) if r.name.startswith("databricks-")}
    assert roles <= set(dbfs.depends_on)


def test_azureml_workspace_is_created_encrypted_after_its_identity_can_reach_the_key():
    result = encrypted()
    workspace = result.one(MLW)
    identity = result.one("azure-native:managedidentity:UserAssignedIdentity")
    encryption = workspace.inputs["encryption"]
    assert encryption["status"] == "Enabled"
    assert encryption["keyVaultProperties"] == {
        "keyVaultArmId": VAULT_ID,
        "keyIdentifier": "https://contoso-cmk.vault.azure.net/keys/workspaces/"
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    }
    assert encryption["identity"] == {"userAssignedIdentity": identity.id}
    assert workspace.inputs["enableServiceSideCMKEncryption"] is True
    assert workspace.inputs["identity"]["type"] == "SystemAssigned,UserAssigned"
    role = next(r for r in result.of_type(ROLE) if r.name == "azureml-key-key-access")
    assert role.urn in workspace.depends_on


def test_azureml_opt_out_keeps_the_workspace_unencrypted_with_its_system_identity():
    result = program(with_values(DEV, customerManagedKey={**CMK, "azureml": False}))
    workspace = result.one(MLW).inputs
    assert "encryption" not in workspace
    assert workspace["identity"] == {"type": "SystemAssigned"}
    assert "encryption" in result.one(DBW).inputs


def test_without_a_key_nothing_is_encrypted_or_granted_on_a_vault():
    result = program(DEV)
    assert "encryption" not in result.one(DBW).inputs
    assert "prepareEncryption" not in result.one(DBW).inputs["parameters"]
    assert result.of_type(DBFS) == []
    assert result.of_type("azure-native:managedidentity:UserAssignedIdentity") == []


def test_compliance_profile_declares_standards_monitoring_and_cluster_update():
    raw = with_values(DEV, databricksCompliance={"standards": ["HIPAA"]})
    result = program(raw)
    assert result.one(DBW).inputs["enhancedSecurityCompliance"] == {
        "complianceSecurityProfile": {"value": "Enabled", "complianceStandards": ["HIPAA"]},
        "enhancedSecurityMonitoring": {"value": "Enabled"},
        "automaticClusterUpdate": {"value": "Enabled"},
    }
    assert result.one("databricks:index/cluster:Cluster").inputs["nodeTypeId"] == (
        "Standard_D4ds_v5"
    )


def test_infrastructure_encryption_is_declared_at_creation():
    raw = with_values(DEV, requireInfrastructureEncryption=True)
    parameters = program(raw).one(DBW).inputs["parameters"]
    assert parameters["requireInfrastructureEncryption"] == {"value": True}


def test_the_resource_group_waits_for_the_encryption_guard():
    result = program(DEV)
    guard = result.one("pulumi-python:dynamic/encryption:EncryptionGuard")
    assert guard.urn in result.one("azure-native:resources:ResourceGroup").depends_on


# --- the guard ----------------------------------------------------------------------------------

CREATED = {"standards": ["HIPAA"], "infrastructure_encryption": True, "aml_key_vault": "/v1"}


def test_guard_refuses_turning_the_compliance_profile_off_naming_the_key():
    [problem] = encryption_problems(CREATED, {**CREATED, "standards": []})
    assert problem.startswith("databricks-azureml:databricksCompliance.standards: [] is refused")
    assert "cannot turn it off" in problem


def test_guard_refuses_removing_a_standard_and_allows_adding_one():
    [problem] = encryption_problems(CREATED, {**CREATED, "standards": ["PCI_DSS"]})
    assert "removing HIPAA is refused" in problem
    assert encryption_problems(CREATED, {**CREATED, "standards": ["HIPAA", "PCI_DSS"]}) == []


def test_guard_refuses_changing_infrastructure_encryption():
    [problem] = encryption_problems(CREATED, {**CREATED, "infrastructure_encryption": False})
    assert problem.startswith("databricks-azureml:requireInfrastructureEncryption: false")


@pytest.mark.parametrize("vault", ["", "/v2"])
def test_guard_refuses_adding_removing_or_moving_the_azureml_key_vault(vault):
    [problem] = encryption_problems(CREATED, {**CREATED, "aml_key_vault": vault})
    assert problem.startswith("databricks-azureml:customerManagedKey:")


def test_guard_check_fails_the_preview_and_passes_a_first_run():
    provider = EncryptionGuardProvider()
    assert provider.check({}, CREATED).failures == []
    failures = provider.check(CREATED, {**CREATED, "standards": []}).failures
    assert [f.property for f in failures] == ["settings"]
