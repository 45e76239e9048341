"""Customer-managed keys from the user's key vault: the key's reference, the identities that use
it, their role on the vault, and the second write the DBFS root needs.

The vault and its keys belong to the user: the stack reads them (`keyvault.get_key`, a Reader
on the vault suffices) and never declares, changes or deletes them; destroy removes only the
role assignments it made.

Order (Learn, "Customer-managed keys for DBFS root" and "... for managed disks", Azure
Databricks; "Customer-managed keys for Azure Machine Learning"):
1. the AzureML workspace's user-assigned identity, then its role on the vault, then the
   workspace created with `encryption` (AzureML encryption is set at creation);
2. the Databricks workspace created with `prepareEncryption` (Azure gives its DBFS storage
   account an identity, `storageAccountIdentity`) and the managed services and managed disk
   keys (Azure creates a disk encryption set, `managedDiskIdentity`);
3. both Databricks identities get the role on the vault;
4. then `DbfsEncryption` sets `parameters.encryption`, as Azure needs the storage identity's
   access first (the second phase Azure Verified Modules deploy as a nested workspace update).

Versionless keys. Databricks' managed services and DBFS take a key version; without
`keyVersion` the stack reads the latest one on every run, so a rotation shows up as an update
of those versions. Managed disks rotate by themselves (`rotationToLatestKeyVersionEnabled`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi import dynamic
from pulumi_azure_native import authorization, databricks, keyvault, managedidentity

from arm.cloud import CloudConfig, read_cloud_config
from arm.provider import ArmProvider, cloud_inputs
from core.config.encryption import ComplianceSpec, CustomerManagedKeySpec

# Built-in role "Key Vault Crypto Service Encryption User": read keys, wrap and unwrap
# (learn.microsoft.com/azure/role-based-access-control/built-in-roles/security).
CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
KEY_SOURCE = "Microsoft.Keyvault"
# Microsoft.Databricks/workspaces, the version pulumi-azure-native 3.x's Workspace uses.
DATABRICKS_API_VERSION = "2026-01-01"
DBFS_PERMISSION = "Microsoft.Databricks/workspaces/write"
DBFS_TYPE = "pulumi-python:dynamic/encryption:DbfsEncryption"


@dataclass(frozen=True)
class KeyReference:
    vault_uri: pulumi.Output[str]  # https://<vault>.vault.azure.net/
    version: pulumi.Output[str]  # the pinned version, else the latest
    uri_with_version: pulumi.Output[str]


def key_reference(spec: CustomerManagedKeySpec, key_name: str) -> KeyReference:
    """The key as Azure reports it on this run (a new version after a rotation)."""
    key = keyvault.get_key_output(
        resource_group_name=spec.key_vault_resource_group,
        vault_name=spec.key_vault_name,
        key_name=key_name,
    )
    vault_uri = key.key_uri.apply(lambda uri: uri.split("/keys/")[0] + "/")
    if spec.key_version is not None:
        version = pulumi.Output.from_input(spec.key_version)
        with_version = pulumi.Output.concat(key.key_uri, "/", spec.key_version)
    else:
        version = key.key_uri_with_version.apply(lambda uri: uri.rstrip("/").rsplit("/", 1)[1])
        with_version = key.key_uri_with_version
    return KeyReference(vault_uri, version, with_version)


def databricks_encryption(
    spec: CustomerManagedKeySpec,
) -> tuple[databricks.WorkspacePropertiesEncryptionArgs, KeyReference]:
    """The workspace's `encryption`: managed services and managed disks; and the services key."""
    services, disks = key_reference(spec, spec.key_name), key_reference(spec, spec.disk_key_name)
    return (
        databricks.WorkspacePropertiesEncryptionArgs(
            entities=databricks.EncryptionEntitiesDefinitionArgs(
                managed_services=databricks.EncryptionV2Args(
                    key_source=KEY_SOURCE,
                    key_vault_properties=databricks.EncryptionV2KeyVaultPropertiesArgs(
                        key_name=spec.key_name,
                        key_vault_uri=services.vault_uri,
                        key_version=services.version,
                    ),
                ),
                managed_disk=databricks.ManagedDiskEncryptionArgs(
                    key_source=KEY_SOURCE,
                    key_vault_properties=databricks.ManagedDiskEncryptionKeyVaultPropertiesArgs(
                        key_name=spec.disk_key_name,
                        key_vault_uri=disks.vault_uri,
                        key_version=disks.version,
                    ),
                    rotation_to_latest_key_version_enabled=spec.key_version is None,
                ),
            )
        ),
        services,
    )


