"""AzureML rules: the workspace's identity and, in a private-link stack, no public access to the
workspace or its online endpoints, and no dual tracking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .common import (
    AML_WORKSPACE,
    DATABRICKS_WORKSPACE,
    MISSING,
    ONLINE_ENDPOINT,
    PRIVATE_ENDPOINT,
    UNKNOWN,
    Declared,
    StackViolation,
    describe,
    elements,
    is_set,
    lookup,
)

# The group id of an AzureML workspace's private endpoint (Learn, private link for AzureML).
AML_PRIVATE_LINK_GROUP = "amlworkspace"


def aml_workspace_system_identity(props: Mapping[str, Any]) -> list[str]:
    """The AzureML workspace has a system-assigned managed identity."""
    value = lookup(props, "identity", "type")
    if value is UNKNOWN:
        return []
    if isinstance(value, str):
        kinds = {part.strip().lower() for part in value.split(",")}
        if "systemassigned" in kinds:
            return []
    return [
        f"identity.type is {describe(value)}; expected 'SystemAssigned' (or "
        "'SystemAssigned,UserAssigned'): the workspace reaches its storage account, key vault "
        "and registry with its system-assigned identity"
    ]


def aml_private_endpoints(resources: Iterable[Declared]) -> list[Declared]:
    """Private endpoints whose connection targets an AzureML workspace (group `amlworkspace`)."""
    found = []
    for resource in resources:
        if resource.resource_type != PRIVATE_ENDPOINT:
            continue
        connections = elements(resource.props, "privateLinkServiceConnections") + elements(
            resource.props, "manualPrivateLinkServiceConnections"
        )
        group_ids = [
            group
            for connection in connections
            for group in elements(connection, "groupIds")
            if isinstance(group, str)
        ]
        if any(group.lower() == AML_PRIVATE_LINK_GROUP for group in group_ids):
            found.append(resource)
    return found


def _public_access(props: Mapping[str, Any], *path: str) -> str | None:
    """`publicNetworkAccess` at `path` as a message shows it, or None when Disabled or unknown."""
    value = lookup(props, *path)
    if value is UNKNOWN or (isinstance(value, str) and value.lower() == "disabled"):
        return None
    return "not set (Azure then allows public access)" if value is MISSING else repr(value)


def aml_workspace_private_when_private_link(resources: Sequence[Declared]) -> list[StackViolation]:
    """In a private-link stack, every AzureML workspace has `publicNetworkAccess` Disabled.

    A stack is private-link when it holds a private endpoint with group `amlworkspace`.
    """
    endpoints = aml_private_endpoints(resources)
    if not endpoints:
        return []
    endpoint_names = ", ".join(repr(endpoint.name) for endpoint in endpoints)
    violations = []
    for resource in resources:
        if resource.resource_type != AML_WORKSPACE:
            continue
        if (shown := _public_access(resource.props, "publicNetworkAccess")) is None:
            continue
        violations.append(
            StackViolation(
                f"AzureML workspace {resource.name!r} has publicNetworkAccess {shown}, but the "
                f"stack reaches it through private endpoint {endpoint_names} (group "
                f"'{AML_PRIVATE_LINK_GROUP}'); expected publicNetworkAccess 'Disabled'",
                resource.urn or None,
            )
        )
    return violations


def online_endpoint_private_when_private_link(
    resources: Sequence[Declared],
) -> list[StackViolation]:
    """In a private-link stack, every AzureML online endpoint has
    `properties.publicNetworkAccess` Disabled: scoring reaches it through the workspace's
    private endpoint, never from the internet.
    """
    evidence = _private_link_evidence(resources)
    if evidence is None:
        return []
    violations = []
    for resource in resources:
        if resource.resource_type != ONLINE_ENDPOINT:
            continue
        if (shown := _public_access(resource.props, "properties", "publicNetworkAccess")) is None:
            continue
        violations.append(
            StackViolation(
                f"online endpoint {resource.name!r} has publicNetworkAccess {shown}, but the "
                f"AzureML workspace is private-link: {evidence}; expected publicNetworkAccess "
                "'Disabled' (scoring then goes through the workspace's private endpoint)",
                resource.urn or None,
            )
        )
    return violations


def _private_link_evidence(resources: Sequence[Declared]) -> str | None:
    endpoints = aml_private_endpoints(resources)
    if endpoints:
        return (
            f"private endpoint {endpoints[0].name!r} connects to an AzureML workspace (group "
            f"'{AML_PRIVATE_LINK_GROUP}')"
        )
    for resource in resources:
        if resource.resource_type != AML_WORKSPACE:
            continue
        value = lookup(resource.props, "publicNetworkAccess")
        if isinstance(value, str) and value.lower() == "disabled":
            return f"AzureML workspace {resource.name!r} has publicNetworkAccess 'Disabled'"
    return None


def no_dual_tracking_with_private_link(resources: Sequence[Declared]) -> list[StackViolation]:
    """Dual tracking (`amlWorkspaceId` on the Databricks workspace) is not supported with
    a private-link AzureML workspace.

    Private-link evidence: a private endpoint with group `amlworkspace`, or an AzureML workspace
    with publicNetworkAccess Disabled.
    """
    evidence = _private_link_evidence(resources)
    if evidence is None:
        return []
    return [
        StackViolation(
            f"Databricks workspace {resource.name!r} sets parameters.amlWorkspaceId (dual "
            f"tracking), but the AzureML workspace is private-link: {evidence}. Dual tracking "
            "isn't supported with a private-link AzureML workspace; expected no amlWorkspaceId "
            "and MLflow tracking exclusively in AzureML (trackingMode: exclusive)",
            resource.urn or None,
        )
        for resource in resources
        if resource.resource_type == DATABRICKS_WORKSPACE
        and is_set(lookup(resource.props, "parameters", "amlWorkspaceId", "value"))
    ]
