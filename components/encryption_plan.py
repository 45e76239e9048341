"""How the stack's config turns into the encryption inputs of both workspaces and the steps
after them (components/customer_managed_keys.py explains the order Azure needs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.customer_managed_keys import (
    AmlKeyIdentity,
    AmlKeyIdentityArgs,
    DbfsEncryption,
    DbfsEncryptionArgs,
    KeyReference,
    aml_encryption,
    compliance_settings,
    databricks_encryption,
    grant_key_access,
)
from core.config.encryption import ComplianceSpec, CustomerManagedKeySpec


@dataclass(frozen=True)
class AmlEncryptionInputs:
    encryption: dict[str, Any] | None  # AzureMLWorkspaceArgs.encryption
    after: tuple[pulumi.Resource, ...]  # AzureMLWorkspaceArgs.encryption_after


def azureml_inputs(
    key: CustomerManagedKeySpec | None,
    resource_group_name: pulumi.Input[str],
    location: str,
    identity_name: str,
) -> AmlEncryptionInputs:
    """The AzureML workspace's key, identity and the role it waits for (none without a key or
    with `customerManagedKey.azureml` false)."""
    if key is None or not key.azureml:
        return AmlEncryptionInputs(None, ())
    identity = AmlKeyIdentity(
        "azureml-key",
        AmlKeyIdentityArgs(
            resource_group_name=resource_group_name,
            location=location,
            identity_name=identity_name,
            spec=key,
        ),
    )
    return AmlEncryptionInputs(aml_encryption(key, identity.id), (identity.granted,))


def databricks_inputs(
    key: CustomerManagedKeySpec | None,
    compliance: ComplianceSpec | None,
    infrastructure_encryption: bool,
) -> tuple[dict[str, Any], KeyReference | None]:
    """DatabricksWorkspaceArgs' encryption fields, and the key DBFS gets in the second phase."""
    settings: dict[str, Any] = {
        "require_infrastructure_encryption": infrastructure_encryption,
        "enhanced_security_compliance": compliance_settings(compliance),
    }
    if key is None:
        return settings, None
    encryption, services = databricks_encryption(key)
    return {**settings, "encryption": encryption, "prepare_encryption": True}, services


def databricks_key_access(
    key: CustomerManagedKeySpec,
    services: KeyReference,
    workspace_id: pulumi.Output[str],
    storage_principal_id: pulumi.Output[Any],
    disk_principal_id: pulumi.Output[Any],
    subscription_id: pulumi.Input[str],
) -> DbfsEncryption:
    """The storage and disk identities' role on the vault, then the DBFS root's key."""
    roles = [
        grant_key_access(f"databricks-{what}-key-access", key.key_vault_id, principal, options)
        for what, principal, options in (
            ("storage", storage_principal_id, pulumi.ResourceOptions()),
            ("disk", disk_principal_id, pulumi.ResourceOptions()),
        )
    ]
    return DbfsEncryption(
        "databricks-dbfs-key",
        DbfsEncryptionArgs(
            subscription_id=subscription_id,
            workspace_id=workspace_id,
            key_name=key.key_name,
            vault_uri=services.vault_uri,
            key_version=services.version,
        ),
        pulumi.ResourceOptions(depends_on=roles),
    )
