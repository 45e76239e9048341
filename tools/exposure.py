"""What a stack leaves reachable from the internet, read from the resources it declares.

`exposures(resources)` is pure: it reads the declared inputs of each workspace, storage account,
key vault, container registry and endpoint (never the stack's config), and says for each whether
its endpoint is public, restricted by a firewall, or private, and through which setting. The
offline preview prints it last, for the reviewer who asks "what will the internet see?".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi.output import Unknown

from tools.offline import UNKNOWN, DeclaredResource

PUBLIC = "public"
RESTRICTED = "restricted"  # public endpoint on, firewall denies all but listed addresses
PRIVATE = "private"

AML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
DATABRICKS_WORKSPACE = "azure-native:databricks:Workspace"
STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
REGISTRY = "azure-native:containerregistry:Registry"
ONLINE_ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
BATCH_ENDPOINT = "azure-native:machinelearningservices:BatchEndpoint"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"

KINDS = {
    AML_WORKSPACE: "AzureML workspace",
    STORAGE: "storage account",
    VAULT: "key vault",
    REGISTRY: "container registry",
    DATABRICKS_WORKSPACE: "Databricks workspace",
    ONLINE_ENDPOINT: "online endpoint",
    BATCH_ENDPOINT: "batch endpoint",
}
NAME_INPUTS = {
    AML_WORKSPACE: "workspaceName",
    DATABRICKS_WORKSPACE: "workspaceName",
    STORAGE: "accountName",
    VAULT: "vaultName",
    REGISTRY: "registryName",
    ONLINE_ENDPOINT: "endpointName",
    BATCH_ENDPOINT: "endpointName",
}
# Private-link group ids and the resource type they reach (Learn, "What is a private endpoint?",
# private-link resource table).
GROUP_TARGETS = {
    "amlworkspace": AML_WORKSPACE,
    "databricks_ui_api": DATABRICKS_WORKSPACE,
    "browser_authentication": DATABRICKS_WORKSPACE,
    "blob": STORAGE,
    "file": STORAGE,
    "dfs": STORAGE,
    "queue": STORAGE,
    "table": STORAGE,
    "web": STORAGE,
    "vault": VAULT,
    "registry": REGISTRY,
}


@dataclass(frozen=True)
class Exposure:
    kind: str  # "storage account", ...
    name: str  # the Azure name; "" when Azure's name is known only after deploy
    resource: str  # the logical (Pulumi) name
    reach: str  # PUBLIC, RESTRICTED or PRIVATE
    through: str  # the settings that decide it

    @property
    def shown(self) -> str:
        return self.name or f"{self.resource} (name known after deploy)"

    @property
    def short(self) -> str:
        return f"the {self.kind} {self.name or f'{self.resource!r} (its Pulumi name)'}"

    def line(self) -> str:
        return f"{self.reach.upper():<10} {self.kind} {self.shown}: {self.through}"

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "name": self.name or None,
            "resource": self.resource,
            "reach": self.reach,
            "through": self.through,
        }


def _known(value: Any) -> bool:
    return value is not None and value is not UNKNOWN and not isinstance(value, Unknown)


def _setting(value: Any, default: str) -> str:
    """A setting as words: Azure's default when left out; an unknown one says so (and counts
    as public, the cautious reading)."""
    if value is None:
        return default
    return str(value) if _known(value) else "(known after deploy)"


def _get(props: Mapping[str, Any], *path: str) -> Any:
    value: Any = props
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _exposure(r: DeclaredResource, reach: str, through: str) -> Exposure:
    name = r.inputs.get(NAME_INPUTS[r.type])
    return Exposure(KINDS[r.type], name if isinstance(name, str) else "", r.name, reach, through)


WORKSPACE_STORAGE = "#workspace-storage"  # key suffix: a Databricks workspace's own storage


def _top(r: DeclaredResource, by_urn: Mapping[str, DeclaredResource]) -> str:
    """The URN of the outermost component `r` belongs to (the workspace component it is in)."""
    urn = r.urn
    while r.parent in by_urn:
        r = by_urn[r.parent]
        urn = r.urn
    return urn


def _endpoint_groups(resources: Sequence[DeclaredResource]) -> dict[str, list[str]]:
    """URN of each exposed resource -> the private-endpoint group ids that reach it.

    An endpoint names its target by ARM id; where the id is known only after deploy, the group
    id names the target's type, which is enough when the stack has one resource of that type in
    the same component. Storage endpoints of the Databricks workspace's component reach the
    workspace storage account Azure creates in the managed resource group (declared nowhere):
    they are listed under the workspace's URN + WORKSPACE_STORAGE."""
    # ARM compares resource ids and private-link group ids case-insensitively.
    by_id = {r.id.lower(): r for r in resources if r.id}
    by_urn = {r.urn: r for r in resources}
    by_type: dict[str, list[DeclaredResource]] = {}
    for r in resources:
        by_type.setdefault(r.type, []).append(r)
    databricks = {_top(r, by_urn): r for r in by_type.get(DATABRICKS_WORKSPACE, [])}
    reached: dict[str, list[str]] = {}
    for endpoint in (r for r in resources if r.type == PRIVATE_ENDPOINT):
        top = _top(endpoint, by_urn)
        connections = [
            *(endpoint.inputs.get("privateLinkServiceConnections") or []),
            *(endpoint.inputs.get("manualPrivateLinkServiceConnections") or []),
        ]
        for connection in connections:
            target_id = connection.get("privateLinkServiceId")
            for group in connection.get("groupIds") or []:
                target = by_id.get(target_id.lower()) if isinstance(target_id, str) else None
                kind = GROUP_TARGETS.get(str(group).lower(), "")
                candidates = [c for c in by_type.get(kind, []) if _top(c, by_urn) == top]
                if target is None and len(candidates) == 1:
                    target = candidates[0]
                if target is not None:
                    reached.setdefault(target.urn, []).append(group)
                elif kind == STORAGE and top in databricks:
                    key = databricks[top].urn + WORKSPACE_STORAGE
                    reached.setdefault(key, []).append(group)
    return reached


