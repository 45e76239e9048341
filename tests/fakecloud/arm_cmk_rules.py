"""Rules of Azure the fake ARM (tests/fakecloud/arm.py) applies to customer-managed keys,
infrastructure encryption and Databricks' compliance profile. Each cites its public source;
each returns (status, code, message) for a refused write, or None.

Sources:
- [DBX-MS] Learn, "Enable customer-managed keys for managed services" (Azure Databricks);
- [DBX-DISK] Learn, "Configure customer-managed keys for Azure managed disks" (Azure Databricks);
- [DBX-DBFS] Learn, "Configure customer-managed keys for DBFS root" (Azure Databricks);
- [AML] Learn, "Customer-managed keys for Azure Machine Learning";
- [ESC] Learn, "Configure enhanced security and compliance settings" (Azure Databricks);
- [INFRA] Learn, "Configure double encryption for DBFS root" (Azure Databricks).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

DATABRICKS_WORKSPACE = "microsoft.databricks/workspaces"
AML_WORKSPACE = "microsoft.machinelearningservices/workspaces"
KEY_VAULT = "microsoft.keyvault/vaults"
USER_IDENTITY = "microsoft.managedidentity/userassignedidentities"
ROLE_ASSIGNMENT = "microsoft.authorization/roleassignments"
KEY = "microsoft.keyvault/vaults/keys"
# [DBX-DBFS], [DBX-DISK], [AML]: the identity needs "Key Vault Crypto Service Encryption User"
# on an RBAC vault, or an access policy with the key permissions get, wrapKey and unwrapKey.
CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
ACCESS_POLICY_KEYS = frozenset({"get", "wrapkey", "unwrapkey"})

Refusal = tuple[int, str, str]


def _value(parameter: Any) -> Any:
    return parameter.get("value") if isinstance(parameter, Mapping) else None


def _dbfs_key(props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    value = _value((props.get("parameters") or {}).get("encryption"))
    if (
        isinstance(value, Mapping)
        and str(value.get("keySource", "")).lower() == "microsoft.keyvault"
    ):
        return value
    return None


def _entities(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return (props.get("encryption") or {}).get("entities") or {}


def vault_by_uri(resources: Mapping[str, Any], uri: str) -> dict[str, Any] | None:
    want = uri.rstrip("/").lower()
    for resource in resources.values():
        uri_of = str((resource.get("properties") or {}).get("vaultUri", "")).rstrip("/").lower()
        if resource.get("type", "").lower() == KEY_VAULT and uri_of == want:
            return resource
    return None


def _vault_problem(vault: Mapping[str, Any] | None, what: str) -> Refusal | None:
    """[DBX-MS], [DBX-DISK], [DBX-DBFS], [AML]: the vault must exist, with soft delete and
    purge protection."""
    if vault is None:
        return 400, "KeyVaultNotFound", f"{what}: the key vault was not found"
    props = vault.get("properties") or {}
    if not (props.get("enableSoftDelete", True) and props.get("enablePurgeProtection")):
        return (
            400,
            "InvalidKeyVaultProperties",
            f"{what}: the key vault {vault['name']} must have soft delete and purge protection "
            "enabled",
        )
    return None


def can_use_key(resources: Mapping[str, Any], vault: Mapping[str, Any], principal: str) -> bool:
    """Whether `principal` has the crypto role on the vault, or an access policy with the key
    permissions Learn names."""
    prefix = f"{str(vault['id']).lower()}/providers/{ROLE_ASSIGNMENT}/"
    for key, resource in resources.items():
        props = resource.get("properties") or {}
        if (
            key.startswith(prefix)
            and props.get("principalId") == principal
            and str(props.get("roleDefinitionId", ""))
            .lower()
            .endswith(CRYPTO_SERVICE_ENCRYPTION_USER)
        ):
            return True
    for policy in (vault.get("properties") or {}).get("accessPolicies") or []:
        keys = {p.lower() for p in (policy.get("permissions") or {}).get("keys") or []}
        if policy.get("objectId") == principal and keys >= ACCESS_POLICY_KEYS:
            return True
    return False


def _unreachable(
    resources: Mapping[str, Any], vault: Mapping[str, Any], principal: str | None, who: str
) -> Refusal | None:
    if principal and can_use_key(resources, vault, principal):
        return None
    return (
        403,
        "KeyVaultAccessDenied",
        f"The {who} ({principal or 'none yet'}) cannot access the key in key vault "
        f"{vault['name']}: grant it Key Vault Crypto Service Encryption User (or get, wrapKey "
        "and unwrapKey in an access policy)",
    )


def refuse_databricks(
    resources: Mapping[str, Any], props: Mapping[str, Any], old: Mapping[str, Any] | None
) -> Refusal | None:
    """A Databricks workspace write."""
    before = (old or {}).get("properties") or {}
    for entity in ("managedServices", "managedDisk"):
        key = (_entities(props).get(entity) or {}).get("keyVaultProperties") or {}
        if key:
            vault = vault_by_uri(resources, str(key.get("keyVaultUri", "")))
            refused = _vault_problem(vault, f"encryption.entities.{entity}")
            if refused:
                return refused
    refused = _refuse_dbfs(resources, props, before, old is not None)
    if refused:
        return refused
    if old is not None:
        return _refuse_disk_access(resources, props, before) or _refuse_one_way(props, before)
    return None


def _refuse_dbfs(
    resources: Mapping[str, Any], props: Mapping[str, Any], before: Mapping[str, Any], exists: bool
) -> Refusal | None:
    """[DBX-DBFS]: the workspace must have been prepared (prepareEncryption) in an earlier
    write, which gives its storage account the identity that then needs the key."""
    key = _dbfs_key(props)
    if key is None or key == _dbfs_key(before):
        return None
    prepared = _value((before.get("parameters") or {}).get("prepareEncryption")) is True
    if not exists or not prepared:
        return (
            400,
            "InvalidEncryptionConfiguration",
            "parameters.encryption needs a workspace created or updated with prepareEncryption "
            "true first",
        )
    vault = vault_by_uri(resources, str(key.get("keyvaulturi", "")))
    refused = _vault_problem(vault, "parameters.encryption")
    if refused or vault is None:
        return refused
    principal = (before.get("storageAccountIdentity") or {}).get("principalId")
    return _unreachable(resources, vault, principal, "workspace storage account identity")


def _refuse_disk_access(
    resources: Mapping[str, Any], props: Mapping[str, Any], before: Mapping[str, Any]
) -> Refusal | None:
    """[DBX-DISK]: after creation the disk encryption set's identity must reach the key; the
    fake checks it on the workspace's next write (Azure, when disks are created)."""
    key = (_entities(props).get("managedDisk") or {}).get("keyVaultProperties") or {}
    if not key or not before.get("managedDiskIdentity"):
        return None
    vault = vault_by_uri(resources, str(key.get("keyVaultUri", "")))
    if vault is None:
        return None
    principal = before["managedDiskIdentity"].get("principalId")
    return _unreachable(resources, vault, principal, "managed disk encryption set identity")


