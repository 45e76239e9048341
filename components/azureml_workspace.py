"""The AzureML workspace that tracks the Databricks MLflow runs, with its dependencies.

Storage account, key vault, Log Analytics + workspace-based Application Insights, an optional
container registry and the workspace itself (system-assigned identity, v2 API behaviour), and
the "AzureML Data Scientist" role for the principals given. With private endpoints, every one
of them that has a data plane the cluster uses is reached through a private endpoint: the
workspace, key vault and registry with public network access off, the storage account behind
its firewall (Microsoft's secure-workspace pattern, see `_storage`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import (
    applicationinsights,
    authorization,
    containerregistry,
    keyvault,
    machinelearningservices,
    operationalinsights,
    storage,
)

from components.managed_network import (
    RULE_IGNORED,
    WORKSPACE_IGNORED,
    with_storage_rules,
    workspace_network,
)
from components.private_endpoint import EndpointPlacement, PrivateEndpoint, workspace_endpoint
from components.purge import (
    AmlWorkspacePurge,
    AmlWorkspacePurgeArgs,
    KeyVaultPurge,
    KeyVaultPurgeArgs,
    purged_key_vault_options,
    purged_workspace_options,
)
from components.roles import assign_role
from components.workspace_scope import child_inside, inside

# The stack's config sets it (diagnostics.retentionDays); 90 days unless told.
LOG_RETENTION_DAYS = 90
# Key vault soft-delete retention can't be changed after creation, so it stays one value
# whatever purgeOnDestroy says; with purgeOnDestroy the teardown purges the vault at once.
KEY_VAULT_SOFT_DELETE_DAYS = 90
# Built-in role "AzureML Data Scientist" (learn.microsoft.com/azure/role-based-access-control/
# built-in-roles/ai-machine-learning#azureml-data-scientist).
AZUREML_DATA_SCIENTIST = "f6c7c914-8db3-469d-8ca1-694a8f32e121"
# Private endpoint group ids of the workspace's dependencies (storage: blob and file).
DEPENDENCY_GROUPS = ("blob", "file", "vault")


def private_link_groups(container_registry: bool) -> tuple[str, ...]:
    """Every group id the workspace and its dependencies get private endpoints for."""
    return ("amlworkspace", *DEPENDENCY_GROUPS, *(("registry",) if container_registry else ()))


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
    private_endpoints: EndpointPlacement | None  # None: public network access
    data_scientist: str | None = None  # a service principal's object id: AzureML Data Scientist
    protect: bool = False  # protect=True on the AzureML workspace
    # managedNetwork (components/managed_network.py); None: not declared (no managed network)
    managed_network: machinelearningservices.ManagedNetworkSettingsArgs | None = None
    # its storage account's subresources the managed network reaches by an explicit private-
    # endpoint outbound rule (components/managed_network.py storage_subresources)
    storage_outbound: tuple[str, ...] = ()
    # the compute AzureML builds images on when the registry denies public access (None: none)
    image_build_compute: str | None = None
    log_retention_days: int = LOG_RETENTION_DAYS  # the Log Analytics workspace's retention
    # A customer-managed key: the workspace's `encryption`, `identity` and service-side
    # encryption inputs (components/customer_managed_keys.py aml_encryption), and what the
    # workspace waits for (the identity's role on the vault).
    encryption: dict[str, Any] | None = None
    encryption_after: tuple[pulumi.Resource, ...] = ()


class AzureMLWorkspace(pulumi.ComponentResource):
    name: pulumi.Output[str]
    id: pulumi.Output[str]
    mlflow_tracking_uri: pulumi.Output[str]  # the resource's own ml_flow_tracking_uri
    # The options of every resource that lives inside the workspace (serving): replaced with it.
    inside_workspace: pulumi.ResourceOptions
    # the workspace's id once the program's outbound rules exist: what provisioning waits for
    network_id: pulumi.Output[str]
    storage_account_id: pulumi.Output[str]  # the default datastore's account
    # for diagnostic settings and role assignments
    key_vault_id: pulumi.Output[str]
    log_analytics_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: AzureMLWorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("databricks-azureml:azureml:Workspace", name, None, opts)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self)
        private = args.private_endpoints is not None
        # The workspace's ARM id, known before it exists: the storage firewall names it.
        workspace_id = pulumi.Output.concat(
            "/subscriptions/", args.subscription_id, "/resourceGroups/",
            args.resource_group_name, "/providers/Microsoft.MachineLearningServices/workspaces/",
            args.workspace_name,
        )  # fmt: skip

        account = self._storage(private, workspace_id)
        vault = self._key_vault(private)
        insights, logs = self._monitoring()
        registry = self._registry(private)
        dependencies: list[pulumi.Resource] = [account, vault, insights]
        targets: list[tuple[str, pulumi.Input[str]]] = [
            ("blob", account.id),
            ("file", account.id),
            ("vault", vault.id),
        ]
        if registry is not None:
            dependencies.append(registry)
            targets.append(("registry", registry.id))
        # The workspace waits for its dependencies' endpoints: AzureML validates that it can
        # reach them when the workspace is created with public access off.
        if args.private_endpoints is not None:
            dependencies += [self._endpoint(group, target) for group, target in targets]

        workspace = self._workspace(private, account, vault, insights, registry, dependencies)
        self.inside_workspace = inside(workspace)
        rules = self._outbound_rules(workspace, account)
        self.network_id = pulumi.Output.all(workspace.id, *[r.id for r in rules]).apply(
            lambda ids: str(ids[0])
        )
        if args.private_endpoints is not None:
            self._endpoint("amlworkspace", workspace.id)
        if args.data_scientist is not None:
            self._data_scientist(workspace, args.data_scientist)

        self.name = workspace.name
        self.id = workspace.id
        self.mlflow_tracking_uri = workspace.ml_flow_tracking_uri
        self.storage_account_id = account.id
        self.key_vault_id = vault.id
        self.log_analytics_id = logs.id
        self.register_outputs(
            {
                "name": self.name,
                "id": self.id,
                "mlflow_tracking_uri": self.mlflow_tracking_uri,
                "storage_account_id": self.storage_account_id,
                "key_vault_id": self.key_vault_id,
                "log_analytics_id": self.log_analytics_id,
            }
        )

    def _storage(self, private: bool, workspace_id: pulumi.Input[str]) -> storage.StorageAccount:
        args = self._args
        return storage.StorageAccount(
            f"{self._name}-storage",
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
            # Under private link the account stays Enabled behind its firewall (default action
            # Deny, the AzureServices bypass, the workspace as a resource instance rule) with
            # blob and file endpoints, as Microsoft's secure-workspace tutorial and the
            # quickstart machine-learning-end-to-end-secure do: with Disabled, the bypass and
            # the instance rule are inert and AzureML's system datastores can fail.
            public_network_access=storage.PublicNetworkAccess.ENABLED,
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY
                if private
                else storage.DefaultAction.ALLOW,
                bypass=storage.Bypass.AZURE_SERVICES,
                resource_access_rules=(
                    [
                        storage.ResourceAccessRuleArgs(
                            tenant_id=args.tenant_id, resource_id=workspace_id
                        )
                    ]
                    if private
                    else None
                ),
            ),
            opts=self._child,
        )

    def _key_vault(self, private: bool) -> keyvault.Vault:
        args = self._args
        # Always declared, with the flag as an input: see components/purge.py for why, and for
        # the destroy order these options give.
        purge = KeyVaultPurge(
            f"{self._name}-kv-purge",
            KeyVaultPurgeArgs(
                args.subscription_id,
                args.resource_group_name,
                args.key_vault_name,
                args.location,
                args.purge_on_destroy,
            ),
            opts=self._child,
        )
        return keyvault.Vault(
            f"{self._name}-kv",
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
            opts=pulumi.ResourceOptions.merge(self._child, purged_key_vault_options(purge)),
        )

    def _monitoring(
        self,
    ) -> tuple[applicationinsights.Component, operationalinsights.Workspace]:
        args = self._args
        logs = operationalinsights.Workspace(
            f"{self._name}-log",
            resource_group_name=args.resource_group_name,
            location=args.location,
            workspace_name=args.log_analytics_name,
            sku=operationalinsights.WorkspaceSkuArgs(
                name=operationalinsights.WorkspaceSkuNameEnum.PER_GB2018
            ),
            retention_in_days=args.log_retention_days,
            opts=self._child,
        )
        insights = applicationinsights.Component(
            f"{self._name}-appi",
            resource_group_name=args.resource_group_name,
            location=args.location,
            resource_name_=args.application_insights_name,
            kind="web",
            application_type=applicationinsights.ApplicationType.WEB,
            ingestion_mode=applicationinsights.IngestionMode.LOG_ANALYTICS,
            workspace_resource_id=logs.id,
            opts=self._child,
        )
        return insights, logs

    def _registry(self, private: bool) -> containerregistry.Registry | None:
        args = self._args
        if args.container_registry_name is None:
            return None
        return containerregistry.Registry(
            f"{self._name}-acr",
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
            opts=self._child,
        )

    def _workspace(
        self,
        private: bool,
        account: storage.StorageAccount,
        vault: keyvault.Vault,
        insights: applicationinsights.Component,
        registry: containerregistry.Registry | None,
        dependencies: list[pulumi.Resource],
    ) -> machinelearningservices.Workspace:
        args = self._args
        purge = AmlWorkspacePurge(
            f"{self._name}-purge",
            AmlWorkspacePurgeArgs(
                args.subscription_id,
                args.resource_group_name,
                args.workspace_name,
                args.purge_on_destroy,
                workspace_dependencies=dependencies,
            ),
            opts=self._child,
        )
        endpoints = [d for d in dependencies if isinstance(d, PrivateEndpoint)]
        return machinelearningservices.Workspace(
            f"{self._name}-mlw",
            resource_group_name=args.resource_group_name,
            location=args.location,
            workspace_name=args.workspace_name,
            friendly_name=f"{args.workspace_name} (Databricks MLflow tracking)",
            description="Tracks the MLflow experiments of the Azure Databricks workspace.",
            kind="Default",
            sku=machinelearningservices.SkuArgs(
                name="Basic", tier=machinelearningservices.SkuTier.BASIC
            ),
            **(
                args.encryption
                or {
                    "identity": machinelearningservices.ManagedServiceIdentityArgs(
                        type=machinelearningservices.ManagedServiceIdentityType.SYSTEM_ASSIGNED
                    )
                }
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
            image_build_compute=args.image_build_compute,
            managed_network=workspace_network(args.managed_network),
            opts=pulumi.ResourceOptions.merge(
                self._child,
                pulumi.ResourceOptions(
                    protect=args.protect,
                    depends_on=[*endpoints, *args.encryption_after],
                    ignore_changes=WORKSPACE_IGNORED if args.managed_network else None,
                ),
            ).merge(purged_workspace_options(purge, args.purge_on_destroy)),
        )

    def _outbound_rules(
        self, workspace: machinelearningservices.Workspace, account: storage.StorageAccount
    ) -> list[machinelearningservices.ManagedNetworkSettingsRule]:
        """The program's outbound rules, each its own resource beside the rules Azure adds
        (components/managed_network.py WORKSPACE_IGNORED says why)."""
        args = self._args
        settings = with_storage_rules(args.managed_network, account.id, args.storage_outbound)
        return [
            machinelearningservices.ManagedNetworkSettingsRule(
                f"{self._name}-rule-{rule_name}",
                resource_group_name=args.resource_group_name,
                workspace_name=workspace.name,
                rule_name=rule_name,
                properties=rule,
                opts=child_inside(self, self.inside_workspace).merge(
                    pulumi.ResourceOptions(ignore_changes=RULE_IGNORED)
                ),
            )
            for rule_name, rule in ((settings.outbound_rules if settings else None) or {}).items()
        ]

    def _endpoint(self, group: str, target: pulumi.Input[str]) -> PrivateEndpoint:
        return workspace_endpoint(self._name, group, self._args, target, group, self._child)

    def _data_scientist(
        self, workspace: machinelearningservices.Workspace, object_id: str
    ) -> authorization.RoleAssignment:
        """Lets a service principal log runs and models to the workspace."""
        return assign_role(
            f"{self._name}-data-scientist",
            subscription_id=self._args.subscription_id,
            role=AZUREML_DATA_SCIENTIST,
            scope=workspace.id,
            principal_id=object_id,
            description="Lets the Databricks tracking cluster log runs and models to AzureML",
            opts=pulumi.ResourceOptions(
                parent=self,
                # Declared by the stack's former `Linkage` component: same assignment, kept.
                aliases=[
                    pulumi.Alias(
                        name="linkage-azureml-data-scientist",
                        parent=pulumi.create_urn("linkage", "databricks-azureml:linkage:Linkage"),
                    )
                ],
            ),
        )