def _reach(public_access: Any, default_action: Any = None, allowed: int = 0) -> str:
    if str(public_access).lower() == "disabled":
        return PRIVATE
    if str(default_action).lower() == "deny":
        return RESTRICTED if allowed else PRIVATE
    return PUBLIC


def _endpoints(groups: list[str]) -> str:
    if not groups:
        return "no private endpoint"
    # sorted: the engine registers endpoints in no fixed order
    return f"private endpoints: {', '.join(sorted(groups))}"


def _firewall(
    acls: Mapping[str, Any] | None, addresses: str, networks: str
) -> tuple[Any, int, str]:
    """(default action, number of allow rules, words) of a firewall rule set."""
    acls = acls if isinstance(acls, Mapping) else {}
    action = _setting(acls.get("defaultAction"), "Allow")  # Azure's default without a rule set
    rules = list(acls.get(addresses) or []) + list(acls.get(networks) or [])
    words = f"firewall default action {action}"
    if _known(acls.get("bypass")) and acls.get("bypass") not in ("None", None):
        words += f" (bypass {acls['bypass']})"
    if rules:
        words += f", {len(rules)} allow rule(s)"
    instances = acls.get("resourceAccessRules") or []
    if instances:
        words += f", {len(instances)} resource instance rule(s)"
    return action, len(rules), words


def _storage(r: DeclaredResource, groups: list[str]) -> Exposure:
    access = _setting(r.inputs.get("publicNetworkAccess"), "Enabled")
    action, allowed, firewall = _firewall(
        r.inputs.get("networkRuleSet"), "ipRules", "virtualNetworkRules"
    )
    blobs = (
        "anonymous blob access off"
        if r.inputs.get("allowBlobPublicAccess") is False
        else ("anonymous blob access allowed")
    )
    through = f"public network access {access}, {firewall}, {_endpoints(groups)}; {blobs}"
    return _exposure(r, _reach(access, action, allowed), through)


