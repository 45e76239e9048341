"""The smoke steps, in order, each with the steps that must have passed before it runs.

A step whose prerequisite did not pass is skipped, and says which one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.smoke.deployment import DeploymentSteps
from tools.smoke.serving import ServingSteps
from tools.smoke.tracking import TrackingSteps
from tools.smoke.workspace import WorkspaceSteps


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Any], str]  # a step method, called with the run
    needs: tuple[str, ...] = ()


STEPS: tuple[Step, ...] = (
    Step("stack outputs", DeploymentSteps.step_outputs),
    Step("azureml workspace", DeploymentSteps.step_aml_workspace, ("stack outputs",)),
    Step("databricks link", DeploymentSteps.step_databricks_link, ("stack outputs",)),
    Step("private endpoints", DeploymentSteps.step_private_endpoints, ("stack outputs",)),
    Step("databricks api", WorkspaceSteps.step_databricks_api, ("stack outputs",)),
    Step("cluster", WorkspaceSteps.step_cluster, ("databricks api",)),
    Step("notebook upload", WorkspaceSteps.step_upload, ("cluster",)),
    Step("notebook run", WorkspaceSteps.step_run, ("notebook upload",)),
    Step("mlflow run", TrackingSteps.step_mlflow_run, ("notebook run",)),
    Step("model version", TrackingSteps.step_model_version, ("mlflow run",)),
    Step("online endpoint", ServingSteps.step_online_endpoint, ("model version",)),
    Step("batch endpoint", ServingSteps.step_batch_endpoint, ("stack outputs",)),
    Step("cleanup", WorkspaceSteps.step_cleanup, ("notebook upload",)),
)


# What smoke needs before it starts, each with the first step that needs it: that step's FAIL
# line repeats it. Listed by --help and docs/verify.md.
PREREQUISITES: tuple[tuple[str, str], ...] = (
    (
        "stack outputs",
        "the Pulumi CLI on PATH, logged in to the stack's backend (`pulumi login <backend>`)",
    ),
    (
        "azureml workspace",
        "`az login` (or the ARM_* / AZURE_* variables) as an identity with Reader on the "
        "stack's resource group",
    ),
    (
        "databricks api",
        "network reach to the Databricks workspace: under databricksPrivateLink full only from "
        "the stack's VNet or a network peered or VPN-connected to it, with its private DNS zone",
    ),
    (
        "cluster",
        "a user of the Databricks workspace who may attach to the stack's cluster: a workspace "
        "admin (Contributor on the workspace makes one), the deployer, or one of cluster.users",
    ),
    (
        "mlflow run",
        "the right to read the AzureML workspace's runs and models: Reader or AzureML Data "
        "Scientist on it",
    ),
)
