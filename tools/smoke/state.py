"""What a smoke run's steps share: its settings, what earlier steps found, and the clients."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import mlflow_setup
from core.errors import NAMESPACE
from mlflow_setup import MlflowUris, StackOutputs
from tools.smoke.base import DEFAULT_TIMEOUT, ArmReader, StepResult
from tools.smoke.services import Services
from tools.smoke.submit import CLUSTER

POLL_SECONDS = 10.0  # between reads of a starting cluster or a running job


@dataclass
class SmokeState:
    """One smoke run's state; the step classes extend it and `Smoke` combines them."""

    stack: str
    services: Services
    out: TextIO
    keep: bool = False
    timeout: float = DEFAULT_TIMEOUT
    batch_input: str | None = None
    compute: str = CLUSTER  # where the notebook runs: the stack's cluster or serverless
    poll_seconds: float = POLL_SECONDS
    raw: dict[str, Any] = field(default_factory=dict)
    outputs: StackOutputs | None = None
    config: Mapping[str, str] = field(default_factory=dict)
    client: Any = None  # databricks-sdk WorkspaceClient
    user: str | None = None
    folder: str | None = None  # the uploaded folder in the workspace
    notebook_path: str | None = None
    submitted_ms: int = 0
    job_run_id: int | None = None
    mlflow_run: Any = None
    model_name: str | None = None
    model_version: Any = None
    results: list[StepResult] = field(default_factory=list)
    _arm_reader: ArmReader | None = None
    _mlflow_client: Any = None

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def _out(self) -> StackOutputs:
        assert self.outputs is not None  # the first step set it, or no other step runs
        return self.outputs

    def _databricks_private_link(self) -> str:
        return str(self.config.get(f"{NAMESPACE}:databricksPrivateLink") or "none")

    def _arm(self) -> ArmReader:
        if self._arm_reader is None:
            subscription = str(self._out().aml_workspace_id).split("/")[2]
            self._arm_reader = self.services.arm(subscription, self.config)
        return self._arm_reader

    def _uris(self) -> MlflowUris:
        return mlflow_setup.mlflow_uris(self._out())

    def _mlflow(self) -> Any:
        if self._mlflow_client is None:
            self._mlflow_client = self.services.mlflow_client(self._out(), self._uris())
        return self._mlflow_client