def compliance_settings(
    spec: ComplianceSpec | None,
) -> databricks.EnhancedSecurityComplianceDefinitionArgs | None:
    """The workspace's `enhancedSecurityCompliance`; None when not configured."""
    if spec is None:
        return None

    def state(on: bool) -> str:
        return "Enabled" if on else "Disabled"

    return databricks.EnhancedSecurityComplianceDefinitionArgs(
        compliance_security_profile=databricks.ComplianceSecurityProfileDefinitionArgs(
            value=state(spec.profile),
            compliance_standards=list(spec.standards) if spec.profile else None,
        ),
        enhanced_security_monitoring=databricks.EnhancedSecurityMonitoringDefinitionArgs(
            value=state(spec.enhanced_security_monitoring)
        ),
        automatic_cluster_update=databricks.AutomaticClusterUpdateDefinitionArgs(
            value=state(spec.automatic_cluster_update)
        ),
    )


def vault_role_name(vault_id: str, principal_id: str) -> str:
    """The same vault and principal always give the same assignment name (a UUID)."""
    key = f"{vault_id.lower()}|{principal_id}|{CRYPTO_SERVICE_ENCRYPTION_USER}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def grant_key_access(
    name: str, vault_id: str, principal_id: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> authorization.RoleAssignment:
    """Key Vault Crypto Service Encryption User for `principal_id` on the user's vault."""
    subscription = vault_id.split("/")[2]
    return authorization.RoleAssignment(
        name,
        scope=vault_id,
        role_definition_id=(
            f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/"
            f"{CRYPTO_SERVICE_ENCRYPTION_USER}"
        ),
        principal_id=principal_id,
        principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
        role_assignment_name=pulumi.Output.from_input(principal_id).apply(
            lambda pid: vault_role_name(vault_id, pid)
        ),
        opts=opts,
    )


@dataclass(frozen=True)
class AmlKeyIdentityArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    identity_name: str
    spec: CustomerManagedKeySpec


class AmlKeyIdentity(pulumi.ComponentResource):
    """The AzureML workspace's user-assigned identity with the crypto role on the vault, made
    before the workspace: a system-assigned identity would exist only after the encrypted
    workspace, which needs the key at creation."""

    id: pulumi.Output[str]
    granted: authorization.RoleAssignment  # the workspace waits for it

    def __init__(
        self, name: str, args: AmlKeyIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:encryption:AmlKeyIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-id",
            resource_group_name=args.resource_group_name,
            location=args.location,
            resource_name_=args.identity_name,
            opts=child,
        )
        self.granted = grant_key_access(
            f"{name}-key-access", args.spec.key_vault_id, identity.principal_id, child
        )
        self.id = identity.id
        self.register_outputs({"id": self.id})


def aml_encryption(spec: CustomerManagedKeySpec, identity_id: pulumi.Input[str]) -> dict[str, Any]:
    """The AzureML workspace's inputs for its key: `encryption` with the identity that reaches
    the vault, and service-side encryption (no Cosmos DB, Search or storage of the workspace's
    own in the user's subscription: Learn, "Customer-managed keys for Azure Machine Learning")."""
    from pulumi_azure_native import machinelearningservices as ml

    key = key_reference(spec, spec.key_name)
    return {
        "encryption": ml.EncryptionPropertyArgs(
            status=ml.EncryptionStatus.ENABLED,
            key_vault_properties=ml.KeyVaultPropertiesArgs(
                key_vault_arm_id=spec.key_vault_id, key_identifier=key.uri_with_version
            ),
            identity=ml.IdentityForCmkArgs(user_assigned_identity=identity_id),
        ),
        "enable_service_side_cmk_encryption": True,
        "identity": ml.ManagedServiceIdentityArgs(
            type=ml.ManagedServiceIdentityType.SYSTEM_ASSIGNED_USER_ASSIGNED,
            user_assigned_identities=[identity_id],
        ),
    }


