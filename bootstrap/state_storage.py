"""Where stack state lives: the resource group, a storage account and its `pulumi-state` container.

Blob versioning and soft delete (blobs and containers) let a damaged or deleted state file be
recovered. Shared key access is off: the Pulumi CLI reaches the container with an Entra ID
token (its azblob backend falls back to Azure's default credential chain), so no account key
or SAS token ever needs to exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import resources, storage


@dataclass(frozen=True)
class StateStorageArgs:
    resource_group_name: str
    location: str
    account_name: pulumi.Input[str]
    container_name: str
    sku: str
    soft_delete_days: int
    tags: Mapping[str, str]
    protect: bool


class StateStorage(pulumi.ComponentResource):
    resource_group_name: pulumi.Output[str]
    account_name: pulumi.Output[str]
    container_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: StateStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml-state:storage:StateStorage", name, None, opts)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        tags = dict(args.tags)
        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=tags,
            opts=kept,
        )
        account = storage.StorageAccount(
            f"{name}-account",
            resource_group_name=group.name,
            location=args.location,
            account_name=args.account_name,
            kind=storage.Kind.STORAGE_V2,
            sku=storage.SkuArgs(name=args.sku),
            access_tier=storage.AccessTier.HOT,
            enable_https_traffic_only=True,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            is_hns_enabled=False,  # versioning and container soft delete need flat namespace
            tags=tags,
            opts=kept,
        )
        retention = storage.DeleteRetentionPolicyArgs(enabled=True, days=args.soft_delete_days)
        blob_service = storage.BlobServiceProperties(
            f"{name}-blob-service",
            resource_group_name=group.name,
            account_name=account.name,
            blob_services_name="default",
            is_versioning_enabled=True,
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            opts=pulumi.ResourceOptions(parent=self),
        )
        container = storage.BlobContainer(
            f"{name}-container",
            resource_group_name=group.name,
            account_name=account.name,
            container_name=args.container_name,
            public_access=storage.PublicAccess.NONE,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, depends_on=[blob_service]
            ),
        )
        self.resource_group_name = group.name
        self.account_name = account.name
        self.container_id = container.id
        self.register_outputs(
            {
                "resource_group_name": self.resource_group_name,
                "account_name": self.account_name,
                "container_id": self.container_id,
            }
        )