def _refuse_one_way(props: Mapping[str, Any], before: Mapping[str, Any]) -> Refusal | None:
    """[INFRA]: infrastructure encryption is set at creation; [ESC]: the compliance security
    profile and its standards cannot be removed."""
    infra = "requireInfrastructureEncryption"
    was = _value((before.get("parameters") or {}).get(infra)) is True
    now = _value((props.get("parameters") or {}).get(infra)) is True
    if was != now:
        return 400, "InvalidParameter", f"parameters.{infra} cannot be changed after creation"
    old_profile = (before.get("enhancedSecurityCompliance") or {}).get(
        "complianceSecurityProfile"
    ) or {}
    new_profile = (props.get("enhancedSecurityCompliance") or {}).get(
        "complianceSecurityProfile"
    ) or {}
    if str(old_profile.get("value", "")).lower() == "enabled":
        if str(new_profile.get("value", "")).lower() != "enabled":
            return (
                400,
                "InvalidComplianceSecurityProfile",
                "The compliance security profile cannot be disabled once enabled",
            )
        removed = set(old_profile.get("complianceStandards") or []) - set(
            new_profile.get("complianceStandards") or []
        )
        if removed:
            return (
                400,
                "InvalidComplianceSecurityProfile",
                f"Compliance standards cannot be removed: {', '.join(sorted(removed))}",
            )
    return None


