"""The smoke steps, in order, each with the steps that must have passed before it runs.

A step whose prerequisite did not pass is skipped, and says which one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tools.smoke.deployment import DeploymentSteps
from tools.smoke.serving import ServingSteps
from tools.smoke.tracking import TrackingSteps
from tools.smoke.workspace import WorkspaceSteps

if TYPE_CHECKING:
    from tools.smoke.run import Smoke


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Smoke], str]
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
