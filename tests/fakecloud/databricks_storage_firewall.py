"""The workspace storage firewall as classic compute meets it, read from the fake ARM.

Learn, "Enable firewall support for your workspace storage account": with the firewall on
(`defaultStorageFirewall` Enabled) the workspace storage account (DBFS root, in the managed
resource group) accepts only the workspace's access connector and private endpoints; classic
compute reaches it through a `blob` and a `dfs` private endpoint, resolved through their
private DNS zones (privatelink.blob / privatelink.dfs.core.windows.net, the endpoints' zone
groups). A cluster that starts before those exist cannot reach DBFS, and terminates.
"""

from __future__ import annotations

from typing import Any

from tests.fakecloud.arm import DATABRICKS_WORKSPACE, FakeArm

STORAGE_GROUPS = ("blob", "dfs")
PRIVATE_ENDPOINT = "microsoft.network/privateendpoints"
ZONE_GROUPS = "/privatednszonegroups/"


def storage_unreachable(arm: FakeArm, host: str) -> str | None:
    """Why a cluster of the workspace at `host` cannot reach its storage, or None."""
    with arm._lock:
        resources = [dict(r) for r in arm.resources.values()]
    workspace = next(
        (
            r
            for r in resources
            if r["type"].lower() == DATABRICKS_WORKSPACE
            and str((r.get("properties") or {}).get("workspaceUrl", "")).lower() == host.lower()
        ),
        None,
    )
    props = (workspace or {}).get("properties") or {}
    if str(props.get("defaultStorageFirewall", "")).lower() != "enabled":
        return None
    account = ((props.get("parameters") or {}).get("storageAccountName") or {}).get("value")
    account_id = (
        f"{props.get('managedResourceGroupId', '')}/providers/Microsoft.Storage/storageAccounts/"
        f"{account}"
    ).lower()
    ids = [r["id"].lower() for r in resources]
    missing = []
    for group in STORAGE_GROUPS:
        endpoints = [
            r["id"].lower()
            for r in resources
            if r["type"].lower() == PRIVATE_ENDPOINT and _reaches(r, account_id, group)
        ]
        if not endpoints:
            missing.append(f"a {group} private endpoint")
        elif not any(i.startswith(e + ZONE_GROUPS) for e in endpoints for i in ids):
            missing.append(f"the {group} private endpoint's DNS zone group")
    if not missing:
        return None
    return (
        f"the workspace storage account {account} has its firewall on and no path from the "
        f"cluster: missing {' and '.join(missing)} (Enable firewall support for your workspace "
        "storage account)"
    )


def _reaches(endpoint: dict[str, Any], account_id: str, group: str) -> bool:
    props = endpoint.get("properties") or {}
    connections = (props.get("privateLinkServiceConnections") or []) + (
        props.get("manualPrivateLinkServiceConnections") or []
    )
    for connection in connections:
        inner = connection.get("properties") or {}
        groups = [str(g).lower() for g in inner.get("groupIds") or []]
        if str(inner.get("privateLinkServiceId", "")).lower() == account_id and group in groups:
            return True
    return False
