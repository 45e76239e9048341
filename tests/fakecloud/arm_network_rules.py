"""Rules of Azure the fake ARM (tests/fakecloud/arm.py) applies to the AzureML managed network
and private serving. Each cites its source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _isolation(network: Mapping[str, Any] | None) -> str:
    return str((network or {}).get("isolationMode") or "disabled").lower()


def approved_only_downgrade(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> str | None:
    """Learn, "Workspace managed network isolation", Limitations: a workspace configured to
    allow only approved outbound can't be reconfigured to allow internet outbound. The message
    Azure answers with (400 BadRequest), or None."""
    if after is None:  # omitted: the network stays as it is
        return None
    if _isolation(before) == "allowonlyapprovedoutbound" and (
        _isolation(after) == "allowinternetoutbound"
    ):
        return (
            "Managed network isolation mode cannot be changed from AllowOnlyApprovedOutbound "
            "to AllowInternetOutbound."
        )
    return None


BATCH_STORAGE_TARGETS = ("queue", "table")


def batch_storage_missing(workspace: Mapping[str, Any]) -> list[str]:
    """The storage subresources a batch job cannot reach from the workspace's managed network.
    Learn, "Workspace managed network isolation", "Scenario: Use batch endpoints": batch needs
    private-endpoint outbound rules to the workspace's default storage account for `queue` and
    `table` (AzureML's own required rules cover blob and file only; storage is not reachable by
    an FQDN rule). Without a managed network nothing is missing."""
    props = workspace.get("properties") or {}
    network = props.get("managedNetwork")
    if _isolation(network) == "disabled":
        return []
    storage = str(props.get("storageAccount") or "").lower()
    reached = {
        str(destination.get("subresourceTarget") or "").lower()
        for rule in ((network or {}).get("outboundRules") or {}).values()
        if str(rule.get("type")) == "PrivateEndpoint"
        and str(
            (destination := rule.get("destination") or {}).get("serviceResourceId") or ""
        ).lower()
        == storage
    }
    return [target for target in BATCH_STORAGE_TARGETS if target not in reached]


def compute_without_outbound(
    workspace: Mapping[str, Any], compute_props: Mapping[str, Any]
) -> str | None:
    """Learn, "Secure an Azure Machine Learning training environment" (no public IP) and
    "Create a compute cluster" (`enable_node_public_ip`): a cluster without public IPs has no
    outbound unless it is in a VNet subnet or the workspace's managed network; AzureML refuses
    creating one with neither. The message, or None."""
    inner = compute_props.get("properties") or {}
    if inner.get("enableNodePublicIp", True) is not False or inner.get("subnet"):
        return None
    network = (workspace.get("properties") or {}).get("managedNetwork")
    if _isolation(network) != "disabled":
        return None
    return (
        "A compute with enableNodePublicIp false needs a subnet or a workspace managed network: "
        "it would have no outbound connectivity."
    )


def image_build_refused(
    resources: Mapping[str, Mapping[str, Any]], workspace: Mapping[str, Any]
) -> str | None:
    """An MLflow (no-code) deployment needs an environment image built in the workspace's
    registry. Learn, "Secure an Azure Machine Learning workspace with virtual networks", Enable
    Azure Container Registry: when the registry is behind a network, AzureML cannot build
    images in it directly and uses the workspace's image-build compute, a compute cluster of the
    workspace. The message, or None."""
    props = workspace.get("properties") or {}
    registry = resources.get(str(props.get("containerRegistry") or "").lower())
    if registry is None:
        return None
    if str((registry.get("properties") or {}).get("publicNetworkAccess", "")).lower() != "disabled":
        return None
    compute = str(props.get("imageBuildCompute") or "")
    if compute and f"{str(workspace['id']).lower()}/computes/{compute.lower()}" in resources:
        return None
    return (
        "The workspace's container registry is not reachable to build the deployment's image: "
        "set imageBuildCompute to a compute cluster of the workspace."
    )
