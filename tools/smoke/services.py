"""What smoke talks to (Pulumi, ARM, the Databricks workspace, MLflow, the endpoints), each
replaceable in tests, and the real clients behind them, signed in with the caller's login."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow_setup
from core.stack_file import read_stack_config
from mlflow_setup import MlflowUris, StackOutputs
from tools.smoke.base import PROJECT_DIR, ArmReader


@dataclass
class Services:
    """What smoke talks to; tests replace any of these."""

    stack_output: Callable[[str], str | None] = field(
        default=lambda stack: mlflow_setup.pulumi_stack_output(stack)
    )
    stack_config: Callable[[str], Mapping[str, str]] = field(
        default=lambda stack: stack_config(stack, PROJECT_DIR)
    )
    arm: Callable[[str, Mapping[str, str]], ArmReader] = field(
        default=lambda subscription, config: arm_reader(subscription, config)
    )
    workspace: Callable[[StackOutputs], Any] = field(
        default=lambda outputs: workspace_client(outputs)
    )
    mlflow_client: Callable[[StackOutputs, MlflowUris], Any] = field(
        default=lambda outputs, uris: mlflow_client(outputs, uris)
    )
    score: Callable[..., list[Any]] = mlflow_setup.score
    # mlflow_setup.batch_score(input_uri) -> a job with .wait(); None: this helper has none.
    batch_score: Callable[..., Any] | None = field(
        default_factory=lambda: getattr(mlflow_setup, "batch_score", None)
    )
    connect: Callable[[str, int, float], None] = field(
        default=lambda host, port, timeout: socket.create_connection(
            (host, port), timeout=timeout
        ).close()
    )
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    project_dir: Path = PROJECT_DIR


def stack_config(stack: str, project_dir: Path) -> Mapping[str, str]:
    config, _secrets = read_stack_config(stack, project_dir)
    return config


class ArmClientReader:
    """ArmReader over arm.client.Arm."""

    def __init__(self, arm: Any) -> None:
        self._arm = arm

    def get(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        from arm import client

        return client.get_by_id(
            self._arm, resource_id, api_version, what=f"reading {resource_id}", permission="read"
        )

    def list_group(self, resource_group: str, resource_type: str) -> list[dict[str, Any]]:
        found = self._arm.resources.resources.list_by_resource_group(
            resource_group, filter=f"resourceType eq '{resource_type}'"
        )
        # The type again here: the filter is a hint some ARM endpoints ignore.
        return [item.as_dict() for item in found if str(item.type).lower() == resource_type.lower()]


def arm_reader(subscription: str, config: Mapping[str, str]) -> ArmReader:
    """ARM with the caller's login, in the stack's cloud (azure-native:environment /
    metadataHost), as teardown-check reaches it."""
    from arm.client import Arm
    from arm.cloud import CloudConfig, resolve

    return ArmClientReader(Arm(subscription, cloud=resolve(CloudConfig.from_stack_config(config))))


def workspace_client(outputs: StackOutputs) -> Any:
    """databricks-sdk's client for the stack's workspace, signed in with databricks-sdk's
    default chain (Azure CLI, ARM_* / AZURE_* service principal, ...): the caller's login."""
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient(
        host=outputs.databricks_workspace_url,
        azure_workspace_resource_id=outputs.databricks_workspace_id,
    )


def mlflow_client(outputs: StackOutputs, uris: MlflowUris) -> Any:
    """An MLflow client on the stack's tracking and registry URIs, also set process-wide for
    the model-URI reads. `databricks` URIs reach the stack's workspace with the caller's login
    (MLflow reads DATABRICKS_HOST through databricks-sdk's default chain)."""
    import mlflow

    if "databricks" in (uris.tracking_uri.split(":")[0], uris.registry_uri.split(":")[0]):
        os.environ.setdefault("DATABRICKS_HOST", str(outputs.databricks_workspace_url))
        if outputs.databricks_workspace_id:
            os.environ.setdefault("DATABRICKS_AZURE_RESOURCE_ID", outputs.databricks_workspace_id)
    mlflow_setup.configure_mlflow(outputs)
    return mlflow.MlflowClient(tracking_uri=uris.tracking_uri, registry_uri=uris.registry_uri)
