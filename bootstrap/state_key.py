"""The key that encrypts stack secrets: a key vault (RBAC) holding one RSA key.

Pulumi's `azurekeyvault://` secrets provider encrypts each stack's data key with this key
through Key Vault's encrypt and decrypt operations, RSA-OAEP-256 (gocloud.dev
secrets/azurekeyvault: `Encrypt`/`Decrypt`, default algorithm `EncryptionAlgorithmRSAOAEP256`),
so the key allows exactly those two operations. Losing it makes every stack's secrets
unreadable: purge protection is on and the key vault is protected, unlike the main stack's
vault, which is purged on destroy. The stacks name one version of the key (`key_uri_with_version`),
so a new version never changes what they decrypt with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import keyvault

# What the keeper calls; wrapKey/unwrapKey are never used.
KEY_OPERATIONS = (keyvault.JsonWebKeyOperation.ENCRYPT, keyvault.JsonWebKeyOperation.DECRYPT)
SOFT_DELETE_DAYS = 90  # the most Azure allows


@dataclass(frozen=True)
class StateKeyArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    tenant_id: pulumi.Input[str]
    vault_name: pulumi.Input[str]
    key_name: str
    key_size: int
    tags: Mapping[str, str]
    protect: bool


class StateKey(pulumi.ComponentResource):
    vault_uri: pulumi.Output[str]
    key_id: pulumi.Output[str]  # the key's ARM id: the scope of its role assignments
    key_uri_with_version: pulumi.Output[str]  # https://<vault>.vault.azure.net/keys/<key>/<ver>

    def __init__(
        self, name: str, args: StateKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml-state:keyvault:StateKey", name, None, opts)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        vault = keyvault.Vault(
            f"{name}-vault",
            resource_group_name=args.resource_group_name,
            location=args.location,
            vault_name=args.vault_name,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=SOFT_DELETE_DAYS,
                enable_purge_protection=True,
            ),
            tags=dict(args.tags),
            opts=kept,
        )
        key = keyvault.Key(
            f"{name}-key",
            resource_group_name=args.resource_group_name,
            vault_name=vault.name,
            key_name=args.key_name,
            properties=keyvault.KeyPropertiesArgs(
                kty=keyvault.JsonWebKeyType.RSA,
                key_size=args.key_size,
                key_ops=list(KEY_OPERATIONS),
                attributes=keyvault.KeyAttributesArgs(enabled=True),
            ),
            tags=dict(args.tags),
            opts=kept,
        )
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri)
        self.key_id = key.id
        self.key_uri_with_version = key.key_uri_with_version
        self.register_outputs(
            {
                "vault_uri": self.vault_uri,
                "key_id": self.key_id,
                "key_uri_with_version": self.key_uri_with_version,
            }
        )
