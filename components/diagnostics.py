"""Diagnostic settings: the audit and resource logs of every service the stack runs, sent to one
Log Analytics workspace (the stack's own, or a central one given by id).

Categories come from Microsoft's published lists, "Supported logs for <resource type>"
(learn.microsoft.com/azure/azure-monitor/reference/supported-logs/, generated from Azure's API):
Microsoft.Databricks/workspaces (ms.date 2025-04-02), Microsoft.MachineLearningServices/workspaces
(ms.date 2026-07-09), Microsoft.KeyVault/vaults, Microsoft.Storage/storageAccounts/blobServices,
Microsoft.MachineLearningServices/workspaces/onlineEndpoints (Learn, "Monitor online endpoints").
Where the list is long and mostly unrelated to this stack (Databricks has over forty categories,
SQL warehouses, apps, dashboards...), the setting names the categories that matter here; where
Azure Monitor's category groups fit (AzureML's `allLogs`), it uses the group, so new categories
arrive without a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor

# One setting name per resource: a resource takes at most five diagnostic settings, and a name
# of our own keeps ours apart from any a platform team adds (Learn, "Diagnostic settings in
# Azure Monitor").
SETTING_NAME = "to-log-analytics"


@dataclass(frozen=True)
class LogSelection:
    """What a diagnostic setting sends: categories or category groups, and metrics."""

    categories: tuple[str, ...] = ()
    category_groups: tuple[str, ...] = ()
    metrics: bool = False  # the AllMetrics metric category


# Premium workspaces only (the stack's SKU). The audit categories of the services this stack
# uses: identity and access (accounts, secrets), compute (clusters, clusterLibraries,
# globalInitScripts), code and data (notebook, jobs, dbfs, workspace), MLflow
# (mlflowExperiment, mlflowAcledArtifact, modelRegistry) and Unity Catalog.
DATABRICKS_WORKSPACE = LogSelection(
    categories=(
        "accounts",
        "clusters",
        "clusterLibraries",
        "dbfs",
        "globalInitScripts",
        "jobs",
        "mlflowAcledArtifact",
        "mlflowExperiment",
        "modelRegistry",
        "notebook",
        "secrets",
        "unityCatalog",
        "workspace",
    )
)
AML_WORKSPACE = LogSelection(category_groups=("allLogs",), metrics=True)
KEY_VAULT = LogSelection(categories=("AuditEvent",))
# The blob service (not the account) carries the read, write and delete logs.
STORAGE_BLOB = LogSelection(categories=("StorageRead", "StorageWrite", "StorageDelete"))
ONLINE_ENDPOINT = LogSelection(
    categories=(
        "AmlOnlineEndpointConsoleLog",
        "AmlOnlineEndpointEventLog",
        "AmlOnlineEndpointTrafficLog",
    ),
    metrics=True,
)


@dataclass(frozen=True)
class DiagnosticTarget:
    label: str  # names the Pulumi resource: "<component>-<label>-diag"
    resource_id: pulumi.Input[str]
    logs: LogSelection


@dataclass(frozen=True)
class DiagnosticsArgs:
    workspace_id: pulumi.Input[str]  # the Log Analytics workspace's ARM id
    targets: Sequence[DiagnosticTarget]


class Diagnostics(pulumi.ComponentResource):
    """One diagnostic setting per target; exposes the destination workspace id."""

    workspace_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: DiagnosticsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:monitoring:Diagnostics", name, None, opts)
        for target in args.targets:
            logs = [
                monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
                for category in target.logs.categories
            ] + [
                monitor.DiagnosticsLogSettingsArgs(category_group=group, enabled=True)
                for group in target.logs.category_groups
            ]
            monitor.DiagnosticSetting(
                f"{name}-{target.label}",
                name=SETTING_NAME,
                resource_uri=target.resource_id,
                workspace_id=args.workspace_id,
                logs=logs,
                metrics=(
                    [monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)]
                    if target.logs.metrics
                    else None
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.workspace_id = pulumi.Output.from_input(args.workspace_id)
        self.register_outputs({"workspace_id": self.workspace_id})


def diagnostic_targets(
    workspace_id: pulumi.Input[str],
    *,
    databricks_workspace_id: pulumi.Input[str],
    aml_workspace_id: pulumi.Input[str],
    key_vault_id: pulumi.Input[str],
    storage_account_id: pulumi.Input[str],
    online_endpoint_id: pulumi.Input[str] | None,
) -> DiagnosticsArgs:
    """The stack's resources that keep logs, each with what it sends."""
    targets = [
        DiagnosticTarget("databricks", databricks_workspace_id, DATABRICKS_WORKSPACE),
        DiagnosticTarget("azureml", aml_workspace_id, AML_WORKSPACE),
        DiagnosticTarget("key-vault", key_vault_id, KEY_VAULT),
        DiagnosticTarget(
            "blob",
            # the account's one blob service is always named "default" (storage spec)
            pulumi.Output.concat(storage_account_id, "/blobServices/default"),
            STORAGE_BLOB,
        ),
    ]
    if online_endpoint_id is not None:
        targets.append(DiagnosticTarget("online-endpoint", online_endpoint_id, ONLINE_ENDPOINT))
    return DiagnosticsArgs(workspace_id, targets)
