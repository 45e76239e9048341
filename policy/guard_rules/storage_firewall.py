"""The Databricks workspace storage firewall comes whole (Learn, "Enable firewall support for
your workspace storage account"): a workspace with `defaultStorageFirewall` Enabled names its
access connector and the stack reaches its storage account (in the managed resource group)
through `blob` and `dfs` private endpoints; without them classic clusters cannot reach DBFS."""

from __future__ import annotations

from collections.abc import Sequence

from .common import (
    DATABRICKS_WORKSPACE,
    PRIVATE_ENDPOINT,
    UNKNOWN,
    Declared,
    StackViolation,
    elements,
    is_set,
    lookup,
)

FIREWALL_GROUPS = ("blob", "dfs")


def _storage_groups(endpoint: Declared, workspace: Declared) -> set[str]:
    """The groups through which `endpoint` connects to the workspace's storage account: by the
    managed resource group in its target id, or in preview (target unknown) by dependency."""
    managed = lookup(workspace.props, "managedResourceGroupId")
    found = set()
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for connection in elements(endpoint.props, key):
            target = lookup(connection, "privateLinkServiceId")
            if isinstance(target, str) and isinstance(managed, str):
                prefix = f"{managed.lower()}/providers/microsoft.storage/storageaccounts/"
                matches = target.lower().startswith(prefix)
            else:
                matches = target is UNKNOWN and workspace.urn in endpoint.dependencies
            if matches:
                found |= {g.lower() for g in elements(connection, "groupIds") if isinstance(g, str)}
    return found


def databricks_storage_firewall_whole(resources: Sequence[Declared]) -> list[StackViolation]:
    """A workspace with defaultStorageFirewall Enabled has an accessConnector and blob and dfs
    private endpoints to its storage account."""
    endpoints = [r for r in resources if r.resource_type == PRIVATE_ENDPOINT]
    violations = []
    for workspace in resources:
        if workspace.resource_type != DATABRICKS_WORKSPACE:
            continue
        firewall = lookup(workspace.props, "defaultStorageFirewall")
        if not (isinstance(firewall, str) and firewall.lower() == "enabled"):
            continue
        problems = []
        if not is_set(lookup(workspace.props, "accessConnector", "id")):
            problems.append("no accessConnector.id (the identity Databricks reaches it with)")
        groups = set().union(*(_storage_groups(e, workspace) for e in endpoints))
        missing = [g for g in FIREWALL_GROUPS if g not in groups]
        if missing:
            problems.append(
                f"no {' or '.join(repr(g) for g in missing)} private endpoint to its storage "
                "account in the managed resource group"
            )
        if problems:
            violations.append(
                StackViolation(
                    f"Databricks workspace {workspace.name!r} has defaultStorageFirewall "
                    f"Enabled but {'; '.join(problems)}; expected the access connector and "
                    "blob and dfs private endpoints, without which clusters cannot reach DBFS",
                    workspace.urn or None,
                )
            )
    return violations
