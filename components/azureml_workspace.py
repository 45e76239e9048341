"""The AzureML workspace that tracks the Databricks MLflow runs, with its dependencies.

Storage account, key vault, Log Analytics + workspace-based Application Insights, an optional
container registry and the workspace itself (system-assigned identity, v2 API behaviour). With
private link, every one of them that has a data plane the cluster uses is reached through a
private endpoint in the endpoint subnet, and its public network access is off.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import (
    applicationinsights,
    containerregistry,
    keyvault,
    machinelearningservices,
    operationalinsights,
    storage,
)

from components.private_endpoint import (
    PrivateDnsZones,
    PrivateDnsZonesArgs,
    PrivateEndpoint,
    PrivateEndpointArgs,
    dns_zone_names,
)
from teardown.purge import (
    AmlWorkspacePurge,
    AmlWorkspacePurgeArgs,
    KeyVaultPurge,
    KeyVaultPurgeArgs,
    purged_key_vault_options,
    purged_workspace_options,
)

LOG_RETENTION_DAYS = 30
# Key vault soft-delete retention can't be changed after creation, so it stays one value
# whatever purgeOnDestroy says; with purgeOnDestroy the teardown purges the vault at once.
KEY_VAULT_SOFT_DELETE_DAYS = 90


@dataclass(frozen=True)
class PrivateLinkArgs:
    vnet_id: pulumi.Input[str]
    endpoint_subnet_id: pulumi.Input[str]


@dataclass(frozen=True)
class AzureMLWorkspaceArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: str
    storage_account_name: pulumi.Input[str]  # Output: carries the subscription-derived suffix
    key_vault_name: pulumi.Input[str]
    container_registry_name: pulumi.Input[str] | None  # None: no registry
    log_analytics_name: str
    application_insights_name: str
    tenant_id: pulumi.Input[str]  # for the key vault
    subscription_id: pulumi.Input[str]  # where the teardown purges
    purge_on_destroy: bool
    private_link: PrivateLinkArgs | None
    protect: bool = False  # protect=True on the AzureML workspace


class AzureMLWorkspace(pulumi.ComponentResource):
    name: pulumi.Output[str]
    id: pulumi.Output[str]
    mlflow_tracking_uri: pulumi.Output[str]  # the resource's own ml_flow_tracking_uri
    principal_id: pulumi.Output[str]
    key_vault_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AzureMLWorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("databricks-azureml:azureml:Workspace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        private = args.private_link is not None
        # Always declared, with the flag as an input: see teardown/purge.py for why, and for
        # the destroy order these options give.
        vault_purge = KeyVaultPurge(
            f"{name}-kv-purge",
            KeyVaultPurgeArgs(
                args.subscription_id,
                args.resource_group_name,
                args.key_vault_name,
                args.location,
                args.purge_on_destroy,
            ),
            opts=child,
        )

        account = storage.StorageAccount(
            f"{name}-storage",
            resource_group_name=args.resource_group_name,
            location=args.location,
            account_name=args.storage_account_name,
            kind=storage.Kind.STORAGE_V2,
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_LRS),
            enable_https_traffic_only=True,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            # AzureML's default storage must not be ADLS Gen2 (hierarchical namespace).
            is_hns_enabled=False,
            # Shared key stays on: the workspace's system datastores authenticate with the
            # account key (system_datastores_auth_mode AccessKey below); AzureML on a storage
            # account without shared key is still in preview (learn.microsoft.com/azure/
            # machine-learning/how-to-disable-local-auth-storage).
            allow_shared_key_access=True,
            public_network_access=(
                storage.PublicNetworkAccess.DISABLED
                if private
                else storage.PublicNetworkAccess.ENABLED
            ),
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY
                if private
                else storage.DefaultAction.ALLOW,
                bypass=storage.Bypass.AZURE_SERVICES,
            ),
            opts=child,
        )

        vault = keyvault.Vault(
            f"{name}-kv",
            resource_group_name=args.resource_group_name,
            location=args.location,
            vault_name=args.key_vault_name,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=KEY_VAULT_SOFT_DELETE_DAYS,
                # Azure accepts only true here, and true forbids purging: so it is set only
                # when the teardown won't purge, and left out (never false) otherwise.
                enable_purge_protection=None if args.purge_on_destroy else True,
                public_network_access="disabled" if private else "enabled",
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action=(
                        keyvault.NetworkRuleAction.DENY
                        if private
                        else keyvault.NetworkRuleAction.ALLOW
                    ),
                    bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                ),
            ),
            opts=pulumi.ResourceOptions.merge(child, purged_key_vault_options(vault_purge)),
        )

        logs = operationalinsights.Workspace(
            f"{name}-log",
            resource_group_name=args.resource_group_name,
            location=args.location,
            workspace_name=args.log_analytics_name,
            sku=operationalinsights.WorkspaceSkuArgs(
                name=operationalinsights.WorkspaceSkuNameEnum.PER_GB2018
            ),
            retention_in_days=LOG_RETENTION_DAYS,
            opts=child,
        )

        insights = applicationinsights.Component(
            f"{name}-appi",
            resource_group_name=args.resource_group_name,
            location=args.location,
            resource_name_=args.application_insights_name,
            kind="web",
            application_type=applicationinsights.ApplicationType.WEB,
            ingestion_mode=applicationinsights.IngestionMode.LOG_ANALYTICS,
            workspace_resource_id=logs.id,
            opts=child,
        )

        registry = None
        if args.container_registry_name is not None:
            registry = containerregistry.Registry(
                f"{name}-acr",
                resource_group_name=args.resource_group_name,
                location=args.location,
                registry_name=args.container_registry_name,
                # Private endpoints (and network rules) need Premium; Standard otherwise
                # (100 GiB, enough for AzureML environment images; Basic has 10 GiB).
                sku=containerregistry.SkuArgs(
                    name=(
                        containerregistry.SkuName.PREMIUM
                        if private
                        else containerregistry.SkuName.STANDARD
                    )
                ),
                admin_user_enabled=False,
                anonymous_pull_enabled=False,
                public_network_access=(
                    containerregistry.PublicNetworkAccess.DISABLED
                    if private
                    else containerregistry.PublicNetworkAccess.ENABLED
                ),
                network_rule_bypass_options=containerregistry.NetworkRuleBypassOptions.AZURE_SERVICES,
                # networkRuleSet is a Premium feature: set only under private link.
                network_rule_set=(
                    containerregistry.NetworkRuleSetArgs(
                        default_action=containerregistry.DefaultAction.DENY
                    )
                    if private
                    else None
                ),
                opts=child,
            )

        dependency_endpoints: list[pulumi.Resource] = []
        zones: PrivateDnsZones | None = None
        if args.private_link is not None:
            targets: list[tuple[str, pulumi.Input[str]]] = [
                ("blob", account.id),
                ("file", account.id),
                ("vault", vault.id),
            ]
            if registry is not None:
                targets.append(("registry", registry.id))
            zones = PrivateDnsZones(
                f"{name}-dns",
                PrivateDnsZonesArgs(
                    resource_group_name=args.resource_group_name,
                    vnet_id=args.private_link.vnet_id,
                    zone_names=dns_zone_names(["amlworkspace", *(group for group, _ in targets)]),
                    link_name=f"{args.workspace_name}-link",
                ),
                opts=child,
            )
            for group, target in targets:
                dependency_endpoints.append(
                    self._endpoint(name, args, zones, args.private_link, group, target, child)
                )

        workspace_purge = AmlWorkspacePurge(
            f"{name}-purge",
            AmlWorkspacePurgeArgs(
                args.subscription_id,
                args.resource_group_name,
                args.workspace_name,
                args.purge_on_destroy,
                workspace_dependencies=[
                    account,
                    vault,
                    insights,
                    *([registry] if registry else []),
                    *dependency_endpoints,
                ],
            ),
            opts=child,
        )
        workspace = machinelearningservices.Workspace(
            f"{name}-mlw",
            resource_group_name=args.resource_group_name,
            location=args.location,
            workspace_name=args.workspace_name,
            friendly_name=f"{args.workspace_name} (Databricks MLflow tracking)",
            description="Tracks the MLflow experiments of the Azure Databricks workspace.",
            kind="Default",
            sku=machinelearningservices.SkuArgs(
                name="Basic", tier=machinelearningservices.SkuTier.BASIC
            ),
            identity=machinelearningservices.ManagedServiceIdentityArgs(
                type=machinelearningservices.ManagedServiceIdentityType.SYSTEM_ASSIGNED
            ),
            storage_account=account.id,
            key_vault=vault.id,
            application_insights=insights.id,
            container_registry=registry.id if registry is not None else None,
            # v2 API behaviour; v1 legacy mode would block v2 features.
            v1_legacy_mode=False,
            system_datastores_auth_mode=machinelearningservices.SystemDatastoresAuthMode.ACCESS_KEY,
            public_network_access=(
                machinelearningservices.PublicNetworkAccessType.DISABLED
                if private
                else machinelearningservices.PublicNetworkAccessType.ENABLED
            ),
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(protect=args.protect, depends_on=dependency_endpoints),
            ).merge(purged_workspace_options(workspace_purge, args.purge_on_destroy)),
        )

        if args.private_link is not None and zones is not None:
            self._endpoint(
                name, args, zones, args.private_link, "amlworkspace", workspace.id, child
            )

        self.name = workspace.name
        self.id = workspace.id
        self.mlflow_tracking_uri = workspace.ml_flow_tracking_uri
        self.principal_id = workspace.identity.apply(
            lambda identity: identity.principal_id if identity is not None else None
        )
        self.key_vault_name = vault.name
        self.register_outputs(
            {
                "name": self.name,
                "id": self.id,
                "mlflow_tracking_uri": self.mlflow_tracking_uri,
                "principal_id": self.principal_id,
                "key_vault_name": self.key_vault_name,
            }
        )

    @staticmethod
    def _endpoint(
        name: str,
        args: AzureMLWorkspaceArgs,
        zones: PrivateDnsZones,
        private_link: PrivateLinkArgs,
        group: str,
        target: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> PrivateEndpoint:
        return PrivateEndpoint(
            f"{name}-{group}",
            PrivateEndpointArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                endpoint_name=f"{args.workspace_name}-{group}-pe",
                target_resource_id=target,
                group_id=group,
                subnet_id=private_link.endpoint_subnet_id,
                dns_zones=zones,
            ),
            opts=opts,
        )
