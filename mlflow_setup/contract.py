"""The contract between the stack and its notebooks, stated once.

The Pulumi program and the notebook helper both read this module: the tracking modes and model
registries, the one function that turns (mode, registry, AzureML URI) into MLflow's tracking and
registry URIs and the cluster's environment, and the stack output names. It imports nothing but
the standard library, so it works on a Databricks cluster without the Pulumi SDKs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

DATABRICKS = "databricks"  # MLflow's URI for the Databricks workspace's own tracking/registry


class TrackingMode(StrEnum):
    DUAL = "dual"  # Databricks workspace linked to AzureML: runs tracked in both (seed)
    EXCLUSIVE = "exclusive"  # MLFLOW_TRACKING_URI is AzureML's: runs tracked there only (seed)


class ModelRegistry(StrEnum):
    DATABRICKS = "databricks"
    AZUREML = "azureml"


@dataclass(frozen=True)
class TrackingSettings:
    """Where MLflow tracks and registers, and what the cluster's environment says so with."""

    tracking_uri: str  # "databricks" in dual mode, the AzureML URI in exclusive mode
    registry_uri: str  # "databricks" or the AzureML URI
    cluster_env: Mapping[str, str]  # MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI, where needed


def tracking_settings(
    mode: TrackingMode, registry: ModelRegistry, azureml_uri: str
) -> TrackingSettings:
    """The URIs for the mode and registry; `azureml_uri` is the workspace's mlFlowTrackingUri.

    dual: Databricks tracks and mirrors to the linked AzureML workspace, the cluster needs no
    tracking URI. exclusive: MLFLOW_TRACKING_URI is AzureML's. The registry is named explicitly
    whenever it is not where MLflow tracks: exclusive tracking with the Databricks registry sets
    MLFLOW_REGISTRY_URI=databricks, since MLflow would otherwise register where it tracks.
    """
    tracking = azureml_uri if mode is TrackingMode.EXCLUSIVE else DATABRICKS
    registry_uri = azureml_uri if registry is ModelRegistry.AZUREML else DATABRICKS
    env: dict[str, str] = {}
    if mode is TrackingMode.EXCLUSIVE:
        env["MLFLOW_TRACKING_URI"] = tracking
    if mode is TrackingMode.EXCLUSIVE or registry is ModelRegistry.AZUREML:
        env["MLFLOW_REGISTRY_URI"] = registry_uri
    return TrackingSettings(tracking, registry_uri, MappingProxyType(env))


# The stack outputs notebooks read (camelCase, stable: renaming one breaks notebooks).
OUTPUT_NAMES = (
    "resourceGroupName",
    "location",
    "trackingMode",
    "modelRegistry",
    "privateLink",
    "amlWorkspaceName",
    "amlWorkspaceId",
    "mlflowTrackingUri",
    "mlflowRegistryUri",
    "databricksWorkspaceUrl",
    "databricksWorkspaceId",
    "clusterId",
    "secretScope",
)
# Exported too, null without an online endpoint / a batch endpoint.
OPTIONAL_OUTPUT_NAMES = (
    "endpointName",
    "endpointScoringUri",
    "batchEndpointName",
    "batchEndpointUri",
)
