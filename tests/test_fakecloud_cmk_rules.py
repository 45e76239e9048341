"""The fake ARM refuses what Azure refuses around customer-managed keys (each rule cites its
Learn page in tests/fakecloud/arm_cmk_rules.py), and the stack's DBFS step copes with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.customer_managed_keys import (
    CRYPTO_SERVICE_ENCRYPTION_USER,
    DbfsEncryptionProvider,
    encrypt_dbfs,
)
from tests.fakecloud.arm import SUBSCRIPTION, FakeArm
from tests.test_teardown_arm import arm_for

RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlflow-dev-rg"
SECURITY = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/security"
VAULT = f"{SECURITY}/providers/Microsoft.KeyVault/vaults/contoso-cmk"
VAULT_URI = "https://contoso-cmk.vault.azure.net/"
DBW = f"{RG}/providers/Microsoft.Databricks/workspaces/dbw"
MLW = f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/mlw"
UAMI = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mlw-key-id"
VERSION = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
NEWER = "a" * 32


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    with FakeArm() as arm_fake:
        for group in (RG, SECURITY):
            arm_fake.put(group, {"location": "westeurope"})
        yield arm_fake


def vault(fake: FakeArm, purge_protection: bool = True) -> None:
    properties = {"tenantId": "t", "sku": {"family": "A", "name": "standard"}}
    if purge_protection:
        properties["enablePurgeProtection"] = True
    fake.put(VAULT, {"location": "westeurope", "properties": properties})


def grant(fake: FakeArm, principal: str, role: str = CRYPTO_SERVICE_ENCRYPTION_USER) -> None:
    fake.put(
        f"{VAULT}/providers/Microsoft.Authorization/roleAssignments/{principal}",
        {
            "properties": {
                "principalId": principal,
                "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}/providers/"
                f"Microsoft.Authorization/roleDefinitions/{role}",
            }
        },
    )


def key(version: str = VERSION) -> dict:
    return {"keyName": "workspaces", "keyVaultUri": VAULT_URI, "keyVersion": version}


def databricks_body(prepare: bool = True, **properties: object) -> dict:
    parameters: dict = {"prepareEncryption": {"value": prepare}} if prepare else {}
    return {
        "location": "westeurope",
        "sku": {"name": "premium"},
        "properties": {
            "managedResourceGroupId": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/dbw-managed",
            "parameters": parameters,
            "encryption": {
                "entities": {
                    "managedServices": {"keySource": "Microsoft.Keyvault",
                                        "keyVaultProperties": key()},
                    "managedDisk": {"keySource": "Microsoft.Keyvault", "keyVaultProperties": key(),
                                    "rotationToLatestKeyVersionEnabled": True},
                }
            },
            **properties,
        },
    }  # fmt: skip


def dbfs_props(version: str = VERSION) -> dict:
    return {"subscription_id": SUBSCRIPTION, "workspace_id": DBW, "key_name": "workspaces",
            "vault_uri": VAULT_URI, "key_version": version, "environment": "public",
            "metadata_host": ""}  # fmt: skip


def put_status(fake: FakeArm, rid: str, body: dict) -> tuple[int, str]:
    reply = fake.request("PUT", rid, body)
    fake.finish_operations()
    return reply.status, str(reply.body)


def grant_workspace_identities(fake: FakeArm) -> None:
    props = fake.get(DBW)["properties"]
    grant(fake, props["storageAccountIdentity"]["principalId"])
    grant(fake, props["managedDiskIdentity"]["principalId"])


# --- the vault ----------------------------------------------------------------------------------


def test_fake_refuses_a_databricks_key_in_a_vault_without_purge_protection(fake):
    vault(fake, purge_protection=False)
    status, body = put_status(fake, DBW, databricks_body())
    assert status == 400
    assert "must have soft delete and purge protection" in body


def test_fake_accepts_a_databricks_key_in_a_vault_with_purge_protection(fake):
    vault(fake)
    assert put_status(fake, DBW, databricks_body())[0] == 201
    props = fake.get(DBW)["properties"]
    assert props["storageAccountIdentity"]["principalId"]
    assert props["managedDiskIdentity"]["principalId"]


# --- DBFS root: two phases ----------------------------------------------------------------------


def test_fake_refuses_dbfs_encryption_on_a_workspace_without_prepare_encryption(fake):
    vault(fake)
    fake.put(DBW, databricks_body(prepare=False))
    body = databricks_body(prepare=False)
    body["properties"]["parameters"]["encryption"] = {
        "value": {"keySource": "Microsoft.Keyvault", "KeyName": "workspaces",
                  "keyversion": VERSION, "keyvaulturi": VAULT_URI}
    }  # fmt: skip
    status, text = put_status(fake, DBW, body)
    assert status == 400
    assert "prepareEncryption" in text


def test_fake_refuses_dbfs_encryption_in_the_creating_write(fake):
    vault(fake)
    body = databricks_body()
    body["properties"]["parameters"]["encryption"] = {
        "value": {"keySource": "Microsoft.Keyvault", "KeyName": "workspaces",
                  "keyversion": VERSION, "keyvaulturi": VAULT_URI}
    }  # fmt: skip
    assert put_status(fake, DBW, body)[0] == 400


def test_fake_refuses_the_dbfs_key_while_the_storage_identity_lacks_the_crypto_role(fake):
    from arm.client import ArmError

    vault(fake)
    fake.put(DBW, databricks_body())
    grant(fake, fake.get(DBW)["properties"]["managedDiskIdentity"]["principalId"])
    with pytest.raises(ArmError, match="storage account identity"):
        encrypt_dbfs(arm_for(fake), dbfs_props())


def test_fake_refuses_the_dbfs_key_for_an_identity_with_another_role(fake):
    from arm.client import ArmError

    vault(fake)
    fake.put(DBW, databricks_body())
    props = fake.get(DBW)["properties"]
    reader = "21090545-7ca7-4776-b22c-e363652d74d2"  # Key Vault Reader
    grant(fake, props["storageAccountIdentity"]["principalId"], role=reader)
    grant(fake, props["managedDiskIdentity"]["principalId"])
    with pytest.raises(ArmError, match="cannot access the key"):
        encrypt_dbfs(arm_for(fake), dbfs_props())


def test_fake_refuses_a_later_write_while_the_disk_identity_lacks_the_crypto_role(fake):
    vault(fake)
    fake.put(DBW, databricks_body())
    grant(fake, fake.get(DBW)["properties"]["storageAccountIdentity"]["principalId"])
    status, text = put_status(fake, DBW, databricks_body())
    assert status == 403
    assert "managed disk encryption set identity" in text


def test_dbfs_step_sets_the_key_once_both_identities_hold_the_role(fake):
    vault(fake)
    fake.put(DBW, databricks_body())
    grant_workspace_identities(fake)
    encrypt_dbfs(arm_for(fake), dbfs_props())
    encryption = fake.get(DBW)["properties"]["parameters"]["encryption"]
    assert encryption == {
        "type": "Object",
        "value": {"keySource": "Microsoft.Keyvault", "KeyName": "workspaces",
                  "keyversion": VERSION, "keyvaulturi": VAULT_URI},
    }  # fmt: skip


def test_dbfs_step_writes_nothing_when_the_key_is_already_set(fake):
    vault(fake)
    fake.put(DBW, databricks_body())
    grant_workspace_identities(fake)
    encrypt_dbfs(arm_for(fake), dbfs_props())
    writes = len(fake.calls("PUT", DBW))
    encrypt_dbfs(arm_for(fake), dbfs_props())
    assert len(fake.calls("PUT", DBW)) == writes


def test_dbfs_step_sees_a_key_lost_to_a_full_workspace_write_and_a_new_version(fake):
    vault(fake)
    fake.put(DBW, databricks_body())
    grant_workspace_identities(fake)
    provider = DbfsEncryptionProvider(lambda _sub, _cloud: arm_for(fake))
    provider.create(dbfs_props())
    assert provider.diff("id", dbfs_props(), dbfs_props()).changes is False
    fake.put(
        DBW, databricks_body()
    )  # the workspace resource's own PUT, without parameters.encryption
    assert provider.diff("id", dbfs_props(), dbfs_props()).changes is True
    assert provider.diff("id", dbfs_props(), dbfs_props(NEWER)).changes is True
    provider.update("id", dbfs_props(), dbfs_props(NEWER))
    assert fake.get(DBW)["properties"]["parameters"]["encryption"]["value"]["keyversion"] == NEWER


# --- one-way settings ---------------------------------------------------------------------------


def test_fake_refuses_changing_infrastructure_encryption_after_creation(fake):
    vault(fake)
    body = databricks_body()
    body["properties"]["parameters"]["requireInfrastructureEncryption"] = {"value": True}
    fake.put(DBW, body)
    grant_workspace_identities(fake)
    status, text = put_status(fake, DBW, databricks_body())
    assert status == 400
    assert "requireInfrastructureEncryption cannot be changed" in text


def compliance(value: str, *standards: str) -> dict:
    profile: dict = {"value": value}
    if standards:
        profile["complianceStandards"] = list(standards)
    return {"complianceSecurityProfile": profile}


def test_fake_refuses_turning_the_compliance_profile_off(fake):
    vault(fake)
    fake.put(DBW, databricks_body(enhancedSecurityCompliance=compliance("Enabled", "HIPAA")))
    grant_workspace_identities(fake)
    later = databricks_body(enhancedSecurityCompliance=compliance("Disabled"))
    status, text = put_status(fake, DBW, later)
    assert status == 400
    assert "cannot be disabled once enabled" in text


def test_fake_refuses_removing_a_compliance_standard_but_takes_a_new_one(fake):
    vault(fake)
    fake.put(DBW, databricks_body(enhancedSecurityCompliance=compliance("Enabled", "HIPAA")))
    grant_workspace_identities(fake)
    removed = databricks_body(enhancedSecurityCompliance=compliance("Enabled", "PCI_DSS"))
    status, text = put_status(fake, DBW, removed)
    assert (status, "HIPAA" in text) == (400, True)
    added = databricks_body(enhancedSecurityCompliance=compliance("Enabled", "HIPAA", "PCI_DSS"))
    assert put_status(fake, DBW, added)[0] == 200


# --- AzureML ------------------------------------------------------------------------------------


def aml_body(key_identifier: str | None) -> dict:
    properties: dict = {"publicNetworkAccess": "Enabled"}
    if key_identifier is not None:
        properties["encryption"] = {
            "status": "Enabled",
            "keyVaultProperties": {"keyVaultArmId": VAULT, "keyIdentifier": key_identifier},
            "identity": {"userAssignedIdentity": UAMI},
        }
    return {"location": "westeurope", "properties": properties}


def key_id(version: str = VERSION) -> str:
    return f"{VAULT_URI}keys/workspaces/{version}"


def test_fake_refuses_an_azureml_key_its_identity_cannot_reach(fake):
    vault(fake)
    fake.put(UAMI, {"location": "westeurope"})
    status, text = put_status(fake, MLW, aml_body(key_id()))
    assert status == 403
    assert "key identity" in text
    grant(fake, fake.get(UAMI)["properties"]["principalId"])
    assert put_status(fake, MLW, aml_body(key_id()))[0] == 201


def test_fake_refuses_an_azureml_key_in_a_vault_without_purge_protection(fake):
    vault(fake, purge_protection=False)
    fake.put(UAMI, {"location": "westeurope"})
    grant(fake, fake.get(UAMI)["properties"]["principalId"])
    status, text = put_status(fake, MLW, aml_body(key_id()))
    assert (status, "purge protection" in text) == (400, True)


def test_fake_refuses_adding_or_removing_azureml_encryption_after_creation(fake):
    vault(fake)
    fake.put(UAMI, {"location": "westeurope"})
    grant(fake, fake.get(UAMI)["properties"]["principalId"])
    fake.put(MLW, aml_body(None))
    assert put_status(fake, MLW, aml_body(key_id()))[0] == 400
    other = f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/mlw2"
    fake.put(other, aml_body(key_id()))
    assert put_status(fake, other, aml_body(None))[0] == 400


def test_fake_takes_a_new_azureml_key_version_in_the_same_vault(fake):
    vault(fake)
    fake.put(UAMI, {"location": "westeurope"})
    grant(fake, fake.get(UAMI)["properties"]["principalId"])
    fake.put(MLW, aml_body(key_id()))
    assert put_status(fake, MLW, aml_body(key_id(NEWER)))[0] == 200