def _vault(r: DeclaredResource, groups: list[str]) -> Exposure:
    props = r.inputs.get("properties") or {}
    access = _setting(props.get("publicNetworkAccess"), "enabled")
    action, allowed, firewall = _firewall(
        props.get("networkAcls"), "ipRules", "virtualNetworkRules"
    )
    through = f"public network access {access}, {firewall}, {_endpoints(groups)}"
    return _exposure(r, _reach(access, action, allowed), through)


def _registry(r: DeclaredResource, groups: list[str]) -> Exposure:
    access = _setting(r.inputs.get("publicNetworkAccess"), "Enabled")
    action, allowed, firewall = _firewall(r.inputs.get("networkRuleSet"), "ipRules", "")
    anonymous = (
        "anonymous pull on" if r.inputs.get("anonymousPullEnabled") else "anonymous pull off"
    )
    through = f"public network access {access}, {firewall}, {_endpoints(groups)}; {anonymous}"
    return _exposure(r, _reach(access, action, allowed), through)


def _workspace(r: DeclaredResource, groups: list[str], storage: list[str] = ()) -> Exposure:
    access = _setting(r.inputs.get("publicNetworkAccess"), "Enabled")
    through = f"public network access {access}, {_endpoints(groups)}"
    if r.type == DATABRICKS_WORKSPACE:
        through = f"UI and REST API: {through}"
        if _get(r.inputs, "parameters", "enableNoPublicIp", "value") is True:
            through += "; clusters without public IPs"
        firewall = _setting(r.inputs.get("defaultStorageFirewall"), "Disabled")
        through += f"; workspace storage: firewall {firewall}, {_endpoints(list(storage))}"
    return _exposure(r, _reach(access), through)


def _online_endpoint(r: DeclaredResource) -> Exposure:
    access = _setting(_get(r.inputs, "properties", "publicNetworkAccess"), "Enabled")
    auth = _get(r.inputs, "properties", "authMode") or "Key"
    through = f"scoring URI: public network access {access}, auth {auth}"
    return _exposure(r, _reach(access), through)


def _batch_endpoint(r: DeclaredResource, workspace: Exposure | None) -> Exposure:
    # Batch endpoints have no network setting of their own: they follow the workspace's
    # public network access (Learn, "Network isolation in batch endpoints").
    reach = workspace.reach if workspace else PUBLIC
    through = "follows the AzureML workspace's public network access; auth Entra ID"
    return _exposure(r, reach, through)


def exposures(resources: Sequence[DeclaredResource]) -> list[Exposure]:
    """One Exposure per workspace, storage account, key vault, registry and endpoint: the AzureML
    workspace first, then its dependencies, the Databricks workspace, the endpoints."""
    groups = _endpoint_groups(resources)
    found: list[Exposure] = []
    workspace: Exposure | None = None
    for r in resources:
        reached = groups.get(r.urn, [])
        if r.type in (AML_WORKSPACE, DATABRICKS_WORKSPACE):
            found.append(_workspace(r, reached, groups.get(r.urn + WORKSPACE_STORAGE, [])))
            if r.type == AML_WORKSPACE:
                workspace = found[-1]
        elif r.type == STORAGE:
            found.append(_storage(r, reached))
        elif r.type == VAULT:
            found.append(_vault(r, reached))
        elif r.type == REGISTRY:
            found.append(_registry(r, reached))
        elif r.type == ONLINE_ENDPOINT:
            found.append(_online_endpoint(r))
    for r in resources:
        if r.type == BATCH_ENDPOINT:
            found.append(_batch_endpoint(r, workspace))
    order = list(KINDS.values())
    return sorted(found, key=lambda e: order.index(e.kind))


def summary(found: Iterable[Exposure]) -> str:
    """One plain sentence: what is public, or that nothing is."""
    found = list(found)
    public = [e.short for e in found if e.reach == PUBLIC]
    restricted = [e.short for e in found if e.reach == RESTRICTED]
    if not public and not restricted:
        return "Nothing listed here is reachable from the internet; use it from the VNet."
    words = []
    if public:
        words.append(
            "Public, reachable from the internet (Entra ID and RBAC decide who gets in): "
            + ", ".join(public)
            + "."
        )
    if restricted:
        words.append("Public endpoint limited by firewall rules: " + ", ".join(restricted) + ".")
    return " ".join(words)
