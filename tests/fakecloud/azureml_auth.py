"""Who AzureML's MLflow front door lets in, for requests signed with a token: the fake's rule.

A request that carries a bearer token is allowed only if the token's identity holds a role with
the workspace's MLflow actions on the workspace or a scope above it: "AzureML Data Scientist",
Contributor or Owner (Learn, "Manage access to Azure Machine Learning workspaces", built-in
roles; Azure RBAC: assignments at a parent scope are inherited). Otherwise AzureML answers 403
AuthorizationFailed, naming the client's object id, the action and the scope (Azure RBAC,
"Troubleshoot Azure RBAC": "The client '<id>' with object id '<id>' does not have authorization
to perform action ... over scope ..."). The identity of a fake token is the one it was issued
for (tests/fakecloud/databricks_credentials.py: `fake-aad-mi.<principal id>.<nonce>`).

The notebook runner computes the role holders from the fake ARM when a run starts and hands
them to the run's MLflow routes (tests/fakecloud/mlflow_routes.py) in ROLES_ENV.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ROLES_ENV = "DATABRICKS_AZUREML_FAKE_AZUREML_ROLES"
ROLE_ASSIGNMENT = "microsoft.authorization/roleassignments"
AML_WORKSPACE = "microsoft.machinelearningservices/workspaces"
MLFLOW_ROLES = (
    "f6c7c914-8db3-469d-8ca1-694a8f32e121",  # AzureML Data Scientist
    "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
)
ACTION = "Microsoft.MachineLearningServices/workspaces/experiments/runs/write"


def role_holders(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Each provisioned AzureML workspace's tracking URI -> the principals that may track."""
    marker = f"/providers/{ROLE_ASSIGNMENT}/"  # an extension resource: {scope}{marker}{name}
    assignments = [
        (key.rpartition(marker)[0], r.get("properties") or {})
        for key, r in resources.items()
        if marker in key
    ]
    holders: dict[str, list[str]] = {}
    for key, workspace in resources.items():
        props = workspace.get("properties") or {}
        uri = props.get("mlFlowTrackingUri")
        if str(workspace.get("type", "")).lower() != AML_WORKSPACE or not uri:
            continue
        holders[uri] = sorted(
            {
                str(assigned.get("principalId"))
                for scope, assigned in assignments
                if (key == scope or key.startswith(scope + "/"))
                and str(assigned.get("roleDefinitionId", "")).lower().endswith(MLFLOW_ROLES)
            }
        )
    return holders


def principal_of(token: str) -> str:
    parts = token.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "fake-aad-mi" else "unknown"


def refusal(token: str, workspace_id: str, holders: Sequence[str]) -> str | None:
    """AzureML's 403 for a token whose identity holds no MLflow role; None when allowed."""
    principal = principal_of(token)
    if principal in holders:
        return None
    return (
        f"AuthorizationFailed: The client '{principal}' with object id '{principal}' does not "
        f"have authorization to perform action '{ACTION}' over scope '{workspace_id}' or the "
        "scope is invalid."
    )
