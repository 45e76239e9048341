"""The CrossGuard policies of the pack: thin wrappers that feed resources to `guard_rules`.

Every policy is mandatory: a violation fails `pulumi preview` and stops `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import guard_rules as rules
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidation,
    StackValidationArgs,
    StackValidationPolicy,
)

PACK_NAME = "databricks-azureml-guard"
ENFORCEMENT = EnforcementLevel.MANDATORY

ResourceRule = Callable[[Mapping[str, Any]], list[str]]
StackRule = Callable[[list[rules.Declared]], list[rules.StackViolation]]


def _for_type(resource_type: str, rule: ResourceRule) -> ResourceValidation:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type != resource_type:
            return
        for message in rule(args.props):
            report_violation(message, None)

    return validate


def _resource_policy(
    name: str, description: str, resource_type: str, rule: ResourceRule
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=_for_type(resource_type, rule),
        enforcement_level=ENFORCEMENT,
    )


def _over_stack(rule: StackRule) -> StackValidation:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        declared = [
            rules.Declared(
                r.resource_type,
                r.name,
                r.props,
                r.urn,
                tuple(d.urn for d in r.dependencies),
                bool(r.opts.protect) if r.opts is not None else False,
            )
            for r in args.resources
        ]
        for violation in rule(declared):
            report_violation(violation.message, violation.urn)

    return validate


def _stack_policy(name: str, description: str, rule: StackRule) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=_over_stack(rule),
        enforcement_level=ENFORCEMENT,
    )


def _validate_cluster_auto_termination(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != rules.DATABRICKS_CLUSTER:
        return
    limit = rules.autotermination_limit(args.get_config())
    for message in rules.cluster_auto_termination(args.props, limit):
        report_violation(message, None)


def _validate_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not rules.is_taggable(args.resource_type, args.props):
        return
    for message in rules.required_tags(args.props):
        report_violation(message, None)


AUTOTERMINATION_CONFIG = PolicyConfigSchema(
    properties={
        rules.AUTOTERMINATION_LIMIT_KEY: {
            "type": "integer",
            "minimum": rules.MIN_AUTOTERMINATION_MINUTES,
            "maximum": rules.MAX_AUTOTERMINATION_MINUTES,
            "default": rules.DEFAULT_AUTOTERMINATION_LIMIT,
            "description": "Largest autoterminationMinutes a Databricks cluster may declare.",
        }
    }
)

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    _resource_policy(
        "databricks-workspace-vnet-injection",
        "Databricks workspaces are VNet-injected: customVirtualNetworkId, customPublicSubnetName "
        "and customPrivateSubnetName are set.",
        rules.DATABRICKS_WORKSPACE,
        rules.databricks_workspace_vnet_injection,
    ),
    _resource_policy(
        "databricks-workspace-no-public-ip",
        "Databricks workspaces use secure cluster connectivity: enableNoPublicIp is true.",
        rules.DATABRICKS_WORKSPACE,
        rules.databricks_workspace_no_public_ip,
    ),
    _resource_policy(
        "databricks-workspace-premium-sku",
        "Databricks workspaces use the premium SKU.",
        rules.DATABRICKS_WORKSPACE,
        rules.databricks_workspace_premium_sku,
    ),
    _resource_policy(
        "aml-workspace-system-identity",
        "AzureML workspaces have a system-assigned managed identity.",
        rules.AML_WORKSPACE,
        rules.aml_workspace_system_identity,
    ),
    _resource_policy(
        "storage-account-minimum-tls-1-2",
        "Storage accounts refuse TLS below 1.2 (minimumTlsVersion TLS1_2).",
        rules.STORAGE_ACCOUNT,
        rules.storage_account_minimum_tls,
    ),
    _resource_policy(
        "storage-account-no-public-blob-access",
        "Storage accounts allow no public blob access (allowBlobPublicAccess false).",
        rules.STORAGE_ACCOUNT,
        rules.storage_account_no_public_blob_access,
    ),
    _resource_policy(
        "key-vault-rbac-authorization",
        "Key vaults authorize data actions with Azure RBAC (enableRbacAuthorization true).",
        rules.KEY_VAULT,
        rules.key_vault_rbac_authorization,
    ),
    _resource_policy(
        "key-vault-soft-delete",
        "Key vaults keep soft delete on (enableSoftDelete never false).",
        rules.KEY_VAULT,
        rules.key_vault_soft_delete,
    ),
    ResourceValidationPolicy(
        name="databricks-cluster-auto-termination",
        description="Databricks clusters set autoterminationMinutes, at most the configured "
        f"{rules.AUTOTERMINATION_LIMIT_KEY} (default {rules.DEFAULT_AUTOTERMINATION_LIMIT}).",
        validate=_validate_cluster_auto_termination,
        enforcement_level=ENFORCEMENT,
        config_schema=AUTOTERMINATION_CONFIG,
    ),
    _resource_policy(
        "databricks-cluster-secret-env-vars",
        "Databricks cluster env vars named like credentials (SECRET, TOKEN, PASSWORD) are "
        "{{secrets/<scope>/<key>}} references.",
        rules.DATABRICKS_CLUSTER,
        rules.cluster_secret_env_vars,
    ),
    ResourceValidationPolicy(
        name="azure-resources-tagged",
        description="Every taggable Azure resource carries the tags environment and managed-by.",
        validate=_validate_tags,
        enforcement_level=ENFORCEMENT,
    ),
    _stack_policy(
        "aml-workspace-private-when-private-link",
        "An AzureML workspace reached through a private endpoint has publicNetworkAccess Disabled.",
        rules.aml_workspace_private_when_private_link,
    ),
    _stack_policy(
        "online-endpoint-private-when-private-link",
        "An AzureML online endpoint in a private-link stack has publicNetworkAccess Disabled.",
        rules.online_endpoint_private_when_private_link,
    ),
    _stack_policy(
        "no-dual-tracking-with-private-link",
        "Dual tracking (amlWorkspaceId on the Databricks workspace) is never combined with a "
        "private-link AzureML workspace.",
        rules.no_dual_tracking_with_private_link,
    ),
    _stack_policy(
        "cluster-credentials-not-readable-by-all-users",
        "A Databricks cluster whose sparkEnvVars carry a credential (e.g. AZURE_CLIENT_SECRET) "
        "is not attachable by the workspace-wide 'users' group.",
        rules.cluster_credentials_not_readable_by_all_users,
    ),
    _stack_policy(
        "databricks-private-link-backend",
        "A Databricks workspace meant for private link has requiredNsgRules "
        "NoAzureDatabricksRules and a databricks_ui_api private endpoint.",
        rules.databricks_private_link_backend,
    ),
    _stack_policy(
        "diagnostic-settings-to-log-analytics",
        "In a stack with a Databricks or AzureML workspace, every Databricks workspace, AzureML "
        "workspace, key vault, online endpoint and storage account (blob service) has a "
        "diagnostic setting to a Log Analytics workspace.",
        rules.diagnostic_settings_to_workspace,
    ),
    _stack_policy(
        "databricks-storage-firewall-whole",
        "A Databricks workspace with defaultStorageFirewall Enabled has an access connector and "
        "blob and dfs private endpoints to its storage account.",
        rules.databricks_storage_firewall_whole,
    ),
    _stack_policy(
        "protected-stack-locked",
        "A protected stack's Databricks workspace, storage accounts and key vaults have "
        "CanNotDelete locks and no lock is on a group holding an AzureML workspace (it stops "
        "compute scale-in); a protected group without one has its own lock.",
        rules.protected_stack_locked,
    ),
    _stack_policy(
        "compliance-profile-has-customer-managed-keys",
        "In a stack with Databricks' compliance security profile, Databricks managed services, "
        "managed disks, the DBFS root and every AzureML workspace use a customer-managed key.",
        rules.compliance_has_customer_managed_keys,
    ),
    _resource_policy(
        "role-assignment-not-databricks-admin",
        "No Owner or Contributor on a subscription, resource group or Databricks workspace: "
        "Azure Databricks makes those workspace admins, who can read every secret scope.",
        rules.ROLE_ASSIGNMENT,
        rules.role_assignment_not_databricks_admin,
    ),
    _stack_policy(
        "databricks-private-link-full",
        "A Databricks workspace with publicNetworkAccess Disabled has a browser_authentication "
        "private endpoint, and one that such an endpoint connects to has public access Disabled.",
        rules.databricks_private_link_full,
    ),
]

# Serving under private link: the AzureML workspace's managed network.
POLICIES += [
    _stack_policy(
        "private-link-serving-has-managed-network",
        "A private-link AzureML workspace in a stack with an online or batch endpoint has a "
        "managed network (managedNetwork.isolationMode not Disabled).",
        rules.private_link_serving_has_managed_network,
    ),
    _stack_policy(
        "private-link-managed-network-not-off",
        "A private-link AzureML workspace never declares its managed network Disabled.",
        rules.private_link_managed_network_not_off,
    ),
]
POLICIES.append(
    _resource_policy(
        "cluster-fits-unity-catalog-models",
        "A Databricks cluster registering in Unity Catalog (MLFLOW_REGISTRY_URI databricks-uc) "
        "runs in a Unity Catalog access mode; an ML runtime runs in dedicated access mode.",
        rules.DATABRICKS_CLUSTER,
        rules.cluster_fits_unity_catalog_models,
    )
)

# The state bootstrap (bootstrap/) held to the same bar: recoverable state, Entra-only access,
# an unpurgeable secrets key.
STATE_BACKEND_POLICIES: list[StackValidationPolicy] = [
    _stack_policy(
        "state-backend-blob-recovery",
        "The storage account holding a 'pulumi-state' container keeps blob versions and "
        "soft-deletes blobs and containers for at least 7 days.",
        rules.state_backend_blob_recovery,
    ),
    _stack_policy(
        "state-backend-entra-only",
        "The storage account holding a 'pulumi-state' container has allowSharedKeyAccess false.",
        rules.state_backend_entra_only,
    ),
    _stack_policy(
        "state-key-vault-purge-protection",
        "In a state backend stack, a key vault holding a key has purge protection on.",
        rules.state_key_vault_purge_protection,
    ),
]
POLICIES += STATE_BACKEND_POLICIES

# Landing zones: the deny policies a platform most often assigns, and the egress path.
POLICIES += [
    _stack_policy(
        "subnet-has-nsg",
        "Every subnet the stack declares has a network security group.",
        rules.subnets_have_nsg,
    ),
    _stack_policy(
        "databricks-subnet-egress",
        "Each Databricks subnet egresses through a NAT gateway or a route table to the "
        "firewall; with the firewall, no public IP or NAT gateway is declared.",
        rules.databricks_egress,
    ),
]
