"""Diagnostic settings: in a stack that runs a Databricks or AzureML workspace, every resource
that keeps audit or resource logs sends them to a Log Analytics workspace.

Types and what carries the setting (Learn, "Diagnostic settings in Azure Monitor"; "Supported
logs for ..." per type): the Databricks and AzureML workspaces, key vaults and online endpoints
themselves; a storage account through its blob service (`<account id>/blobServices/default`),
where its read, write and delete logs are. A state backend stack (bootstrap/) holds no
workspace and is left to its own rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from .common import (
    AML_WORKSPACE,
    DATABRICKS_WORKSPACE,
    KEY_VAULT,
    MISSING,
    ONLINE_ENDPOINT,
    STORAGE_ACCOUNT,
    UNKNOWN,
    Declared,
    StackViolation,
    is_set,
    lookup,
)

DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
BLOB_SERVICE_SUFFIX = "/blobservices/default"
SETTING_MARKER = "/providers/microsoft.insights/diagnosticsettings/"
# type -> (the input naming the resource, the end of its ARM id before the name, the suffix
# a diagnostic setting's resourceUri adds to that id)
LOGGED_TYPES: dict[str, tuple[str, str, str]] = {
    DATABRICKS_WORKSPACE: ("workspaceName", "/providers/microsoft.databricks/workspaces/", ""),
    AML_WORKSPACE: (
        "workspaceName",
        "/providers/microsoft.machinelearningservices/workspaces/",
        "",
    ),
    KEY_VAULT: ("vaultName", "/providers/microsoft.keyvault/vaults/", ""),
    ONLINE_ENDPOINT: ("endpointName", "/onlineendpoints/", ""),
    STORAGE_ACCOUNT: (
        "accountName",
        "/providers/microsoft.storage/storageaccounts/",
        BLOB_SERVICE_SUFFIX,
    ),
}


def _targets(setting: Declared, resource: Declared) -> bool:
    """Whether the setting's resourceUri is `resource` (plus the blob service for an account):
    by id or by name when known; in preview, when the uri is unknown, by dependency."""
    uri = _resource_uri(setting)
    name_input, segment, suffix = LOGGED_TYPES[resource.resource_type]
    if isinstance(uri, str):
        wanted = uri.lower().rstrip("/")
        if not wanted.endswith(suffix):
            return False
        base = wanted[: len(wanted) - len(suffix)] if suffix else wanted
        rid = lookup(resource.props, "id")
        if isinstance(rid, str):
            return base == rid.lower()
        name = lookup(resource.props, name_input)
        return isinstance(name, str) and base.endswith(segment + name.lower())
    if uri is UNKNOWN:
        return bool(resource.urn) and resource.urn in setting.dependencies
    return False


def _resource_uri(setting: Declared) -> object:
    """The resource a setting is on: its `resourceUri` input, or after deployment (the outputs
    carry no resourceUri) the part of its id before `/providers/Microsoft.Insights/...`."""
    uri = lookup(setting.props, "resourceUri")
    if uri is not MISSING:
        return uri
    rid = lookup(setting.props, "id")
    if isinstance(rid, str) and SETTING_MARKER in rid.lower():
        return rid[: rid.lower().rindex(SETTING_MARKER)]
    return rid if rid is UNKNOWN else MISSING


def _has_destination(setting: Declared) -> bool:
    return is_set(lookup(setting.props, "workspaceId"))


def diagnostic_settings_to_workspace(resources: Sequence[Declared]) -> list[StackViolation]:
    """Every Databricks workspace, AzureML workspace, key vault, online endpoint and storage
    account (its blob service) of a workspace stack has a diagnostic setting with a Log
    Analytics `workspaceId`."""
    if not any(r.resource_type in (DATABRICKS_WORKSPACE, AML_WORKSPACE) for r in resources):
        return []
    settings = [r for r in resources if r.resource_type == DIAGNOSTIC_SETTING]
    violations = []
    for resource in resources:
        if resource.resource_type not in LOGGED_TYPES:
            continue
        mine = [s for s in settings if _targets(s, resource)]
        if any(_has_destination(s) for s in mine):
            continue
        suffix = LOGGED_TYPES[resource.resource_type][2]
        what = "its blob service (<account id>/blobServices/default)" if suffix else "it"
        found = (
            f"its diagnostic setting {mine[0].name!r} has no workspaceId"
            if mine
            else "no diagnostic setting targets " + what
        )
        violations.append(
            StackViolation(
                f"{_kind(resource)} {resource.name!r} sends no logs to a Log Analytics "
                f"workspace: {found}; expected an {DIAGNOSTIC_SETTING} with resourceUri "
                f"{'the account id + /blobServices/default' if suffix else 'its id'} and "
                "workspaceId set (config diagnostics)",
                resource.urn or None,
            )
        )
    return violations


def _kind(resource: Declared) -> str:
    return {
        DATABRICKS_WORKSPACE: "Databricks workspace",
        AML_WORKSPACE: "AzureML workspace",
        KEY_VAULT: "key vault",
        ONLINE_ENDPOINT: "online endpoint",
        STORAGE_ACCOUNT: "storage account",
    }.get(resource.resource_type, resource.resource_type)
