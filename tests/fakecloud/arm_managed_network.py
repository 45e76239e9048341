"""The AzureML managed network's outbound rules as the fake ARM (tests/fakecloud/arm.py) keeps
them: the rules Azure writes itself, and the workspace's `outboundRules` child resources.

Sources. azure-rest-api-specs machinelearningservices stable/2025-09-01 workspaceRP.json:
`ManagedNetworkSettings.outboundRules` is a map of `OutboundRule`, whose `category` is Required,
Recommended, UserDefined or Dependency, whose `status` is Inactive, Active, Provisioning,
Deleting or Failed, and whose `errorInformation` and `parentRuleNames` are read-only; the rules
are also served one by one at `.../workspaces/{name}/outboundRules/{ruleName}`
(ManagedNetworkSettingsRule_Get / CreateOrUpdate / Delete; examples/ManagedNetwork/listRule.json
shows Azure's own rules there with `category: Required`). Learn, "Workspace managed network
isolation", List of required rules: with allowOnlyApprovedOutbound AzureML adds private
endpoints to the workspace's storage (blob and file), key vault and container registry, and
the service tags AzureActiveDirectory, AzureMachineLearning, BatchNodeManagement,
AzureResourceManager, AzureFrontDoor.FirstParty, MicrosoftContainerRegistry and AzureMonitor;
with allowInternetOutbound only private endpoints to the dependencies whose public network
access is disabled. Learn, "Manually provision a managed VNet": the network and its rules come
into being when it is provisioned, so the fake adds them then, Active.

The rule names here are the fake's own (`__SYS_PE_...`, `__SYS_ST_...`): Azure names its rules
itself and the program must never rely on their names.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

OUTBOUND_RULES = "microsoft.machinelearningservices/workspaces/outboundrules"
USER_DEFINED = "UserDefined"
REQUIRED_SERVICE_TAGS = (
    "AzureActiveDirectory",
    "AzureMachineLearning",
    "BatchNodeManagement",
    "AzureResourceManager",
    "AzureFrontDoor.FirstParty",
    "MicrosoftContainerRegistry",
    "AzureMonitor",
)
# workspace property -> the private endpoint subresources AzureML reaches it by
DEPENDENCIES = {"storageAccount": ("blob", "file"), "keyVault": ("vault",),
                "containerRegistry": ("registry",)}  # fmt: skip


def _mode(network: Mapping[str, Any] | None) -> str:
    return str((network or {}).get("isolationMode") or "disabled").lower()


def is_azures(rule: Mapping[str, Any]) -> bool:
    """A rule Azure wrote itself (any category but UserDefined)."""
    return str(rule.get("category") or USER_DEFINED) != USER_DEFINED


def _public_access_disabled(resources: Mapping[str, Any], resource_id: str) -> bool:
    found = resources.get(resource_id.lower()) or {}
    access = (found.get("properties") or {}).get("publicNetworkAccess")
    return str(access or "").lower() == "disabled"


def required_rules(
    resources: Mapping[str, Any], workspace: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The rules AzureML adds for the workspace's own dependencies (see the module docstring)."""
    props = workspace.get("properties") or {}
    mode = _mode(props.get("managedNetwork"))
    if mode == "disabled":
        return {}
    rules: dict[str, dict[str, Any]] = {}
    for prop, targets in DEPENDENCIES.items():
        target_id = str(props.get(prop) or "")
        if not target_id:
            continue
        if mode == "allowinternetoutbound" and not _public_access_disabled(resources, target_id):
            continue
        for target in targets:
            rules[f"__SYS_PE_{target_id.rsplit('/', 1)[-1]}_{target}"] = {
                "type": "PrivateEndpoint",
                "category": "Required",
                "destination": {"serviceResourceId": target_id, "subresourceTarget": target,
                                "sparkEnabled": False},
            }  # fmt: skip
    if mode == "allowonlyapprovedoutbound":
        for tag in REQUIRED_SERVICE_TAGS:
            rules[f"__SYS_ST_{tag}"] = {
                "type": "ServiceTag",
                "category": "Required",
                "destination": {"serviceTag": tag, "protocol": "TCP", "portRanges": "443",
                                "action": "Allow"},
            }  # fmt: skip
    return rules


def on_workspace_put(network: dict[str, Any], before: Mapping[str, Any] | None) -> None:
    """A workspace PUT's managedNetwork, completed as Azure keeps it: Azure's own rules stay,
    and so do the user-defined rules when the PUT omits `outboundRules` (rules managed through
    the outboundRules API are not dropped by a workspace update that does not name them; the
    fake's reading, as it keeps an omitted managedNetwork). A rule keeps its live status."""
    live = dict((before or {}).get("outboundRules") or {})
    given = network.get("outboundRules")
    rules = {n: r for n, r in live.items() if is_azures(r)}
    rules.update(live if given is None else copy.deepcopy(given))
    active = ((before or {}).get("status") or {}).get("status") == "Active"
    for name, rule in rules.items():
        kept = (live.get(name) or {}).get("status")
        rule["status"] = kept or ("Active" if active else "Inactive")
    if rules or given is not None:
        network["outboundRules"] = rules


def provisioned(resources: Mapping[str, Any], workspace: dict[str, Any]) -> None:
    """The network after provisioning: Active, with Azure's rules added and every rule Active."""
    network = workspace["properties"].setdefault("managedNetwork", {})
    network["status"] = {"status": "Active", "sparkReady": False}
    rules = network.setdefault("outboundRules", {})
    for name, rule in required_rules(resources, workspace).items():
        rules.setdefault(name, rule)
    for rule in rules.values():
        rule["status"] = "Active"


def _rule_resource(workspace: Mapping[str, Any], name: str, rule: Mapping[str, Any]) -> dict:
    return {
        "id": f"{workspace['id']}/outboundRules/{name}",
        "name": name,
        "type": "Microsoft.MachineLearningServices/workspaces/outboundRules",
        "properties": copy.deepcopy(dict(rule)),
    }


def rule_request(
    workspace: dict[str, Any] | None, method: str, name: str, body: Any
) -> tuple[int, dict[str, Any] | None]:
    """GET, PUT or DELETE of `{workspace}/outboundRules/{name}`: (status, body); the rule lives
    in the workspace's managedNetwork.outboundRules, as a workspace GET shows it. An error body
    is (code, message) in `error`."""
    if workspace is None:
        return 404, {"error": {"code": "ParentResourceNotFound",
                               "message": "The workspace does not exist."}}  # fmt: skip
    network = workspace["properties"].get("managedNetwork") or {}
    rules = network.get("outboundRules") or {}
    found = next((k for k in rules if k.lower() == name.lower()), None)
    if method == "GET":
        if found is None:
            return 404, {"error": {"code": "NotFound",
                                   "message": f"Outbound rule {name} not found."}}  # fmt: skip
        return 200, _rule_resource(workspace, found, rules[found])
    if method == "DELETE":
        if found is not None:
            del rules[found]
        return (200 if found else 204), None
    rule = dict((body or {}).get("properties") or {})
    if _mode(network) == "disabled" or not rule.get("type"):
        return 400, {"error": {"code": "BadRequest", "message": (
            "An outbound rule needs its type, on a workspace with a managed network."
        )}}  # fmt: skip
    rule.setdefault("category", USER_DEFINED)
    active = (network.get("status") or {}).get("status") == "Active"
    rule["status"] = "Active" if active else "Inactive"
    network.setdefault("outboundRules", {})[found or name] = rule
    workspace["properties"]["managedNetwork"] = network
    return (200 if found else 201), _rule_resource(workspace, found or name, rule)
