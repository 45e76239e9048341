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
DATABRICKS_UC = "databricks-uc"  # MLflow's URI for Databricks Models in Unity Catalog
# Set on the stack's cluster only: the stack's name, so the notebook helper can tell the stack's
# cluster from any other cluster of the workspace.
STACK_ENV = "DATABRICKS_AZUREML_STACK"
# Under unity-catalog: `<catalog>.<schema>` where models are registered.
MODEL_SCHEMA_ENV = "DATABRICKS_AZUREML_MODEL_SCHEMA"
# Without a service principal: the Unity Catalog service credential notebooks sign in with.
SERVICE_CREDENTIAL_ENV = "DATABRICKS_AZUREML_SERVICE_CREDENTIAL"


class TrackingMode(StrEnum):
    DUAL = "dual"  # Databricks workspace linked to AzureML: runs tracked in both
    EXCLUSIVE = "exclusive"  # MLFLOW_TRACKING_URI is AzureML's: runs tracked there only


class ModelRegistry(StrEnum):
    # Databricks Models in Unity Catalog: what workspaces of new accounts have (docs, "Manage
    # model lifecycle in Unity Catalog"); three-level names `<catalog>.<schema>.<model>`.
    UNITY_CATALOG = "unity-catalog"
    # The legacy Workspace Model Registry, disabled on workspaces of accounts created since
    # April 2024 whose default catalog is in Unity Catalog (docs, "Workspace Model Registry").
    DATABRICKS = "databricks"
    AZUREML = "azureml"


# The registry URI of each Databricks registry (the AzureML one is the workspace's URI).
_DATABRICKS_REGISTRY_URIS = {
    ModelRegistry.UNITY_CATALOG: DATABRICKS_UC,
    ModelRegistry.DATABRICKS: DATABRICKS,
}


@dataclass(frozen=True)
class TrackingSettings:
    """Where MLflow tracks and registers, and what the cluster's environment says so with."""

    tracking_uri: str  # "databricks" in dual mode, the AzureML URI in exclusive mode
    registry_uri: str  # "databricks-uc", "databricks" or the AzureML URI
    cluster_env: Mapping[str, str]  # MLFLOW_REGISTRY_URI, and MLFLOW_TRACKING_URI where needed


def tracking_settings(
    mode: TrackingMode, registry: ModelRegistry, azureml_uri: str
) -> TrackingSettings:
    """The URIs for the mode and registry; `azureml_uri` is the workspace's mlFlowTrackingUri.

    dual: Databricks tracks and mirrors to the linked AzureML workspace, the cluster needs no
    tracking URI. exclusive: MLFLOW_TRACKING_URI is AzureML's. The registry is always named:
    MLflow would otherwise register where it tracks, and MLflow 3 on Databricks defaults to Unity
    Catalog (mlflow/mlflow#16135), so the legacy registry only answers when asked for by name.
    """
    tracking = azureml_uri if mode is TrackingMode.EXCLUSIVE else DATABRICKS
    registry_uri = _DATABRICKS_REGISTRY_URIS.get(registry, azureml_uri)
    env: dict[str, str] = {}
    if mode is TrackingMode.EXCLUSIVE:
        env["MLFLOW_TRACKING_URI"] = tracking
    env["MLFLOW_REGISTRY_URI"] = registry_uri
    return TrackingSettings(tracking, registry_uri, MappingProxyType(env))


def databricks_registry_uri(registry: ModelRegistry) -> str | None:
    """ "databricks-uc" or "databricks", known before deployment; None for AzureML's registry."""
    return _DATABRICKS_REGISTRY_URIS.get(registry)


def stack_env(
    stack: str, model_schema: str | None, service_credential: str | None = None
) -> Mapping[str, str]:
    """What the stack's cluster carries beside MLflow's URIs: the marker naming the stack,
    under unity-catalog the `<catalog>.<schema>` models are registered in, and the service
    credential's name where notebooks sign in with it."""
    env = {STACK_ENV: stack}
    if model_schema is not None:
        env[MODEL_SCHEMA_ENV] = model_schema
    if service_credential is not None:
        env[SERVICE_CREDENTIAL_ENV] = service_credential
    return MappingProxyType(env)


# The serving outputs on the stack's cluster, env var -> stack output: set for each endpoint
# the stack deploys, absent otherwise.
SERVING_ENV = MappingProxyType(
    {
        "DATABRICKS_AZUREML_ENDPOINT_NAME": "endpointName",
        "DATABRICKS_AZUREML_ENDPOINT_SCORING_URI": "endpointScoringUri",
        "DATABRICKS_AZUREML_BATCH_ENDPOINT_NAME": "batchEndpointName",
        "DATABRICKS_AZUREML_BATCH_ENDPOINT_URI": "batchEndpointUri",
    }
)


def serving_env(outputs: Mapping[str, str | None]) -> Mapping[str, str]:
    """The serving outputs (by stack output name) as the cluster's environment; None is left out."""
    env: dict[str, str] = {}
    for var, name in SERVING_ENV.items():
        value = outputs.get(name)
        if value:
            env[var] = value
    return MappingProxyType(env)


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
# Under unity-catalog, `<catalog>.<schema>` where models are registered; null otherwise.
MODEL_SCHEMA_OUTPUT = "modelSchema"
# Without a service principal (exclusive tracking, azureml registry): the name of the Unity
# Catalog service credential notebooks sign in to AzureML with; null otherwise. Not a secret.
SERVICE_CREDENTIAL_OUTPUT = "serviceCredential"

# Where the stack publishes its outputs in its Databricks workspace, one folder per stack, so
# the notebook helper finds them on any compute of the workspace (not only the stack's cluster).
PUBLISHED_FOLDER = "/Shared/databricks-azureml"
PUBLISHED_FILE = "outputs.json"
# Beside the stack outputs in the published file: who may read the stack's secret scope
# (`cluster.users`), so a refused user is told whom to ask.
SCOPE_READERS_KEY = "secretScopeReaders"
# The service principal in the stack's secret scope, by key: what azure-identity's
# EnvironmentCredential reads as AZURE_CLIENT_SECRET, AZURE_CLIENT_ID and AZURE_TENANT_ID.
CLIENT_SECRET_KEY = "azure-client-secret"
CLIENT_ID_KEY = "azure-client-id"
TENANT_ID_KEY = "azure-tenant-id"


def published_path(stack: str) -> str:
    """The workspace file that holds stack `stack`'s outputs."""
    return f"{PUBLISHED_FOLDER}/{stack}/{PUBLISHED_FILE}"