def refuse_azureml(
    resources: Mapping[str, Any], props: Mapping[str, Any], old: Mapping[str, Any] | None
) -> Refusal | None:
    """[AML]: encryption is set at creation; after it, only the key identifier may change
    (azure-rest-api-specs machinelearningservices, WorkspaceUpdateParameters.encryption:
    EncryptionUpdateProperties.keyVaultProperties.keyIdentifier, what azure-ai-ml's workspace
    update sends), within the same vault. The vault needs soft delete and purge protection; the identity named for the key
    must reach it."""
    encryption = props.get("encryption") or {}
    before = ((old or {}).get("properties") or {}).get("encryption") or {}
    key = encryption.get("keyVaultProperties") or {}
    if old is not None:
        old_vault = str((before.get("keyVaultProperties") or {}).get("keyVaultArmId", "")).lower()
        if old_vault != str(key.get("keyVaultArmId", "")).lower():
            return (
                400,
                "InvalidEncryptionConfiguration",
                "The workspace's encryption cannot be added, removed or moved to another key "
                "vault after creation",
            )
        if encryption == before:
            return None
    if not key:
        return None
    vault = resources.get(str(key.get("keyVaultArmId", "")).lower())
    refused = _vault_problem(vault, "encryption.keyVaultProperties")
    if refused or vault is None:
        return refused
    identity_id = str((encryption.get("identity") or {}).get("userAssignedIdentity") or "")
    if not identity_id:
        return None
    identity = resources.get(identity_id.lower()) or {}
    principal = (identity.get("properties") or {}).get("principalId")
    return _unreachable(resources, vault, principal, "workspace's key identity")


def computed(kind: str, props: dict[str, Any], before: Mapping[str, Any], rid: str) -> None:
    """The identities Azure adds ([DBX-DBFS]: prepareEncryption gives the storage account one;
    [DBX-DISK]: a managed disk key brings a disk encryption set with one), kept across writes;
    a user-assigned identity's ids."""
    if kind == DATABRICKS_WORKSPACE:
        if _value((props.get("parameters") or {}).get("prepareEncryption")) is True:
            props["storageAccountIdentity"] = before.get("storageAccountIdentity") or _identity()
        if (_entities(props).get("managedDisk") or {}).get("keyVaultProperties"):
            props["managedDiskIdentity"] = before.get("managedDiskIdentity") or _identity()
            props["diskEncryptionSetId"] = before.get("diskEncryptionSetId") or (
                f"{props.get('managedResourceGroupId', '')}/providers/Microsoft.Compute/"
                f"diskEncryptionSets/dbw-des-{uuid.uuid4().hex[:8]}"
            )
    elif kind == KEY:
        # keyvault Keys_Get (azure-rest-api-specs keyvault 2024-11-01): keyUri and
        # keyUriWithVersion; the vault's data-plane host is https://<vault>.vault.azure.net.
        vault, name = rid.split("/")[8], rid.rsplit("/", 1)[1]
        props["keyUri"] = f"https://{vault}.vault.azure.net/keys/{name}"
        version = before.get("keyUriWithVersion", "").rsplit("/", 1)[-1] or uuid.uuid4().hex
        props["keyUriWithVersion"] = f"{props['keyUri']}/{version}"
    elif kind == USER_IDENTITY:
        props["principalId"] = before.get("principalId") or str(uuid.uuid4())
        props["clientId"] = before.get("clientId") or str(uuid.uuid4())
        props["tenantId"] = before.get("tenantId") or rid.split("/")[2]


def user_identities(resources: Mapping[str, Any], identity: dict[str, Any]) -> None:
    """ARM's answer for `identity.userAssignedIdentities`: each id with its principal and
    client ids."""
    given = identity.get("userAssignedIdentities")
    if not isinstance(given, dict):
        return
    for identity_id in given:
        props = (resources.get(identity_id.lower()) or {}).get("properties") or {}
        given[identity_id] = {
            "principalId": props.get("principalId"), "clientId": props.get("clientId")
        }  # fmt: skip


def rotate_key(resources: Mapping[str, Any], key_id: str) -> str:
    """A new key version, as `az keyvault key rotate` makes one (a data-plane call ARM only
    reports); returns it."""
    props = resources[key_id.lower()]["properties"]
    version = uuid.uuid4().hex
    props["keyUriWithVersion"] = f"{props['keyUri']}/{version}"
    return version


def _identity() -> dict[str, str]:
    return {"principalId": str(uuid.uuid4()), "type": "SystemAssigned"}


def refuse(
    kind: str, resources: Mapping[str, Any], props: Mapping[str, Any], old: Mapping[str, Any] | None
) -> Refusal | None:
    """The rules above for a write of `kind`."""
    if kind == DATABRICKS_WORKSPACE:
        return refuse_databricks(resources, props, old)
    if kind == AML_WORKSPACE:
        return refuse_azureml(resources, props, old)
    return None
