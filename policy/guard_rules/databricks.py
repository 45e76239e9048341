"""Databricks workspace rules: VNet injection, secure cluster connectivity, premium SKU and
private link."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .common import (
    DATABRICKS_WORKSPACE,
    MISSING,
    PRIVATE_ENDPOINT,
    UNKNOWN,
    Declared,
    StackViolation,
    describe,
    elements,
    flag_is,
    is_disabled,
    is_set,
    known_strings,
    lookup,
)

VNET_INJECTION_PARAMETERS = (
    ("customVirtualNetworkId", "the id of the VNet the clusters run in"),
    ("customPublicSubnetName", "the name of the host (public) subnet"),
    ("customPrivateSubnetName", "the name of the container (private) subnet"),
)


def databricks_workspace_vnet_injection(props: Mapping[str, Any]) -> list[str]:
    """The workspace is VNet-injected: the three custom network parameters are set."""
    return [
        f"parameters.{name}.value is not set; a VNet-injected workspace needs it: {meaning} "
        "(customVirtualNetworkId, customPublicSubnetName and customPrivateSubnetName together)"
        for name, meaning in VNET_INJECTION_PARAMETERS
        if not is_set(lookup(props, "parameters", name, "value"))
    ]


def databricks_workspace_no_public_ip(props: Mapping[str, Any]) -> list[str]:
    """Secure cluster connectivity: `parameters.enableNoPublicIp.value` is true."""
    return flag_is(
        props,
        ("parameters", "enableNoPublicIp", "value"),
        True,
        why=", so cluster nodes get no public IP addresses (secure cluster connectivity)",
    )


def databricks_workspace_premium_sku(props: Mapping[str, Any]) -> list[str]:
    """The workspace uses the premium SKU (VNet injection, secret ACLs and RBAC need it)."""
    value = lookup(props, "sku", "name")
    if value is UNKNOWN or (isinstance(value, str) and value.lower() == "premium"):
        return []
    return [
        f"sku.name is {describe(value)}; expected 'premium' (the standard and trial SKUs lack "
        "access control and secure cluster connectivity)"
    ]


# --- Stack: Databricks private link ------------------------------------------------------------
# Microsoft's quickstart `databricks-all-in-one-template-for-vnet-injection-privateendpoint`: a
# `databricks_ui_api` private endpoint for the clusters' (back-end) and the users' (front-end)
# traffic, `browser_authentication` for web login, and with public access Disabled also
# requiredNsgRules NoAzureDatabricksRules. ARM spec (Microsoft.Databricks workspaces):
# `requiredNsgRules` says whether clusters reach the control plane over a private endpoint
# (NoAzureDatabricksRules) and is not allowed on a Serverless compute-mode workspace. The stack's
# databricksPrivateLink setting is read from the resources: any of those properties or endpoints
# means private link is intended.

DATABRICKS_UI_API_GROUP = "databricks_ui_api"
BROWSER_AUTHENTICATION_GROUP = "browser_authentication"
NO_AZURE_DATABRICKS_RULES = "NoAzureDatabricksRules"


def _endpoints_with_group(resources: Iterable[Declared], group: str) -> list[tuple[Declared, Any]]:
    """(endpoint, the privateLinkServiceId it connects to) for each connection with `group`."""
    found = []
    for resource in resources:
        if resource.resource_type != PRIVATE_ENDPOINT:
            continue
        for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
            for connection in elements(resource.props, key):
                groups = elements(connection, "groupIds")
                if any(isinstance(g, str) and g.lower() == group for g in groups):
                    found.append((resource, lookup(connection, "privateLinkServiceId")))
    return found


def _connects_to(
    endpoint: Declared, target: Any, workspace: Declared, workspaces: Sequence[Declared]
) -> bool:
    """Whether an endpoint's connection target is `workspace`: by ARM id (or its name at the end
    of the id) when known; in preview by dependency, or as the stack's only workspace."""
    if isinstance(target, str):
        wanted = target.lower().rstrip("/")
        ids = {i.lower() for i in known_strings(workspace.props, "id")}
        names = known_strings(workspace.props, "name", "workspaceName")
        return wanted in ids or any(
            wanted.endswith(f"/providers/microsoft.databricks/workspaces/{name.lower()}")
            for name in names
        )
    if target is UNKNOWN:
        return workspace.urn in endpoint.dependencies or len(workspaces) == 1
    return False