# --- the DBFS root's second phase -------------------------------------------------------------


def dbfs_encryption_parameter(key_name: str, vault_uri: str, version: str) -> dict[str, Any]:
    """`parameters.encryption` as the Databricks REST API spells it (WorkspaceEncryptionParameter,
    Encryption: KeyName, keyversion, keyvaulturi)."""
    return {
        "type": "Object",
        "value": {
            "keySource": KEY_SOURCE,
            "KeyName": key_name,
            "keyversion": version,
            "keyvaulturi": vault_uri,
        },
    }


def _live_workspace(arm: Any, props: dict[str, Any], what: str) -> dict[str, Any]:
    from arm.client import ArmError, get_by_id

    read = "Microsoft.Databricks/workspaces/read"
    workspace = get_by_id(
        arm, props["workspace_id"], DATABRICKS_API_VERSION, what=what, permission=read
    )
    if workspace is None:
        raise ArmError(f"{what}: the workspace does not exist (404)", status=404)
    return workspace


def dbfs_encrypted(workspace: dict[str, Any], props: dict[str, Any]) -> bool:
    """Whether the live workspace has the DBFS key `props` asks for."""
    wanted = dbfs_encryption_parameter(props["key_name"], props["vault_uri"], props["key_version"])
    parameters = (workspace.get("properties") or {}).get("parameters") or {}
    return parameters.get("encryption") == wanted


def encrypt_dbfs(arm: Any, props: dict[str, Any]) -> None:
    """Read the workspace, PUT it back with the DBFS key when the live one differs."""
    from arm.client import put_by_id

    what = f"encrypting the DBFS root of {props['workspace_id']}"
    workspace = _live_workspace(arm, props, what)
    if dbfs_encrypted(workspace, props):
        return
    wanted = dbfs_encryption_parameter(props["key_name"], props["vault_uri"], props["key_version"])
    parameters = workspace.setdefault("properties", {}).setdefault("parameters", {})
    parameters["encryption"] = wanted
    body = {k: workspace[k] for k in ("location", "sku", "tags", "properties") if k in workspace}
    put_by_id(
        arm, props["workspace_id"], DATABRICKS_API_VERSION, body, what=what,
        permission=DBFS_PERMISSION,
    )  # fmt: skip


class DbfsEncryptionProvider(ArmProvider):
    """Writes the key on create and update (a new version after a rotation); delete leaves
    the workspace as it is (it goes with the stack)."""

    inputs = ("workspace_id", "key_name", "vault_uri", "key_version")
    identity = ("workspace_id",)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        """Also an update when the live workspace lost the key: a full PUT of the workspace
        resource (a later `up` changing it) sends `parameters` without it."""
        found = super().diff(_id, olds, news)
        if found.changes:
            return found
        from arm.client import ArmError

        try:
            with self.client(news) as client:
                live = _live_workspace(client, news, "reading the DBFS key")
        except ArmError:
            return found
        return dynamic.DiffResult(changes=not dbfs_encrypted(live, news))

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        with self.client(props) as client:
            encrypt_dbfs(client, props)
        return dynamic.CreateResult(id_=f"{props['workspace_id']}/dbfsEncryption", outs=props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        with self.client(news) as client:
            encrypt_dbfs(client, news)
        return dynamic.UpdateResult(outs=news)


@dataclass(frozen=True)
class DbfsEncryptionArgs:
    subscription_id: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    key_name: str
    vault_uri: pulumi.Input[str]
    key_version: pulumi.Input[str]
    cloud: CloudConfig = field(default_factory=read_cloud_config)


class DbfsEncryption(dynamic.Resource, module="encryption", name="DbfsEncryption"):
    """The DBFS root's key, set once the storage identity can reach it (module docstring)."""

    def __init__(
        self, name: str, args: DbfsEncryptionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            DbfsEncryptionProvider(),
            name,
            {
                "subscription_id": args.subscription_id,
                "workspace_id": args.workspace_id,
                "key_name": args.key_name,
                "vault_uri": args.vault_uri,
                "key_version": args.key_version,
                **cloud_inputs(args.cloud),
            },
            opts,
        )
