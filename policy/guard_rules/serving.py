"""Stack rules for serving under private link: the AzureML workspace's managed network.

A deployment (online or batch) reaches a workspace with public network access disabled only
through the workspace's managed network (Learn, "Network isolation with managed online
endpoints"; "Managed virtual network isolation"), and once enabled it cannot be disabled.
"""

from __future__ import annotations

from collections.abc import Sequence

from .azureml import aml_private_endpoints
from .common import (
    AML_WORKSPACE,
    MISSING,
    ONLINE_ENDPOINT,
    UNKNOWN,
    Declared,
    StackViolation,
    lookup,
)

BATCH_ENDPOINT = "azure-native:machinelearningservices:BatchEndpoint"
DISABLED = "disabled"


def _private_workspaces(resources: Sequence[Declared]) -> list[Declared]:
    """AzureML workspaces of a private-link stack: public access Disabled, or any workspace
    when the stack holds a private endpoint with group `amlworkspace`."""
    workspaces = [r for r in resources if r.resource_type == AML_WORKSPACE]
    if aml_private_endpoints(resources):
        return workspaces
    return [
        w for w in workspaces if str(lookup(w.props, "publicNetworkAccess")).lower() == DISABLED
    ]


def _isolation_mode(workspace: Declared) -> object:
    return lookup(workspace.props, "managedNetwork", "isolationMode")


def private_link_serving_has_managed_network(
    resources: Sequence[Declared],
) -> list[StackViolation]:
    """A private-link AzureML workspace in a stack with an online or batch endpoint has a
    managed network (`managedNetwork.isolationMode` set and not Disabled)."""
    serving = [r for r in resources if r.resource_type in (ONLINE_ENDPOINT, BATCH_ENDPOINT)]
    if not serving:
        return []
    violations = []
    for workspace in _private_workspaces(resources):
        mode = _isolation_mode(workspace)
        if mode is UNKNOWN or (isinstance(mode, str) and mode.lower() != DISABLED):
            continue
        shown = "no managed network" if mode is MISSING else f"managedNetwork {mode!r}"
        violations.append(
            StackViolation(
                f"AzureML workspace {workspace.name!r} is private-link and serves through "
                f"{serving[0].name!r}, but has {shown}: deployments reach a private workspace "
                "only through its managed network; expected managedNetwork.isolationMode "
                "AllowOnlyApprovedOutbound or AllowInternetOutbound (config amlManagedNetwork)",
                workspace.urn or None,
            )
        )
    return violations


def private_link_managed_network_not_off(resources: Sequence[Declared]) -> list[StackViolation]:
    """A private-link AzureML workspace never declares its managed network Disabled."""
    return [
        StackViolation(
            f"AzureML workspace {workspace.name!r} is private-link and declares "
            "managedNetwork.isolationMode 'Disabled'; expected AllowOnlyApprovedOutbound or "
            "AllowInternetOutbound (a managed network cannot be disabled once enabled)",
            workspace.urn or None,
        )
        for workspace in _private_workspaces(resources)
        if str(_isolation_mode(workspace)).lower() == DISABLED
    ]