def databricks_private_link_backend(resources: Sequence[Declared]) -> list[StackViolation]:
    """Back-end private link comes whole: a Databricks workspace with `requiredNsgRules`
    NoAzureDatabricksRules, with `publicNetworkAccess` Disabled, or targeted by a
    `databricks_ui_api` private endpoint has both the NSG setting and that endpoint
    (databricksPrivateLink `backend` or `full`)."""
    workspaces = [r for r in resources if r.resource_type == DATABRICKS_WORKSPACE]
    ui_api = _endpoints_with_group(resources, DATABRICKS_UI_API_GROUP)
    violations = []
    for workspace in workspaces:
        compute_mode = lookup(workspace.props, "computeMode")
        if isinstance(compute_mode, str) and compute_mode.lower() == "serverless":
            continue  # no clusters in the customer's network, so no back end to make private
        nsg_rules = lookup(workspace.props, "requiredNsgRules")
        endpoints = [e for e, t in ui_api if _connects_to(e, t, workspace, workspaces)]
        evidence = []
        private_nsg = (
            isinstance(nsg_rules, str) and nsg_rules.lower() == NO_AZURE_DATABRICKS_RULES.lower()
        )
        if private_nsg:
            evidence.append(f"requiredNsgRules is '{NO_AZURE_DATABRICKS_RULES}'")
        if is_disabled(lookup(workspace.props, "publicNetworkAccess")):
            evidence.append("publicNetworkAccess is 'Disabled'")
        if endpoints:
            evidence.append(
                f"private endpoint {endpoints[0].name!r} (group '{DATABRICKS_UI_API_GROUP}') "
                "connects to it"
            )
        if not evidence:
            continue
        intent = f"{' and '.join(evidence)}, so it is meant to use private link"
        urn = workspace.urn or None
        if nsg_rules is not UNKNOWN and not private_nsg:
            violations.append(
                StackViolation(
                    f"Databricks workspace {workspace.name!r} has requiredNsgRules "
                    f"{describe(nsg_rules)}, but {intent}; expected '{NO_AZURE_DATABRICKS_RULES}', "
                    "so clusters reach the control plane through the private endpoint rather "
                    "than the AzureDatabricks service tag",
                    urn,
                )
            )
        if not endpoints:
            violations.append(
                StackViolation(
                    f"Databricks workspace {workspace.name!r} has no private endpoint with group "
                    f"'{DATABRICKS_UI_API_GROUP}', but {intent}; expected one in the endpoint "
                    "subnet, connected to the workspace (without it clusters cannot reach the "
                    "control plane)",
                    urn,
                )
            )
    return violations


def databricks_private_link_full(resources: Sequence[Declared]) -> list[StackViolation]:
    """Front-end private link comes whole (databricksPrivateLink `full`): a Databricks
    workspace with `publicNetworkAccess` Disabled has a `browser_authentication` private
    endpoint in the stack (web login needs it; one serves a region and private DNS zone, so it
    may connect to another workspace), and a workspace that a `browser_authentication` endpoint
    connects to has `publicNetworkAccess` Disabled."""
    workspaces = [r for r in resources if r.resource_type == DATABRICKS_WORKSPACE]
    browser = _endpoints_with_group(resources, BROWSER_AUTHENTICATION_GROUP)
    violations = []
    for workspace in workspaces:
        access = lookup(workspace.props, "publicNetworkAccess")
        urn = workspace.urn or None
        if is_disabled(access) and not browser:
            violations.append(
                StackViolation(
                    f"Databricks workspace {workspace.name!r} has publicNetworkAccess 'Disabled', "
                    f"but the stack has no private endpoint with group "
                    f"'{BROWSER_AUTHENTICATION_GROUP}'; expected one, so users can log in to "
                    "the workspace's web UI through private link",
                    urn,
                )
            )
        endpoints = [e for e, t in browser if _connects_to(e, t, workspace, workspaces)]
        if endpoints and access is not UNKNOWN and not is_disabled(access):
            shown = (
                "not set (Azure then allows public access)" if access is MISSING else repr(access)
            )
            violations.append(
                StackViolation(
                    f"Databricks workspace {workspace.name!r} has publicNetworkAccess {shown}, "
                    f"but private endpoint {endpoints[0].name!r} (group "
                    f"'{BROWSER_AUTHENTICATION_GROUP}') connects to it, so it is meant to be "
                    "reached only through private link; expected publicNetworkAccess 'Disabled'",
                    urn,
                )
            )
    return violations
